//! Expectation decoding: each coordinate is the mean of its predicted distribution over
//! the bins, `sum_i i * p(i)`.

use burn::tensor::{Device, Tensor};
use fkd_data::NUM_BINS;

/// Returns the bin positions `0, 1, ..., 97` as a `[1, 1, 98]` tensor.
fn bin_positions(device: &Device) -> Tensor<3> {
    Tensor::<1, burn::tensor::Int>::arange(0..NUM_BINS as i64, device)
        .float()
        .reshape([1, 1, NUM_BINS])
}

/// Decodes `[batch, 30, 98]` probabilities into `[batch, 30]` coordinates in pixels.
pub fn expected_coordinates(probabilities: Tensor<3>) -> Tensor<2> {
    let positions = bin_positions(&probabilities.device());
    (probabilities * positions).sum_dim(2).squeeze_dim(2)
}
