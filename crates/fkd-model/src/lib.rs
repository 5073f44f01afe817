//! The facial keypoints network: MultiSoftMax output, configurable CNN, masked KL loss,
//! max-norm constraint and expectation decoding.

mod decode;

pub use decode::expected_coordinates;
