//! Writes a submission for Kaggle's real `IdLookupTable.csv`, named by the environment
//! variable `FKD_KAGGLE_LOOKUP` (a file path). Skipped when the variable is unset.

use std::path::PathBuf;

use fkd_data::NUM_COORDS;
use fkd_feedback::{BatchOutput, Feedback, SubmissionFeedback};

const LOOKUP_ENV: &str = "FKD_KAGGLE_LOOKUP";
const KAGGLE_ROWS: usize = 27124;
const KAGGLE_IMAGES: u32 = 1783;

#[test]
fn kaggle_lookup_submission() {
    let Some(path) = std::env::var_os(LOOKUP_ENV).map(PathBuf::from) else {
        println!("skipped: set {LOOKUP_ENV} to the path of Kaggle's IdLookupTable.csv");
        return;
    };
    let mut writer = SubmissionFeedback::from_lookup_file(&path).unwrap();

    // Dummy predictions in descending ImageId order, 100 faces a batch: ImageId / 20
    // for every coordinate, so the values run from 0.05 to 89.15.
    let image_ids: Vec<u32> = (1..=KAGGLE_IMAGES).rev().collect();
    for batch_ids in image_ids.chunks(100) {
        let predictions: Vec<[f32; NUM_COORDS]> = batch_ids
            .iter()
            .map(|&image_id| [image_id as f32 / 20.0; NUM_COORDS])
            .collect();
        writer.add_batch(&BatchOutput {
            ids: batch_ids,
            targets: &[],
            predictions: &predictions,
        });
    }
    let report = writer.report();

    assert_eq!(report.rows, KAGGLE_ROWS);
    assert_eq!(report.requested_images, KAGGLE_IMAGES as usize);
    assert_eq!(report.missing_images, 0);

    let directory = tempfile::tempdir().unwrap();
    let output = directory.path().join("submission.csv");
    writer.write(&output).unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    assert_eq!(lines.len(), KAGGLE_ROWS + 1);
    assert_eq!(lines[0], "RowId,Location");
    assert!(!text.contains('\r'));
    for (index, line) in lines[1..].iter().enumerate() {
        let (row_id, location) = line.split_once(',').unwrap();
        assert_eq!(row_id, (index + 1).to_string(), "line {}", index + 2);
        let location: f32 = location.parse().unwrap();
        assert!(
            (0.0..=96.0).contains(&location),
            "line {}: {line}",
            index + 2
        );
    }

    // RowId 1 requests ImageId 1's left_eye_center_x and the last RowId for ImageId
    // 1783's mouth_center_bottom_lip_y, in Kaggle's file.
    assert_eq!(lines[1], "1,0.05");
    assert_eq!(lines[KAGGLE_ROWS], "27124,89.15");
}
