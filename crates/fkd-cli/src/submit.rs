//! `fkd-cli submit`: a Kaggle submission from a saved run, without training.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use fkd_data::{FaceDataset, KaggleFiles, LookupTable, load_test};
use fkd_experiment::{NoProgress, evaluate};
use fkd_feedback::{Feedback, SubmissionFeedback};

use crate::device::DeviceSpec;
use crate::predictor::{CheckpointArg, Predictor};

/// Options of `fkd-cli submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Run directory written by `fkd-cli train`.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,

    /// Directory with test.csv and IdLookupTable.csv [default: the data directory saved
    /// in the run].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Path of the submission file to write (`RowId,Location`).
    #[arg(
        long = "submission-file",
        visible_alias = "submissionFile",
        value_name = "FILE"
    )]
    pub submission_file: PathBuf,

    /// Checkpoint to load: best (lowest validation MSE) or last.
    #[arg(long, value_enum, default_value = "best")]
    pub checkpoint: CheckpointArg,

    /// Device: cpu (burn's flex backend), tch-cpu (libtorch CPU) or cuda:N (0-based).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

/// Runs `fkd-cli submit`.
pub fn run(args: &SubmitArgs) -> Result<()> {
    fkd_data::check_directory(&args.submission_file).context("cannot write the submission")?;
    let predictor = Predictor::load(&args.run, args.checkpoint, &args.device)?;
    let data_dir = args
        .data
        .clone()
        .unwrap_or_else(|| predictor.config.data.data_dir.clone());
    let files = KaggleFiles::in_dir(&data_dir);
    for path in [&files.test, &files.lookup] {
        if !path.is_file() {
            bail!(
                "{} not found; pass --data DIR with test.csv and IdLookupTable.csv",
                path.display()
            );
        }
    }

    let test = load_test(&files.test)?;
    let lookup = LookupTable::read(&files.lookup)?;
    tracing::info!(
        "predicting {} test faces for {} lookup rows",
        test.len(),
        lookup.len()
    );

    let dataset = FaceDataset::test(Arc::new(test));
    let mut feedback = SubmissionFeedback::new(lookup);
    evaluate(
        &predictor.model,
        &dataset,
        &predictor.batcher(),
        &predictor.device,
        &NoProgress,
        "test",
        &mut feedback,
    );
    feedback
        .write(&args.submission_file)
        .context("cannot write the submission")?;

    let report = feedback.report();
    tracing::info!(
        "wrote {} rows for {} images to {}",
        report.rows,
        report.predicted_images,
        args.submission_file.display()
    );
    Ok(())
}
