//! `fkd-cli`: train facial keypoint detectors on Kaggle's Facial Keypoints Detection
//! data and write Kaggle submissions.

mod baseline;
mod device;
mod draw;
mod evaluate;
mod images;
mod labels;
mod lists;
mod predict;
mod predictor;
mod progress;
mod show;
mod submit;
mod train;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Facial keypoints detection: train a MultiSoftMax CNN and write Kaggle submissions.
#[derive(Debug, Parser)]
#[command(name = "fkd-cli", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a network (the dp tutorial's launch command) and write a submission on
    /// every new validation minimum.
    Train(Box<train::TrainArgs>),
    /// Write the mean-keypoint baseline submission.
    Baseline(baseline::BaselineArgs),
    /// Predict the keypoints of faces in image files, in the images' own pixels.
    Predict(predict::PredictArgs),
    /// Print the RMSE per keypoint of a saved run next to the mean baseline's.
    Evaluate(evaluate::EvaluateArgs),
    /// Write a Kaggle submission from a saved run, without training.
    Submit(submit::SubmitArgs),
    /// Draw a contact sheet of training faces with labelled and predicted keypoints.
    Show(show::ShowArgs),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let silent = matches!(&cli.command, Command::Train(args) if args.silent);
    init_logging(silent);

    let result = match &cli.command {
        Command::Train(args) => train::run(args, &given_options(&matches, "train")),
        Command::Baseline(args) => baseline::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Submit(args) => submit::run(args),
        Command::Show(args) => show::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns the long names of the options given on the command line to `subcommand`,
/// without defaults.
fn given_options(matches: &ArgMatches, subcommand: &str) -> Vec<String> {
    let (Some(given), Some(definition)) = (
        matches.subcommand_matches(subcommand),
        Cli::command().find_subcommand(subcommand).cloned(),
    ) else {
        return Vec::new();
    };
    given
        .ids()
        .filter(|id| given.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|id| {
            definition
                .get_arguments()
                .find(|argument| argument.get_id() == id)
                .and_then(|argument| argument.get_long())
                .map(str::to_string)
        })
        .collect()
}

/// Logs to stderr at `info` (`error` when silent); `RUST_LOG` overrides the filter.
fn init_logging(silent: bool) {
    let default = if silent { "error" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
