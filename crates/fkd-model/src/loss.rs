//! Masked KL divergence between the Gaussian target rows and the predicted distributions.

use burn::tensor::{Bool, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Divisor of the summed KL divergence.
///
/// With `batch` faces, 30 coordinates, 98 bins and `present` coordinates that have a
/// target, the two differ by a constant factor per batch:
/// `PresentCoordinateMean = ElementMean * (batch * 30 * 98 / present)`. On complete faces
/// (`present = batch * 30`) the factor is 98, so the per-coordinate loss needs a learning
/// rate about 98 times smaller for the same step, and a batch with many missing
/// coordinates gets larger steps under `PresentCoordinateMean`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlNormalization {
    /// The sum divided by the number of elements, `batch * 30 * 98`, missing coordinates
    /// included: Torch7's `DistKLDivCriterion` with `sizeAverage = true`, the dp tutorial's
    /// loss, for which its learning rate of 0.1 was chosen.
    #[default]
    ElementMean,
    /// The sum divided by the number of present coordinates (0 when none is present): the
    /// mean KL divergence per predicted coordinate.
    PresentCoordinateMean,
}

/// Returns the KL divergence `sum_i t_i * (ln t_i - log_probs_i)` of the `[batch, coords,
/// bins]` predictions from the targets, summed over the bins and the present coordinates
/// and divided according to `normalization`. The result has shape `[1]`.
///
/// Bins where `t <= 0` contribute 0 (the limit of `t ln t`), and so do all bins of a
/// coordinate whose `mask` entry is `false`, whatever its target row holds. Neither the
/// value nor its gradient takes the log of 0 or multiplies an infinite `log_probs` entry,
/// so both stay finite while the targets are finite.
///
/// Returns [`ModelError::ShapeMismatch`] when `targets` does not have the shape of
/// `log_probs` or `mask` is not `[batch, coords]`.
pub fn kl_divergence_loss(
    log_probs: Tensor<3>,
    targets: Tensor<3>,
    mask: Tensor<2, Bool>,
    normalization: KlNormalization,
) -> Result<Tensor<1>, ModelError> {
    let dims = log_probs.dims();
    let [batch, coords, _] = dims;
    check_shape("targets", &targets.dims(), &dims)?;
    check_shape("mask", &mask.dims(), &[batch, coords])?;

    let missing = mask.clone().bool_not().unsqueeze_dim::<3>(2).expand(dims);
    let excluded = targets.clone().lower_equal_elem(0.0).bool_or(missing);

    // Excluded bins become t = 0 against log t = ln 1 = 0 and log_probs = 0, so their
    // term is exactly 0 and no log(0) or 0 * inf is ever evaluated.
    let log_targets = targets.clone().mask_fill(excluded.clone(), 1.0).log();
    let targets = targets.mask_fill(excluded.clone(), 0.0);
    let log_probs = log_probs.mask_fill(excluded, 0.0);
    let divergence = (targets * (log_targets - log_probs)).sum();

    let normalized = match normalization {
        KlNormalization::ElementMean => {
            let element_count: usize = dims.iter().product();
            divergence.div_scalar(element_count as f64)
        }
        KlNormalization::PresentCoordinateMean => {
            let present = mask.int().sum().float().clamp_min(1.0);
            divergence / present
        }
    };
    Ok(normalized)
}

fn check_shape(name: &'static str, actual: &[usize], expected: &[usize]) -> Result<(), ModelError> {
    if actual != expected {
        return Err(ModelError::ShapeMismatch {
            name,
            actual: actual.to_vec(),
            expected: expected.to_vec(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, TensorData};
    use fkd_data::{NUM_BINS, NUM_COORDS, gaussian_row};

    use super::*;

    const LN_2: f32 = std::f32::consts::LN_2;

    /// Builds one face with two coordinates of three bins. Coordinate 0 predicts
    /// (1/2, 1/4, 1/4) against the target (1/2, 1/2, 0), and coordinate 1 is missing.
    fn tiny_batch(device: &Device) -> (Tensor<3>, Tensor<3>, Tensor<2, Bool>) {
        let third = (1.0f32 / 3.0).ln();
        let log_probs = Tensor::from_floats(
            [[
                [0.5f32.ln(), 0.25f32.ln(), 0.25f32.ln()],
                [third, third, third],
            ]],
            device,
        );
        let targets = Tensor::from_floats([[[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]], device);
        let mask = Tensor::from_data(TensorData::new(vec![true, false], [1, 2]), device);
        (log_probs, targets, mask)
    }

    fn value(loss: Tensor<1>) -> f32 {
        loss.into_scalar::<f32>()
    }

    #[test]
    fn element_mean_exact() {
        let device = Device::flex();
        let (log_probs, targets, mask) = tiny_batch(&device);

        let loss = kl_divergence_loss(log_probs, targets, mask, KlNormalization::ElementMean);

        // 0.5 * (ln 0.5 - ln 0.5) + 0.5 * (ln 0.5 - ln 0.25) = 0.5 ln 2, over 1 * 2 * 3.
        let loss = loss.unwrap();
        assert_eq!(loss.dims(), [1]);
        assert!((value(loss) - 0.5 * LN_2 / 6.0).abs() < 1e-7);
    }

    #[test]
    fn present_coordinate_mean_exact() {
        let device = Device::flex();
        let (log_probs, targets, mask) = tiny_batch(&device);

        let loss = kl_divergence_loss(
            log_probs,
            targets,
            mask,
            KlNormalization::PresentCoordinateMean,
        )
        .unwrap();

        assert!((value(loss) - 0.5 * LN_2).abs() < 1e-7);
    }

    #[test]
    fn identical_distributions_give_zero() {
        let device = Device::flex();
        let probabilities = [[[0.2f32, 0.3, 0.5]]];
        let log_probs = Tensor::<3>::from_floats(probabilities, &device).log();
        let targets = Tensor::<3>::from_floats(probabilities, &device);
        let mask = Tensor::from_data(TensorData::new(vec![true], [1, 1]), &device);

        let loss =
            kl_divergence_loss(log_probs, targets, mask, KlNormalization::ElementMean).unwrap();

        assert!(value(loss).abs() < 1e-7);
    }

    #[test]
    fn mask_overrides_nonzero_targets() {
        let device = Device::flex();
        let (log_probs, _, mask) = tiny_batch(&device);
        // The missing coordinate's target row is not zero, as from a faulty batcher.
        let targets = Tensor::from_floats([[[0.5, 0.5, 0.0], [0.9, 0.1, 0.0]]], &device);

        let loss = kl_divergence_loss(
            log_probs,
            targets,
            mask,
            KlNormalization::PresentCoordinateMean,
        )
        .unwrap();

        assert!((value(loss) - 0.5 * LN_2).abs() < 1e-7);
    }

    #[test]
    fn infinite_log_probs_at_zero_targets_stay_finite() {
        let device = Device::flex().autodiff();
        let log_probs =
            Tensor::<3>::from_floats([[[0.0, f32::NEG_INFINITY, f32::NEG_INFINITY]]], &device)
                .require_grad();
        let targets = Tensor::from_floats([[[1.0, 0.0, 0.0]]], &device);
        let mask = Tensor::from_data(TensorData::new(vec![true], [1, 1]), &device);

        let loss = kl_divergence_loss(
            log_probs.clone(),
            targets,
            mask,
            KlNormalization::ElementMean,
        )
        .unwrap();
        let loss_value = loss.clone().inner().into_scalar::<f32>();
        let gradient = log_probs
            .grad(&loss.backward())
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();

        assert_eq!(loss_value, 0.0);
        // d/d log_probs of -t * log_probs / 3.
        assert_eq!(gradient, vec![-1.0 / 3.0, 0.0, 0.0]);
    }

    #[test]
    fn gradient_exact_and_zero_where_excluded() {
        let device = Device::flex().autodiff();
        let (log_probs, targets, mask) = tiny_batch(&device);
        let log_probs = log_probs.require_grad();

        let loss = kl_divergence_loss(
            log_probs.clone(),
            targets,
            mask,
            KlNormalization::ElementMean,
        )
        .unwrap();
        let gradient = log_probs
            .grad(&loss.backward())
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();

        let sixth = 0.5 / 6.0;
        assert_eq!(gradient, vec![-sixth, -sixth, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn no_present_coordinate_gives_zero() {
        let device = Device::flex();
        let (log_probs, targets, _) = tiny_batch(&device);
        let mask = Tensor::from_data(TensorData::new(vec![false, false], [1, 2]), &device);

        let loss = kl_divergence_loss(
            log_probs,
            targets,
            mask,
            KlNormalization::PresentCoordinateMean,
        )
        .unwrap();

        assert_eq!(value(loss), 0.0);
    }

    #[test]
    fn normalizations_differ_by_documented_factor() {
        let device = Device::flex();
        let batch = 2;
        let logits = Tensor::<3>::random(
            [batch, NUM_COORDS, NUM_BINS],
            Distribution::Default,
            &device,
        );
        let log_probs = burn::tensor::activation::log_softmax(logits, 2);

        let mut present = vec![true; batch * NUM_COORDS];
        let mut targets = vec![0.0f32; batch * NUM_COORDS * NUM_BINS];
        for (index, row) in targets.chunks_exact_mut(NUM_BINS).enumerate() {
            if index.is_multiple_of(3) {
                present[index] = false;
            } else {
                gaussian_row(Some((index % 90) as f32 + 0.4), 0.8, row);
            }
        }
        let present_count = present.iter().filter(|&&value| value).count();
        let targets = Tensor::<3>::from_data(
            TensorData::new(targets, [batch, NUM_COORDS, NUM_BINS]),
            &device,
        );
        let mask = Tensor::from_data(TensorData::new(present, [batch, NUM_COORDS]), &device);

        let element_mean = kl_divergence_loss(
            log_probs.clone(),
            targets.clone(),
            mask.clone(),
            KlNormalization::ElementMean,
        )
        .unwrap();
        let coordinate_mean = kl_divergence_loss(
            log_probs,
            targets,
            mask,
            KlNormalization::PresentCoordinateMean,
        )
        .unwrap();

        let factor = (batch * NUM_COORDS * NUM_BINS) as f32 / present_count as f32;
        let element_mean = value(element_mean);
        let coordinate_mean = value(coordinate_mean);
        assert_eq!(present_count, 40);
        assert!(element_mean > 0.0);
        assert!(
            (coordinate_mean - element_mean * factor).abs() < 1e-4 * coordinate_mean,
            "{coordinate_mean} vs {element_mean} * {factor}"
        );
    }

    #[test]
    fn target_shape_mismatch_rejected() {
        let device = Device::flex();
        let (log_probs, _, mask) = tiny_batch(&device);
        let targets = Tensor::zeros([1, 2, 4], &device);

        let error =
            kl_divergence_loss(log_probs, targets, mask, KlNormalization::ElementMean).unwrap_err();

        assert_eq!(
            error.to_string(),
            "targets has shape [1, 2, 4], expected [1, 2, 3]"
        );
    }

    #[test]
    fn mask_shape_mismatch_rejected() {
        let device = Device::flex();
        let (log_probs, targets, _) = tiny_batch(&device);
        let mask = Tensor::from_data(TensorData::new(vec![true; 3], [1, 3]), &device);

        let error =
            kl_divergence_loss(log_probs, targets, mask, KlNormalization::ElementMean).unwrap_err();

        assert_eq!(error.to_string(), "mask has shape [1, 3], expected [1, 2]");
    }

    #[test]
    fn serde_uses_snake_case() {
        let json = serde_json::to_string(&KlNormalization::PresentCoordinateMean).unwrap();

        assert_eq!(json, "\"present_coordinate_mean\"");
    }
}
