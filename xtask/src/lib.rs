//! Set-up tasks for fkd behind `cargo xtask`, one module per subcommand.

pub mod fetch_data;
pub mod libtorch;
