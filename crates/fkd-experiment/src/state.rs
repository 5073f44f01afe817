//! Progress of a run, saved as `state.json` beside the last checkpoint so `--resume`
//! continues where the run stopped.

use serde::{Deserialize, Serialize};

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingState {
    /// Last finished epoch (0 before the first).
    pub epoch: usize,
    /// Best validation keypoint MSE so far.
    pub best_valid_mse: Option<f64>,
    /// Epoch of the best validation keypoint MSE.
    pub best_epoch: Option<usize>,
    /// Epochs finished since the best one.
    pub epochs_since_best: usize,
}

impl TrainingState {
    /// Records a finished epoch with validation MSE `valid_mse` and returns whether it
    /// is a new minimum.
    pub fn record_epoch(&mut self, epoch: usize, valid_mse: Option<f64>) -> bool {
        self.epoch = epoch;
        let improved = match (valid_mse, self.best_valid_mse) {
            (Some(mse), Some(best)) => mse < best,
            (Some(mse), None) => mse.is_finite(),
            (None, _) => false,
        };
        if improved {
            self.best_valid_mse = valid_mse;
            self.best_epoch = Some(epoch);
            self.epochs_since_best = 0;
        } else {
            self.epochs_since_best += 1;
        }
        improved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_epoch_tracks_minimum() {
        let mut state = TrainingState::default();
        assert!(state.record_epoch(1, Some(10.0)));
        assert!(!state.record_epoch(2, Some(10.0)));
        assert!(!state.record_epoch(3, Some(12.0)));
        assert_eq!(state.epochs_since_best, 2);
        assert!(state.record_epoch(4, Some(9.5)));
        assert_eq!(state.best_epoch, Some(4));
        assert_eq!(state.best_valid_mse, Some(9.5));
        assert_eq!(state.epochs_since_best, 0);
        assert!(!state.record_epoch(5, None));
        assert_eq!(state.epoch, 5);
    }
}
