//! `fkd-cli baseline`: the mean-keypoint submission (dp's fkdbaseline).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use fkd_data::{KaggleFiles, LookupTable, MeanBaseline, load_training, resolve_data_dir};

/// Options of `fkd-cli baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Directory with training.csv and IdLookupTable.csv [default: $FKD_DATA_DIR, else ./data].
    #[arg(long)]
    pub data: Option<PathBuf>,

    /// Where to write the submission.
    #[arg(
        long = "submission-file",
        visible_alias = "submissionFile",
        default_value = "baseline.csv"
    )]
    pub submission_file: PathBuf,
}

/// Runs `fkd-cli baseline`.
pub fn run(args: &BaselineArgs) -> Result<()> {
    let files = KaggleFiles::in_dir(&resolve_data_dir(args.data.as_deref()));
    if !files.training.is_file() {
        anyhow::bail!(
            "{} not found; run `cargo xtask fetch-data` or pass --data DIR",
            files.training.display()
        );
    }

    let training = load_training(&files.training)?;
    let baseline = MeanBaseline::fit(&training.keypoints);
    let lookup = LookupTable::read(&files.lookup)?;

    fkd_feedback::write_baseline_submission(&lookup, &baseline, &args.submission_file)
        .context("cannot write the submission")?;
    tracing::info!(
        "wrote the mean-keypoint submission for {} rows to {}",
        lookup.len(),
        args.submission_file.display()
    );
    Ok(())
}
