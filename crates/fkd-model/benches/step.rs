//! Time of one inference forward pass and of one training step (forward, loss, backward,
//! SGD update, max-norm) on burn's flex CPU backend, for the dp tutorial's network and a
//! small one, on random images.
//!
//! Run with `cargo bench -p fkd-model --bench step`. Adding `--profile dev` skips the
//! release build of burn; burn is optimized in both profiles and dominates the time.
//! `FKD_BENCH_BATCH` sets the batch size (default 64, the tutorial's).

use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Bool, Device, Distribution, Tensor};
use fkd_data::{IMAGE_SIDE, NUM_BINS, NUM_COORDS};
use fkd_model::{KeypointNetConfig, KlNormalization, apply_max_norm, kl_divergence_loss};

const REPEATS: usize = 5;

fn main() {
    let batch = std::env::var("FKD_BENCH_BATCH")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(64);
    let configs = [
        ("tutorial (64-96-96, 1000)", KeypointNetConfig::new()),
        (
            "small (4-4, 16)",
            KeypointNetConfig::new()
                .with_channel_size(vec![4, 4])
                .with_kernel_size(vec![3, 3])
                .with_hidden_size(vec![16]),
        ),
    ];

    println!("flex backend, batch {batch}, median of {REPEATS}");
    for (name, config) in configs {
        let parameters = config.summary().expect("valid config").total_parameters();
        let forward = time_forward(&config, batch);
        let step = time_training_step(&config, batch);
        println!(
            "{name:<26} {parameters:>9} parameters  forward {:>8.1} ms  train step {:>8.1} ms",
            forward.as_secs_f64() * 1e3,
            step.as_secs_f64() * 1e3
        );
    }
}

fn time_forward(config: &KeypointNetConfig, batch: usize) -> Duration {
    let device = Device::flex();
    let model = config.init(&device).expect("valid config").valid();
    let images = random_images(batch, &device);

    median_time(|| {
        let probabilities = model.forward(images.clone());
        probabilities.sum().into_scalar::<f32>();
    })
}

fn time_training_step(config: &KeypointNetConfig, batch: usize) -> Duration {
    let device = Device::flex().autodiff();
    let mut model = Some(config.init(&device).expect("valid config"));
    let mut optimizer = SgdConfig::new().init();
    let images = random_images(batch, &device);
    let targets = Tensor::<3>::random(
        [batch, NUM_COORDS, NUM_BINS],
        Distribution::Default,
        &device,
    );
    let mask = Tensor::<2, Bool>::from_data(
        burn::tensor::TensorData::new(vec![true; batch * NUM_COORDS], [batch, NUM_COORDS]),
        &device,
    );

    median_time(|| {
        let current = model.take().expect("model");
        let log_probs = current.forward_log_probs(images.clone());
        let loss = kl_divergence_loss(
            log_probs,
            targets.clone(),
            mask.clone(),
            KlNormalization::ElementMean,
        )
        .expect("matching shapes");

        let gradients = GradientsParams::from_grads(loss.backward(), &current);
        let updated = optimizer.step(0.1, current, gradients);

        model = Some(apply_max_norm(updated, 1.0).expect("valid bound"));
        device.sync().expect("device sync");
    })
}

fn random_images(batch: usize, device: &Device) -> Tensor<4> {
    Tensor::random(
        [batch, 1, IMAGE_SIDE, IMAGE_SIDE],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

fn median_time(mut run: impl FnMut()) -> Duration {
    run();
    let mut times: Vec<Duration> = (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[REPEATS / 2]
}
