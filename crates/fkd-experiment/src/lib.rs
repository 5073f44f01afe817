//! The experiment runner: training loop, events and observers, early stopping,
//! checkpoints and run directories.
//!
//! [`train`] runs an [`ExperimentConfig`] in a [`RunDirectory`]: per epoch a training
//! pass, a validation pass with the keypoint feedback, and on each new validation
//! minimum a test pass whose predictions become the Kaggle submission. Observers
//! ([`Observer`]) react to [`Event`]s; the standard ones log, keep `metrics.csv`, draw
//! `learning-curve.png` ([`LearningCurve`]), save checkpoints, write the submission and
//! stop early.

mod config;
mod curve;
mod error;
mod events;
mod observers;
mod raster;
mod run_dir;
mod runner;
mod state;

pub use config::{DataConfig, ExperimentConfig, LrDecay, OptimizerKind, TrainingConfig};
pub use curve::{
    BASELINE_COLOUR, BEST_COLOUR, CURVE_HEIGHT, CURVE_WIDTH, CurvePoint, LEARNING_CURVE_FILE,
    LearningCurve, TRAIN_COLOUR, VALID_COLOUR, render_learning_curve,
};
pub use error::{ExperimentError, Result};
pub use events::{Control, EarlyStopper, EpochContext, EpochReport, Event, Observer, StopReason};
pub use observers::{
    CheckpointSaver, EpochLogger, METRICS_HEADER, MetricsHistory, SubmissionWriter,
};
pub use run_dir::{CheckpointKind, RunDirectory, load_json, save_json};
pub use runner::{
    ExperimentData, NoProgress, Progress, RunOptions, build_optimizer, evaluate, train, validate,
};
pub use state::TrainingState;
