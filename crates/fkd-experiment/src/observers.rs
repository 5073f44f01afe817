//! The standard observers: epoch log line, metrics history, checkpoints and the Kaggle
//! submission.

use std::fmt::Write as _;
use std::path::PathBuf;

use fkd_data::write_atomically;

use crate::error::Result;
use crate::events::{Control, EpochReport, Event, Observer};
use crate::run_dir::{CheckpointKind, RunDirectory};

/// Logs one `info` line per epoch: losses, validation MSE against the baseline, time.
#[derive(Debug, Default)]
pub struct EpochLogger;

impl Observer for EpochLogger {
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control> {
        match event {
            Event::EpochDone(context) => {
                let report = context.report;
                let marker = if context.state.best_epoch == Some(report.epoch) {
                    ", new minimum"
                } else {
                    ""
                };
                tracing::info!(
                    "epoch {}: train loss {:.5}, train MSE {}, {} ({:.1} s, lr {}{marker})",
                    report.epoch,
                    report.train_loss,
                    format_mse(report.train.model.as_ref().map(|error| error.mse)),
                    report.valid.summary_line(),
                    report.seconds,
                    report.learning_rate,
                );
            }
            Event::NewMinimum(_) => {}
            Event::NoImprovement(_) => {}
            Event::Finished { reason, state } => {
                tracing::info!(
                    "finished after epoch {} ({reason}); best validation MSE {} at epoch {}",
                    state.epoch,
                    format_mse(state.best_valid_mse),
                    state
                        .best_epoch
                        .map_or("-".to_string(), |epoch| epoch.to_string()),
                );
            }
        }
        Ok(Control::Continue)
    }
}

fn format_mse(mse: Option<f64>) -> String {
    mse.map_or("n/a".to_string(), |mse| format!("{mse:.4}"))
}

/// Keeps `metrics.csv`: one row per epoch, rewritten atomically after each epoch.
#[derive(Debug)]
pub struct MetricsHistory {
    path: PathBuf,
    rows: Vec<String>,
}

/// Header of `metrics.csv`.
pub const METRICS_HEADER: &str =
    "epoch,train_loss,train_mse,valid_mse,valid_rmse,baseline_mse,learning_rate,seconds";

impl MetricsHistory {
    /// Creates a history kept in `run`'s `metrics.csv`. On resume it keeps the rows
    /// already there up to and including epoch `last_epoch`.
    pub fn new(run: &RunDirectory, last_epoch: usize) -> Self {
        let path = run.metrics_path();
        let rows = std::fs::read_to_string(&path)
            .map(|text| {
                text.lines()
                    .skip(1)
                    .filter(|line| {
                        line.split(',')
                            .next()
                            .and_then(|epoch| epoch.parse::<usize>().ok())
                            .is_some_and(|epoch| epoch <= last_epoch)
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Self { path, rows }
    }

    /// Formats one epoch as a CSV row; missing values are empty fields.
    pub fn row(report: &EpochReport) -> String {
        let optional =
            |value: Option<f64>| value.map_or(String::new(), |value| format!("{value:.6}"));
        let mut row = String::new();
        let _ = write!(
            row,
            "{},{:.6},{},{},{},{},{},{:.3}",
            report.epoch,
            report.train_loss,
            optional(report.train.model.as_ref().map(|error| error.mse)),
            optional(report.valid.model.as_ref().map(|error| error.mse)),
            optional(report.valid.model.as_ref().map(|error| error.rmse)),
            optional(report.valid.baseline.as_ref().map(|error| error.mse)),
            report.learning_rate,
            report.seconds,
        );
        row
    }
}

impl Observer for MetricsHistory {
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control> {
        if let Event::EpochDone(context) = event {
            self.rows.push(Self::row(context.report));
            let mut text = String::from(METRICS_HEADER);
            text.push('\n');
            for row in &self.rows {
                text.push_str(row);
                text.push('\n');
            }
            write_atomically(&self.path, text.as_bytes())?;
        }
        Ok(Control::Continue)
    }
}

/// Saves the last model, optimizer and progress after every epoch, and the best model
/// on every new validation minimum.
#[derive(Debug)]
pub struct CheckpointSaver {
    run: RunDirectory,
}

impl CheckpointSaver {
    /// Creates a saver that writes into `run`.
    pub fn new(run: RunDirectory) -> Self {
        Self { run }
    }
}

impl Observer for CheckpointSaver {
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control> {
        match event {
            Event::EpochDone(context) => {
                self.run.save_model(context.model, CheckpointKind::Last)?;
                self.run.save_optimizer(context.optimizer)?;
                // The state goes last: it only claims an epoch whose files are complete.
                self.run.save_state(context.state)?;
            }
            Event::NewMinimum(context) => {
                self.run.save_model(context.model, CheckpointKind::Best)?;
            }
            _ => {}
        }
        Ok(Control::Continue)
    }
}

/// Writes the Kaggle submission on every new validation minimum.
#[derive(Debug)]
pub struct SubmissionWriter {
    path: PathBuf,
}

impl SubmissionWriter {
    /// Creates a writer of the submission at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl Observer for SubmissionWriter {
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control> {
        if let Event::NewMinimum(context) = event
            && let Some(submission) = context.submission
        {
            submission.write(&self.path)?;
            tracing::info!(
                "epoch {}: wrote submission {}",
                context.report.epoch,
                self.path.display()
            );
        }
        Ok(Control::Continue)
    }
}
