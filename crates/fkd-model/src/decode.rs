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

/// Decodes `[batch, 30, 98]` probabilities into `[batch, 30]` coordinates in pixels: the
/// mean bin of each row, `sum_i i * p(i)`. Rows must sum to 1, as MultiSoftMax rows do.
///
/// Near the edges the mean is pulled inwards, because the bins stop at 0 and 97 and a
/// peak there loses its outer tail. For the target Gaussian of stdv 0.8 renormalized to
/// sum 1, the decoded value is 0.365 for a coordinate at 0, 0.652 at 0.5 and 1.046 at 1.
/// It is within 0.01 of the coordinate from 1.5 to 95.5, and is 95.954 at 96 and 96.635
/// at 97. The decoder does not correct this, since the shift depends on the shape of the
/// predicted distribution. The `edge_bias` test in this file measures these values.
pub fn expected_coordinates(probabilities: Tensor<3>) -> Tensor<2> {
    let positions = bin_positions(&probabilities.device());
    (probabilities * positions).sum_dim(2).squeeze_dim(2)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};
    use fkd_data::{NUM_COORDS, gaussian_row};

    use super::*;

    /// Builds the target row of `coordinate` (stdv 0.8) divided by its sum, as a
    /// `[1, 1, 98]` distribution.
    fn normalized_target(coordinate: f32, device: &Device) -> Tensor<3> {
        let mut row = vec![0.0f32; NUM_BINS];
        gaussian_row(Some(coordinate), 0.8, &mut row);
        let sum: f32 = row.iter().sum();
        let row: Vec<f32> = row.iter().map(|value| value / sum).collect();
        Tensor::from_data(TensorData::new(row, [1, 1, NUM_BINS]), device)
    }

    fn decode_one(coordinate: f32) -> f32 {
        let device = Device::flex();
        expected_coordinates(normalized_target(coordinate, &device)).into_scalar::<f32>()
    }

    #[test]
    fn interior_target_decodes_to_center() {
        let decoded = decode_one(48.3);

        assert!((decoded - 48.3).abs() < 1e-3, "{decoded}");
    }

    #[test]
    fn one_hot_decodes_to_bin() {
        let device = Device::flex();
        let mut row = vec![0.0f32; NUM_BINS];
        row[17] = 1.0;
        let probabilities = Tensor::from_data(TensorData::new(row, [1, 1, NUM_BINS]), &device);

        let decoded = expected_coordinates(probabilities).into_scalar::<f32>();

        assert_eq!(decoded, 17.0);
    }

    #[test]
    fn uniform_decodes_to_middle() {
        let device = Device::flex();
        let probabilities = Tensor::<3>::ones([1, 1, NUM_BINS], &device) / NUM_BINS as f32;

        let decoded = expected_coordinates(probabilities).into_scalar::<f32>();

        // (0 + 97) / 2.
        assert!((decoded - 48.5).abs() < 1e-4, "{decoded}");
    }

    #[test]
    fn batch_layout_is_face_then_coordinate() {
        let device = Device::flex();
        let mut rows = vec![0.0f32; 2 * NUM_COORDS * NUM_BINS];
        for (index, row) in rows.chunks_exact_mut(NUM_BINS).enumerate() {
            row[index % NUM_BINS] = 1.0;
        }
        let probabilities =
            Tensor::from_data(TensorData::new(rows, [2, NUM_COORDS, NUM_BINS]), &device);

        let coordinates = expected_coordinates(probabilities);

        assert_eq!(coordinates.dims(), [2, NUM_COORDS]);
        let values = coordinates.into_data().try_to_vec::<f32>().unwrap();
        let expected: Vec<f32> = (0..2 * NUM_COORDS).map(|index| index as f32).collect();
        assert_eq!(values, expected);
    }

    #[test]
    fn edge_bias() {
        // Measured values that the doc comment of expected_coordinates quotes.
        let cases = [
            (0.0, 0.365),
            (0.5, 0.652),
            (1.0, 1.046),
            (1.5, 1.510),
            (95.5, 95.490),
            (96.0, 95.954),
            (97.0, 96.635),
        ];
        for (coordinate, expected) in cases {
            let decoded = decode_one(coordinate);
            assert!(
                (decoded - expected).abs() < 1e-3,
                "{coordinate} decodes to {decoded}, expected {expected}"
            );
        }
    }
}
