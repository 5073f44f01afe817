//! Kaggle's Facial Keypoints Detection files in, training batches out.
//!
//! - [`keypoints`]: the keypoint table (names, coordinate columns, flip pairs).
//! - Parsing with validation: [`read_training_csv`], [`read_test_csv`],
//!   [`LookupTable`], [`read_sample_submission`]; loading through a binary cache:
//!   [`load_training`], [`load_test`].
//! - [`split_train_valid`], [`gaussian_row`] targets, [`Preprocessor`] (scaling,
//!   standardization, ZCA), [`flip_face`] augmentation and the [`MeanBaseline`].
//! - With the default `burn` feature: [`FaceDataset`] and [`FaceBatcher`].
//!
//! Missing coordinates are explicit everywhere: `Option<f32>` in [`Keypoints`], a mask
//! beside every tensor.
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//!
//! use burn::data::dataloader::batcher::Batcher;
//! use burn::data::dataset::Dataset;
//! use burn::tensor::Device;
//! use fkd_data::{FaceBatcher, FaceDataset, Preprocessor, load_training, split_train_valid};
//!
//! # fn main() -> Result<(), fkd_data::DataError> {
//! let training = Arc::new(load_training(Path::new("data/training.csv"))?);
//! let split = split_train_valid(training.len(), 1.0 / 6.0, 42)?;
//! let dataset = FaceDataset::training(training, split.train);
//!
//! let batcher = FaceBatcher::new(Arc::new(Preprocessor::default()), 0.8);
//! let items = (0..16).map(|index| dataset.get(index).unwrap()).collect();
//! let batch = batcher.batch(items, &Device::flex());
//! assert_eq!(batch.targets.dims(), [16, 30, 98]);
//! # Ok(())
//! # }
//! ```

mod atomic;
mod augment;
mod baseline;
#[cfg(feature = "burn")]
mod batch;
mod cache;
mod error;
mod faces;
pub mod keypoints;
mod lookup;
mod parse;
mod preprocess;
mod split;
mod targets;

use std::path::{Path, PathBuf};

pub use atomic::{check_directory, write_atomically, write_atomically_with};
pub use augment::{flip_face, flip_image, flip_keypoints};
pub use baseline::MeanBaseline;
#[cfg(feature = "burn")]
pub use batch::{FaceBatch, FaceBatcher, FaceDataset, FaceItem};
pub use cache::{cache_path, load_test, load_training};
pub use error::{DataError, Location, Result};
pub use faces::{Keypoints, TestSet, TrainingSet};
pub use keypoints::{IMAGE_PIXELS, IMAGE_SIDE, NUM_BINS, NUM_COORDS, NUM_KEYPOINTS};
pub use lookup::{LookupRow, LookupTable, parse_sample_submission, read_sample_submission};
pub use parse::{
    MAX_COORDINATE, parse_test_csv, parse_training_csv, read_test_csv, read_training_csv,
};
pub use preprocess::{
    DEFAULT_ZCA_EPSILON, PreprocessingConfig, Preprocessor, Standardize, ZCA_MAX_FIT_IMAGES, Zca,
};
pub use split::{DEFAULT_VALID_RATIO, Split, shuffled_indices, split_train_valid};
pub use targets::{DEFAULT_TARGET_STDV, extend_targets, gaussian_row};

/// Environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "FKD_DATA_DIR";

/// Data directory used when neither an explicit one nor [`DATA_DIR_ENV`] is given.
pub const DEFAULT_DATA_DIR: &str = "data";

/// Returns the data directory: `explicit` if given, else `$FKD_DATA_DIR` if set and
/// non-empty, else `./data`.
pub fn resolve_data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(directory) = explicit {
        return directory.to_path_buf();
    }
    match std::env::var_os(DATA_DIR_ENV) {
        Some(value) if !value.is_empty() => PathBuf::from(value),
        _ => PathBuf::from(DEFAULT_DATA_DIR),
    }
}

/// The four files of Kaggle's download, by their names in a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KaggleFiles {
    /// `training.csv`.
    pub training: PathBuf,
    /// `test.csv`.
    pub test: PathBuf,
    /// `IdLookupTable.csv`.
    pub lookup: PathBuf,
    /// `SampleSubmission.csv`.
    pub sample_submission: PathBuf,
}

impl KaggleFiles {
    /// The file names inside `directory`.
    pub fn in_dir(directory: &Path) -> Self {
        Self {
            training: directory.join("training.csv"),
            test: directory.join("test.csv"),
            lookup: directory.join("IdLookupTable.csv"),
            sample_submission: directory.join("SampleSubmission.csv"),
        }
    }
}
