//! The training loop. Each epoch runs a training pass, a validation pass with the
//! keypoint feedback and, on a new validation minimum, a test pass for the submission.
//! Events go to the observers after each epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::Device;
use fkd_data::{
    FaceBatcher, FaceDataset, KaggleFiles, LookupTable, MeanBaseline, Preprocessor, TestSet,
    TrainingSet, load_test, load_training, shuffled_indices, split_train_valid,
};
use fkd_feedback::{BatchOutput, Feedback, KeypointFeedback, SubmissionFeedback, decode_to_host};
use fkd_model::{KeypointNet, apply_max_norm, kl_divergence_loss};

use crate::config::{ExperimentConfig, OptimizerKind};
use crate::curve::LearningCurve;
use crate::error::{ExperimentError, Result};
use crate::events::{
    Control, EarlyStopper, EpochContext, EpochReport, Event, Observer, StopReason,
};
use crate::observers::{CheckpointSaver, EpochLogger, MetricsHistory, SubmissionWriter};
use crate::run_dir::{CheckpointKind, RunDirectory};
use crate::state::TrainingState;

/// Faces per batch in the validation and test passes, which need no gradients.
const EVAL_BATCH_SIZE: usize = 128;

/// The data of an experiment.
#[derive(Debug, Clone)]
pub struct ExperimentData {
    /// The labelled faces (all of training.csv, or its first `max_rows`).
    pub training: Arc<TrainingSet>,
    /// The test faces, when test.csv exists.
    pub test: Option<Arc<TestSet>>,
    /// The submission rows, when IdLookupTable.csv exists.
    pub lookup: Option<LookupTable>,
}

impl ExperimentData {
    /// Loads the Kaggle files of `config.data.data_dir`. training.csv is required;
    /// without test.csv or IdLookupTable.csv no submission is written.
    pub fn load(config: &ExperimentConfig) -> Result<Self> {
        let files = KaggleFiles::in_dir(&config.data.data_dir);
        if !files.training.is_file() {
            return Err(ExperimentError::Config(format!(
                "{} not found; run `cargo xtask fetch-data` to download Kaggle's files, or pass \
                 --data DIR (or set FKD_DATA_DIR) to the directory that holds training.csv",
                files.training.display()
            )));
        }

        let started = Instant::now();
        let mut training = load_training(&files.training)?;
        let total = training.len();
        if let Some(max_rows) = config.data.max_rows
            && max_rows < total
        {
            let rows: Vec<usize> = (0..max_rows).collect();
            training = training.select(&rows);
        }
        let complete = training
            .keypoints
            .iter()
            .filter(|keypoints| keypoints.is_complete())
            .count();
        tracing::info!(
            "loaded {} faces from {} ({} of {} rows used, {} with all 15 keypoints) in {:.1} s",
            training.len(),
            files.training.display(),
            training.len(),
            total,
            complete,
            started.elapsed().as_secs_f64()
        );

        let test = if files.test.is_file() {
            let test = load_test(&files.test)?;
            tracing::info!(
                "loaded {} test faces from {}",
                test.len(),
                files.test.display()
            );
            Some(Arc::new(test))
        } else {
            tracing::warn!(
                "{} not found: no submission will be written",
                files.test.display()
            );
            None
        };
        let lookup = if files.lookup.is_file() {
            Some(LookupTable::read(&files.lookup)?)
        } else {
            tracing::warn!(
                "{} not found: no submission will be written",
                files.lookup.display()
            );
            None
        };

        Ok(Self {
            training: Arc::new(training),
            test,
            lookup,
        })
    }
}

/// Reports progress of the passes (a progress bar, or nothing).
pub trait Progress {
    /// Starts showing a pass named `name` over `batches` batches.
    fn start(&self, name: &str, batches: usize);
    /// Records one finished batch.
    fn advance(&self);
    /// Ends the pass.
    fn finish(&self);
}

/// Progress that shows nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _name: &str, _batches: usize) {}
    fn advance(&self) {}
    fn finish(&self) {}
}

/// How to run an experiment besides its configuration.
pub struct RunOptions {
    /// Continue the run in the directory from its last checkpoint.
    pub resume: bool,
    /// Set to true (by a Ctrl-C handler) to stop after the current batch.
    pub interrupt: Arc<AtomicBool>,
    /// Progress display.
    pub progress: Box<dyn Progress>,
    /// Observers added after the standard ones.
    pub observers: Vec<Box<dyn Observer>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            resume: false,
            interrupt: Arc::new(AtomicBool::new(false)),
            progress: Box::new(NoProgress),
            observers: Vec::new(),
        }
    }
}

/// Builds the optimizer of a configuration.
pub fn build_optimizer(config: &ExperimentConfig) -> ModuleOptimizer {
    match config.training.optimizer {
        OptimizerKind::Sgd => {
            let mut sgd = SgdConfig::new();
            if config.training.momentum > 0.0 {
                sgd = sgd.with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(config.training.momentum)
                        .with_dampening(0.0),
                ));
            }
            sgd.init()
        }
        OptimizerKind::Adam => AdamConfig::new().init(),
    }
}

/// Checks the training settings of `config` that [`train`] rejects: a zero batch size or
/// epoch count, a learning rate, momentum, max-out norm or target stdv out of range.
///
/// Callers can check before creating a run directory; [`train`] checks again.
pub fn validate(config: &ExperimentConfig) -> Result<()> {
    let training = &config.training;
    if training.batch_size == 0 {
        return Err(ExperimentError::Config(
            "batch size must be at least 1".into(),
        ));
    }
    if training.max_epoch == 0 {
        return Err(ExperimentError::Config(
            "max epoch must be at least 1".into(),
        ));
    }
    if !(training.learning_rate.is_finite() && training.learning_rate > 0.0) {
        return Err(ExperimentError::Config(format!(
            "learning rate {} must be positive",
            training.learning_rate
        )));
    }
    if !(0.0..1.0).contains(&training.momentum) {
        return Err(ExperimentError::Config(format!(
            "momentum {} must be in [0, 1)",
            training.momentum
        )));
    }
    if let Some(norm) = training.max_out_norm
        && !(norm.is_finite() && norm > 0.0)
    {
        return Err(ExperimentError::Config(format!(
            "max out norm {norm} must be positive"
        )));
    }
    if !(config.data.target_stdv.is_finite() && config.data.target_stdv > 0.0) {
        return Err(ExperimentError::Config(format!(
            "target stdv {} must be positive",
            config.data.target_stdv
        )));
    }
    Ok(())
}

/// Trains the experiment in `run` on `device` and returns its final progress.
///
/// A new run fits the preprocessing and the baseline on the training split and saves
/// them with the configuration. With `options.resume`, it loads them, the last
/// checkpoint and the optimizer state instead, and continues with the next epoch.
pub fn train(
    config: &ExperimentConfig,
    run: &RunDirectory,
    data: &ExperimentData,
    device: &Device,
    options: RunOptions,
) -> Result<TrainingState> {
    validate(config)?;
    let RunOptions {
        resume,
        interrupt,
        progress,
        observers: extra_observers,
    } = options;

    let split = split_train_valid(
        data.training.len(),
        config.data.valid_ratio,
        config.training.seed,
    )?;
    tracing::info!(
        "split {} faces into {} for training and {} for validation (seed {})",
        data.training.len(),
        split.train.len(),
        split.valid.len(),
        config.training.seed
    );

    let train_device = device.clone().autodiff();
    device.seed(config.training.seed);
    train_device.seed(config.training.seed);

    let (preprocessor, baseline, mut model, mut optimizer, mut state) = if resume {
        let state = run.load_state()?;
        let model = run.load_model(CheckpointKind::Last, &train_device)?;
        let optimizer = run.load_optimizer(build_optimizer(config))?;
        tracing::info!(
            "resuming {} after epoch {}",
            run.path().display(),
            state.epoch
        );
        (
            run.load_preprocessor()?,
            run.load_baseline()?,
            model,
            optimizer,
            state,
        )
    } else {
        let started = Instant::now();
        let train_images = data.training.select(&split.train).images;
        let preprocessor = Preprocessor::fit(&config.data.preprocessing, &train_images)?;
        let baseline =
            MeanBaseline::fit(split.train.iter().map(|&row| &data.training.keypoints[row]));
        tracing::info!(
            "fitted preprocessing and baseline in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        run.save_config(config)?;
        run.save_preprocessor(&preprocessor)?;
        run.save_baseline(&baseline)?;
        let model = config.model.init(&train_device)?;
        (
            preprocessor,
            baseline,
            model,
            build_optimizer(config),
            TrainingState::default(),
        )
    };

    let preprocessor = Arc::new(preprocessor);
    let mut train_batcher = FaceBatcher::new(preprocessor.clone(), config.data.target_stdv);
    if config.data.augment_flip {
        train_batcher =
            train_batcher.with_random_flip(0.5, config.training.seed ^ state.epoch as u64);
    }
    let eval_batcher = FaceBatcher::new(preprocessor, config.data.target_stdv);
    let train_set = FaceDataset::training(data.training.clone(), split.train.clone());
    let valid_set = FaceDataset::training(data.training.clone(), split.valid.clone());
    let test_set = data.test.clone().map(FaceDataset::test);

    let mut observers: Vec<Box<dyn Observer>> = vec![
        Box::new(EpochLogger),
        Box::new(MetricsHistory::new(run, state.epoch)),
        Box::new(LearningCurve::new(run, state.epoch)),
        Box::new(CheckpointSaver::new(run.clone())),
        Box::new(EarlyStopper::new(config.training.max_tries)),
    ];
    if data.test.is_some() && data.lookup.is_some() {
        observers.push(Box::new(SubmissionWriter::new(
            run.file(&config.data.submission_file),
        )));
    }
    observers.extend(extra_observers);

    let mut stop_reason = StopReason::MaxEpoch;
    for epoch in state.epoch + 1..=config.training.max_epoch {
        let started = Instant::now();
        let learning_rate = config.training.learning_rate_at(epoch);

        // Training pass.
        let order: Vec<usize> = shuffled_indices(
            train_set.len(),
            config.training.seed.wrapping_add(epoch as u64),
        );
        let mut train_feedback = KeypointFeedback::new("train", &baseline);
        let mut loss_sum = 0.0;
        let mut faces = 0usize;
        progress.start("train", order.len().div_ceil(config.training.batch_size));
        for chunk in order.chunks(config.training.batch_size) {
            let items = chunk
                .iter()
                .map(|&index| train_set.get(index).expect("in-bounds index"))
                .collect();
            let batch = train_batcher.batch(items, &train_device);

            let log_probs = model.forward_log_probs(batch.images);
            let loss = kl_divergence_loss(
                log_probs.clone(),
                batch.targets,
                batch.mask,
                config.training.loss_normalization,
            )?;

            let gradients = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(learning_rate, model, gradients);
            if let Some(max_norm) = config.training.max_out_norm {
                model = apply_max_norm(model, max_norm)?;
            }

            let predictions = decode_to_host(log_probs.detach().exp());
            train_feedback.add_batch(&BatchOutput {
                ids: &batch.ids,
                targets: &batch.keypoints,
                predictions: &predictions,
            });
            let loss_value: f64 = loss.into_scalar::<f32>().into();
            loss_sum += loss_value * chunk.len() as f64;
            faces += chunk.len();
            tracing::debug!(epoch, loss = loss_value, "batch");
            progress.advance();

            if interrupt.load(Ordering::SeqCst) {
                break;
            }
        }
        progress.finish();

        if interrupt.load(Ordering::SeqCst) {
            tracing::warn!("interrupted during epoch {epoch}: saving the last checkpoint");
            run.save_model(&model, CheckpointKind::Last)?;
            run.save_optimizer(&optimizer)?;
            run.save_state(&state)?;
            stop_reason = StopReason::Interrupted;
            break;
        }

        // Validation pass.
        let eval_model = model.valid();
        let mut valid_feedback = KeypointFeedback::new("valid", &baseline);
        evaluate(
            &eval_model,
            &valid_set,
            &eval_batcher,
            device,
            progress.as_ref(),
            "valid",
            &mut valid_feedback,
        );

        let report = EpochReport {
            epoch,
            train_loss: loss_sum / faces.max(1) as f64,
            train: train_feedback.report(),
            valid: valid_feedback.report(),
            learning_rate,
            seconds: 0.0,
        };
        let improved = state.record_epoch(epoch, report.valid_mse());

        // Test pass, only when its predictions will be written.
        let mut submission = None;
        if improved && let (Some(test_set), Some(lookup)) = (&test_set, &data.lookup) {
            let mut feedback = SubmissionFeedback::new(lookup.clone());
            evaluate(
                &eval_model,
                test_set,
                &eval_batcher,
                device,
                progress.as_ref(),
                "test",
                &mut feedback,
            );
            submission = Some(feedback);
        }
        let report = EpochReport {
            seconds: started.elapsed().as_secs_f64(),
            ..report
        };

        let mut control = Control::Continue;
        let context = || EpochContext {
            report: &report,
            model: &model,
            optimizer: &optimizer,
            state: &state,
            submission: submission.as_ref(),
        };
        let verdict = if improved {
            Event::NewMinimum(context())
        } else {
            Event::NoImprovement(context())
        };
        for event in [verdict, Event::EpochDone(context())] {
            for observer in observers.iter_mut() {
                if let Control::Stop(reason) = observer.on_event(&event)? {
                    control = Control::Stop(reason);
                }
            }
        }

        if let Control::Stop(reason) = control {
            stop_reason = reason;
            break;
        }
    }

    let finished = Event::Finished {
        reason: stop_reason,
        state: &state,
    };
    for observer in observers.iter_mut() {
        observer.on_event(&finished)?;
    }
    Ok(state)
}

/// Runs `model` over every face of `dataset` and feeds the decoded predictions to
/// `feedback`.
pub fn evaluate(
    model: &KeypointNet,
    dataset: &FaceDataset,
    batcher: &FaceBatcher,
    device: &Device,
    progress: &dyn Progress,
    name: &str,
    feedback: &mut impl Feedback,
) {
    let indices: Vec<usize> = (0..dataset.len()).collect();
    progress.start(name, indices.len().div_ceil(EVAL_BATCH_SIZE));
    for chunk in indices.chunks(EVAL_BATCH_SIZE) {
        let items = chunk
            .iter()
            .map(|&index| dataset.get(index).expect("in-bounds index"))
            .collect();
        let batch = batcher.batch(items, device);
        let predictions = decode_to_host(model.forward(batch.images));
        feedback.add_batch(&BatchOutput {
            ids: &batch.ids,
            targets: &batch.keypoints,
            predictions: &predictions,
        });
        progress.advance();
    }
    progress.finish();
}
