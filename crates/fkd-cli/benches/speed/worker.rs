//! The measurements of one burn backend, run in a child process of its own so that its
//! peak resident memory is its own: training steps and inference on a synthetic batch,
//! then a training pass over the real training set.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use fkd_data::{
    DEFAULT_TARGET_STDV, FaceBatcher, FaceDataset, IMAGE_SIDE, Keypoints, NUM_BINS, NUM_COORDS,
    Preprocessor, extend_targets, load_training, shuffled_indices,
};
use fkd_feedback::decode_to_host;
use fkd_model::{
    KeypointNet, KeypointNetConfig, KlNormalization, apply_max_norm, kl_divergence_loss,
};

use crate::report::{EpochTiming, Measurement};

/// Seed of the weights, the random images and the epoch's face order.
const SEED: u64 = 0;

/// Settings of a worker's measurements.
#[derive(Debug, Clone)]
pub struct WorkerPlan {
    /// The network.
    pub config: KeypointNetConfig,
    /// Faces per training batch.
    pub batch: usize,
    /// Faces per large inference batch.
    pub large_batch: usize,
    /// Untimed runs before each measurement.
    pub warmup: usize,
    /// Timed training steps.
    pub steps: usize,
    /// Timed forward passes on one face.
    pub single_repeats: usize,
    /// Timed forward passes on the large batch.
    pub large_repeats: usize,
    /// SGD learning rate.
    pub learning_rate: f64,
    /// Bound of [`apply_max_norm`].
    pub max_norm: f32,
    /// Batches of the training pass to time, or 0 for the whole pass.
    pub epoch_batches: usize,
}

/// Runs every measurement on `device` and returns them. `training_csv`, when given, is the
/// real training set for the training pass.
pub fn measure(
    backend: &str,
    device_name: &str,
    device: &Device,
    plan: &WorkerPlan,
    training_csv: Option<&Path>,
) -> Result<Measurement> {
    let startup_resident_kib = memory_kib("VmRSS");
    device.seed(SEED);

    eprintln!("{backend}: {} training steps", plan.warmup + plan.steps);
    let (train_step_ms, train_forward_ms) = time_training_steps(device, plan)?;

    eprintln!("{backend}: inference");
    let infer_single_ms = time_inference(device, plan, 1, plan.single_repeats)?;
    let infer_large_ms = time_inference(device, plan, plan.large_batch, plan.large_repeats)?;

    let epoch = match training_csv {
        Some(csv) => Some(time_training_pass(backend, device, plan, csv)?),
        None => None,
    };

    Ok(Measurement {
        backend: backend.to_owned(),
        version: None,
        device: device_name.to_owned(),
        threads: None,
        train_step_ms,
        train_forward_ms,
        infer_single_ms,
        infer_large_ms,
        epoch,
        startup_resident_kib,
        peak_resident_kib: memory_kib("VmHWM"),
    })
}

/// A batch's tensors as the training step takes them.
struct TrainingBatch {
    images: Tensor<4>,
    targets: Tensor<3>,
    mask: Tensor<2, Bool>,
}

/// Returns the synthetic keypoints of face `face`: coordinate `c` is at
/// `((face * 31 + c * 7) % 90) + 3.5` pixels and missing where `(face + c) % 4 == 3`.
/// `scripts/bench_pytorch.py` builds the same batch.
pub fn synthetic_keypoints(face: usize) -> Keypoints {
    let mut keypoints = Keypoints::MISSING;
    for (coordinate, value) in keypoints.0.iter_mut().enumerate() {
        if (face + coordinate) % 4 != 3 {
            *value = Some(((face * 31 + coordinate * 7) % 90) as f32 + 3.5);
        }
    }
    keypoints
}

fn synthetic_batch(batch: usize, device: &Device) -> TrainingBatch {
    let mut targets = Vec::with_capacity(batch * NUM_COORDS * NUM_BINS);
    let mut mask = Vec::with_capacity(batch * NUM_COORDS);
    for face in 0..batch {
        let keypoints = synthetic_keypoints(face);
        extend_targets(&keypoints, DEFAULT_TARGET_STDV, &mut targets);
        mask.extend(keypoints.mask());
    }

    TrainingBatch {
        images: random_images(batch, device),
        targets: Tensor::from_data(
            TensorData::new(targets, [batch, NUM_COORDS, NUM_BINS]),
            device,
        ),
        mask: Tensor::from_data(TensorData::new(mask, [batch, NUM_COORDS]), device),
    }
}

fn random_images(batch: usize, device: &Device) -> Tensor<4> {
    Tensor::random(
        [batch, 1, IMAGE_SIDE, IMAGE_SIDE],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

/// The results of one training step.
struct StepOutput {
    model: KeypointNet,
    log_probs: Tensor<3>,
    /// Time from the start of the step until the loss was computed on the device.
    forward: Duration,
}

/// Runs one training step: forward, masked KL loss, backward, SGD update, max-norm, and
/// the loss read back to the host (which also waits for the device).
fn training_step(
    model: KeypointNet,
    optimizer: &mut ModuleOptimizer,
    batch: TrainingBatch,
    plan: &WorkerPlan,
) -> Result<StepOutput> {
    let started = Instant::now();
    let device = batch.images.device();
    let log_probs = model.forward_log_probs(batch.images);
    let loss = kl_divergence_loss(
        log_probs.clone(),
        batch.targets,
        batch.mask,
        KlNormalization::ElementMean,
    )?;
    device.sync().context("failed to wait for the device")?;
    let forward = started.elapsed();

    let gradients = GradientsParams::from_grads(loss.backward(), &model);
    let model = optimizer.step(plan.learning_rate, model, gradients);
    let model = apply_max_norm(model, plan.max_norm)?;

    let loss = loss.into_scalar::<f32>();
    if !loss.is_finite() {
        bail!("the training loss is {loss}, expected a finite value");
    }
    Ok(StepOutput {
        model,
        log_probs,
        forward,
    })
}

fn new_optimizer() -> ModuleOptimizer {
    SgdConfig::new().init()
}

/// Returns the wall times in ms of the timed training steps and of their forward passes
/// with the loss.
fn time_training_steps(device: &Device, plan: &WorkerPlan) -> Result<(Vec<f64>, Vec<f64>)> {
    let train_device = device.clone().autodiff();
    let mut model = Some(plan.config.init(&train_device)?);
    let mut optimizer = new_optimizer();
    let batch = synthetic_batch(plan.batch, &train_device);

    let mut times = Vec::with_capacity(plan.steps);
    let mut forward_times = Vec::with_capacity(plan.steps);
    for step in 0..plan.warmup + plan.steps {
        let current = model.take().context("model moved by a failed step")?;
        let inputs = TrainingBatch {
            images: batch.images.clone(),
            targets: batch.targets.clone(),
            mask: batch.mask.clone(),
        };

        let started = Instant::now();
        let output = training_step(current, &mut optimizer, inputs, plan)?;
        let elapsed = started.elapsed();

        model = Some(output.model);
        if step >= plan.warmup {
            times.push(elapsed.as_secs_f64() * 1e3);
            forward_times.push(output.forward.as_secs_f64() * 1e3);
        }
    }
    Ok((times, forward_times))
}

fn time_inference(
    device: &Device,
    plan: &WorkerPlan,
    batch: usize,
    repeats: usize,
) -> Result<Vec<f64>> {
    let model = plan.config.init(device)?;
    let images = random_images(batch, device);

    let mut times = Vec::with_capacity(repeats);
    for repeat in 0..plan.warmup + repeats {
        let started = Instant::now();
        let probabilities = model.forward(images.clone());
        let dims = probabilities.dims();
        let values = probabilities.into_data();
        let elapsed = started.elapsed();

        if dims != [batch, NUM_COORDS, NUM_BINS]
            || values.num_elements() != dims.iter().product::<usize>()
        {
            bail!(
                "inference returned shape {dims:?}, expected [{batch}, {NUM_COORDS}, {NUM_BINS}]"
            );
        }
        if repeat >= plan.warmup {
            times.push(elapsed.as_secs_f64() * 1e3);
        }
    }
    Ok(times)
}

/// Times a training pass over `training_csv` as fkd-experiment's runner runs it: faces in
/// shuffled order, batches from `FaceDataset::get` and `FaceBatcher::batch` (pixel scaling
/// to [0, 1], Gaussian targets), a training step, and the predictions decoded to the host.
fn time_training_pass(
    backend: &str,
    device: &Device,
    plan: &WorkerPlan,
    training_csv: &Path,
) -> Result<EpochTiming> {
    let set = Arc::new(
        load_training(training_csv)
            .with_context(|| format!("failed to load {}", training_csv.display()))?,
    );
    let faces_total = set.len();
    let dataset = FaceDataset::training(set, (0..faces_total).collect());
    let batcher = FaceBatcher::new(Arc::new(Preprocessor::default()), DEFAULT_TARGET_STDV);
    let order = shuffled_indices(faces_total, SEED);
    let chunks: Vec<&[usize]> = order.chunks(plan.batch).collect();
    let batches_total = chunks.len();
    let batches_timed = match plan.epoch_batches {
        0 => batches_total,
        limit => limit.min(batches_total),
    };
    eprintln!("{backend}: training pass, {batches_timed} of {batches_total} batches");

    let train_device = device.clone().autodiff();
    let mut model = Some(plan.config.init(&train_device)?);
    let mut optimizer = new_optimizer();

    // With a warm-up, the first batch runs once untimed before the timed ones, as in the
    // other measurements.
    let warmup = chunks.iter().take(plan.warmup.min(1));
    let mut timing = EpochTiming {
        faces_total,
        faces_timed: 0,
        batches_timed,
        batches_total,
        data_ms: 0.0,
        step_ms: 0.0,
        feedback_ms: 0.0,
    };
    for (index, chunk) in warmup.chain(chunks.iter().take(batches_timed)).enumerate() {
        let timed = index >= plan.warmup.min(1);

        let started = Instant::now();
        let items = chunk
            .iter()
            .map(|&index| dataset.get(index))
            .collect::<Result<Vec<_>, _>>()?;
        let batch = batcher.batch(items, &train_device);
        let loaded = Instant::now();

        let current = model.take().context("model moved by a failed step")?;
        let inputs = TrainingBatch {
            images: batch.images,
            targets: batch.targets,
            mask: batch.mask,
        };
        let output = training_step(current, &mut optimizer, inputs, plan)?;
        model = Some(output.model);
        let stepped = Instant::now();

        let predictions = decode_to_host(output.log_probs.detach().exp());
        let decoded = Instant::now();
        if predictions.len() != chunk.len() {
            bail!(
                "decoded {} predictions for a batch of {}",
                predictions.len(),
                chunk.len()
            );
        }

        if timed {
            timing.faces_timed += chunk.len();
            timing.data_ms += (loaded - started).as_secs_f64() * 1e3;
            timing.step_ms += (stepped - loaded).as_secs_f64() * 1e3;
            timing.feedback_ms += (decoded - stepped).as_secs_f64() * 1e3;
        }
    }
    Ok(timing)
}

/// Returns a field of /proc/self/status (`VmHWM`, `VmRSS`) in KiB, or `None` where that
/// file or field does not exist.
fn memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| {
        line.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}
