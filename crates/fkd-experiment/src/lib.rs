//! The experiment runner: training loop, events, early stopping, checkpoints and run directories.
