//! Parse throughput of training.csv against reloading its binary cache, side by side.
//!
//! Run with `cargo bench -p fkd-data --bench parse`. The data comes from
//! `$FKD_DATA_DIR/training.csv` when it exists, else from the Kaggle zip in
//! `$FKD_SHARED_DATA`, extracted to a temporary directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fkd_data::{cache_path, load_training, read_training_csv};
use xtask::fetch_data::{KaggleArchive, KaggleFile, ZIP_FILE_NAME};

const REPEATS: usize = 5;

fn main() {
    let temporary = tempfile::tempdir().expect("temporary directory");
    let Some(csv) = training_csv(temporary.path()) else {
        eprintln!(
            "skipped: set FKD_DATA_DIR (with training.csv) or FKD_SHARED_DATA (with the Kaggle zip)"
        );
        return;
    };
    let size_mb = std::fs::metadata(&csv)
        .expect("training.csv metadata")
        .len() as f64
        / 1e6;

    let parse = median_time(|| {
        let set = read_training_csv(&csv).expect("parse training.csv");
        assert_eq!(set.images.len() % 9216, 0);
    });

    // The first load writes the cache; the timed loads read it.
    load_training(&csv).expect("load training.csv");
    let cache_mb = std::fs::metadata(cache_path(&csv))
        .expect("cache metadata")
        .len() as f64
        / 1e6;
    let cached = median_time(|| {
        load_training(&csv).expect("load cache");
    });

    println!("training.csv: {size_mb:.1} MB, cache {cache_mb:.1} MB, median of {REPEATS}");
    println!(
        "parse CSV    {:>8.1} ms  {:>7.1} MB/s",
        parse.as_secs_f64() * 1e3,
        size_mb / parse.as_secs_f64()
    );
    println!(
        "load cache   {:>8.1} ms  {:>7.1}x faster than parsing",
        cached.as_secs_f64() * 1e3,
        parse.as_secs_f64() / cached.as_secs_f64()
    );
}

fn median_time(mut run: impl FnMut()) -> Duration {
    run();
    let mut times: Vec<Duration> = (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[REPEATS / 2]
}

fn training_csv(temporary: &Path) -> Option<PathBuf> {
    if let Some(directory) = std::env::var_os("FKD_DATA_DIR") {
        let csv = PathBuf::from(directory).join("training.csv");
        if csv.exists() {
            // Work on a copy so the benchmark never touches the user's cache.
            let copy = temporary.join("training.csv");
            std::fs::copy(&csv, &copy).expect("copy training.csv");
            return Some(copy);
        }
    }

    let shared = PathBuf::from(std::env::var_os("FKD_SHARED_DATA")?);
    let extracted = KaggleArchive::open(&shared.join(ZIP_FILE_NAME))
        .and_then(|mut archive| archive.extract(&[KaggleFile::Training], temporary));
    match extracted {
        Ok(mut paths) => paths.pop(),
        Err(error) => panic!("cannot extract training.csv: {error:#}"),
    }
}
