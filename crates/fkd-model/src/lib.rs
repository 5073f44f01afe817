//! The facial keypoints network of the dp library's tutorial, in burn: each of the 30
//! coordinates is predicted as a distribution over the 98 pixel positions `0..=97`.
//!
//! - [`KeypointNetConfig`] describes the CNN (conv layers, dense hidden layers, activation,
//!   dropout, batch normalization, initialization), validates it and builds a
//!   [`KeypointNet`]. [`KeypointNetConfig::summary`] lists its layers and parameter counts.
//! - [`KeypointNet::forward`] returns `[batch, 30, 98]` probabilities through a
//!   [`MultiSoftMax`], and [`KeypointNet::forward_log_probs`] their logs for the loss.
//! - [`kl_divergence_loss`] compares them with the Gaussian target rows and skips missing
//!   coordinates through the mask. [`KlNormalization`] selects how the sum is averaged.
//! - [`apply_max_norm`] bounds each unit's incoming weight norm after an update.
//! - [`expected_coordinates`] decodes probabilities into pixel coordinates.
//!
//! The tensors that [`fkd_data::FaceBatch`] carries (`images`, `targets`, `mask`) are
//! what the network and the loss take. Building the tutorial's network and computing the
//! loss of one face whose left eye center alone is annotated:
//!
//! ```
//! use burn::tensor::{Device, Tensor, TensorData};
//! use fkd_data::{IMAGE_SIDE, Keypoints, NUM_BINS, NUM_COORDS, extend_targets};
//! use fkd_model::{KeypointNetConfig, KlNormalization, expected_coordinates, kl_divergence_loss};
//!
//! # fn main() -> Result<(), fkd_model::ModelError> {
//! let device = Device::flex();
//! let config = KeypointNetConfig::new();
//! println!("{}", config.summary()?);
//! let model = config.init(&device)?;
//!
//! let mut keypoints = Keypoints::MISSING;
//! keypoints.0[0] = Some(66.0); // left_eye_center_x
//! keypoints.0[1] = Some(39.0); // left_eye_center_y
//! let mut targets = Vec::new();
//! extend_targets(&keypoints, 0.8, &mut targets);
//! let targets = Tensor::from_data(TensorData::new(targets, [1, NUM_COORDS, NUM_BINS]), &device);
//! let mask = Tensor::from_data(
//!     TensorData::new(keypoints.mask().to_vec(), [1, NUM_COORDS]),
//!     &device,
//! );
//! let images = Tensor::zeros([1, 1, IMAGE_SIDE, IMAGE_SIDE], &device);
//!
//! let log_probs = model.forward_log_probs(images.clone());
//! let loss = kl_divergence_loss(log_probs, targets, mask, KlNormalization::ElementMean)?;
//! assert!(loss.into_scalar::<f32>().is_finite());
//!
//! let coordinates = expected_coordinates(model.forward(images));
//! assert_eq!(coordinates.dims(), [1, NUM_COORDS]);
//! # Ok(())
//! # }
//! ```
//!
//! A training step is forward, loss, backward, optimizer step, then [`apply_max_norm`];
//! `tests/training.rs` runs a few such steps with burn's SGD and Adam.

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
