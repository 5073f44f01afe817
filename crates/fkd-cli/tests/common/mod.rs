//! Running the `fkd-cli` binary from the integration tests.

// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `fkd-cli` with `args`, without the user's `FKD_DATA_DIR` and `RUST_LOG`.
pub fn fkd_cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fkd-cli"))
        .args(args)
        .env_remove("FKD_DATA_DIR")
        .env_remove("RUST_LOG")
        .output()
        .expect("run fkd-cli")
}

/// Returns the standard output of `output` as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Returns the standard error of `output` as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
