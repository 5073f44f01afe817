//! `fkd-cli evaluate`: a table of RMSE per keypoint and overall, next to the mean
//! baseline's, for a saved run. It scores the run's validation split of training.csv
//! (or every row), or labelled image files in their own pixel coordinates.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use fkd_data::{FaceDataset, KaggleFiles, NUM_COORDS, load_training, split_train_valid};
use fkd_experiment::{NoProgress, evaluate};
use fkd_feedback::{BatchOutput, Feedback, KeypointFeedback, KeypointReport};
use serde::Serialize;

use crate::device::DeviceSpec;
use crate::images::{face_from_image, read_image};
use crate::labels::read_labels;
use crate::predictor::{CheckpointArg, Predictor};

/// Options of `fkd-cli evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Run directory written by `fkd-cli train`.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,

    /// Checkpoint to score: best (lowest validation MSE) or last.
    #[arg(long, value_enum, default_value = "best")]
    pub checkpoint: CheckpointArg,

    /// Device: cpu (burn's flex backend), tch-cpu (libtorch CPU) or cuda:N (0-based).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,

    /// Directory with training.csv [default: the data directory saved in the run].
    /// The validation split is recomputed from the run's seed and ratio, so it is the
    /// run's own split only for the training.csv the run was trained on.
    #[arg(long, value_name = "DIR", conflicts_with = "labels")]
    pub data: Option<PathBuf>,

    /// Score every row of training.csv (after the run's --max-rows) instead of the
    /// validation split.
    #[arg(long, conflicts_with = "labels")]
    pub all: bool,

    /// Labels CSV of image files: `file` then the 30 coordinate columns in each image's
    /// pixels, with file names relative to the CSV's folder. Optional columns
    /// crop_x,crop_y,crop_width,crop_height give each face's region; without them the
    /// whole image is resized to 96x96. The errors are in the images' own pixels.
    #[arg(long, value_name = "CSV")]
    pub labels: Option<PathBuf>,

    /// Output format: an aligned table, CSV or JSON.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

/// Output formats of `fkd-cli evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for reading.
    Table,
    /// `keypoint,values,rmse,baseline_rmse` rows, the last one `overall`.
    Csv,
    /// The whole table as one JSON object.
    Json,
}

/// RMSE per keypoint and overall, for the model and the mean baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorTable {
    /// Description of the scored data, such as `validation split of data/training.csv`.
    pub source: String,
    /// The unit of every RMSE.
    pub unit: String,
    /// Number of faces scored.
    pub faces: u64,
    /// One row per keypoint, in Kaggle's order.
    pub keypoints: Vec<ErrorRow>,
    /// All present coordinates together.
    pub overall: ErrorRow,
}

/// The errors on one keypoint (x and y pooled) or on all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRow {
    /// Keypoint name, or `overall`.
    pub keypoint: String,
    /// Number of present target coordinates.
    pub values: u64,
    /// The model's RMSE, `None` without values.
    pub rmse: Option<f64>,
    /// The mean baseline's RMSE on the same values.
    pub baseline_rmse: Option<f64>,
}

impl ErrorTable {
    /// Builds the table from a model report and a report whose model error is the
    /// baseline's.
    fn from_reports(
        source: String,
        unit: &str,
        model: &KeypointReport,
        baseline: &KeypointReport,
    ) -> Self {
        let keypoints = model
            .keypoints
            .iter()
            .zip(&baseline.keypoints)
            .map(|(model, baseline)| ErrorRow {
                keypoint: model.keypoint.clone(),
                values: model.values,
                rmse: model.model.map(|error| error.rmse),
                baseline_rmse: baseline.model.map(|error| error.rmse),
            })
            .collect();
        Self {
            source,
            unit: unit.to_string(),
            faces: model.faces,
            keypoints,
            overall: ErrorRow {
                keypoint: "overall".to_string(),
                values: model.values,
                rmse: model.model.map(|error| error.rmse),
                baseline_rmse: baseline.model.map(|error| error.rmse),
            },
        }
    }

    /// Builds the table from one report that contains both the model's and the
    /// baseline's errors.
    fn from_report(source: String, unit: &str, report: &KeypointReport) -> Self {
        let mut table = Self::from_reports(source, unit, report, report);
        for (row, keypoint) in table.keypoints.iter_mut().zip(&report.keypoints) {
            row.baseline_rmse = keypoint.baseline.map(|error| error.rmse);
        }
        table.overall.baseline_rmse = report.baseline.map(|error| error.rmse);
        table
    }

    /// Formats the table with aligned columns.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}: {} faces, RMSE in {}\n",
            self.source, self.faces, self.unit
        );
        text.push_str(&format!(
            "{:<26} {:>7} {:>8} {:>14}\n",
            "keypoint", "values", "RMSE", "baseline RMSE"
        ));
        for row in self.keypoints.iter().chain([&self.overall]) {
            text.push_str(&format!(
                "{:<26} {:>7} {:>8} {:>14}\n",
                row.keypoint,
                row.values,
                format_rmse(row.rmse),
                format_rmse(row.baseline_rmse)
            ));
        }
        text
    }

    /// Formats the table as CSV, the `overall` row last.
    pub fn to_csv(&self) -> Result<String> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(["keypoint", "values", "rmse", "baseline_rmse"])?;
        for row in self.keypoints.iter().chain([&self.overall]) {
            let optional = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.6}"));
            csv.write_record([
                row.keypoint.clone(),
                row.values.to_string(),
                optional(row.rmse),
                optional(row.baseline_rmse),
            ])?;
        }
        Ok(String::from_utf8(csv.into_inner()?)?)
    }
}

fn format_rmse(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |value| format!("{value:.3}"))
}

/// Runs `fkd-cli evaluate`.
pub fn run(args: &EvaluateArgs) -> Result<()> {
    let predictor = Predictor::load(&args.run, args.checkpoint, &args.device)?;

    let table = match &args.labels {
        Some(labels) => evaluate_labels(&predictor, labels)?,
        None => evaluate_training(&predictor, args)?,
    };

    match args.format {
        TableFormat::Table => print!("{}", table.to_text()),
        TableFormat::Csv => print!("{}", table.to_csv()?),
        TableFormat::Json => println!("{}", serde_json::to_string_pretty(&table)?),
    }
    Ok(())
}

/// Scores the run's validation split of training.csv, or every row with `--all`.
fn evaluate_training(predictor: &Predictor, args: &EvaluateArgs) -> Result<ErrorTable> {
    let config = &predictor.config;
    let data_dir = args
        .data
        .clone()
        .unwrap_or_else(|| config.data.data_dir.clone());
    let files = KaggleFiles::in_dir(&data_dir);
    if !files.training.is_file() {
        bail!(
            "{} not found; pass --data DIR with the training.csv of the run",
            files.training.display()
        );
    }

    // The same rows as fkd-experiment's ExperimentData::load: the first max_rows.
    let mut training = load_training(&files.training)?;
    if let Some(max_rows) = config.data.max_rows
        && max_rows < training.len()
    {
        let rows: Vec<usize> = (0..max_rows).collect();
        training = training.select(&rows);
    }

    let (rows, source) = if args.all {
        let rows: Vec<usize> = (0..training.len()).collect();
        let source = format!("all {} rows of {}", rows.len(), files.training.display());
        (rows, source)
    } else {
        let split = split_train_valid(
            training.len(),
            config.data.valid_ratio,
            config.training.seed,
        )?;
        let source = format!(
            "validation split of {} (seed {}, ratio {:.4})",
            files.training.display(),
            config.training.seed,
            config.data.valid_ratio
        );
        (split.valid, source)
    };

    let dataset = FaceDataset::training(Arc::new(training), rows);
    let mut feedback = KeypointFeedback::new("evaluate", &predictor.baseline);
    evaluate(
        &predictor.model,
        &dataset,
        &predictor.batcher(),
        &predictor.device,
        &NoProgress,
        "evaluate",
        &mut feedback,
    );
    Ok(ErrorTable::from_report(
        source,
        "pixels of the 96x96 faces",
        &feedback.report(),
    ))
}

/// Scores labelled image files in their own pixel coordinates. The baseline's mean
/// keypoints are mapped into each image like the model's predictions.
fn evaluate_labels(predictor: &Predictor, labels: &std::path::Path) -> Result<ErrorTable> {
    let images = read_labels(labels)?;

    let mut model_feedback = KeypointFeedback::new("model", &predictor.baseline);
    let mut baseline_feedback = KeypointFeedback::new("baseline", &predictor.baseline);
    let baseline_face = predictor.baseline.predict();
    for labelled in &images {
        let image = read_image(&labelled.path)
            .with_context(|| format!("{} line {}", labels.display(), labelled.line))?;
        let face = face_from_image(&image, labelled.crop)
            .with_context(|| format!("{} line {}", labels.display(), labelled.line))?;
        let prediction = predictor.predict(&[face.pixels.as_slice()])[0];

        let targets = [labelled.keypoints];
        let model: [f32; NUM_COORDS] = face.frame.coordinates_to_original(&prediction);
        let baseline: [f32; NUM_COORDS] = face.frame.coordinates_to_original(&baseline_face);
        model_feedback.add_batch(&BatchOutput {
            ids: &[],
            targets: &targets,
            predictions: &[model],
        });
        baseline_feedback.add_batch(&BatchOutput {
            ids: &[],
            targets: &targets,
            predictions: &[baseline],
        });
    }

    let mut source = format!("{} labelled images of {}", images.len(), labels.display());
    let cropped = images.iter().filter(|image| image.crop.is_some()).count();
    if cropped > 0 {
        source.push_str(&format!(" ({cropped} with a crop)"));
    }
    Ok(ErrorTable::from_reports(
        source,
        "pixels of the original images",
        &model_feedback.report(),
        &baseline_feedback.report(),
    ))
}

#[cfg(test)]
mod tests {
    use fkd_data::{Keypoints, MeanBaseline};

    use super::*;

    fn report() -> KeypointReport {
        let mut target = Keypoints::MISSING;
        target.0[0] = Some(10.0);
        target.0[1] = Some(20.0);
        target.0[20] = Some(40.0);
        let mut means = [Some(0.0); NUM_COORDS];
        means[0] = Some(13.0);
        means[1] = Some(24.0);
        means[20] = Some(40.0);
        let mut feedback = KeypointFeedback::new("valid", &MeanBaseline { means });
        let mut prediction = [0.0; NUM_COORDS];
        prediction[0] = 11.0;
        prediction[1] = 21.0;
        prediction[20] = 38.0;
        feedback.add_batch(&BatchOutput {
            ids: &[0],
            targets: &[target],
            predictions: &[prediction],
        });
        feedback.report()
    }

    #[test]
    fn table_rows_from_report() {
        let table = ErrorTable::from_report("test".into(), "pixels", &report());

        assert_eq!(table.faces, 1);
        assert_eq!(table.keypoints.len(), 15);
        assert_eq!(table.keypoints[0].values, 2);
        assert_eq!(table.keypoints[0].rmse, Some(1.0));
        assert_eq!(table.keypoints[0].baseline_rmse, Some(12.5f64.sqrt()));
        assert_eq!(table.keypoints[10].rmse, Some(2.0));
        assert_eq!(table.keypoints[10].baseline_rmse, Some(0.0));
        assert_eq!(table.keypoints[1].rmse, None);
        assert_eq!(table.overall.values, 3);
        assert_eq!(table.overall.rmse, Some(2f64.sqrt()));
        assert_eq!(table.overall.baseline_rmse, Some((25.0f64 / 3.0).sqrt()));
    }

    #[test]
    fn table_text_aligned() {
        let table = ErrorTable::from_report("valid".into(), "pixels", &report());

        let text = table.to_text();
        let lines: Vec<&str> = text.lines().collect();

        assert_eq!(lines.len(), 18);
        assert_eq!(lines[0], "valid: 1 faces, RMSE in pixels");
        assert_eq!(
            lines[1],
            "keypoint                    values     RMSE  baseline RMSE"
        );
        assert_eq!(
            lines[2],
            "left_eye_center                  2    1.000          3.536"
        );
        assert_eq!(
            lines[3],
            "right_eye_center                 0        -              -"
        );
        assert_eq!(
            lines[17],
            "overall                          3    1.414          2.887"
        );
    }

    #[test]
    fn table_csv_has_overall_last() {
        let table = ErrorTable::from_report("valid".into(), "pixels", &report());

        let csv = table.to_csv().unwrap();
        let lines: Vec<&str> = csv.lines().collect();

        assert_eq!(lines.len(), 17);
        assert_eq!(lines[0], "keypoint,values,rmse,baseline_rmse");
        assert_eq!(lines[1], "left_eye_center,2,1.000000,3.535534");
        assert_eq!(lines[2], "right_eye_center,0,,");
        assert_eq!(lines[16], "overall,3,1.414214,2.886751");
    }
}
