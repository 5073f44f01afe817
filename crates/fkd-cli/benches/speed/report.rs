//! The measurements that each benchmark process reports, and the side-by-side Markdown
//! report with time ratios that the parent process prints.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The measurements of one backend, printed by a worker process (or by
/// `scripts/bench_pytorch.py`) as one line of JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// `burn-flex`, `burn-tch` or `pytorch`.
    pub backend: String,
    /// PyTorch's version, when the backend is PyTorch.
    #[serde(default)]
    pub version: Option<String>,
    /// The device, such as `cpu` or `cuda:0`.
    pub device: String,
    /// Intra-op threads, when the backend reports them.
    #[serde(default)]
    pub threads: Option<usize>,
    /// Wall time of each timed training step, in milliseconds.
    pub train_step_ms: Vec<f64>,
    /// Wall time of the forward pass and the loss within each timed training step, in
    /// milliseconds.
    #[serde(default)]
    pub train_forward_ms: Vec<f64>,
    /// Wall time of each timed forward pass on one face, in milliseconds.
    pub infer_single_ms: Vec<f64>,
    /// Wall time of each timed forward pass on a large batch, in milliseconds.
    pub infer_large_ms: Vec<f64>,
    /// The training pass over the real training set, when it was measured.
    #[serde(default)]
    pub epoch: Option<EpochTiming>,
    /// Resident memory (VmRSS) before the first tensor, with the backend's libraries
    /// loaded, in KiB.
    #[serde(default)]
    pub startup_resident_kib: Option<u64>,
    /// Peak resident memory of the process (VmHWM), in KiB.
    #[serde(default)]
    pub peak_resident_kib: Option<u64>,
}

impl Measurement {
    /// Adds the samples of `other`, a later round of the same backend. The peak memory is
    /// the larger one, and the training pass is kept from the round that measured it.
    pub fn merge(&mut self, other: Measurement) {
        self.train_step_ms.extend(other.train_step_ms);
        self.train_forward_ms.extend(other.train_forward_ms);
        self.infer_single_ms.extend(other.infer_single_ms);
        self.infer_large_ms.extend(other.infer_large_ms);
        self.epoch = self.epoch.take().or(other.epoch);
        self.startup_resident_kib = self.startup_resident_kib.or(other.startup_resident_kib);
        self.peak_resident_kib = match (self.peak_resident_kib, other.peak_resident_kib) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Time spent in the three parts of a training pass over the real training set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochTiming {
    /// Faces in the training set.
    pub faces_total: usize,
    /// Faces in the timed batches.
    pub faces_timed: usize,
    /// Batches timed.
    pub batches_timed: usize,
    /// Batches in a whole pass.
    pub batches_total: usize,
    /// `FaceDataset::get` and `FaceBatcher::batch` (copy, preprocessing, Gaussian
    /// targets, upload), summed over the timed batches, in milliseconds.
    pub data_ms: f64,
    /// Training steps summed over the timed batches, in milliseconds.
    pub step_ms: f64,
    /// Decoding the batch's predictions to the host for the keypoint feedback, as the
    /// experiment runner does after each step, in milliseconds.
    pub feedback_ms: f64,
}

impl EpochTiming {
    fn timed_ms(&self) -> f64 {
        self.data_ms + self.step_ms + self.feedback_ms
    }

    /// Returns the time of a whole pass in seconds, scaled by faces from the timed
    /// batches when only some were timed.
    pub fn estimated_seconds(&self) -> f64 {
        self.timed_ms() / 1e3 * self.faces_total as f64 / self.faces_timed as f64
    }

    fn share(&self, part_ms: f64) -> f64 {
        part_ms / self.timed_ms()
    }
}

/// Benchmark settings and machine state, for the report's header.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Network description, such as
    /// `tutorial: conv 64-96-96 (kernels 5-5-5, pools 2-2-2), hidden 1000, output 30x98`.
    pub network: String,
    /// Faces per training batch.
    pub batch: usize,
    /// Faces per large inference batch.
    pub large_batch: usize,
    /// Threads requested from every backend.
    pub threads: usize,
    /// Rounds over the backends.
    pub rounds: usize,
    /// Untimed runs before each measurement.
    pub warmup: usize,
    /// Timed training steps per round.
    pub steps: usize,
    /// Timed forward passes on one face per round.
    pub single_repeats: usize,
    /// Timed forward passes on the large batch per round.
    pub large_repeats: usize,
    /// Load averages (1, 5, 15 min) when the benchmark started and ended.
    pub load_before: String,
    /// See `load_before`.
    pub load_after: String,
    /// The CPU model from /proc/cpuinfo.
    pub cpu: String,
    /// `GLIBC_TUNABLES` of the run, which the children inherit, when it is set.
    pub glibc_tunables: Option<String>,
    /// Wall time of the whole benchmark, in seconds.
    pub elapsed_seconds: f64,
}

/// Returns the median of `values`, or `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

/// Formats the side-by-side table, the epoch breakdown and the ratios as Markdown.
pub fn format_report(setup: &Setup, measurements: &[Measurement]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "network: {}", setup.network);
    let _ = writeln!(
        text,
        "batch {}, {} threads; medians over {} round(s) of {} training steps, {} forward \
         passes on 1 face and {} on {} faces, each after {} warm-up run(s)",
        setup.batch,
        setup.threads,
        setup.rounds,
        setup.steps,
        setup.single_repeats,
        setup.large_repeats,
        setup.large_batch,
        setup.warmup,
    );
    let _ = writeln!(
        text,
        "CPU: {}; load average {} at the start, {} at the end; {:.0} s in all",
        setup.cpu, setup.load_before, setup.load_after, setup.elapsed_seconds
    );
    if let Some(tunables) = &setup.glibc_tunables {
        let _ = writeln!(text, "GLIBC_TUNABLES={tunables}");
    }
    text.push('\n');

    write_speed_table(&mut text, setup, measurements);
    write_epoch_table(&mut text, measurements);
    write_ratios(&mut text, measurements);
    text
}

/// A row of the speed table: its name, its decimals and how its value is computed.
type SpeedRow = (&'static str, usize, fn(&Measurement, &Setup) -> Option<f64>);

fn write_speed_table(text: &mut String, setup: &Setup, measurements: &[Measurement]) {
    let mut header = String::from("| |");
    let mut rule = String::from("| --- |");
    for measurement in measurements {
        let _ = write!(
            header,
            " {} ({}) |",
            measurement.backend, measurement.device
        );
        rule.push_str(" ---: |");
    }
    let _ = writeln!(text, "{header}");
    let _ = writeln!(text, "{rule}");

    let rows: [SpeedRow; 9] = [
        ("training step (ms)", 1, |m, _| median(&m.train_step_ms)),
        ("forward + loss of a step (ms)", 1, |m, _| {
            median(&m.train_forward_ms)
        }),
        ("backward + update of a step (ms)", 1, |m, _| {
            Some(median(&m.train_step_ms)? - median(&m.train_forward_ms)?)
        }),
        ("training images/s", 1, |m, setup| {
            median(&m.train_step_ms).map(|ms| setup.batch as f64 * 1e3 / ms)
        }),
        ("inference, batch 1 (images/s)", 1, |m, _| {
            median(&m.infer_single_ms).map(|ms| 1e3 / ms)
        }),
        ("inference, large batch (images/s)", 1, |m, setup| {
            median(&m.infer_large_ms).map(|ms| setup.large_batch as f64 * 1e3 / ms)
        }),
        ("inference, large batch (ms)", 1, |m, _| {
            median(&m.infer_large_ms)
        }),
        ("resident memory at start-up (MiB)", 0, |m, _| {
            m.startup_resident_kib.map(|kib| kib as f64 / 1024.0)
        }),
        ("peak resident memory (MiB)", 0, |m, _| {
            m.peak_resident_kib.map(|kib| kib as f64 / 1024.0)
        }),
    ];
    for (name, decimals, value) in rows {
        let name = name.replace("large batch", &format!("batch {}", setup.large_batch));
        let mut line = format!("| {name} |");
        for measurement in measurements {
            match value(measurement, setup) {
                Some(value) => {
                    let _ = write!(line, " {value:.decimals$} |");
                }
                None => line.push_str(" - |"),
            }
        }
        let _ = writeln!(text, "{line}");
    }
    text.push('\n');
}

fn write_epoch_table(text: &mut String, measurements: &[Measurement]) {
    let timed: Vec<(&Measurement, &EpochTiming)> = measurements
        .iter()
        .filter_map(|m| m.epoch.as_ref().map(|epoch| (m, epoch)))
        .collect();
    if timed.is_empty() {
        return;
    }

    let _ = writeln!(
        text,
        "| training pass over training.csv | faces | timed batches | seconds | data loading + targets | steps | feedback decode |"
    );
    let _ = writeln!(text, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (measurement, epoch) in timed {
        let estimated = if epoch.batches_timed < epoch.batches_total {
            " (estimated)"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "| {} ({}) | {} | {} of {} | {:.1}{estimated} | {:.2}% | {:.2}% | {:.2}% |",
            measurement.backend,
            measurement.device,
            epoch.faces_total,
            epoch.batches_timed,
            epoch.batches_total,
            epoch.estimated_seconds(),
            100.0 * epoch.share(epoch.data_ms),
            100.0 * epoch.share(epoch.step_ms),
            100.0 * epoch.share(epoch.feedback_ms),
        );
    }
    text.push('\n');
}

fn write_ratios(text: &mut String, measurements: &[Measurement]) {
    let find = |backend: &str| measurements.iter().find(|m| m.backend == backend);
    let pairs = [("burn-tch", "pytorch"), ("burn-flex", "burn-tch")];

    let mut wrote_header = false;
    for (numerator, denominator) in pairs {
        let (Some(top), Some(bottom)) = (find(numerator), find(denominator)) else {
            continue;
        };
        if !wrote_header {
            let _ = writeln!(
                text,
                "| time ratio | training step | forward + loss | inference, batch 1 | inference, large batch |"
            );
            let _ = writeln!(text, "| --- | ---: | ---: | ---: | ---: |");
            wrote_header = true;
        }
        let ratio = |select: fn(&Measurement) -> &[f64]| match (
            median(select(top)),
            median(select(bottom)),
        ) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            text,
            "| {numerator} / {denominator} | {} | {} | {} | {} |",
            ratio(|m| &m.train_step_ms),
            ratio(|m| &m.train_forward_ms),
            ratio(|m| &m.infer_single_ms),
            ratio(|m| &m.infer_large_ms),
        );
    }
}
