//! Errors of the experiment runner.

use std::path::PathBuf;

/// An error while preparing, running or resuming an experiment.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// Reading or validating the data failed.
    #[error(transparent)]
    Data(#[from] fkd_data::DataError),

    /// The network configuration is invalid.
    #[error(transparent)]
    Model(#[from] fkd_model::ModelError),

    /// Writing a submission failed.
    #[error(transparent)]
    Feedback(#[from] fkd_feedback::FeedbackError),

    /// A run-directory file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A checkpoint or state file is missing or unreadable.
    #[error("{}: {message}", path.display())]
    Checkpoint {
        /// The file involved.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl ExperimentError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Result type of fkd-experiment.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;
