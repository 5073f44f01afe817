//! `cargo xtask`: set-up tasks for fkd. Each subcommand's options and work live in its
//! own module of the `xtask` library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use xtask::fetch_data::{self, FetchDataArgs};
use xtask::libtorch::{self, LibtorchArgs};

/// Set-up tasks for fkd.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download Kaggle's Facial Keypoints Detection data and extract training.csv,
    /// test.csv, IdLookupTable.csv and SampleSubmission.csv into the data directory.
    FetchData(FetchDataArgs),
    /// Install libtorch 2.9.0 from PyPI's torch wheel for the `tch` build of fkd-cli and
    /// print the LIBTORCH export to stdout.
    Libtorch(LibtorchArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::FetchData(args) => fetch_data::run(&args).map(|_| ()),
        Command::Libtorch(args) => libtorch::run(&args),
    };

    // The error and its causes on one line, joined by ": ", without anyhow's backtrace.
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
