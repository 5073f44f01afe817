//! Gaussian-blurred target distributions: one 98-bin row per coordinate.

use crate::faces::Keypoints;
use crate::keypoints::{NUM_BINS, NUM_COORDS};

/// Default standard deviation of the target Gaussian, in pixels.
pub const DEFAULT_TARGET_STDV: f32 = 0.8;

/// Writes the target row of one coordinate into `row` (length [`NUM_BINS`]): the
/// Gaussian density `exp(-(i - c)^2 / (2 s^2)) / (sqrt(2 pi) s)` at each bin `i`, or all
/// zeros when the coordinate is missing.
///
/// The row is the density itself, not renormalized: it sums to about 1 for interior
/// coordinates and to less near the image edges, as in the dp tutorial.
pub fn gaussian_row(coordinate: Option<f32>, stdv: f32, row: &mut [f32]) {
    debug_assert_eq!(row.len(), NUM_BINS);
    let Some(center) = coordinate else {
        row.fill(0.0);
        return;
    };

    let stdv = f64::from(stdv);
    let scale = 1.0 / ((2.0 * std::f64::consts::PI).sqrt() * stdv);
    let denominator = 2.0 * stdv * stdv;
    for (bin, value) in row.iter_mut().enumerate() {
        let distance = bin as f64 - f64::from(center);
        *value = (scale * (-distance * distance / denominator).exp()) as f32;
    }
}

/// Appends the `[30, 98]` target rows of one face to `out`.
pub fn extend_targets(keypoints: &Keypoints, stdv: f32, out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + NUM_COORDS * NUM_BINS, 0.0);
    for (coordinate, row) in out[start..].chunks_exact_mut(NUM_BINS).enumerate() {
        gaussian_row(keypoints.0[coordinate], stdv, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_row_matches_hand_values() {
        let mut row = [0.0; NUM_BINS];
        gaussian_row(Some(10.0), 0.8, &mut row);

        // 1 / (sqrt(2 pi) * 0.8) = 0.498677851..., times exp(-d^2 / 1.28).
        let peak = 0.498_677_85_f32;
        assert!((row[10] - peak).abs() < 1e-6, "{}", row[10]);
        assert!((row[9] - peak * (-1.0f32 / 1.28).exp()).abs() < 1e-6);
        assert!((row[11] - 0.228_311_4).abs() < 1e-6, "{}", row[11]);
        assert!((row[12] - 0.021_910_4).abs() < 1e-6, "{}", row[12]);
        assert!((row[13] - 0.000_440_7).abs() < 1e-6, "{}", row[13]);
        assert!(row[30] < 1e-30);
        assert_eq!(row[9], row[11]);
    }

    #[test]
    fn gaussian_row_between_bins() {
        let mut row = [0.0; NUM_BINS];
        gaussian_row(Some(48.5), 0.8, &mut row);

        // d = 0.5 for bins 48 and 49: 0.498677851 * exp(-0.25 / 1.28) = 0.410201...
        assert!((row[48] - 0.410_201_2).abs() < 1e-6, "{}", row[48]);
        assert_eq!(row[48], row[49]);
    }

    #[test]
    fn interior_row_sums_to_one() {
        let mut row = [0.0; NUM_BINS];
        gaussian_row(Some(48.3), 0.8, &mut row);
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
    }

    #[test]
    fn missing_coordinate_gives_zero_row() {
        let mut row = [1.0; NUM_BINS];
        gaussian_row(None, 0.8, &mut row);
        assert!(row.iter().all(|&value| value == 0.0));
    }

    #[test]
    fn extend_targets_lays_out_rows() {
        let mut keypoints = Keypoints::MISSING;
        keypoints.0[0] = Some(3.0);
        keypoints.0[29] = Some(90.0);

        let mut out = vec![7.0];
        extend_targets(&keypoints, 0.8, &mut out);

        assert_eq!(out.len(), 1 + NUM_COORDS * NUM_BINS);
        assert_eq!(out[0], 7.0);
        assert!((out[1 + 3] - 0.498_677_85).abs() < 1e-6);
        assert!(
            out[1 + NUM_BINS..1 + 29 * NUM_BINS]
                .iter()
                .all(|&v| v == 0.0)
        );
        assert!((out[1 + 29 * NUM_BINS + 90] - 0.498_677_85).abs() < 1e-6);
    }
}
