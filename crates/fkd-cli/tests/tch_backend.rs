//! Checks that burn's libtorch backend computes what the default flex backend computes:
//! one small network with the same weights gives the same outputs and the same
//! gradients on `Device::flex()` and on `Device::libtorch()` (CPU).
//!
//! Runs only with `--features tch`, which needs libtorch 2.9.0 (`cargo xtask libtorch`).

#![cfg(feature = "tch")]
// burn 0.22 deprecates burn-tch, and the `tch` build selects it on purpose.
#![allow(deprecated)]

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Tensor, TensorData};

/// Largest absolute difference allowed between the two backends' values.
const TOLERANCE: f32 = 1e-4;

const BATCH: usize = 2;
const SIDE: usize = 8;
const CHANNELS: usize = 3;
const OUTPUTS: usize = 5;

/// A convolution, a ReLU, a linear layer and a log-softmax, which are the layer kinds of
/// the keypoint network, at a size that runs in milliseconds.
#[derive(Module, Debug)]
struct TinyNet {
    conv: Conv2d,
    linear: Linear,
}

impl TinyNet {
    fn new(device: &Device) -> Self {
        let features = CHANNELS * (SIDE - 2) * (SIDE - 2);
        Self {
            conv: Conv2dConfig::new([1, CHANNELS], [3, 3]).init(device),
            linear: LinearConfig::new(features, OUTPUTS).init(device),
        }
    }

    /// Maps `[batch, 1, 8, 8]` images to `[batch, 5]` log-probabilities.
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let features = relu(self.conv.forward(images));
        let features: Tensor<2> = features.flatten(1, 3);
        log_softmax(self.linear.forward(features), 1)
    }
}

/// Fixed images in [-1, 1] whose values vary along every row and column, so that a
/// transposed or shifted kernel would change the output.
fn images(device: &Device) -> Tensor<4> {
    let values: Vec<f32> = (0..BATCH * SIDE * SIDE)
        .map(|i| (i as f32 * 0.37).sin())
        .collect();
    Tensor::from_data(TensorData::new(values, [BATCH, 1, SIDE, SIDE]), device)
}

/// Largest absolute difference between two tensors' values, after checking their shapes.
fn max_abs_difference<const D: usize>(flex: Tensor<D>, tch: Tensor<D>) -> f32 {
    let flex = flex.into_data();
    let tch = tch.into_data();
    assert_eq!(flex.shape(), tch.shape(), "shapes differ");

    let flex = flex.to_vec::<f32>().unwrap();
    let tch = tch.to_vec::<f32>().unwrap();
    flex.iter()
        .zip(&tch)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn forward_matches_flex() {
    let flex_device = Device::flex();
    let tch_device = Device::libtorch();
    let flex_net = TinyNet::new(&flex_device);
    let tch_net = flex_net.clone().to_device(&tch_device);

    let flex_output = flex_net.forward(images(&flex_device));
    let tch_output = tch_net.forward(images(&tch_device));

    assert_eq!(tch_output.dims(), [BATCH, OUTPUTS]);
    let difference = max_abs_difference(flex_output, tch_output);
    assert!(
        difference <= TOLERANCE,
        "outputs differ by {difference}, more than {TOLERANCE}"
    );
}

#[test]
fn weights_copied_exactly() {
    let flex_net = TinyNet::new(&Device::flex());
    let tch_net = flex_net.clone().to_device(&Device::libtorch());

    let conv = max_abs_difference(flex_net.conv.weight.val(), tch_net.conv.weight.val());
    let linear = max_abs_difference(flex_net.linear.weight.val(), tch_net.linear.weight.val());
    assert_eq!(conv, 0.0, "conv weights changed in the copy");
    assert_eq!(linear, 0.0, "linear weights changed in the copy");
}

#[test]
fn gradients_match_flex() {
    let flex_device = Device::flex().autodiff();
    let tch_device = Device::libtorch().autodiff();
    let flex_net = TinyNet::new(&flex_device);
    // `fork` gives the copy its own autodiff graph, so its parameters are leaves that
    // receive gradients on libtorch.
    let tch_net = flex_net.clone().fork(&tch_device);

    // The gradient of a sum of log-softmax outputs with respect to the logits is
    // 1 - 5 softmax, which is non-zero for every logit.
    let flex_loss = flex_net.forward(images(&flex_device)).sum();
    let tch_loss = tch_net.forward(images(&tch_device)).sum();
    let loss_difference = max_abs_difference(flex_loss.clone(), tch_loss.clone());
    let flex_grads = flex_loss.backward();
    let tch_grads = tch_loss.backward();

    assert!(
        loss_difference <= TOLERANCE,
        "losses differ by {loss_difference}, more than {TOLERANCE}"
    );
    assert_gradients_close(
        "conv weight",
        flex_net.conv.weight.grad(&flex_grads),
        tch_net.conv.weight.grad(&tch_grads),
    );
    assert_gradients_close(
        "linear weight",
        flex_net.linear.weight.grad(&flex_grads),
        tch_net.linear.weight.grad(&tch_grads),
    );
    let flex_bias = flex_net.linear.bias.as_ref().expect("flex linear bias");
    let tch_bias = tch_net.linear.bias.as_ref().expect("libtorch linear bias");
    assert_gradients_close(
        "linear bias",
        flex_bias.grad(&flex_grads),
        tch_bias.grad(&tch_grads),
    );
}

/// Asserts that both backends computed a gradient and that the two agree.
fn assert_gradients_close<const D: usize>(
    name: &str,
    flex: Option<Tensor<D>>,
    tch: Option<Tensor<D>>,
) {
    let flex = flex.unwrap_or_else(|| panic!("flex computed no {name} gradient"));
    let tch = tch.unwrap_or_else(|| panic!("libtorch computed no {name} gradient"));
    let difference = max_abs_difference(flex, tch);
    assert!(
        difference <= TOLERANCE,
        "{name} gradients differ by {difference}, more than {TOLERANCE}"
    );
}
