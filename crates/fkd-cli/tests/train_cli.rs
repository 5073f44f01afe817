//! Runs the `fkd-cli` binary as a user would: a short training run on a few hundred
//! real faces (from the Kaggle zip in `FKD_SHARED_DATA`), the baseline submission, and
//! input errors.

mod common;

use std::path::{Path, PathBuf};

use common::{fkd_cli, stderr};
use xtask::fetch_data::{KaggleArchive, KaggleFile, ZIP_FILE_NAME};

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

/// Extracts Kaggle's four CSV files from the competition zip in `shared` into `directory`.
fn extract_kaggle_zip(shared: &Path, directory: &Path) {
    KaggleArchive::open(&shared.join(ZIP_FILE_NAME))
        .unwrap()
        .extract(&KaggleFile::ALL, directory)
        .unwrap();
}

#[test]
fn train_tiny_network_on_real_rows() {
    let Some(shared) = shared_data() else { return };
    let data = tempfile::tempdir().unwrap();
    extract_kaggle_zip(&shared, data.path());
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("tiny");

    let output = fkd_cli(&[
        "train",
        "--data",
        data.path().to_str().unwrap(),
        "--run-dir",
        run.to_str().unwrap(),
        "--max-rows",
        "300",
        "--channelSize",
        "{4}",
        "--kernelSize",
        "5",
        "--poolSize",
        "{4}",
        "--poolStride",
        "4",
        "--hiddenSize",
        "{}",
        "--batchSize",
        "32",
        "--maxEpoch",
        "2",
        "--optimizer",
        "adam",
        "--learningRate",
        "0.01",
        "--loss",
        "coordinates",
        "--submissionFile",
        "tiny.csv",
    ]);
    let log = stderr(&output);
    assert!(output.status.success(), "fkd-cli train failed:\n{log}");
    assert!(
        log.contains("split 300 faces into 250 for training and 50 for validation"),
        "{log}"
    );
    assert!(log.contains("epoch 2:"), "{log}");
    assert!(log.contains("vs baseline"), "{log}");

    for file in [
        "config.json",
        "preprocessing.safetensors",
        "baseline.json",
        "metrics.csv",
        "state.json",
        "last.bpk",
        "last-optimizer.bpk",
        "best.bpk",
        "tiny.csv",
    ] {
        assert!(
            run.join(file).is_file(),
            "{file} missing in the run directory:\n{log}"
        );
    }

    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = metrics.lines().collect();
    assert_eq!(lines.len(), 3, "{metrics}");
    assert!(lines[1].starts_with("1,"), "{metrics}");
    assert!(lines[2].starts_with("2,"), "{metrics}");

    // One row per lookup row, in RowId order, every value in [0, 96].
    let submission = std::fs::read_to_string(run.join("tiny.csv")).unwrap();
    let mut lines = submission.lines();
    assert_eq!(lines.next(), Some("RowId,Location"));
    let mut count = 0;
    for (index, line) in lines.enumerate() {
        let (row_id, location) = line.split_once(',').unwrap();
        assert_eq!(row_id.parse::<usize>().unwrap(), index + 1);
        let location: f32 = location.parse().unwrap();
        assert!((0.0..=96.0).contains(&location), "{line}");
        count += 1;
    }
    assert_eq!(count, 9484);
}

/// Arguments of a tiny two-layer training run on the first 200 rows.
fn tiny_run_args<'a>(data: &'a str, run: &'a str, max_epoch: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--data",
        data,
        "--run-dir",
        run,
        "--max-rows",
        "200",
        "--channelSize",
        "{4}",
        "--kernelSize",
        "5",
        "--poolSize",
        "4",
        "--poolStride",
        "4",
        "--hiddenSize",
        "{}",
        "--maxEpoch",
        max_epoch,
        "--optimizer",
        "adam",
        "--learningRate",
        "0.01",
        "--loss",
        "coordinates",
        "--augment",
        "flip",
        "--seed",
        "7",
    ]
}

/// Drops the last column (seconds) of each metrics row.
fn metrics_without_time(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|line| line.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

#[test]
fn same_seed_gives_same_run() {
    let Some(shared) = shared_data() else { return };
    let data = tempfile::tempdir().unwrap();
    extract_kaggle_zip(&shared, data.path());
    let data_path = data.path().to_str().unwrap();
    let runs = tempfile::tempdir().unwrap();
    let first = runs.path().join("first");
    let second = runs.path().join("second");

    for run in [&first, &second] {
        let output = fkd_cli(&tiny_run_args(data_path, run.to_str().unwrap(), "2"));
        assert!(output.status.success(), "{}", stderr(&output));
    }

    assert_eq!(metrics_without_time(&first), metrics_without_time(&second));
    assert_eq!(
        std::fs::read(first.join("submission.csv")).unwrap(),
        std::fs::read(second.join("submission.csv")).unwrap()
    );
}

#[test]
fn resume_continues_from_last_epoch() {
    let Some(shared) = shared_data() else { return };
    let data = tempfile::tempdir().unwrap();
    extract_kaggle_zip(&shared, data.path());
    let data_path = data.path().to_str().unwrap();
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("run");
    let run_path = run.to_str().unwrap();

    let output = fkd_cli(&tiny_run_args(data_path, run_path, "1"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(metrics_without_time(&run).len(), 2);

    let output = fkd_cli(&[
        "train",
        "--resume",
        run_path,
        "--data",
        data_path,
        "--maxEpoch",
        "3",
        "--learningRate",
        "0.5",
    ]);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains(
            "ignoring --learning-rate: a resumed run keeps its saved configuration, and only \
             --max-epoch, --max-tries, --data and the device can change"
        ),
        "{log}"
    );
    assert!(!log.contains("ignoring --max-epoch"), "{log}");
    assert!(!log.contains("lr 0.5"), "{log}");
    assert!(log.contains("after epoch 1"), "{log}");
    assert!(!log.contains("epoch 1:"), "{log}");
    assert!(log.contains("epoch 3:"), "{log}");

    let metrics = metrics_without_time(&run);
    assert_eq!(metrics.len(), 4, "{metrics:?}");
    assert!(metrics[3].starts_with("3,"), "{metrics:?}");
    let state = std::fs::read_to_string(run.join("state.json")).unwrap();
    assert!(state.contains("\"epoch\": 3"), "{state}");
}

#[test]
fn baseline_writes_submission() {
    let Some(shared) = shared_data() else { return };
    let data = tempfile::tempdir().unwrap();
    extract_kaggle_zip(&shared, data.path());
    let submission = data.path().join("baseline.csv");

    let output = fkd_cli(&[
        "baseline",
        "--data",
        data.path().to_str().unwrap(),
        "--submission-file",
        submission.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let text = std::fs::read_to_string(&submission).unwrap();
    assert_eq!(text.lines().count(), 9485);
    assert_eq!(text.lines().next(), Some("RowId,Location"));
}

#[test]
fn missing_training_csv_says_how_to_fetch() {
    let data = tempfile::tempdir().unwrap();
    let output = fkd_cli(&[
        "train",
        "--data",
        data.path().to_str().unwrap(),
        "--run-dir",
        data.path().join("run").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let log = stderr(&output);
    assert!(log.contains("training.csv not found"), "{log}");
    assert!(log.contains("cargo xtask fetch-data"), "{log}");
    assert!(!data.path().join("run").exists(), "{log}");
}

#[test]
fn invalid_settings_create_no_run_directory() {
    let directory = tempfile::tempdir().unwrap();
    let runs = directory.path().join("runs");

    let output = fkd_cli(&[
        "train",
        "--data",
        directory.path().to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
        "--maxEpoch",
        "0",
    ]);

    let log = stderr(&output);
    assert!(!output.status.success());
    assert!(log.contains("max epoch must be at least 1"), "{log}");
    assert!(!runs.exists(), "{log}");
}

#[test]
fn short_list_flag_is_named() {
    let output = fkd_cli(&[
        "train",
        "--channelSize",
        "{16,32,64}",
        "--kernelSize",
        "{3,3}",
    ]);

    let log = stderr(&output);
    assert!(!output.status.success());
    assert!(
        log.contains(
            "error: --kernelSize has 2 values, expected at least 3 (one per conv layer; \
             --channelSize sets the conv layers and --hiddenSize the hidden layers)"
        ),
        "{log}"
    );
}

#[test]
fn bad_list_flag_shows_accepted_forms() {
    let output = fkd_cli(&["train", "--channelSize", "{96;96}"]);
    assert!(!output.status.success());
    let log = stderr(&output);
    assert!(
        log.contains("expected a list such as '{96,96}', '96,96' or a single value such as '3000'"),
        "{log}"
    );
}

#[test]
fn impossible_geometry_is_rejected_before_training() {
    let data = tempfile::tempdir().unwrap();
    let run = data.path().join("run");
    let output = fkd_cli(&[
        "train",
        "--data",
        data.path().to_str().unwrap(),
        "--run-dir",
        run.to_str().unwrap(),
        "--channelSize",
        "{8,8,8,8,8}",
        "--kernelSize",
        "{9,9,9,9,9}",
        "--poolSize",
        "{2,2,2,2,2}",
        "--poolStride",
        "{2,2,2,2,2}",
        "--kernelStride",
        "{1,1,1,1,1}",
    ]);
    assert!(!output.status.success());
    let log = stderr(&output);
    assert!(log.contains("conv layer"), "{log}");
    assert!(
        !run.exists(),
        "no run directory for an invalid configuration"
    );
}
