//! The facial keypoints network: MultiSoftMax output, configurable CNN, masked KL loss,
//! max-norm constraint and expectation decoding.

mod activation;
mod config;
mod constraint;
mod decode;
mod dropout;
mod error;
mod loss;
mod multisoftmax;
mod network;
mod summary;

pub use activation::{Activation, LEAKY_RELU_SLOPE};
pub use config::{INPUT_CHANNELS, KeypointNetConfig};
pub use constraint::apply_max_norm;
pub use decode::expected_coordinates;
pub use error::ModelError;
pub use loss::{KlNormalization, kl_divergence_loss};
pub use multisoftmax::MultiSoftMax;
pub use network::KeypointNet;
pub use summary::{LayerSummary, ModelSummary};
