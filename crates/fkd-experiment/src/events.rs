//! Events of a run and the observers that react to them.
//!
//! The training loop emits events; logging, checkpoints, submissions, the metrics
//! history and early stopping are observers. New behaviour subscribes with
//! [`Observer`]; it does not edit the loop.

use burn::optim::ModuleOptimizer;
use fkd_feedback::{KeypointReport, SubmissionFeedback};
use fkd_model::KeypointNet;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::TrainingState;

/// What one epoch measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss per face.
    pub train_loss: f64,
    /// Keypoint errors on the training pass (with augmentation, as trained).
    pub train: KeypointReport,
    /// Keypoint errors on the validation split, and the baseline's.
    pub valid: KeypointReport,
    /// Learning rate used in this epoch.
    pub learning_rate: f64,
    /// Wall time of the epoch, in seconds.
    pub seconds: f64,
}

impl EpochReport {
    /// Returns the validation keypoint MSE, or `None` if no value was present.
    pub fn valid_mse(&self) -> Option<f64> {
        self.valid.model.as_ref().map(|error| error.mse)
    }
}

/// What observers see of an epoch.
pub struct EpochContext<'a> {
    /// The epoch's measurements.
    pub report: &'a EpochReport,
    /// The model after the epoch.
    pub model: &'a KeypointNet,
    /// The optimizer and its state after the epoch.
    pub optimizer: &'a ModuleOptimizer,
    /// Progress of the run, including this epoch.
    pub state: &'a TrainingState,
    /// Test-set predictions of this epoch, when a test set and lookup table exist.
    pub submission: Option<&'a SubmissionFeedback>,
}

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// `max_epoch` epochs were run.
    MaxEpoch,
    /// `max_tries` epochs passed without a new validation minimum.
    EarlyStopping,
    /// The user interrupted the run (Ctrl-C).
    Interrupted,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::MaxEpoch => write!(f, "reached the maximum number of epochs"),
            StopReason::EarlyStopping => write!(f, "early stopping"),
            StopReason::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// An event of the run.
pub enum Event<'a> {
    /// The epoch reached a new minimum of validation keypoint MSE (emitted before
    /// [`Event::EpochDone`], so the best checkpoint exists before the state that names it).
    NewMinimum(EpochContext<'a>),
    /// The epoch did not improve on the best validation keypoint MSE (emitted before
    /// [`Event::EpochDone`]).
    NoImprovement(EpochContext<'a>),
    /// An epoch finished; the last event of each epoch.
    EpochDone(EpochContext<'a>),
    /// The run ended.
    Finished {
        /// Why the run ended.
        reason: StopReason,
        /// Progress at the end.
        state: &'a TrainingState,
    },
}

/// What an observer asks of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop after this epoch.
    Stop(StopReason),
}

/// Something that reacts to run events.
pub trait Observer {
    /// Handles one event. An error ends the run with that error.
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control>;
}

/// Stops a run after `max_tries` consecutive epochs without a new validation minimum.
#[derive(Debug, Clone)]
pub struct EarlyStopper {
    max_tries: usize,
}

impl EarlyStopper {
    /// An early stopper that allows `max_tries` epochs without improvement.
    pub fn new(max_tries: usize) -> Self {
        Self { max_tries }
    }
}

impl Observer for EarlyStopper {
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control> {
        if let Event::NoImprovement(context) = event
            && context.state.epochs_since_best >= self.max_tries
        {
            tracing::info!(
                epochs = context.state.epochs_since_best,
                best_epoch = context.state.best_epoch,
                "no new validation minimum for {} epochs, stopping",
                context.state.epochs_since_best
            );
            return Ok(Control::Stop(StopReason::EarlyStopping));
        }
        Ok(Control::Continue)
    }
}
