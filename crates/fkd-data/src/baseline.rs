//! The mean-keypoint baseline: each coordinate's mean over the faces where it is present.

use serde::{Deserialize, Serialize};

use crate::faces::Keypoints;
use crate::keypoints::NUM_COORDS;

/// Mean of each coordinate over present values; `None` for a coordinate never present.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanBaseline {
    /// The mean of each coordinate, in Kaggle's order.
    pub means: [Option<f32>; NUM_COORDS],
}

impl MeanBaseline {
    /// Computes the means over `faces`, ignoring missing values.
    pub fn fit<'a>(faces: impl IntoIterator<Item = &'a Keypoints>) -> Self {
        let mut sums = [0.0f64; NUM_COORDS];
        let mut counts = [0usize; NUM_COORDS];
        for keypoints in faces {
            for (coordinate, value) in keypoints.0.iter().enumerate() {
                if let Some(value) = value {
                    sums[coordinate] += f64::from(*value);
                    counts[coordinate] += 1;
                }
            }
        }

        let mut means = [None; NUM_COORDS];
        for coordinate in 0..NUM_COORDS {
            if counts[coordinate] > 0 {
                means[coordinate] = Some((sums[coordinate] / counts[coordinate] as f64) as f32);
            }
        }
        Self { means }
    }

    /// Returns the prediction for every coordinate, with 48 (the image centre) for a
    /// coordinate the baseline never saw.
    pub fn predict(&self) -> [f32; NUM_COORDS] {
        self.means.map(|mean| mean.unwrap_or(48.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_averages_present_values_only() {
        let mut first = Keypoints::MISSING;
        first.0[0] = Some(10.0);
        first.0[1] = Some(0.0);
        let mut second = Keypoints::MISSING;
        second.0[0] = Some(20.0);
        let mut third = Keypoints::MISSING;
        third.0[0] = Some(33.0);
        third.0[1] = Some(6.0);

        let baseline = MeanBaseline::fit([&first, &second, &third]);

        assert_eq!(baseline.means[0], Some(21.0));
        // A value of exactly 0 is a real value, not a missing one.
        assert_eq!(baseline.means[1], Some(3.0));
        assert_eq!(baseline.means[2], None);
        assert_eq!(baseline.predict()[2], 48.0);
    }
}
