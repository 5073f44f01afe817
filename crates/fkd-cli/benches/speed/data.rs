//! Finding the real training set for the training-pass measurement: `training.csv` in a
//! data directory, or Kaggle's competition zip (with its nested `training.zip`) in the
//! directory that `FKD_SHARED_DATA` names, extracted to a temporary directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xtask::fetch_data::{KaggleArchive, KaggleFile, ZIP_FILE_NAME};

/// Environment variable naming the directory that contains Kaggle's
/// `facial-keypoints-detection.zip`.
pub const SHARED_DATA_ENV: &str = "FKD_SHARED_DATA";

/// Returns the path of a `training.csv` to measure on, or `None` when neither source is
/// available. `data_dir` is used first; a zip is extracted into `scratch`.
pub fn find_training_csv(data_dir: Option<&Path>, scratch: &Path) -> Result<Option<PathBuf>> {
    if let Some(directory) = data_dir {
        let csv = directory.join("training.csv");
        anyhow::ensure!(
            csv.is_file(),
            "{} not found; pass --data a directory that holds Kaggle's training.csv",
            csv.display()
        );
        return Ok(Some(csv));
    }

    let Some(shared) = std::env::var_os(SHARED_DATA_ENV).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let zip_path = PathBuf::from(shared).join(ZIP_FILE_NAME);
    let mut extracted = KaggleArchive::open(&zip_path)
        .and_then(|mut archive| archive.extract(&[KaggleFile::Training], scratch))
        .with_context(|| format!("failed to extract training.csv from {}", zip_path.display()))?;
    Ok(extracted.pop())
}
