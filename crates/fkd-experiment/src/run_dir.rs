//! The run directory: everything needed to reproduce, resume or use a run.
//!
//! ```text
//! runs/2026-12-04T21-10-33/
//!   config.json                 the experiment configuration
//!   preprocessing.safetensors   fitted preprocessing (scaling, standardize, ZCA)
//!   baseline.json               mean keypoints of the training split
//!   metrics.csv                 one row per epoch
//!   learning-curve.png          train and valid MSE per epoch, redrawn each epoch
//!   state.json                  progress, for --resume
//!   last.bpk, last-optimizer.bpk  model and optimizer after the last epoch
//!   best.bpk                    model at the best validation epoch
//!   <submission file>           Kaggle submission of the best epoch
//! ```
//!
//! Every file is written to a temporary file and renamed into place.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use fkd_data::{MeanBaseline, Preprocessor, write_atomically};
use fkd_model::KeypointNet;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::ExperimentConfig;
use crate::error::{ExperimentError, Result};
use crate::state::TrainingState;

/// A saved model: the best one or the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    /// The model at the epoch with the lowest validation keypoint MSE.
    Best,
    /// The model after the last finished epoch.
    Last,
}

/// A run directory and the names of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDirectory {
    path: PathBuf,
}

impl RunDirectory {
    /// Creates a new run directory under `root`, named by the current UTC time
    /// (`2026-12-04T21-10-33`, with `-2`, `-3`... appended if that name exists).
    pub fn create_timestamped(root: &Path) -> Result<Self> {
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .trim_end_matches('Z')
            .replace(':', "-");
        std::fs::create_dir_all(root).map_err(|error| ExperimentError::io(root, error))?;

        for attempt in 1..=1000 {
            let name = if attempt == 1 {
                stamp.clone()
            } else {
                format!("{stamp}-{attempt}")
            };
            let path = root.join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(ExperimentError::io(path, error)),
            }
        }
        Err(ExperimentError::Config(format!(
            "cannot find a free run directory name under {}",
            root.display()
        )))
    }

    /// Creates `path` as a run directory; it must not exist or must be empty.
    pub fn create(path: &Path) -> Result<Self> {
        if path.exists() {
            let mut entries =
                std::fs::read_dir(path).map_err(|error| ExperimentError::io(path, error))?;
            if entries.next().is_some() {
                return Err(ExperimentError::Config(format!(
                    "run directory {} already exists and is not empty; use --resume to continue it",
                    path.display()
                )));
            }
        }
        std::fs::create_dir_all(path).map_err(|error| ExperimentError::io(path, error))?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing run directory (for resuming, prediction or submission).
    pub fn open(path: &Path) -> Result<Self> {
        let directory = Self {
            path: path.to_path_buf(),
        };
        if !directory.config_path().is_file() {
            return Err(ExperimentError::checkpoint(
                directory.config_path(),
                "not found: is this a run directory written by `fkd-cli train`?",
            ));
        }
        Ok(directory)
    }

    /// Returns the directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the path of `config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.path.join("config.json")
    }

    /// Returns the path of `state.json`.
    pub fn state_path(&self) -> PathBuf {
        self.path.join("state.json")
    }

    /// Returns the path of `metrics.csv`.
    pub fn metrics_path(&self) -> PathBuf {
        self.path.join("metrics.csv")
    }

    /// Returns the path of `preprocessing.safetensors`.
    pub fn preprocessing_path(&self) -> PathBuf {
        self.path.join("preprocessing.safetensors")
    }

    /// Returns the path of `baseline.json`.
    pub fn baseline_path(&self) -> PathBuf {
        self.path.join("baseline.json")
    }

    /// Returns the path of a model checkpoint.
    pub fn model_path(&self, kind: CheckpointKind) -> PathBuf {
        match kind {
            CheckpointKind::Best => self.path.join("best.bpk"),
            CheckpointKind::Last => self.path.join("last.bpk"),
        }
    }

    /// Returns the path of the optimizer state saved with the last checkpoint.
    pub fn optimizer_path(&self) -> PathBuf {
        self.path.join("last-optimizer.bpk")
    }

    /// Returns the path of a file named `name` in the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Saves the configuration.
    pub fn save_config(&self, config: &ExperimentConfig) -> Result<()> {
        save_json(&self.config_path(), config)
    }

    /// Loads the configuration.
    pub fn load_config(&self) -> Result<ExperimentConfig> {
        load_json(&self.config_path())
    }

    /// Saves the run's progress.
    pub fn save_state(&self, state: &TrainingState) -> Result<()> {
        save_json(&self.state_path(), state)
    }

    /// Loads the run's progress.
    pub fn load_state(&self) -> Result<TrainingState> {
        load_json(&self.state_path())
    }

    /// Saves the mean baseline.
    pub fn save_baseline(&self, baseline: &MeanBaseline) -> Result<()> {
        save_json(&self.baseline_path(), baseline)
    }

    /// Loads the mean baseline.
    pub fn load_baseline(&self) -> Result<MeanBaseline> {
        load_json(&self.baseline_path())
    }

    /// Saves the fitted preprocessing.
    pub fn save_preprocessor(&self, preprocessor: &Preprocessor) -> Result<()> {
        Ok(preprocessor.save(&self.preprocessing_path())?)
    }

    /// Loads the fitted preprocessing.
    pub fn load_preprocessor(&self) -> Result<Preprocessor> {
        Ok(Preprocessor::load(&self.preprocessing_path())?)
    }

    /// Saves a model checkpoint.
    pub fn save_model(&self, model: &KeypointNet, kind: CheckpointKind) -> Result<()> {
        let path = self.model_path(kind);
        let record = model.clone().into_record();
        write_through_temporary(&path, |temporary| {
            record.save(temporary).map_err(|error| error.to_string())
        })
    }

    /// Loads a model checkpoint onto `device`, building the network from the saved
    /// configuration.
    pub fn load_model(&self, kind: CheckpointKind, device: &Device) -> Result<KeypointNet> {
        let config = self.load_config()?;
        let path = self.model_path(kind);
        if !path.is_file() {
            return Err(ExperimentError::checkpoint(&path, "checkpoint not found"));
        }
        let record = ModuleRecord::load(&path)
            .map_err(|error| ExperimentError::checkpoint(&path, error.to_string()))?;
        let model = config.model.init(device)?;
        model
            .try_load_record(record)
            .map_err(|error| ExperimentError::checkpoint(&path, error.to_string()))
    }

    /// Saves the optimizer state beside the last checkpoint.
    pub fn save_optimizer(&self, optimizer: &ModuleOptimizer) -> Result<()> {
        let path = self.optimizer_path();
        write_through_temporary(&path, |temporary| {
            optimizer.save(temporary).map_err(|error| error.to_string())
        })
    }

    /// Loads the optimizer state into `optimizer`.
    pub fn load_optimizer(&self, optimizer: ModuleOptimizer) -> Result<ModuleOptimizer> {
        let path = self.optimizer_path();
        optimizer
            .load(&path)
            .map_err(|error| ExperimentError::checkpoint(&path, error.to_string()))
    }
}

/// Writes `path` through `write` on a temporary file in the same directory, then
/// renames it over `path`.
fn write_through_temporary(
    path: &Path,
    write: impl FnOnce(&Path) -> std::result::Result<(), String>,
) -> Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    // burn's burnpack writer appends ".bpk" to a path without that extension, so the
    // temporary file gets it already.
    let temporary = tempfile::Builder::new()
        .prefix(".checkpoint")
        .suffix(".bpk")
        .tempfile_in(directory)
        .map_err(|error| ExperimentError::io(directory, error))?
        .into_temp_path();
    write(&temporary).map_err(|message| ExperimentError::checkpoint(path, message))?;
    temporary
        .persist(path)
        .map_err(|error| ExperimentError::io(path, error.error))?;
    Ok(())
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn save_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|error| ExperimentError::checkpoint(path, error.to_string()))?;
    text.push('\n');
    Ok(write_atomically(path, text.as_bytes())?)
}

/// Reads JSON from `path`.
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|error| ExperimentError::io(path, error))?;
    serde_json::from_str(&text)
        .map_err(|error| ExperimentError::checkpoint(path, format!("invalid JSON: {error}")))
}
