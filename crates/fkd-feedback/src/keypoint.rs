//! Keypoint feedback: mean squared error of the predicted coordinates over the present
//! targets, overall and per keypoint, next to the mean baseline's error on the same
//! targets.

use fkd_data::keypoints::KEYPOINT_NAMES;
use fkd_data::{MeanBaseline, NUM_COORDS};
use serde::{Deserialize, Serialize};

use crate::feedback::{BatchOutput, Feedback};

/// Mean squared error in square pixels and its root in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SquaredError {
    /// Mean squared error, in square pixels.
    pub mse: f64,
    /// Root mean squared error, in pixels: the measure Kaggle ranks submissions by.
    pub rmse: f64,
}

impl SquaredError {
    /// Returns the error of `sum` over `count` values, or `None` when there are none.
    fn from_sum(sum: f64, count: u64) -> Option<Self> {
        if count == 0 {
            return None;
        }
        let mse = sum / count as f64;
        Some(Self {
            mse,
            rmse: mse.sqrt(),
        })
    }
}

/// The errors on one keypoint, its x and y pooled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeypointError {
    /// The keypoint's name, as in Kaggle's columns without `_x`/`_y`.
    pub keypoint: String,
    /// Number of present target coordinates (x and y counted separately).
    pub values: u64,
    /// The model's error, `None` when no target was present.
    pub model: Option<SquaredError>,
    /// The mean baseline's error on the same targets.
    pub baseline: Option<SquaredError>,
}

/// The summary of one pass of [`KeypointFeedback`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeypointReport {
    /// The pass's name, such as `valid`.
    pub pass: String,
    /// Number of faces seen.
    pub faces: u64,
    /// Number of present target coordinates.
    pub values: u64,
    /// The model's error over all present coordinates, `None` when there were none.
    pub model: Option<SquaredError>,
    /// The mean baseline's error on the same coordinates.
    pub baseline: Option<SquaredError>,
    /// Number of NaN or infinite predictions at present coordinates. Each one makes the
    /// model's error non-finite.
    pub non_finite_predictions: u64,
    /// The errors of the 15 keypoints, in Kaggle's order.
    pub keypoints: Vec<KeypointError>,
}

impl KeypointReport {
    /// Formats the report as one log line, such as
    /// `valid keypoint MSE 3.21 (RMSE 1.79) vs baseline 18.3 over 1712 values`.
    pub fn summary_line(&self) -> String {
        let (Some(model), Some(baseline)) = (self.model, self.baseline) else {
            return format!(
                "{} keypoint MSE: no values (no present target in {} faces)",
                self.pass, self.faces
            );
        };

        let mut line = format!(
            "{} keypoint MSE {} (RMSE {}) vs baseline {} over {} values",
            self.pass,
            format_significant(model.mse),
            format_significant(model.rmse),
            format_significant(baseline.mse),
            self.values
        );
        if self.non_finite_predictions > 0 {
            line.push_str(&format!(
                ", {} non-finite predictions",
                self.non_finite_predictions
            ));
        }
        line
    }
}

/// Formats `value` with three significant digits: `3.21`, `18.3`, `412`, `0.0123`.
fn format_significant(value: f64) -> String {
    if !value.is_finite() || value == 0.0 {
        return format!("{value:.2}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 8) as usize;
    format!("{value:.decimals$}")
}

/// Accumulates the squared error of predictions against present targets, and of the
/// mean baseline against the same targets.
///
/// Only the mask decides what counts: a target of exactly 0 is a real coordinate, and a
/// missing target adds nothing to any sum or count, whatever was predicted there. Sums
/// are kept in f64.
#[derive(Debug, Clone)]
pub struct KeypointFeedback {
    pass: String,
    baseline: [f32; NUM_COORDS],
    model_sums: [f64; NUM_COORDS],
    baseline_sums: [f64; NUM_COORDS],
    counts: [u64; NUM_COORDS],
    faces: u64,
    non_finite_predictions: u64,
}

impl KeypointFeedback {
    /// Creates the feedback for the pass named `pass` (used in the report and log
    /// line), comparing against `baseline`, which should be fitted on the training
    /// split. A coordinate the baseline never saw is predicted as 48, the image centre,
    /// by [`MeanBaseline::predict`].
    pub fn new(pass: impl Into<String>, baseline: &MeanBaseline) -> Self {
        Self {
            pass: pass.into(),
            baseline: baseline.predict(),
            model_sums: [0.0; NUM_COORDS],
            baseline_sums: [0.0; NUM_COORDS],
            counts: [0; NUM_COORDS],
            faces: 0,
            non_finite_predictions: 0,
        }
    }

    /// Formats the current report as one log line, like [`KeypointReport::summary_line`].
    pub fn summary_line(&self) -> String {
        self.report().summary_line()
    }
}

impl Feedback for KeypointFeedback {
    type Report = KeypointReport;

    /// Adds the faces of `batch`, reading `targets` and `predictions` only. When their
    /// lengths differ, the extra entries of the longer slice are skipped with a warning.
    fn add_batch(&mut self, batch: &BatchOutput<'_>) {
        if batch.targets.len() != batch.predictions.len() {
            tracing::warn!(
                pass = %self.pass,
                targets = batch.targets.len(),
                predictions = batch.predictions.len(),
                "keypoint feedback: batch has different numbers of targets and predictions, \
                 scoring only the faces that have both"
            );
        }

        for (targets, prediction) in batch.targets.iter().zip(batch.predictions) {
            self.faces += 1;

            for (coordinate, (target, &predicted)) in targets.0.iter().zip(prediction).enumerate() {
                let Some(target) = *target else {
                    continue;
                };
                let target = f64::from(target);
                let predicted = f64::from(predicted);
                let baseline = f64::from(self.baseline[coordinate]);

                if !predicted.is_finite() {
                    self.non_finite_predictions += 1;
                }
                self.model_sums[coordinate] += (predicted - target).powi(2);
                self.baseline_sums[coordinate] += (baseline - target).powi(2);
                self.counts[coordinate] += 1;
            }
        }
    }

    fn report(&self) -> KeypointReport {
        let keypoints = KEYPOINT_NAMES
            .iter()
            .enumerate()
            .map(|(keypoint, name)| {
                let coordinates = [2 * keypoint, 2 * keypoint + 1];
                let values = coordinates.iter().map(|&c| self.counts[c]).sum();
                let model_sum = coordinates.iter().map(|&c| self.model_sums[c]).sum();
                let baseline_sum = coordinates.iter().map(|&c| self.baseline_sums[c]).sum();
                KeypointError {
                    keypoint: name.to_string(),
                    values,
                    model: SquaredError::from_sum(model_sum, values),
                    baseline: SquaredError::from_sum(baseline_sum, values),
                }
            })
            .collect();

        let values = self.counts.iter().sum();
        KeypointReport {
            pass: self.pass.clone(),
            faces: self.faces,
            values,
            model: SquaredError::from_sum(self.model_sums.iter().sum(), values),
            baseline: SquaredError::from_sum(self.baseline_sums.iter().sum(), values),
            non_finite_predictions: self.non_finite_predictions,
            keypoints,
        }
    }

    fn reset(&mut self) {
        self.model_sums = [0.0; NUM_COORDS];
        self.baseline_sums = [0.0; NUM_COORDS];
        self.counts = [0; NUM_COORDS];
        self.faces = 0;
        self.non_finite_predictions = 0;
    }
}

#[cfg(test)]
mod tests {
    use fkd_data::Keypoints;

    use super::*;

    /// Baseline 10 for every coordinate except left_eye_center_y, which it never saw.
    fn baseline() -> MeanBaseline {
        let mut means = [Some(10.0); NUM_COORDS];
        means[1] = None;
        MeanBaseline { means }
    }

    /// Two faces. Face A has left_eye_center at (0, 4), with x exactly 0, and a NaN and a
    /// wild prediction at missing coordinates. Face B has left_eye_center_x 3, no y, and
    /// nose_tip_x 30.
    fn two_faces() -> (Vec<Keypoints>, Vec<[f32; NUM_COORDS]>) {
        let mut first = Keypoints::MISSING;
        first.0[0] = Some(0.0);
        first.0[1] = Some(4.0);
        let mut second = Keypoints::MISSING;
        second.0[0] = Some(3.0);
        second.0[20] = Some(30.0);

        let mut first_prediction = [f32::NAN; NUM_COORDS];
        first_prediction[0] = 1.0;
        first_prediction[1] = 2.0;
        first_prediction[2] = 50.0;
        let mut second_prediction = [0.0; NUM_COORDS];
        second_prediction[0] = 5.0;
        second_prediction[1] = 90.0;
        second_prediction[20] = 33.0;

        (
            vec![first, second],
            vec![first_prediction, second_prediction],
        )
    }

    fn feedback_with_two_faces() -> KeypointFeedback {
        let (targets, predictions) = two_faces();
        let mut feedback = KeypointFeedback::new("valid", &baseline());
        feedback.add_batch(&BatchOutput {
            ids: &[0, 1],
            targets: &targets,
            predictions: &predictions,
        });
        feedback
    }

    #[test]
    fn keypoint_overall_mse() {
        // Model: (1 - 0)^2 + (5 - 3)^2 + (2 - 4)^2 + (33 - 30)^2 = 1 + 4 + 4 + 9 = 18.
        let report = feedback_with_two_faces().report();

        assert_eq!(report.faces, 2);
        assert_eq!(report.values, 4);
        assert_eq!(report.model.unwrap().mse, 4.5);
        assert_eq!(report.model.unwrap().rmse, 4.5f64.sqrt());
        assert_eq!(report.non_finite_predictions, 0);
    }

    #[test]
    fn keypoint_baseline_mse() {
        // Baseline: 10^2 + 7^2 + (48 - 4)^2 + 20^2 = 100 + 49 + 1936 + 400 = 2485.
        let report = feedback_with_two_faces().report();

        assert_eq!(report.baseline.unwrap().mse, 621.25);
        assert_eq!(report.baseline.unwrap().rmse, 621.25f64.sqrt());
    }

    #[test]
    fn keypoint_pools_x_and_y() {
        let report = feedback_with_two_faces().report();
        let eye = &report.keypoints[0];
        let nose = &report.keypoints[10];

        assert_eq!(report.keypoints.len(), 15);
        assert_eq!(eye.keypoint, "left_eye_center");
        assert_eq!(eye.values, 3);
        assert_eq!(eye.model.unwrap().mse, 3.0);
        assert_eq!(eye.baseline.unwrap().mse, 695.0);
        assert_eq!(nose.keypoint, "nose_tip");
        assert_eq!(nose.values, 1);
        assert_eq!(nose.model.unwrap().mse, 9.0);
        assert_eq!(nose.model.unwrap().rmse, 3.0);
        assert_eq!(nose.baseline.unwrap().mse, 400.0);
    }

    #[test]
    fn keypoint_without_targets_is_none() {
        let report = feedback_with_two_faces().report();
        let right_eye = &report.keypoints[1];

        assert_eq!(right_eye.keypoint, "right_eye_center");
        assert_eq!(right_eye.values, 0);
        assert_eq!(right_eye.model, None);
        assert_eq!(right_eye.baseline, None);
    }

    #[test]
    fn keypoint_batches_accumulate() {
        let (targets, predictions) = two_faces();
        let mut feedback = KeypointFeedback::new("valid", &baseline());
        for face in 0..2 {
            feedback.add_batch(&BatchOutput {
                ids: &[face as u32],
                targets: &targets[face..face + 1],
                predictions: &predictions[face..face + 1],
            });
        }

        let report = feedback.report();

        assert_eq!(report, feedback_with_two_faces().report());
    }

    #[test]
    fn keypoint_reset_forgets() {
        let mut feedback = feedback_with_two_faces();

        feedback.reset();
        let report = feedback.report();

        assert_eq!(report.faces, 0);
        assert_eq!(report.values, 0);
        assert_eq!(report.model, None);
        assert_eq!(report.baseline, None);
        assert!(report.keypoints.iter().all(|keypoint| keypoint.values == 0));
    }

    #[test]
    fn keypoint_summary_line() {
        let feedback = feedback_with_two_faces();

        assert_eq!(
            feedback.summary_line(),
            "valid keypoint MSE 4.50 (RMSE 2.12) vs baseline 621 over 4 values"
        );
    }

    #[test]
    fn keypoint_no_values_summary() {
        let mut feedback = KeypointFeedback::new("valid", &baseline());
        feedback.add_batch(&BatchOutput {
            ids: &[0],
            targets: &[Keypoints::MISSING],
            predictions: &[[1.0; NUM_COORDS]],
        });

        let report = feedback.report();

        assert_eq!(report.model, None);
        assert_eq!(
            report.summary_line(),
            "valid keypoint MSE: no values (no present target in 1 faces)"
        );
    }

    #[test]
    fn keypoint_no_values_serializes_null() {
        let report = KeypointFeedback::new("valid", &baseline()).report();

        let json = serde_json::to_value(&report).unwrap();

        assert_eq!(json["model"], serde_json::Value::Null);
        assert_eq!(json["baseline"], serde_json::Value::Null);
        assert_eq!(json["values"], 0);
    }

    #[test]
    fn keypoint_counts_non_finite() {
        let mut target = Keypoints::MISSING;
        target.0[4] = Some(20.0);
        let mut prediction = [0.0; NUM_COORDS];
        prediction[4] = f32::INFINITY;
        let mut feedback = KeypointFeedback::new("valid", &baseline());

        feedback.add_batch(&BatchOutput {
            ids: &[0],
            targets: &[target],
            predictions: &[prediction],
        });
        let report = feedback.report();

        assert_eq!(report.non_finite_predictions, 1);
        assert_eq!(report.model.unwrap().mse, f64::INFINITY);
        assert_eq!(
            report.summary_line(),
            "valid keypoint MSE inf (RMSE inf) vs baseline 100 over 1 values, \
             1 non-finite predictions"
        );
    }

    #[test]
    fn keypoint_skips_unpaired_faces() {
        let (targets, predictions) = two_faces();
        let mut feedback = KeypointFeedback::new("valid", &baseline());

        feedback.add_batch(&BatchOutput {
            ids: &[],
            targets: &targets,
            predictions: &predictions[..1],
        });
        let report = feedback.report();

        assert_eq!(report.faces, 1);
        assert_eq!(report.values, 2);
        assert_eq!(report.model.unwrap().mse, 2.5);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(format_significant(3.2149), "3.21");
        assert_eq!(format_significant(18.34), "18.3");
        assert_eq!(format_significant(412.6), "413");
        assert_eq!(format_significant(12345.0), "12345");
        assert_eq!(format_significant(0.012345), "0.0123");
        assert_eq!(format_significant(0.0), "0.00");
        assert_eq!(format_significant(f64::NAN), "NaN");
    }
}
