//! The Kaggle submission writer: collects test predictions by ImageId and writes the
//! `RowId,Location` file whose rows `IdLookupTable.csv` requests.
//!
//! Locations are clipped to [0, 96] and written with at most 4 decimals, trailing zeros
//! and a trailing point removed: `37.5`, `96`, `0`, `12.3457`. Rounding to 4 decimals
//! moves a value by at most 0.00005 pixel. Lines end in `\n`, after a
//! `RowId,Location` header.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use fkd_data::keypoints::COORDINATE_NAMES;
use fkd_data::{LookupTable, MAX_COORDINATE, MeanBaseline, NUM_COORDS, write_atomically};
use serde::{Deserialize, Serialize};

use crate::error::{FeedbackError, Result};
use crate::feedback::{BatchOutput, Feedback};

/// The header line of a submission.
pub const SUBMISSION_HEADER: &str = "RowId,Location";

/// Counts of the predictions a [`SubmissionFeedback`] collected during one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionReport {
    /// Number of rows the lookup table requests.
    pub rows: usize,
    /// Number of distinct ImageIds the lookup table requests.
    pub requested_images: usize,
    /// Requested images that have a prediction.
    pub predicted_images: usize,
    /// Requested images without a prediction. Writing fails while this is not 0.
    pub missing_images: usize,
    /// Faces whose ImageId already had a prediction, which the latest one replaced.
    pub repeated_predictions: u64,
    /// Ignored faces, whose ImageId the lookup table does not request.
    pub unrequested_faces: u64,
}

/// Collects each test image's prediction, in any batch order, and writes the Kaggle
/// submission for a [`LookupTable`].
///
/// As a [`Feedback`], it reads `ids` as ImageIds and `predictions`, and ignores
/// `targets`.
#[derive(Debug, Clone)]
pub struct SubmissionFeedback {
    lookup: LookupTable,
    requested_images: BTreeSet<u32>,
    predictions: HashMap<u32, [f32; NUM_COORDS]>,
    repeated_predictions: u64,
    unrequested_faces: u64,
}

impl SubmissionFeedback {
    /// Creates a writer for the rows of `lookup`, with no predictions yet.
    pub fn new(lookup: LookupTable) -> Self {
        let requested_images = lookup.rows.iter().map(|row| row.image_id).collect();
        Self {
            lookup,
            requested_images,
            predictions: HashMap::new(),
            repeated_predictions: 0,
            unrequested_faces: 0,
        }
    }

    /// Reads `IdLookupTable.csv` at `path` and creates a writer for it.
    ///
    /// Errors name the file and line, for example of an unknown FeatureName.
    pub fn from_lookup_file(path: &Path) -> Result<Self> {
        let lookup = LookupTable::read(path)?;
        Ok(Self::new(lookup))
    }

    /// Returns the lookup table the writer fills in.
    pub fn lookup(&self) -> &LookupTable {
        &self.lookup
    }

    /// Returns the prediction collected for `image_id`, if any.
    pub fn prediction(&self, image_id: u32) -> Option<&[f32; NUM_COORDS]> {
        self.predictions.get(&image_id)
    }

    /// Stores `prediction` for `image_id`, replacing an earlier one. An ImageId that the
    /// lookup table does not request is counted and otherwise ignored.
    pub fn insert_prediction(&mut self, image_id: u32, prediction: [f32; NUM_COORDS]) {
        if !self.requested_images.contains(&image_id) {
            if self.unrequested_faces == 0 {
                tracing::warn!(
                    image_id,
                    "submission: ImageId is not in the lookup table, ignoring its prediction \
                     (the report counts further ones)"
                );
            }
            self.unrequested_faces += 1;
            return;
        }

        if self.predictions.insert(image_id, prediction).is_some() {
            if self.repeated_predictions == 0 {
                tracing::warn!(
                    image_id,
                    "submission: ImageId predicted twice in one pass, keeping the latest \
                     prediction (the report counts further ones)"
                );
            }
            self.repeated_predictions += 1;
        }
    }

    /// Renders the submission in memory.
    ///
    /// Fails when a requested image has no prediction or a requested value is NaN or
    /// infinite, naming the first such ImageId, RowId and FeatureName in RowId order.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let missing: BTreeSet<u32> = self
            .requested_images
            .iter()
            .copied()
            .filter(|image_id| !self.predictions.contains_key(image_id))
            .collect();
        if let Some(row) = self
            .lookup
            .rows
            .iter()
            .find(|row| missing.contains(&row.image_id))
        {
            return Err(FeedbackError::MissingPrediction {
                image_id: row.image_id,
                row_id: row.row_id,
                feature_name: COORDINATE_NAMES[row.coordinate],
                missing_images: missing.len(),
            });
        }

        render_submission(&self.lookup, |image_id| self.predictions.get(&image_id))
    }

    /// Writes the submission to `path` through a temporary file renamed over it, so an
    /// existing file is replaced whole or, on any error, kept unchanged.
    pub fn write(&self, path: &Path) -> Result<()> {
        let csv = self.to_csv()?;
        write_atomically(path, &csv)?;

        tracing::debug!(
            path = %path.display(),
            rows = self.lookup.len(),
            images = self.requested_images.len(),
            "wrote submission"
        );
        Ok(())
    }
}

impl Feedback for SubmissionFeedback {
    type Report = SubmissionReport;

    /// Stores each face's prediction under its ImageId. When `ids` and `predictions`
    /// have different lengths, the extra entries are skipped with a warning.
    fn add_batch(&mut self, batch: &BatchOutput<'_>) {
        if batch.ids.len() != batch.predictions.len() {
            tracing::warn!(
                ids = batch.ids.len(),
                predictions = batch.predictions.len(),
                "submission: batch has different numbers of ImageIds and predictions, \
                 keeping only the faces that have both"
            );
        }

        for (&image_id, prediction) in batch.ids.iter().zip(batch.predictions) {
            self.insert_prediction(image_id, *prediction);
        }
    }

    fn report(&self) -> SubmissionReport {
        let predicted_images = self.predictions.len();
        SubmissionReport {
            rows: self.lookup.len(),
            requested_images: self.requested_images.len(),
            predicted_images,
            missing_images: self.requested_images.len() - predicted_images,
            repeated_predictions: self.repeated_predictions,
            unrequested_faces: self.unrequested_faces,
        }
    }

    fn reset(&mut self) {
        self.predictions.clear();
        self.repeated_predictions = 0;
        self.unrequested_faces = 0;
    }
}

/// Writes the mean-baseline submission to `path`: every requested row gets the
/// baseline's mean of its coordinate, or 48 for a coordinate the baseline never saw.
/// The file is written like [`SubmissionFeedback::write`].
pub fn write_baseline_submission(
    lookup: &LookupTable,
    baseline: &MeanBaseline,
    path: &Path,
) -> Result<()> {
    let means = baseline.predict();
    let csv = render_submission(lookup, |_| Some(&means))?;
    write_atomically(path, &csv)?;

    tracing::debug!(path = %path.display(), rows = lookup.len(), "wrote baseline submission");
    Ok(())
}

/// Renders the header and one line per lookup row, in RowId order, from the prediction
/// that `prediction_of` returns for each ImageId. Every requested image must have one.
fn render_submission<'a>(
    lookup: &LookupTable,
    prediction_of: impl Fn(u32) -> Option<&'a [f32; NUM_COORDS]>,
) -> Result<Vec<u8>> {
    let mut csv = String::with_capacity(SUBMISSION_HEADER.len() + 1 + 20 * lookup.len());
    csv.push_str(SUBMISSION_HEADER);
    csv.push('\n');

    for row in &lookup.rows {
        let feature_name = COORDINATE_NAMES[row.coordinate];
        let Some(prediction) = prediction_of(row.image_id) else {
            return Err(FeedbackError::MissingPrediction {
                image_id: row.image_id,
                row_id: row.row_id,
                feature_name,
                missing_images: 1,
            });
        };

        let value = prediction[row.coordinate];
        if !value.is_finite() {
            return Err(FeedbackError::NonFinitePrediction {
                image_id: row.image_id,
                row_id: row.row_id,
                feature_name,
                value,
            });
        }

        csv.push_str(&row.row_id.to_string());
        csv.push(',');
        csv.push_str(&format_location(value));
        csv.push('\n');
    }
    Ok(csv.into_bytes())
}

/// Formats a finite coordinate for a submission: clipped to [0, 96], at most 4
/// decimals, no trailing zeros and no trailing point.
fn format_location(value: f32) -> String {
    let clipped = value.clamp(0.0, MAX_COORDINATE);
    let text = format!("{clipped:.4}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');

    // -0.0 and values in (-0.00005, 0) would otherwise print as "-0".
    if trimmed == "-0" {
        return "0".to_string();
    }
    trimmed.to_string()
}

#[cfg(test)]
mod tests {
    use fkd_data::Keypoints;

    use super::*;

    /// Six rows over ImageIds 1, 2 and 3, listed out of RowId order, CRLF as Kaggle's.
    const LOOKUP: &str = "RowId,ImageId,FeatureName,Location\r\n\
        1,1,left_eye_center_x\r\n\
        2,1,nose_tip_y\r\n\
        4,2,mouth_center_bottom_lip_y\r\n\
        3,2,left_eye_center_x\r\n\
        5,3,left_eye_center_y\r\n\
        6,3,nose_tip_x\r\n";

    fn lookup() -> LookupTable {
        LookupTable::parse(LOOKUP.as_bytes(), Path::new("IdLookupTable.csv")).unwrap()
    }

    /// Returns a prediction whose coordinate `c` is `base + c`.
    fn prediction(base: f32) -> [f32; NUM_COORDS] {
        std::array::from_fn(|coordinate| base + coordinate as f32)
    }

    /// Adds ImageIds 3 and 1, then 2, each with its own prediction.
    fn writer_with_shuffled_batches() -> SubmissionFeedback {
        let mut writer = SubmissionFeedback::new(lookup());
        writer.add_batch(&BatchOutput {
            ids: &[3, 1],
            targets: &[],
            predictions: &[prediction(30.25), prediction(10.5)],
        });
        writer.add_batch(&BatchOutput {
            ids: &[2],
            targets: &[Keypoints::MISSING],
            predictions: &[prediction(20.125)],
        });
        writer
    }

    #[test]
    fn submission_exact_bytes() {
        let writer = writer_with_shuffled_batches();

        let csv = writer.to_csv().unwrap();

        // Coordinates: left_eye_center_x 0, left_eye_center_y 1, nose_tip_x 20,
        // nose_tip_y 21, mouth_center_bottom_lip_y 29.
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "RowId,Location\n1,10.5\n2,31.5\n3,20.125\n4,49.125\n5,31.25\n6,50.25\n"
        );
    }

    #[test]
    fn submission_writes_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("submission.csv");
        let writer = writer_with_shuffled_batches();

        writer.write(&path).unwrap();

        assert_eq!(std::fs::read(&path).unwrap(), writer.to_csv().unwrap());
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }

    #[test]
    fn submission_clips_to_image() {
        let mut writer = writer_with_shuffled_batches();
        let mut first = prediction(10.5);
        first[0] = -3.0;
        first[21] = 101.5;

        writer.insert_prediction(1, first);
        let csv = String::from_utf8(writer.to_csv().unwrap()).unwrap();

        assert!(csv.starts_with("RowId,Location\n1,0\n2,96\n3,"), "{csv}");
    }

    #[test]
    fn location_format() {
        assert_eq!(format_location(37.5), "37.5");
        assert_eq!(format_location(48.0), "48");
        assert_eq!(format_location(12.345678), "12.3457");
        assert_eq!(format_location(0.00004), "0");
        assert_eq!(format_location(95.99996), "96");
        assert_eq!(format_location(-0.0), "0");
        assert_eq!(format_location(-3.0), "0");
        assert_eq!(format_location(101.5), "96");
        assert_eq!(format_location(96.0), "96");
        assert_eq!(format_location(0.1), "0.1");
    }

    #[test]
    fn submission_rejects_nan() {
        let mut writer = writer_with_shuffled_batches();
        let mut second = prediction(20.125);
        second[29] = f32::NAN;
        writer.insert_prediction(2, second);

        let error = writer.to_csv().unwrap_err();

        assert_eq!(
            error.to_string(),
            "prediction for ImageId 2, RowId 4 (mouth_center_bottom_lip_y) is NaN, expected a \
             finite number (the model output is invalid)"
        );
    }

    #[test]
    fn submission_rejects_infinity() {
        let mut writer = writer_with_shuffled_batches();
        let mut third = prediction(30.25);
        third[20] = f32::INFINITY;
        writer.insert_prediction(3, third);

        let error = writer.to_csv().unwrap_err();

        assert!(
            matches!(
                error,
                FeedbackError::NonFinitePrediction {
                    image_id: 3,
                    row_id: 6,
                    feature_name: "nose_tip_x",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn submission_ignores_unrequested_nan() {
        let mut writer = writer_with_shuffled_batches();
        let mut first = prediction(10.5);
        first[2] = f32::NAN;

        writer.insert_prediction(1, first);

        assert!(writer.to_csv().is_ok());
    }

    #[test]
    fn submission_rejects_missing_image() {
        let mut writer = SubmissionFeedback::new(lookup());
        writer.add_batch(&BatchOutput {
            ids: &[3],
            targets: &[],
            predictions: &[prediction(30.25)],
        });

        let error = writer.to_csv().unwrap_err();

        assert_eq!(
            error.to_string(),
            "no prediction for ImageId 1, requested by RowId 1 (left_eye_center_x). Requested \
             images without a prediction: 2. Run the test pass over every face of test.csv \
             before writing the submission"
        );
    }

    #[test]
    fn failed_write_keeps_old_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("submission.csv");
        std::fs::write(&path, "RowId,Location\n1,42\n").unwrap();
        let mut writer = writer_with_shuffled_batches();
        writer.insert_prediction(3, [f32::NAN; NUM_COORDS]);

        let result = writer.write(&path);

        assert!(result.is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "RowId,Location\n1,42\n"
        );
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_into_missing_directory_fails() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("absent").join("submission.csv");

        let error = writer_with_shuffled_batches().write(&path).unwrap_err();

        assert!(matches!(error, FeedbackError::Data(_)), "{error}");
        assert!(error.to_string().contains("submission.csv"), "{error}");
        assert!(!path.exists());
    }

    #[test]
    fn lookup_file_unknown_feature() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("IdLookupTable.csv");
        std::fs::write(
            &path,
            "RowId,ImageId,FeatureName,Location\n1,1,nose_tip_x\n2,1,nose_x\n",
        )
        .unwrap();

        let error = SubmissionFeedback::from_lookup_file(&path).unwrap_err();
        let message = error.to_string();

        assert!(matches!(error, FeedbackError::Data(_)), "{message}");
        assert!(
            message.starts_with(&format!(
                "{} line 3, column FeatureName: unknown FeatureName 'nose_x'",
                path.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn lookup_file_reads_rows() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("IdLookupTable.csv");
        std::fs::write(&path, LOOKUP).unwrap();

        let writer = SubmissionFeedback::from_lookup_file(&path).unwrap();

        assert_eq!(writer.lookup(), &lookup());
        assert_eq!(writer.report().requested_images, 3);
    }

    #[test]
    fn submission_report_counts() {
        let mut writer = SubmissionFeedback::new(lookup());
        writer.add_batch(&BatchOutput {
            ids: &[2, 9, 2, 10],
            targets: &[],
            predictions: &[
                prediction(1.0),
                prediction(2.0),
                prediction(3.0),
                prediction(4.0),
            ],
        });

        let report = writer.report();

        assert_eq!(report.rows, 6);
        assert_eq!(report.requested_images, 3);
        assert_eq!(report.predicted_images, 1);
        assert_eq!(report.missing_images, 2);
        assert_eq!(report.repeated_predictions, 1);
        assert_eq!(report.unrequested_faces, 2);
        assert_eq!(writer.prediction(2), Some(&prediction(3.0)));
        assert_eq!(writer.prediction(9), None);
    }

    #[test]
    fn submission_reset_forgets() {
        let mut writer = writer_with_shuffled_batches();
        writer.insert_prediction(2, prediction(0.0));

        writer.reset();
        let report = writer.report();

        assert_eq!(report.predicted_images, 0);
        assert_eq!(report.missing_images, 3);
        assert_eq!(report.repeated_predictions, 0);
        assert!(writer.to_csv().is_err());
    }

    #[test]
    fn submission_skips_unpaired_ids() {
        let mut writer = SubmissionFeedback::new(lookup());

        writer.add_batch(&BatchOutput {
            ids: &[1, 2, 3],
            targets: &[],
            predictions: &[prediction(1.0)],
        });

        assert_eq!(writer.report().predicted_images, 1);
        assert_eq!(writer.prediction(2), None);
    }

    #[test]
    fn baseline_submission_bytes() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("baseline.csv");
        let mut means = [None; NUM_COORDS];
        means[0] = Some(66.35874);
        means[1] = Some(37.65);
        means[20] = Some(48.374186);

        write_baseline_submission(&lookup(), &MeanBaseline { means }, &path).unwrap();

        // nose_tip_y and mouth_center_bottom_lip_y were never seen: 48.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "RowId,Location\n1,66.3587\n2,48\n3,66.3587\n4,48\n5,37.65\n6,48.3742\n"
        );
    }

    #[test]
    fn empty_lookup_writes_header() {
        let writer = SubmissionFeedback::new(LookupTable::default());

        let csv = writer.to_csv().unwrap();

        assert_eq!(csv, b"RowId,Location\n");
    }
}
