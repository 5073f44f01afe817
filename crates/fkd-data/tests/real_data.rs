//! Loads the real Kaggle-layout zip named by `FKD_SHARED_DATA` (the directory holding
//! `facial-keypoints-detection.zip`) and checks counts and the mean baseline.

use std::path::{Path, PathBuf};

use fkd_data::{
    KaggleFiles, LookupTable, MeanBaseline, load_test, load_training, read_sample_submission,
    read_training_csv,
};
use xtask::fetch_data::{KaggleArchive, KaggleFile};

/// Returns the shared data directory, or `None` (with a visible message) when unset.
fn shared_data() -> Option<PathBuf> {
    match std::env::var_os("FKD_SHARED_DATA") {
        Some(directory) if !directory.is_empty() => Some(PathBuf::from(directory)),
        _ => {
            eprintln!(
                "skipped: set FKD_SHARED_DATA to the fkd-ytf data directory to run this test"
            );
            None
        }
    }
}

/// Extracts Kaggle's four CSV files from the competition zip at `zip_path` into
/// `directory`.
fn extract_kaggle_zip(zip_path: &Path, directory: &Path) {
    KaggleArchive::open(zip_path)
        .unwrap()
        .extract(&KaggleFile::ALL, directory)
        .unwrap();
}

#[test]
fn real_kaggle_files_load() {
    let Some(shared) = shared_data() else { return };
    let directory = tempfile::tempdir().unwrap();
    extract_kaggle_zip(
        &shared.join("facial-keypoints-detection.zip"),
        directory.path(),
    );
    let files = KaggleFiles::in_dir(directory.path());

    let training = load_training(&files.training).unwrap();
    assert_eq!(training.len(), 3620);
    assert_eq!(training.images.len(), 3620 * 9216);
    let complete = training
        .keypoints
        .iter()
        .filter(|keypoints| keypoints.is_complete())
        .count();
    assert_eq!(complete, 1078);

    // The second load goes through the cache and gives the same set.
    assert!(fkd_data::cache_path(&files.training).exists());
    assert_eq!(load_training(&files.training).unwrap(), training);
    assert_eq!(read_training_csv(&files.training).unwrap(), training);

    let test = load_test(&files.test).unwrap();
    assert_eq!(test.len(), 602);
    assert_eq!(test.image_ids.first(), Some(&1));
    assert_eq!(test.image_ids.last(), Some(&602));

    let lookup = LookupTable::read(&files.lookup).unwrap();
    assert_eq!(lookup.len(), 9484);
    assert_eq!(lookup.rows[0].coordinate, 0);

    let sample = read_sample_submission(&files.sample_submission).unwrap();
    assert_eq!(sample.len(), 9484);

    // Means over present values, computed independently with Python's csv module.
    let baseline = MeanBaseline::fit(&training.keypoints);
    let expected = [
        (0, 63.962_73),
        (1, 37.695_09),
        (2, 32.719_07),
        (20, 49.263_16),
        (21, 56.504_74),
        (28, 49.429_34),
        (29, 78.660_38),
    ];
    for (coordinate, mean) in expected {
        let actual = baseline.means[coordinate].unwrap();
        assert!(
            (actual - mean).abs() < 1e-3,
            "coordinate {coordinate}: {actual} vs {mean}"
        );
    }
}
