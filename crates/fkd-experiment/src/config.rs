//! The experiment configuration, saved as `config.json` in each run directory so a run
//! can be reproduced or resumed from its directory alone.

use std::path::PathBuf;

use fkd_data::PreprocessingConfig;
use fkd_model::{KeypointNetConfig, KlNormalization};
use serde::{Deserialize, Serialize};

/// Everything that determines a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExperimentConfig {
    /// The network.
    pub model: KeypointNetConfig,
    /// Optimization and stopping.
    pub training: TrainingConfig,
    /// Data loading, targets, preprocessing and augmentation.
    pub data: DataConfig,
}

/// Optimization and stopping settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Learning rate at epoch 1.
    pub learning_rate: f64,
    /// SGD momentum; 0 disables it. Ignored by Adam.
    pub momentum: f64,
    /// Optional step decay of the learning rate.
    pub lr_decay: Option<LrDecay>,
    /// Maximum norm of each output neuron's incoming weights, enforced after every
    /// update; `None` disables the constraint.
    pub max_out_norm: Option<f32>,
    /// Faces per batch.
    pub batch_size: usize,
    /// Stop after this many epochs.
    pub max_epoch: usize,
    /// Stop after this many epochs without a new minimum of validation keypoint MSE.
    pub max_tries: usize,
    /// Seed of weight initialization, split, shuffling and augmentation.
    pub seed: u64,
    /// Normalization of the KL-divergence loss.
    pub loss_normalization: KlNormalization,
}

/// The optimizers on offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent, with momentum when `momentum > 0` (the tutorial's).
    Sgd,
    /// Adam with burn's default betas.
    Adam,
}

/// Step decay: the learning rate is multiplied by `factor` every `every` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrDecay {
    /// Multiplier applied at each step.
    pub factor: f64,
    /// Epochs between steps.
    pub every: usize,
}

impl TrainingConfig {
    /// Returns the learning rate of `epoch` (1-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        match self.lr_decay {
            Some(decay) if decay.every > 0 => {
                let steps = (epoch.saturating_sub(1) / decay.every) as i32;
                self.learning_rate * decay.factor.powi(steps)
            }
            _ => self.learning_rate,
        }
    }
}

/// Data settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataConfig {
    /// Directory holding training.csv, and optionally test.csv and IdLookupTable.csv.
    pub data_dir: PathBuf,
    /// Fraction of training rows held out for validation.
    pub valid_ratio: f64,
    /// Use only the first `max_rows` rows of training.csv (for quick runs and tests).
    pub max_rows: Option<usize>,
    /// Standard deviation of the Gaussian targets, in pixels.
    pub target_stdv: f32,
    /// Pixel scaling, standardization and ZCA.
    pub preprocessing: PreprocessingConfig,
    /// Flip training faces horizontally with probability 0.5.
    pub augment_flip: bool,
    /// File name of the Kaggle submission written in the run directory.
    pub submission_file: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn training(lr_decay: Option<LrDecay>) -> TrainingConfig {
        TrainingConfig {
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.1,
            momentum: 0.0,
            lr_decay,
            max_out_norm: None,
            batch_size: 16,
            max_epoch: 10,
            max_tries: 3,
            seed: 1,
            loss_normalization: KlNormalization::default(),
        }
    }

    #[test]
    fn learning_rate_steps_down() {
        let config = training(Some(LrDecay {
            factor: 0.5,
            every: 2,
        }));
        assert_eq!(config.learning_rate_at(1), 0.1);
        assert_eq!(config.learning_rate_at(2), 0.1);
        assert_eq!(config.learning_rate_at(3), 0.05);
        assert_eq!(config.learning_rate_at(5), 0.025);
    }

    #[test]
    fn learning_rate_constant_without_decay() {
        assert_eq!(training(None).learning_rate_at(100), 0.1);
    }
}
