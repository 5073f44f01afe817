//! Trains a small network for a few steps on a fixed synthetic batch, through the public
//! API as the experiment runner uses it: forward, loss, backward, optimizer step, max-norm.

use std::sync::{Mutex, MutexGuard};

use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use fkd_data::{IMAGE_SIDE, NUM_BINS, NUM_COORDS, gaussian_row};
use fkd_model::{
    KeypointNet, KeypointNetConfig, KlNormalization, apply_max_norm, expected_coordinates,
    kl_divergence_loss,
};

const BATCH: usize = 4;

/// burn seeds one random generator per backend and process, and parameters draw from it
/// lazily, on first use. Tests run in parallel threads, so each test holds this lock from
/// seeding to its end.
static SEEDED: Mutex<()> = Mutex::new(());

/// Locks [`SEEDED`], seeds the device and builds the small network.
fn seeded_model(device: &Device, seed: u64) -> (MutexGuard<'static, ()>, KeypointNet) {
    let guard = SEEDED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    (guard, small_config().init(device).unwrap())
}

fn small_config() -> KeypointNetConfig {
    KeypointNetConfig::new()
        .with_channel_size(vec![4, 4])
        .with_kernel_size(vec![3, 3])
        .with_hidden_size(vec![16])
}

/// Builds a fixed batch of smooth images that differ per face. Each face's keypoints are
/// shifted by the face index, and every third coordinate of face 0 is missing.
fn synthetic_batch(device: &Device) -> (Tensor<4>, Tensor<3>, Tensor<2, Bool>) {
    let mut pixels = Vec::with_capacity(BATCH * IMAGE_SIDE * IMAGE_SIDE);
    for face in 0..BATCH {
        for y in 0..IMAGE_SIDE {
            for x in 0..IMAGE_SIDE {
                let phase = (x as f32 * 0.1 + y as f32 * 0.05 + face as f32).sin();
                pixels.push(phase);
            }
        }
    }

    let mut targets = vec![0.0f32; BATCH * NUM_COORDS * NUM_BINS];
    let mut mask = vec![false; BATCH * NUM_COORDS];
    for (index, row) in targets.chunks_exact_mut(NUM_BINS).enumerate() {
        let face = index / NUM_COORDS;
        let coordinate = index % NUM_COORDS;
        if face == 0 && coordinate.is_multiple_of(3) {
            continue;
        }
        let value = 20.0 + 2.0 * coordinate as f32 + 5.0 * face as f32 + 0.3;
        gaussian_row(Some(value), 0.8, row);
        mask[index] = true;
    }

    (
        Tensor::from_data(
            TensorData::new(pixels, [BATCH, 1, IMAGE_SIDE, IMAGE_SIDE]),
            device,
        ),
        Tensor::from_data(
            TensorData::new(targets, [BATCH, NUM_COORDS, NUM_BINS]),
            device,
        ),
        Tensor::from_data(TensorData::new(mask, [BATCH, NUM_COORDS]), device),
    )
}

fn loss_of(
    model: &KeypointNet,
    batch: &(Tensor<4>, Tensor<3>, Tensor<2, Bool>),
    normalization: KlNormalization,
) -> Tensor<1> {
    let (images, targets, mask) = batch.clone();
    let log_probs = model.forward_log_probs(images);
    kl_divergence_loss(log_probs, targets, mask, normalization).unwrap()
}

/// The initial weight columns have norms near `sqrt(1/3)` (Torch7's uniform init), so a
/// bound of 0.5 rescales units in every layer at every step.
#[test]
fn sgd_with_max_norm_lowers_loss() {
    let device = Device::flex().autodiff();
    let batch = synthetic_batch(&device);
    let (_seeded, mut model) = seeded_model(&device, 7);
    let mut optimizer = SgdConfig::new().init();
    let normalization = KlNormalization::PresentCoordinateMean;

    let mut losses = Vec::new();
    for _ in 0..6 {
        let loss = loss_of(&model, &batch, normalization);
        losses.push(loss.clone().inner().into_scalar::<f32>());

        let gradients = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(0.1, model, gradients);

        model = apply_max_norm(model, 0.5).unwrap();
    }
    let final_loss = loss_of(&model, &batch, normalization)
        .inner()
        .into_scalar::<f32>();

    println!("sgd losses: {losses:?} -> {final_loss}");
    assert!(losses.iter().all(|loss| loss.is_finite()), "{losses:?}");
    // This seed gives 3.4114, then 3.4090 after 6 steps. Unseeded runs fell by 0.003 to 0.015.
    assert!(final_loss < losses[0] - 1e-3, "{losses:?} -> {final_loss}");
}

#[test]
fn adam_lowers_loss() {
    let device = Device::flex().autodiff();
    let batch = synthetic_batch(&device);
    let (_seeded, mut model) = seeded_model(&device, 7);
    let mut optimizer = AdamConfig::new().init();
    let normalization = KlNormalization::PresentCoordinateMean;

    let mut losses = Vec::new();
    for _ in 0..10 {
        let loss = loss_of(&model, &batch, normalization);
        losses.push(loss.clone().inner().into_scalar::<f32>());

        let gradients = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-2, model, gradients);
    }
    let final_loss = loss_of(&model, &batch, normalization)
        .inner()
        .into_scalar::<f32>();

    println!("adam losses: {losses:?} -> {final_loss}");
    // This seed gives a ratio of 0.52 after 10 steps. Unseeded runs gave 0.41 to 0.96.
    assert!(final_loss < 0.8 * losses[0], "{losses:?} -> {final_loss}");

    let (images, _, _) = batch;
    let coordinates = expected_coordinates(model.forward(images).inner());
    assert_eq!(coordinates.dims(), [BATCH, NUM_COORDS]);
}
