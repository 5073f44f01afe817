//! Training and inference speed of the keypoint network on burn's flex and libtorch
//! backends and in PyTorch, side by side, with the time ratios between them.
//!
//! ```sh
//! export LIBTORCH=$PWD/libtorch/site-packages/torch   # from `cargo xtask libtorch`
//! FKD_SHARED_DATA=/path/to/dir/with/the/kaggle/zip \
//!     cargo bench -p fkd-cli --features tch --bench speed -- --python .venv/bin/python3
//! ```
//!
//! The parent process runs each backend in a child process of its own (this binary with
//! `--worker`, or `scripts/bench_pytorch.py`), so that each one's peak resident memory
//! (VmHWM) is its own, and every child gets the same thread count. Each child times a
//! training step (forward, masked KL loss, backward, SGD update, max-norm) on a synthetic
//! batch, and inference on one face and on a large batch. The burn children also time a
//! training pass over the real training set, split into data loading, steps and feedback
//! decoding. The parent prints one Markdown report and can write it to a file.
//!
//! `--help` lists the options. Without `--backends`, every backend this build and the
//! Python interpreter provide is measured.

mod data;
mod report;
mod worker;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use clap::{Parser, ValueEnum};
use fkd_model::KeypointNetConfig;

use crate::report::{Measurement, Setup, format_report};
use crate::worker::WorkerPlan;

/// Prefix of the line on which a worker prints its measurements as JSON.
const RESULT_PREFIX: &str = "FKD_BENCH_RESULT ";

/// Environment variable naming the Python interpreter for the PyTorch side.
const PYTHON_ENV: &str = "FKD_BENCH_PYTHON";

/// The PyTorch side, relative to this crate.
const PYTORCH_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/bench_pytorch.py"
);

/// Thread-count variables that every child gets: rayon's (burn-flex) and OpenMP's and
/// MKL's (libtorch, PyTorch).
const THREAD_VARIABLES: [&str; 3] = ["RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"];

/// Training and inference speed of the keypoint network: burn-flex, burn-tch and PyTorch
/// side by side.
#[derive(Debug, Clone, Parser)]
#[command(name = "speed", args_override_self = true)]
struct Args {
    /// Backends to measure, comma-separated [default: every one available].
    #[arg(long, value_enum, value_delimiter = ',')]
    backends: Vec<Backend>,

    /// Device of the libtorch and PyTorch backends: cpu or cuda:N (0-based). burn-flex
    /// always runs on the CPU and is skipped for a CUDA device.
    #[arg(long, default_value = "cpu")]
    device: String,

    /// Network to measure.
    #[arg(long, value_enum, default_value_t = Network::Tutorial)]
    network: Network,

    /// Faces per training batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,

    /// Faces per large inference batch.
    #[arg(long, default_value_t = 256)]
    large_batch: usize,

    /// Intra-op threads of every backend [default: the number of CPUs available].
    #[arg(long)]
    threads: Option<usize>,

    /// Untimed runs before each measurement.
    #[arg(long, default_value_t = 1)]
    warmup: usize,

    /// Rounds over the backends. Each round starts every backend's process again, and
    /// the medians are taken over all rounds, so that a burst of load on a shared machine
    /// does not fall on one backend only.
    #[arg(long, default_value_t = 3)]
    rounds: usize,

    /// Timed training steps on the synthetic batch, per round.
    #[arg(long, default_value_t = 3)]
    steps: usize,

    /// Timed forward passes on one face, per round.
    #[arg(long, default_value_t = 20)]
    single_repeats: usize,

    /// Timed forward passes on the large batch, per round.
    #[arg(long, default_value_t = 2)]
    large_repeats: usize,

    /// Batches of the training pass over the real training set to time; the whole pass
    /// is estimated from them, by faces. 0 skips the training pass.
    #[arg(long, default_value_t = 10)]
    epoch_batches: usize,

    /// Time every batch of the training pass instead of --epoch-batches of them.
    #[arg(long)]
    whole_epoch: bool,

    /// Directory that contains training.csv for the training pass [default: Kaggle's zip in
    /// $FKD_SHARED_DATA; without either, the training pass is skipped].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// Python interpreter with torch for the PyTorch side [default: $FKD_BENCH_PYTHON,
    /// else python3].
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,

    /// SGD learning rate of the training steps.
    #[arg(long, default_value_t = 0.1)]
    learning_rate: f64,

    /// Max-norm bound applied after each update.
    #[arg(long, default_value_t = 2.0)]
    max_norm: f32,

    /// Also write the report to this file (replaced atomically).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Run the measurements of one burn backend in this process and print them as JSON
    /// (used by the parent process).
    #[arg(long, value_enum, hide = true)]
    worker: Option<Backend>,

    /// training.csv for a worker's training pass (used by the parent process).
    #[arg(long, hide = true)]
    training_csv: Option<PathBuf>,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// A backend to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// burn's pure-Rust CPU backend.
    Flex,
    /// burn's libtorch backend (needs `--features tch`).
    Tch,
    /// PyTorch through `scripts/bench_pytorch.py`.
    Pytorch,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Self::Flex => "burn-flex",
            Self::Tch => "burn-tch",
            Self::Pytorch => "pytorch",
        }
    }
}

/// A network to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Network {
    /// The dp tutorial's default: conv 64-96-96 with 5x5 kernels and 2x2 pools, hidden
    /// 1000 (`KeypointNetConfig::new()`).
    Tutorial,
    /// conv 32-64 with 5x5 kernels and 2x2 pools, hidden 500.
    Small,
}

impl Network {
    fn config(self) -> KeypointNetConfig {
        match self {
            Self::Tutorial => KeypointNetConfig::new(),
            Self::Small => KeypointNetConfig::new()
                .with_channel_size(vec![32, 64])
                .with_kernel_size(vec![5, 5])
                .with_kernel_stride(vec![1, 1])
                .with_pool_size(vec![2, 2])
                .with_pool_stride(vec![2, 2])
                .with_hidden_size(vec![500]),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.worker {
        Some(backend) => run_worker(&args, backend),
        None => run_parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

impl Args {
    fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
    }

    /// Returns the batches of the training pass to time, 0 for all of them.
    fn epoch_batches(&self) -> usize {
        if self.whole_epoch {
            0
        } else {
            self.epoch_batches
        }
    }

    fn times_training_pass(&self) -> bool {
        self.whole_epoch || self.epoch_batches > 0
    }

    fn is_cuda(&self) -> bool {
        self.device != "cpu"
    }

    fn plan(&self) -> WorkerPlan {
        WorkerPlan {
            config: self.network.config(),
            batch: self.batch,
            large_batch: self.large_batch,
            warmup: self.warmup,
            steps: self.steps,
            single_repeats: self.single_repeats,
            large_repeats: self.large_repeats,
            learning_rate: self.learning_rate,
            max_norm: self.max_norm,
            epoch_batches: self.epoch_batches(),
        }
    }

    fn python(&self) -> PathBuf {
        self.python.clone().unwrap_or_else(|| {
            std::env::var_os(PYTHON_ENV)
                .filter(|value| !value.is_empty())
                .map_or_else(|| PathBuf::from("python3"), PathBuf::from)
        })
    }
}

fn run_worker(args: &Args, backend: Backend) -> Result<()> {
    let device = burn_device(backend, &args.device)?;
    let plan = args.plan();
    let training_csv = args.training_csv.as_deref();

    let measurement = worker::measure(backend.label(), &args.device, &device, &plan, training_csv)?;
    println!("{RESULT_PREFIX}{}", serde_json::to_string(&measurement)?);
    Ok(())
}

/// Returns the burn device of `backend` on `device_name`, or an error naming the build
/// that provides it.
fn burn_device(backend: Backend, device_name: &str) -> Result<Device> {
    match backend {
        Backend::Flex => flex_device(device_name),
        Backend::Tch => tch_device(device_name),
        Backend::Pytorch => bail!("PyTorch runs in Python, not in a burn worker"),
    }
}

#[cfg(feature = "flex")]
fn flex_device(device_name: &str) -> Result<Device> {
    if device_name != "cpu" {
        bail!("burn-flex runs on the CPU only, not on {device_name}");
    }
    Ok(Device::flex())
}

#[cfg(not(feature = "flex"))]
fn flex_device(_device_name: &str) -> Result<Device> {
    bail!("this benchmark was built without the flex feature")
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn 0.22 deprecates burn-tch, and this backend is measured on purpose.
fn tch_device(device_name: &str) -> Result<Device> {
    if device_name == "cpu" {
        return Ok(Device::libtorch());
    }
    match device_name.strip_prefix("cuda:").map(str::parse::<usize>) {
        Some(Ok(index)) => Ok(Device::libtorch_cuda(index)),
        _ => bail!("'{device_name}' is not a device; expected cpu or cuda:N (0-based)"),
    }
}

#[cfg(not(feature = "tch"))]
fn tch_device(_device_name: &str) -> Result<Device> {
    bail!(
        "this benchmark was built without libtorch; run `cargo xtask libtorch`, export \
         LIBTORCH as it prints, and add `--features tch`"
    )
}

fn run_parent(args: &Args) -> Result<()> {
    let threads = args.threads();
    let backends = choose_backends(args)?;
    if backends.is_empty() {
        bail!("no backend to measure; see --backends");
    }
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }

    let scratch = tempfile::tempdir().context("failed to create a temporary directory")?;
    let training_csv = if args.times_training_pass() {
        prepare_training_csv(args.data.as_deref(), scratch.path())?
    } else {
        None
    };

    let started = Instant::now();
    let load_before = load_average();
    let mut measurements: Vec<Measurement> = Vec::with_capacity(backends.len());
    for round in 0..args.rounds {
        eprintln!("round {} of {}", round + 1, args.rounds);
        // The training pass runs in the first round only: it is long, and its batches
        // are real data rather than repeats.
        let training_csv = training_csv.as_deref().filter(|_| round == 0);
        for (index, &backend) in backends.iter().enumerate() {
            let measurement = match backend {
                Backend::Pytorch => run_pytorch(args, threads)?,
                burn => run_burn_worker(args, burn, threads, training_csv)?,
            };
            match measurements.get_mut(index) {
                Some(earlier) => earlier.merge(measurement),
                None => measurements.push(measurement),
            }
        }
    }
    let load_after = load_average();

    let config = args.network.config();
    let setup = Setup {
        network: format!("{:?}: {}", args.network, describe_network(&config)).to_lowercase(),
        batch: args.batch,
        large_batch: args.large_batch,
        threads,
        rounds: args.rounds,
        warmup: args.warmup,
        steps: args.steps,
        single_repeats: args.single_repeats,
        large_repeats: args.large_repeats,
        load_before,
        load_after,
        cpu: cpu_model(),
        glibc_tunables: std::env::var("GLIBC_TUNABLES").ok(),
        elapsed_seconds: started.elapsed().as_secs_f64(),
    };
    let report = format_report(&setup, &measurements);
    println!("\n{report}");

    if let Some(path) = &args.output {
        fkd_data::write_atomically(path, report.as_bytes())
            .with_context(|| format!("failed to write the report to {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Returns the requested backends, or every available one when none was requested.
fn choose_backends(args: &Args) -> Result<Vec<Backend>> {
    if !args.backends.is_empty() {
        return Ok(args.backends.clone());
    }

    let mut backends = Vec::new();
    if cfg!(feature = "flex") && !args.is_cuda() {
        backends.push(Backend::Flex);
    }
    if cfg!(feature = "tch") {
        backends.push(Backend::Tch);
    } else {
        eprintln!("skipped: burn-tch, because this benchmark was built without `--features tch`");
    }
    match check_python(&args.python()) {
        Ok(version) => {
            eprintln!("PyTorch {version} from {}", args.python().display());
            backends.push(Backend::Pytorch);
        }
        Err(error) => eprintln!(
            "skipped: PyTorch: {error:#}. Pass --python (or set {PYTHON_ENV}) to an \
             interpreter with torch 2.9.0"
        ),
    }
    Ok(backends)
}

/// Returns the torch version that `python` imports.
fn check_python(python: &Path) -> Result<String> {
    let output = Command::new(python)
        .args([
            "-c",
            "import torch, sys; sys.stdout.write(torch.__version__)",
        ])
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("no output");
        bail!("`{} -c 'import torch'` failed: {last}", python.display());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Finds the real training set and loads it once, so that the workers read its binary
/// cache instead of parsing the CSV.
fn prepare_training_csv(data_dir: Option<&Path>, scratch: &Path) -> Result<Option<PathBuf>> {
    let Some(csv) = data::find_training_csv(data_dir, scratch)? else {
        eprintln!(
            "skipped: training pass, because neither --data nor {} names the data",
            data::SHARED_DATA_ENV
        );
        return Ok(None);
    };
    let set = fkd_data::load_training(&csv)
        .with_context(|| format!("failed to load {}", csv.display()))?;
    eprintln!("training pass on {} faces of {}", set.len(), csv.display());
    Ok(Some(csv))
}

fn run_burn_worker(
    args: &Args,
    backend: Backend,
    threads: usize,
    training_csv: Option<&Path>,
) -> Result<Measurement> {
    let executable = std::env::current_exe().context("cannot find this benchmark's executable")?;
    let mut command = Command::new(executable);
    command.args(worker_arguments(args, backend));
    if let Some(csv) = training_csv {
        command.arg("--training-csv").arg(csv);
    }
    run_child(command, threads, backend.label())
}

/// Returns the options that make a child process measure `backend` with the settings of
/// `args`.
fn worker_arguments(args: &Args, backend: Backend) -> Vec<String> {
    let backend = backend
        .to_possible_value()
        .map(|value| value.get_name().to_owned())
        .unwrap_or_default();
    let network = args
        .network
        .to_possible_value()
        .map(|value| value.get_name().to_owned())
        .unwrap_or_default();
    let mut arguments = vec![
        "--worker".to_owned(),
        backend,
        "--device".to_owned(),
        args.device.clone(),
        "--network".to_owned(),
        network,
    ];
    let numbers = [
        ("--batch", args.batch.to_string()),
        ("--large-batch", args.large_batch.to_string()),
        ("--warmup", args.warmup.to_string()),
        ("--steps", args.steps.to_string()),
        ("--single-repeats", args.single_repeats.to_string()),
        ("--large-repeats", args.large_repeats.to_string()),
        ("--epoch-batches", args.epoch_batches().to_string()),
        ("--learning-rate", args.learning_rate.to_string()),
        ("--max-norm", args.max_norm.to_string()),
    ];
    for (name, value) in numbers {
        arguments.push(name.to_owned());
        arguments.push(value);
    }
    arguments
}

fn run_pytorch(args: &Args, threads: usize) -> Result<Measurement> {
    let config = args.network.config();
    let join = |values: &[usize]| {
        values
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    if config.pool_size != config.pool_stride || config.kernel_stride.iter().any(|&s| s != 1) {
        bail!("the PyTorch side supports stride-1 convs and pools whose stride is their size");
    }

    let mut command = Command::new(args.python());
    command
        .arg("-W")
        .arg("ignore")
        .arg(PYTORCH_SCRIPT)
        .args(["--device", &args.device])
        .args(["--threads", &threads.to_string()])
        .args(["--batch", &args.batch.to_string()])
        .args(["--channels", &join(&config.channel_size)])
        .args(["--kernels", &join(&config.kernel_size)])
        .args(["--pools", &join(&config.pool_size)])
        .args(["--hidden", &join(&config.hidden_size)])
        .args(["--learning-rate", &args.learning_rate.to_string()])
        .args(["--max-norm", &args.max_norm.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--steps", &args.steps.to_string()])
        .args(["--single-repeats", &args.single_repeats.to_string()])
        .args(["--inference-repeats", &args.large_repeats.to_string()])
        .args(["--inference-batch", &args.large_batch.to_string()])
        .args(["--result-prefix", RESULT_PREFIX]);
    eprintln!("pytorch: training steps and inference");
    run_child(command, threads, "pytorch")
}

/// Runs a child with `threads` threads, passes its stderr through and returns the
/// measurements on its result line.
fn run_child(mut command: Command, threads: usize, name: &str) -> Result<Measurement> {
    for variable in THREAD_VARIABLES {
        command.env(variable, threads.to_string());
    }
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start the {name} measurement"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("the {name} measurement failed ({})", output.status);
    }

    let line = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(RESULT_PREFIX))
        .with_context(|| format!("the {name} measurement printed no `{RESULT_PREFIX}` line"))?;
    serde_json::from_str(line)
        .with_context(|| format!("the {name} measurement printed invalid JSON: {line}"))
}

/// Returns e.g. `conv 64-96-96 (5x5 kernels, 2x2 pools), hidden 1000, output 30x98`.
fn describe_network(config: &KeypointNetConfig) -> String {
    let dashed = |values: &[usize]| {
        values
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-")
    };
    let kernels = dashed(&config.kernel_size);
    let pools = dashed(&config.pool_size);
    format!(
        "conv {} (kernels {kernels}, pools {pools}), hidden {}, output 30x98",
        dashed(&config.channel_size),
        dashed(&config.hidden_size)
    )
}

/// Returns the 1, 5 and 15 minute load averages, or `unknown` without /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Returns the first `model name` of /proc/cpuinfo, or `unknown`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
