//! Finding the real training set for the training-pass measurement: `training.csv` in a
//! data directory, or Kaggle's competition zip (with its nested `training.zip`) in the
//! directory that `FKD_SHARED_DATA` names, extracted to a temporary directory.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Environment variable naming the directory that contains Kaggle's
/// `facial-keypoints-detection.zip`.
pub const SHARED_DATA_ENV: &str = "FKD_SHARED_DATA";

/// File name of Kaggle's competition zip.
const COMPETITION_ZIP: &str = "facial-keypoints-detection.zip";

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
    let zip_path = PathBuf::from(shared).join(COMPETITION_ZIP);
    let csv = scratch.join("training.csv");
    extract_training_csv(&zip_path, &csv)
        .with_context(|| format!("failed to extract training.csv from {}", zip_path.display()))?;
    Ok(Some(csv))
}

/// Writes `training.csv`, read from the `training.zip` inside the competition zip at
/// `zip_path`, to `destination`.
fn extract_training_csv(zip_path: &Path, destination: &Path) -> Result<()> {
    let file = File::open(zip_path).context("cannot open the zip")?;
    let mut outer = zip::ZipArchive::new(file).context("not a zip archive")?;
    let mut inner_bytes = Vec::new();
    outer
        .by_name("training.zip")
        .context("training.zip is missing from the archive")?
        .read_to_end(&mut inner_bytes)?;

    let mut inner = zip::ZipArchive::new(Cursor::new(inner_bytes))
        .context("training.zip is not a zip archive")?;
    let mut csv = Vec::new();
    inner
        .by_name("training.csv")
        .context("training.csv is missing from training.zip")?
        .read_to_end(&mut csv)?;

    std::fs::write(destination, csv)
        .with_context(|| format!("cannot write {}", destination.display()))
}
