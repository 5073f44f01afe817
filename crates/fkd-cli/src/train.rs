//! `fkd-cli train`: the dp tutorial's launch command, with its flags under kebab-case
//! names and its camelCase spellings as aliases.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use fkd_data::{
    DEFAULT_TARGET_STDV, DEFAULT_VALID_RATIO, DEFAULT_ZCA_EPSILON, PreprocessingConfig,
    resolve_data_dir,
};
use fkd_experiment::{
    DataConfig, ExperimentConfig, ExperimentData, LrDecay, NoProgress, OptimizerKind, RunDirectory,
    RunOptions, TrainingConfig, train, validate,
};
use fkd_model::{Activation, KeypointNetConfig, KlNormalization, ModelError};

use crate::device::DeviceSpec;
use crate::lists::{ProbabilityList, SizeList};
use crate::progress::BarProgress;

/// Options of `fkd-cli train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Learning rate at the first epoch.
    #[arg(
        long = "learning-rate",
        visible_alias = "learningRate",
        default_value_t = 0.1
    )]
    pub learning_rate: f64,

    /// Maximum L2 norm of each output neuron's incoming weights, enforced after every
    /// update (dp's maxParamNorm); 0 disables it.
    #[arg(
        long = "max-out-norm",
        visible_alias = "maxOutNorm",
        default_value_t = 1.0
    )]
    pub max_out_norm: f32,

    /// SGD momentum (0 disables it).
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,

    /// Pad each conv layer's input with floor(kernel/2) zeros.
    #[arg(long)]
    pub padding: bool,

    /// Output channels per conv layer, e.g. '{64,96,96}'.
    #[arg(
        long = "channel-size",
        visible_alias = "channelSize",
        default_value = "{64,96,96}"
    )]
    pub channel_size: SizeList,

    /// Kernel size per conv layer, in pixels.
    #[arg(
        long = "kernel-size",
        visible_alias = "kernelSize",
        default_value = "{5,5,5}"
    )]
    pub kernel_size: SizeList,

    /// Stride per conv layer, in pixels.
    #[arg(
        long = "kernel-stride",
        visible_alias = "kernelStride",
        default_value = "{1,1,1}"
    )]
    pub kernel_stride: SizeList,

    /// Max-pooling window per conv layer, in pixels (0: no pooling).
    #[arg(
        long = "pool-size",
        visible_alias = "poolSize",
        default_value = "{2,2,2}"
    )]
    pub pool_size: SizeList,

    /// Max-pooling stride per conv layer, in pixels.
    #[arg(
        long = "pool-stride",
        visible_alias = "poolStride",
        default_value = "{2,2,2}"
    )]
    pub pool_stride: SizeList,

    /// Width of each dense hidden layer, e.g. '3000' or '{1000,500}'.
    #[arg(
        long = "hidden-size",
        visible_alias = "hiddenSize",
        default_value = "{1000}"
    )]
    pub hidden_size: SizeList,

    /// Faces per training batch.
    #[arg(long = "batch-size", visible_alias = "batchSize", default_value_t = 32)]
    pub batch_size: usize,

    /// Train on CUDA (the tutorial's spelling; same as --device cuda:N-1 with --useDevice N).
    /// Needs the `tch` build.
    #[arg(long)]
    pub cuda: bool,

    /// GPU to use with --cuda, 1-based as in the tutorial.
    #[arg(long = "use-device", visible_alias = "useDevice", default_value_t = 1)]
    pub use_device: usize,

    /// Device: cpu (burn's flex backend), tch-cpu (libtorch CPU) or cuda:N (0-based).
    #[arg(long)]
    pub device: Option<DeviceSpec>,

    /// Stop after this many epochs.
    #[arg(long = "max-epoch", visible_alias = "maxEpoch", default_value_t = 100)]
    pub max_epoch: usize,

    /// Stop after this many epochs without a new minimum of validation keypoint MSE.
    #[arg(long = "max-tries", visible_alias = "maxTries", default_value_t = 30)]
    pub max_tries: usize,

    /// Apply dropout with the probabilities of --dropout-prob.
    #[arg(long)]
    pub dropout: bool,

    /// Dropout probability per depth: conv layers, then hidden layers.
    #[arg(
        long = "dropout-prob",
        visible_alias = "dropoutProb",
        default_value = "{0.2,0.5,0.5,0.5}"
    )]
    pub dropout_prob: ProbabilityList,

    /// Batch normalization after each conv and hidden layer.
    #[arg(long = "batch-norm", visible_alias = "batchNorm")]
    pub batch_norm: bool,

    /// Standardize each pixel with the training split's mean and standard deviation.
    #[arg(long)]
    pub standardize: bool,

    /// ZCA-whiten the images (fitted on at most 2000 training faces; takes about a minute).
    #[arg(long)]
    pub zca: bool,

    /// Activation after each conv and hidden layer.
    #[arg(long, value_enum, default_value = "ReLU", ignore_case = true)]
    pub activation: ActivationArg,

    /// Accepted for compatibility with the dp tutorial, where it updated parameters in
    /// place during the backward pass, which skips momentum. Here it has the same effect:
    /// momentum is set to 0.
    #[arg(long = "acc-update", visible_alias = "accUpdate")]
    pub acc_update: bool,

    /// Initialize weights from N(0, sqrt(1/fan_in)) instead of Torch7's uniform default.
    #[arg(long = "normal-init", visible_alias = "normalInit")]
    pub normal_init: bool,

    /// File name of the Kaggle submission, written in the run directory on every new
    /// validation minimum.
    #[arg(
        long = "submission-file",
        visible_alias = "submissionFile",
        default_value = "submission.csv"
    )]
    pub submission_file: String,

    /// Show progress bars even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,

    /// Fraction of training rows held out for validation.
    #[arg(long = "valid-ratio", visible_alias = "validRatio", default_value_t = DEFAULT_VALID_RATIO)]
    pub valid_ratio: f64,

    /// Directory with training.csv, test.csv and IdLookupTable.csv [default: $FKD_DATA_DIR, else ./data].
    #[arg(long)]
    pub data: Option<PathBuf>,

    /// Seed of initialization, split, shuffling and augmentation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Optimizer.
    #[arg(long, value_enum, default_value = "sgd")]
    pub optimizer: OptimizerArg,

    /// Standard deviation of the Gaussian targets, in pixels.
    #[arg(long, default_value_t = DEFAULT_TARGET_STDV)]
    pub stdv: f32,

    /// Augmentation of training faces: 'flip' mirrors each face with probability 0.5.
    #[arg(long, value_enum)]
    pub augment: Option<AugmentArg>,

    /// Normalization of the KL loss: 'elements' divides by every element as Torch7's
    /// DistKLDivCriterion (matches the tutorial's learning rates), 'coordinates' by the
    /// number of present coordinates (98x larger gradients per batch face).
    #[arg(long, value_enum, default_value = "elements")]
    pub loss: LossArg,

    /// Multiply the learning rate by this factor every --lr-decay-every epochs.
    #[arg(long = "lr-decay", requires = "lr_decay_every")]
    pub lr_decay: Option<f64>,

    /// Epochs between learning-rate decays.
    #[arg(long = "lr-decay-every", requires = "lr_decay")]
    pub lr_decay_every: Option<usize>,

    /// Use only the first N rows of training.csv (quick experiments).
    #[arg(long = "max-rows")]
    pub max_rows: Option<usize>,

    /// Directory under which the run directory is created (named by the start time).
    #[arg(long = "runs-dir", default_value = "runs")]
    pub runs_dir: PathBuf,

    /// Exact run directory to create instead of a time-named one under --runs-dir.
    #[arg(long = "run-dir", conflicts_with = "resume")]
    pub run_dir: Option<PathBuf>,

    /// Continue the run in DIR from its last checkpoint, with its saved configuration
    /// (other options except --max-epoch, --max-tries, --data and the device are ignored,
    /// with a warning).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,

    /// Print only errors.
    #[arg(long)]
    pub silent: bool,
}

/// Activation names as the tutorial spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ActivationArg {
    /// Rectified linear unit.
    #[value(name = "ReLU")]
    Relu,
    /// Hyperbolic tangent.
    #[value(name = "Tanh")]
    Tanh,
    /// Logistic sigmoid.
    #[value(name = "Sigmoid")]
    Sigmoid,
    /// Gaussian error linear unit.
    #[value(name = "GELU")]
    Gelu,
    /// Leaky ReLU with slope 0.01.
    #[value(name = "LeakyReLU")]
    LeakyRelu,
}

impl From<ActivationArg> for Activation {
    fn from(value: ActivationArg) -> Self {
        match value {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Sigmoid => Activation::Sigmoid,
            ActivationArg::Gelu => Activation::Gelu,
            ActivationArg::LeakyRelu => Activation::LeakyRelu,
        }
    }
}

/// Optimizer choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OptimizerArg {
    /// Stochastic gradient descent with --momentum.
    Sgd,
    /// Adam.
    Adam,
}

/// Augmentation choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AugmentArg {
    /// Horizontal flip with probability 0.5, swapping left and right keypoints.
    Flip,
}

/// Loss normalization choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LossArg {
    /// Sum over all batch x 30 x 98 elements divided by their count (Torch7).
    Elements,
    /// Sum divided by the number of present coordinates.
    Coordinates,
}

impl TrainArgs {
    /// Builds the experiment configuration from the options.
    pub fn config(&self) -> Result<ExperimentConfig> {
        let mut momentum = self.momentum;
        if self.acc_update && momentum > 0.0 {
            tracing::warn!("--accUpdate skips momentum: ignoring --momentum {momentum}");
            momentum = 0.0;
        }

        let model = KeypointNetConfig::new()
            .with_channel_size(self.channel_size.0.clone())
            .with_kernel_size(self.kernel_size.0.clone())
            .with_kernel_stride(self.kernel_stride.0.clone())
            .with_pool_size(self.pool_size.0.clone())
            .with_pool_stride(self.pool_stride.0.clone())
            .with_padding(self.padding)
            .with_hidden_size(self.hidden_size.0.clone())
            .with_activation(self.activation.into())
            .with_dropout(self.dropout)
            .with_dropout_prob(self.dropout_prob.0.clone())
            .with_batch_norm(self.batch_norm)
            .with_normal_init(self.normal_init);

        let lr_decay = match (self.lr_decay, self.lr_decay_every) {
            (Some(factor), Some(every)) => Some(LrDecay { factor, every }),
            _ => None,
        };

        Ok(ExperimentConfig {
            model,
            training: TrainingConfig {
                optimizer: match self.optimizer {
                    OptimizerArg::Sgd => OptimizerKind::Sgd,
                    OptimizerArg::Adam => OptimizerKind::Adam,
                },
                learning_rate: self.learning_rate,
                momentum,
                lr_decay,
                max_out_norm: (self.max_out_norm > 0.0).then_some(self.max_out_norm),
                batch_size: self.batch_size,
                max_epoch: self.max_epoch,
                max_tries: self.max_tries,
                seed: self.seed,
                loss_normalization: match self.loss {
                    LossArg::Elements => KlNormalization::ElementMean,
                    LossArg::Coordinates => KlNormalization::PresentCoordinateMean,
                },
            },
            data: DataConfig {
                data_dir: resolve_data_dir(self.data.as_deref()),
                valid_ratio: self.valid_ratio,
                max_rows: self.max_rows,
                target_stdv: self.stdv,
                preprocessing: PreprocessingConfig {
                    range: (0.0, 1.0),
                    standardize: self.standardize,
                    zca_epsilon: self.zca.then_some(DEFAULT_ZCA_EPSILON),
                },
                augment_flip: matches!(self.augment, Some(AugmentArg::Flip)),
                submission_file: self.submission_file.clone(),
            },
        })
    }
}

/// Turns a configuration error of fkd-model into one that names the command-line flag.
fn explain_model_error(error: ModelError) -> anyhow::Error {
    match error {
        ModelError::ListTooShort {
            field,
            len,
            required,
            per,
        } => {
            let values = if len == 1 { "value" } else { "values" };
            anyhow::anyhow!(
                "--{} has {len} {values}, expected at least {required} ({per}; --channelSize \
                 sets the conv layers and --hiddenSize the hidden layers)",
                camel_case(field)
            )
        }
        error => anyhow::Error::new(error).context("invalid network configuration"),
    }
}

/// Converts a snake_case configuration field to the tutorial's camelCase flag name.
fn camel_case(field: &str) -> String {
    let mut words = field.split('_');
    let mut name = words.next().unwrap_or_default().to_string();
    for word in words {
        let mut letters = word.chars();
        if let Some(first) = letters.next() {
            name.extend(first.to_uppercase());
            name.push_str(letters.as_str());
        }
    }
    name
}

/// Options that take effect with `--resume`; the saved configuration sets the others.
const RESUME_OPTIONS: [&str; 9] = [
    "resume",
    "max-epoch",
    "max-tries",
    "data",
    "device",
    "cuda",
    "use-device",
    "silent",
    "progress",
];

/// Runs `fkd-cli train`. `command_line_options` contains the long names of the options on the
/// command line, for the warning about options that `--resume` ignores.
pub fn run(args: &TrainArgs, command_line_options: &[String]) -> Result<()> {
    let device = DeviceSpec::resolve(args.device.clone(), args.cuda, args.use_device)?.device()?;

    let (run_dir, config, resume, data) = match &args.resume {
        Some(path) => {
            let ignored: Vec<String> = command_line_options
                .iter()
                .filter(|name| !RESUME_OPTIONS.contains(&name.as_str()))
                .map(|name| format!("--{name}"))
                .collect();
            if !ignored.is_empty() {
                tracing::warn!(
                    "ignoring {}: a resumed run keeps its saved configuration, and only \
                     --max-epoch, --max-tries, --data and the device can change",
                    ignored.join(", ")
                );
            }
            let run_dir = RunDirectory::open(path)?;
            let mut config = run_dir.load_config()?;
            config.training.max_epoch = args.max_epoch;
            config.training.max_tries = args.max_tries;
            if let Some(data) = &args.data {
                config.data.data_dir = data.clone();
            }
            let data = ExperimentData::load(&config)?;
            (run_dir, config, true, data)
        }
        None => {
            let config = args.config()?;
            // Check the network, the settings and the data before creating anything on
            // disk, so that a mistake leaves no empty run directory behind.
            config.model.summary().map_err(explain_model_error)?;
            validate(&config)?;
            let data = ExperimentData::load(&config)?;
            let run_dir = match &args.run_dir {
                Some(path) => RunDirectory::create(path)?,
                None => RunDirectory::create_timestamped(&args.runs_dir)?,
            };
            (run_dir, config, false, data)
        }
    };
    tracing::info!("run directory {}", run_dir.path().display());
    tracing::info!("network:\n{}", config.model.summary()?);

    let interrupt = Arc::new(AtomicBool::new(false));
    let handler_flag = interrupt.clone();
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("second interrupt: exiting without saving");
            std::process::exit(130);
        }
        eprintln!("interrupt: finishing the current batch and saving the last checkpoint (Ctrl-C again to exit now)");
    })
    .context("cannot install the Ctrl-C handler")?;

    let options = RunOptions {
        resume,
        interrupt,
        progress: if args.silent {
            Box::new(NoProgress)
        } else {
            Box::new(BarProgress::new(args.progress))
        },
        observers: Vec::new(),
    };
    let state = train(&config, &run_dir, &data, &device, options)?;

    if !args.silent {
        let submission = run_dir.file(&config.data.submission_file);
        println!("run directory: {}", run_dir.path().display());
        if let (Some(mse), Some(epoch)) = (state.best_valid_mse, state.best_epoch) {
            println!(
                "best validation keypoint MSE: {mse:.4} (RMSE {:.4}) at epoch {epoch}",
                mse.sqrt()
            );
        }
        if submission.is_file() {
            println!("submission: {}", submission.display());
        }
    }
    Ok(())
}
