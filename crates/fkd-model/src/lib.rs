//! The facial keypoints network: MultiSoftMax output, configurable CNN, masked KL loss,
//! max-norm constraint and expectation decoding.

mod activation;
mod config;
mod decode;
mod dropout;
mod error;
mod multisoftmax;
mod network;

pub use activation::{Activation, LEAKY_RELU_SLOPE};
pub use config::{INPUT_CHANNELS, KeypointNetConfig};
pub use decode::expected_coordinates;
pub use error::ModelError;
pub use multisoftmax::MultiSoftMax;
pub use network::KeypointNet;
