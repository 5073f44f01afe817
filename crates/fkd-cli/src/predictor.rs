//! A trained model loaded from a run directory with what it needs to predict: the
//! saved configuration, preprocessing and baseline, on the chosen device.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use clap::ValueEnum;
use fkd_data::{FaceBatcher, IMAGE_PIXELS, IMAGE_SIDE, MeanBaseline, NUM_COORDS, Preprocessor};
use fkd_experiment::{CheckpointKind, ExperimentConfig, RunDirectory};
use fkd_feedback::decode_to_host;
use fkd_model::KeypointNet;

use crate::device::DeviceSpec;

/// Faces per forward pass.
const BATCH_SIZE: usize = 64;

/// The checkpoint to load, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckpointArg {
    /// The model of the epoch with the lowest validation keypoint MSE.
    Best,
    /// The model after the last finished epoch.
    Last,
}

impl From<CheckpointArg> for CheckpointKind {
    fn from(value: CheckpointArg) -> Self {
        match value {
            CheckpointArg::Best => CheckpointKind::Best,
            CheckpointArg::Last => CheckpointKind::Last,
        }
    }
}

/// A model from a run directory, in evaluation mode, with its preprocessing.
pub struct Predictor {
    /// The run's configuration.
    pub config: ExperimentConfig,
    /// The preprocessing fitted on the run's training split.
    pub preprocessor: Arc<Preprocessor>,
    /// The mean baseline fitted on the run's training split.
    pub baseline: MeanBaseline,
    /// The network.
    pub model: KeypointNet,
    /// The device the network runs on.
    pub device: Device,
}

impl Predictor {
    /// Loads the run in `path` with its `checkpoint` onto `device`.
    pub fn load(path: &Path, checkpoint: CheckpointArg, device: &DeviceSpec) -> Result<Self> {
        let device = device.device()?;
        let run = RunDirectory::open(path)?;
        let config = run.load_config()?;
        let preprocessor = run.load_preprocessor()?;
        let baseline = run.load_baseline()?;
        let model = run
            .load_model(checkpoint.into(), &device)
            .with_context(|| format!("cannot load the model of {}", path.display()))?
            .valid();
        tracing::info!(
            "loaded the {} model of {}",
            match checkpoint {
                CheckpointArg::Best => "best",
                CheckpointArg::Last => "last",
            },
            path.display()
        );

        Ok(Self {
            config,
            preprocessor: Arc::new(preprocessor),
            baseline,
            model,
            device,
        })
    }

    /// Returns a batcher that preprocesses faces as the run's evaluation passes do.
    pub fn batcher(&self) -> FaceBatcher {
        FaceBatcher::new(self.preprocessor.clone(), self.config.data.target_stdv)
    }

    /// Predicts the 30 coordinates, in pixels of the 96x96 face, of each face in
    /// `faces` (row-major 96x96 grayscale pixels each).
    pub fn predict(&self, faces: &[&[u8]]) -> Vec<[f32; NUM_COORDS]> {
        let mut predictions = Vec::with_capacity(faces.len());
        for chunk in faces.chunks(BATCH_SIZE) {
            let mut pixels = vec![0.0f32; chunk.len() * IMAGE_PIXELS];
            for (face, out) in chunk.iter().zip(pixels.chunks_exact_mut(IMAGE_PIXELS)) {
                self.preprocessor.apply(face, out);
            }
            let shape = [chunk.len(), 1, IMAGE_SIDE, IMAGE_SIDE];
            let images = Tensor::<4>::from_data(TensorData::new(pixels, shape), &self.device);

            predictions.extend(decode_to_host(self.model.forward(images)));
        }
        predictions
    }
}
