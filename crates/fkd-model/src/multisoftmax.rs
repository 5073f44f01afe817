//! MultiSoftMax: an independent softmax over the last dimension of each row, so a
//! `[batch, 30, 98]` tensor becomes 30 distributions over 98 bins per face.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, softmax};

use crate::ModelError;

/// Softmax over the last dimension of a 2D (`[rows, classes]`) or 3D
/// (`[batch, rows, classes]`) tensor, after Torch7's `nn.MultiSoftMax`.
///
/// Other ranks return [`ModelError::UnsupportedRank`]. The layer has no parameters.
#[derive(Module, Debug, Default)]
pub struct MultiSoftMax;

impl MultiSoftMax {
    /// Creates the layer.
    pub fn new() -> Self {
        Self
    }

    /// Applies the softmax over the last dimension and returns probabilities.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Result<Tensor<D>, ModelError> {
        check_rank::<D>()?;
        Ok(softmax(input, D - 1))
    }

    /// Returns the log of [`forward`](Self::forward)'s probabilities, computed as
    /// `x - max - log(sum(exp(x - max)))`, so it stays finite where the probability
    /// underflows to 0.
    pub fn forward_log<const D: usize>(&self, input: Tensor<D>) -> Result<Tensor<D>, ModelError> {
        check_rank::<D>()?;
        Ok(log_softmax(input, D - 1))
    }

    /// Applies [`forward`](Self::forward) to the network's `[batch, 30, 98]` logits, whose
    /// rank needs no check.
    pub(crate) fn forward_3d(&self, input: Tensor<3>) -> Tensor<3> {
        softmax(input, 2)
    }

    /// Applies [`forward_log`](Self::forward_log) to the network's `[batch, 30, 98]` logits.
    pub(crate) fn forward_log_3d(&self, input: Tensor<3>) -> Tensor<3> {
        log_softmax(input, 2)
    }
}

fn check_rank<const D: usize>() -> Result<(), ModelError> {
    match D {
        2 | 3 => Ok(()),
        rank => Err(ModelError::UnsupportedRank { rank }),
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tolerance};

    use super::*;

    const BATCH: usize = 3;
    const ROWS: usize = 30;
    const BINS: usize = 98;

    fn random_logits(device: &Device) -> Tensor<3> {
        Tensor::random([BATCH, ROWS, BINS], Distribution::Normal(0.0, 3.0), device)
    }

    /// Row-wise softmax of a 2D tensor, written out: `exp(x - max) / sum(exp(x - max))`.
    fn reference_softmax(logits: Tensor<2>) -> Tensor<2> {
        let max = logits.clone().max_dim(1);
        let exp = (logits - max).exp();
        let sum = exp.clone().sum_dim(1);
        exp / sum
    }

    #[test]
    fn forward_matches_softmax_on_2d_reshape() {
        let device = Device::flex();
        let logits = random_logits(&device);

        let output = MultiSoftMax::new().forward(logits.clone()).unwrap();
        let expected = reference_softmax(logits.reshape([BATCH * ROWS, BINS]));

        assert_eq!(output.dims(), [BATCH, ROWS, BINS]);
        output
            .reshape([BATCH * ROWS, BINS])
            .into_data()
            .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-6));
    }

    #[test]
    fn forward_accepts_2d() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[0.0, 0.0], [0.0, 2.0_f32.ln()]], &device);

        let output = MultiSoftMax::new().forward(logits).unwrap();

        output.into_data().assert_approx_eq::<f32>(
            &Tensor::<2>::from_floats([[0.5, 0.5], [1.0 / 3.0, 2.0 / 3.0]], &device).into_data(),
            Tolerance::absolute(1e-6),
        );
    }

    #[test]
    fn rows_sum_to_one() {
        let device = Device::flex();
        let output = MultiSoftMax::new().forward(random_logits(&device)).unwrap();

        let sums = output.sum_dim(2).into_data().try_to_vec::<f32>().unwrap();

        assert_eq!(sums.len(), BATCH * ROWS);
        for sum in sums {
            assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        }
    }

    #[test]
    fn forward_log_matches_log_of_reference() {
        let device = Device::flex();
        let logits = random_logits(&device);

        let log_probs = MultiSoftMax::new().forward_log(logits.clone()).unwrap();
        let expected = reference_softmax(logits.reshape([BATCH * ROWS, BINS])).log();

        log_probs
            .reshape([BATCH * ROWS, BINS])
            .into_data()
            .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn forward_log_finite_for_extreme_logits() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[0.0, 200.0, -200.0]], &device);

        let log_probs = MultiSoftMax::new()
            .forward_log(logits)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();

        assert!((log_probs[0] + 200.0).abs() < 1e-4, "{log_probs:?}");
        assert!(log_probs[1].abs() < 1e-6, "{log_probs:?}");
        assert!((log_probs[2] + 400.0).abs() < 1e-4, "{log_probs:?}");
    }

    #[test]
    fn gradient_matches_analytic_softmax_gradient() {
        let device = Device::flex().autodiff();
        let logits = random_logits(&device).require_grad();
        let weights = Tensor::<3>::random([BATCH, ROWS, BINS], Distribution::Default, &device);

        // L = sum(w * softmax(x)), so dL/dx = s * (w - sum_j(w_j * s_j)) row by row.
        let output = MultiSoftMax::new().forward(logits.clone()).unwrap();
        let loss = (output.clone() * weights.clone()).sum();
        let gradients = loss.backward();
        let gradient = logits.grad(&gradients).unwrap();

        let probabilities = output.inner().reshape([BATCH * ROWS, BINS]);
        let weights = weights.inner().reshape([BATCH * ROWS, BINS]);
        let weighted_mean = (probabilities.clone() * weights.clone()).sum_dim(1);
        let expected = probabilities * (weights - weighted_mean);

        gradient
            .reshape([BATCH * ROWS, BINS])
            .into_data()
            .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-6));
    }

    #[test]
    fn gradient_matches_softmax_on_2d_reshape() {
        let device = Device::flex().autodiff();
        let values = random_logits(&device).inner();
        let weights = Tensor::<3>::random([BATCH, ROWS, BINS], Distribution::Default, &device);

        let logits_3d = values.clone().autodiff().require_grad();
        let loss_3d =
            (MultiSoftMax::new().forward(logits_3d.clone()).unwrap() * weights.clone()).sum();
        let gradient_3d = logits_3d.grad(&loss_3d.backward()).unwrap();

        let logits_2d = values
            .reshape([BATCH * ROWS, BINS])
            .autodiff()
            .require_grad();
        let loss_2d =
            (reference_softmax(logits_2d.clone()) * weights.reshape([BATCH * ROWS, BINS])).sum();
        let gradient_2d = logits_2d.grad(&loss_2d.backward()).unwrap();

        gradient_3d
            .reshape([BATCH * ROWS, BINS])
            .into_data()
            .assert_approx_eq::<f32>(&gradient_2d.into_data(), Tolerance::absolute(1e-6));
    }

    #[test]
    fn rank_1_is_rejected() {
        let device = Device::flex();
        let input = Tensor::<1>::from_floats([1.0, 2.0], &device);

        let error = MultiSoftMax::new().forward(input).unwrap_err();

        assert_eq!(error, ModelError::UnsupportedRank { rank: 1 });
        assert_eq!(
            error.to_string(),
            "MultiSoftMax expects a 2D or 3D tensor, got rank 1"
        );
    }

    #[test]
    fn rank_4_is_rejected() {
        let device = Device::flex();
        let input = Tensor::<4>::zeros([1, 1, 2, 2], &device);

        let forward_error = MultiSoftMax::new().forward(input.clone()).unwrap_err();
        let log_error = MultiSoftMax::new().forward_log(input).unwrap_err();

        assert_eq!(forward_error, ModelError::UnsupportedRank { rank: 4 });
        assert_eq!(log_error, ModelError::UnsupportedRank { rank: 4 });
    }
}
