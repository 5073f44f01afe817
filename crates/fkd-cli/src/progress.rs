//! Progress bars for the training passes: shown when stderr is a terminal (or with
//! `--progress`), never with `--silent`.

use std::sync::Mutex;

use fkd_experiment::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar per pass.
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
    forced: bool,
}

impl BarProgress {
    /// Bars drawn on a terminal only, or always when `forced`.
    pub fn new(forced: bool) -> Self {
        Self {
            bar: Mutex::new(None),
            forced,
        }
    }
}

impl Progress for BarProgress {
    fn start(&self, name: &str, batches: usize) {
        let bar = ProgressBar::new(batches as u64);
        if self.forced {
            bar.set_draw_target(ProgressDrawTarget::term(console::Term::stderr(), 4));
        }
        let style = ProgressStyle::with_template(
            "{prefix:>6} [{bar:40}] {pos}/{len} batches {elapsed}<{eta}",
        )
        .expect("valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn advance(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}
