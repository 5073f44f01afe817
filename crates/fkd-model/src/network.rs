//! The keypoint CNN: conv layers, dense hidden layers, a linear output of 30 x 98 logits
//! and a MultiSoftMax over the bins of each coordinate.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Initializer, Linear, LinearConfig,
    PaddingConfig2d,
};
use burn::tensor::module::unfold4d;
use burn::tensor::ops::UnfoldOptions;
use burn::tensor::{Device, Tensor};
use fkd_data::{NUM_BINS, NUM_COORDS};

use crate::config::{ConvPlan, DensePlan, NetworkPlan};
use crate::dropout::ChannelDropout;
use crate::{Activation, KeypointNetConfig, ModelError, MultiSoftMax};

/// The facial keypoints network, built by [`KeypointNetConfig::init`].
///
/// Input: `[batch, 1, 96, 96]` images. Output: `[batch, 30, 98]`, one distribution over the
/// pixel positions `0..=97` per coordinate, in the order of
/// [`fkd_data::keypoints::COORDINATE_NAMES`].
#[derive(Module, Debug)]
pub struct KeypointNet {
    pub(crate) conv_layers: Vec<ConvLayer>,
    pub(crate) hidden_layers: Vec<DenseLayer>,
    pub(crate) output_dropout: Option<Dropout>,
    pub(crate) output: Linear,
    pub(crate) multisoftmax: MultiSoftMax,
}

/// Dropout, convolution, batch normalization, activation and max pooling, in dp's order.
/// With ReLU the layer pools before the activation. Without batch normalization it also
/// adds the convolution's bias after pooling. Both give the same values and gradients.
#[derive(Module, Debug)]
pub(crate) struct ConvLayer {
    pub(crate) dropout: Option<ChannelDropout>,
    pub(crate) conv: Conv2d,
    pub(crate) batch_norm: Option<BatchNorm>,
    #[module(skip)]
    pub(crate) activation: Activation,
    pub(crate) pool: Option<MaxPool2d>,
}

/// Dropout, linear map, batch normalization and activation.
#[derive(Module, Debug)]
pub(crate) struct DenseLayer {
    pub(crate) dropout: Option<Dropout>,
    pub(crate) linear: Linear,
    pub(crate) batch_norm: Option<BatchNorm>,
    #[module(skip)]
    pub(crate) activation: Activation,
}

impl KeypointNetConfig {
    /// Validates the configuration and builds the network on `device`.
    ///
    /// Returns an error for a per-layer list shorter than the number of layers, a zero size
    /// or stride, a dropout probability outside `[0, 1)`, or a layer whose output would be
    /// empty.
    pub fn init(&self, device: &Device) -> Result<KeypointNet, ModelError> {
        let plan = self.plan()?;
        Ok(self.build(&plan, device))
    }

    fn build(&self, plan: &NetworkPlan, device: &Device) -> KeypointNet {
        let conv_layers = plan
            .conv
            .iter()
            .map(|layer| self.build_conv(layer, device))
            .collect();
        let hidden_layers = plan
            .hidden
            .iter()
            .map(|layer| self.build_dense(layer, device))
            .collect();

        KeypointNet {
            conv_layers,
            hidden_layers,
            output_dropout: plan
                .output
                .dropout
                .map(|prob| DropoutConfig::new(prob).init()),
            output: self.build_linear(&plan.output, device),
            multisoftmax: MultiSoftMax::new(),
        }
    }

    fn build_conv(&self, layer: &ConvPlan, device: &Device) -> ConvLayer {
        let padding = layer.padding;
        let mut config = Conv2dConfig::new(
            [layer.in_channels, layer.out_channels],
            [layer.kernel, layer.kernel],
        )
        .with_stride([layer.stride, layer.stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ));
        let fan_in = layer.in_channels * layer.kernel * layer.kernel;
        if self.normal_init {
            config = config.with_initializer(normal_initializer(fan_in));
        }
        let mut conv = config.init(device);
        if self.normal_init {
            conv.bias = Some(Initializer::Zeros.init([layer.out_channels], device));
        }

        ConvLayer {
            dropout: layer.dropout.map(ChannelDropout::new),
            conv,
            batch_norm: self
                .batch_norm
                .then(|| BatchNormConfig::new(layer.out_channels).init(device)),
            activation: self.activation,
            pool: layer.pool.map(|(size, stride)| {
                MaxPool2dConfig::new([size, size])
                    .with_strides([stride, stride])
                    .init()
            }),
        }
    }

    fn build_dense(&self, layer: &DensePlan, device: &Device) -> DenseLayer {
        DenseLayer {
            dropout: layer.dropout.map(|prob| DropoutConfig::new(prob).init()),
            linear: self.build_linear(layer, device),
            batch_norm: self
                .batch_norm
                .then(|| BatchNormConfig::new(layer.out_features).init(device)),
            activation: self.activation,
        }
    }

    fn build_linear(&self, layer: &DensePlan, device: &Device) -> Linear {
        let mut config = LinearConfig::new(layer.in_features, layer.out_features);
        if self.normal_init {
            config = config.with_initializer(normal_initializer(layer.in_features));
        }
        let mut linear = config.init(device);
        if self.normal_init {
            linear.bias = Some(Initializer::Zeros.init([layer.out_features], device));
        }
        linear
    }
}

/// `N(0, sqrt(1 / fan_in))`, dp's `normalInit` for weights.
fn normal_initializer(fan_in: usize) -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: (1.0 / fan_in as f64).sqrt(),
    }
}

impl KeypointNet {
    /// Returns the `[batch, 30, 98]` bin probabilities of `[batch, 1, 96, 96]` images.
    ///
    /// # Panics
    ///
    /// Panics, inside burn, if the images are not `[batch, 1, 96, 96]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<3> {
        self.multisoftmax.forward_3d(self.logits(images))
    }

    /// Returns the `[batch, 30, 98]` log-probabilities for the loss, computed by a stable
    /// log-softmax: finite even where [`forward`](Self::forward)'s probability underflows
    /// to 0.
    ///
    /// # Panics
    ///
    /// Panics, inside burn, if the images are not `[batch, 1, 96, 96]`.
    pub fn forward_log_probs(&self, images: Tensor<4>) -> Tensor<3> {
        self.multisoftmax.forward_log_3d(self.logits(images))
    }

    /// Returns the `[batch, 30, 98]` logits before the MultiSoftMax.
    pub fn logits(&self, images: Tensor<4>) -> Tensor<3> {
        let mut features = images;
        for layer in &self.conv_layers {
            features = layer.forward(features);
        }

        let mut features: Tensor<2> = features.flatten(1, 3);
        for layer in &self.hidden_layers {
            features = layer.forward(features);
        }

        if let Some(dropout) = &self.output_dropout {
            features = dropout.forward(features);
        }
        let logits = self.output.forward(features);

        let [batch, _] = logits.dims();
        logits.reshape([batch, NUM_COORDS, NUM_BINS])
    }
}

impl ConvLayer {
    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut features = input;
        if let Some(dropout) = &self.dropout {
            features = dropout.forward(features);
        }

        // Max pooling commutes with ReLU: pool(relu(x)) = relu(pool(x)) exactly, and the
        // gradients agree too, because ReLU keeps positive values unchanged and passes no
        // gradient elsewhere. It also commutes with adding a per-channel bias, because
        // rounding x + b is monotonic in x. Pooling first runs ReLU and the bias, forward
        // and backward, on the pooled tensor, which is stride^2 times smaller (4 times for
        // the default 2x2 pools). Batch normalization between the convolution and the
        // activation keeps dp's order.
        match (&self.pool, &self.batch_norm) {
            (Some(pool), None) if self.activation == Activation::Relu => {
                let pooled = pool.forward(self.convolve_without_bias(features));
                self.activation.forward(self.add_bias(pooled))
            }
            (pool, batch_norm) => {
                features = self.conv.forward(features);
                if let Some(batch_norm) = batch_norm {
                    features = batch_norm.forward(features);
                }
                match pool {
                    Some(pool) if self.activation == Activation::Relu => {
                        self.activation.forward(pool.forward(features))
                    }
                    Some(pool) => pool.forward(self.activation.forward(features)),
                    None => self.activation.forward(features),
                }
            }
        }
    }

    /// Convolves `input` with the layer's weight, without the bias.
    ///
    /// When the weight needs a gradient and the input does not, which is the first layer
    /// during training, the convolution is a matrix product of the weight with the
    /// unfolded input patches (im2col). burn's default weight gradient of a convolution
    /// is another convolution, of the input with the output gradient as its kernel: 92x92
    /// in the first layer of the default network, which is slow on every backend. The
    /// matrix product's weight gradient is a batched matrix product instead, and the
    /// input's gradient is not needed.
    fn convolve_without_bias(&self, input: Tensor<4>) -> Tensor<4> {
        let weight = self.conv.weight.val();
        let padding = match self.conv.padding {
            PaddingConfig2d::Explicit(top, left, bottom, right)
                if top == bottom && left == right =>
            {
                Some([top, left])
            }
            _ => None,
        };
        match padding {
            Some(padding) if weight.is_tracked() && !input.is_tracked() => {
                let [batch, _, height, width] = input.dims();
                let [out_channels, in_channels, kernel_height, kernel_width] = weight.dims();
                let (stride, dilation) = (self.conv.stride, self.conv.dilation);
                let out_size = |size: usize, axis: usize, kernel: usize| {
                    (size + 2 * padding[axis] - dilation[axis] * (kernel - 1) - 1) / stride[axis]
                        + 1
                };
                let out_height = out_size(height, 0, kernel_height);
                let out_width = out_size(width, 1, kernel_width);
                let options = UnfoldOptions::new(stride, padding, dilation);
                let patches = unfold4d(input, [kernel_height, kernel_width], options);
                weight
                    .reshape([1, out_channels, in_channels * kernel_height * kernel_width])
                    .matmul(patches)
                    .reshape([batch, out_channels, out_height, out_width])
            }
            _ => Conv2d {
                bias: None,
                ..self.conv.clone()
            }
            .forward(input),
        }
    }

    /// Adds the convolution's bias, one value per channel, to `features`.
    fn add_bias(&self, features: Tensor<4>) -> Tensor<4> {
        match &self.conv.bias {
            Some(bias) => {
                let channels = bias.dims()[0];
                features + bias.val().reshape([1, channels, 1, 1])
            }
            None => features,
        }
    }
}

impl DenseLayer {
    fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let mut features = input;
        if let Some(dropout) = &self.dropout {
            features = dropout.forward(features);
        }

        features = self.linear.forward(features);
        if let Some(batch_norm) = &self.batch_norm {
            features = batch_norm.forward(features);
        }
        self.activation.forward(features)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, TensorData, Tolerance};

    use super::*;

    const BATCH: usize = 2;

    fn small_config() -> KeypointNetConfig {
        KeypointNetConfig::new()
            .with_channel_size(vec![4, 4])
            .with_kernel_size(vec![3, 3])
            .with_hidden_size(vec![16])
    }

    fn random_images(device: &Device) -> Tensor<4> {
        Tensor::random([BATCH, 1, 96, 96], Distribution::Normal(0.0, 1.0), device)
    }

    #[test]
    fn forward_shape_and_rows_sum_to_one() {
        let device = Device::flex();
        let model = small_config().init(&device).unwrap();

        let probabilities = model.forward(random_images(&device));

        assert_eq!(probabilities.dims(), [BATCH, 30, 98]);
        let sums = probabilities
            .sum_dim(2)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(sums.len(), BATCH * 30);
        for sum in sums {
            assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        }
    }

    #[test]
    fn log_probs_match_log_of_forward() {
        let device = Device::flex();
        let model = small_config().init(&device).unwrap();
        let images = random_images(&device);

        let log_probs = model.forward_log_probs(images.clone());
        let probabilities = model.forward(images);

        log_probs
            .into_data()
            .assert_approx_eq::<f32>(&probabilities.log().into_data(), Tolerance::absolute(1e-4));
    }

    #[test]
    fn every_option_builds_and_runs() {
        let device = Device::flex();
        let activations = [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::LeakyRelu,
        ];
        for activation in activations {
            let config = small_config()
                .with_activation(activation)
                .with_padding(true)
                .with_dropout(true)
                .with_dropout_prob(vec![0.2, 0.5, 0.5, 0.5])
                .with_batch_norm(true)
                .with_normal_init(true);
            let model = config.init(&device).unwrap();

            let probabilities = model.forward(random_images(&device));

            assert_eq!(probabilities.dims(), [BATCH, 30, 98], "{activation}");
            let total = probabilities.sum().into_scalar::<f32>();
            assert!(
                (total - (BATCH * 30) as f32).abs() < 1e-3,
                "{activation}: {total}"
            );
        }
    }

    #[test]
    fn training_mode_with_dropout_and_batch_norm_runs() {
        let device = Device::flex().autodiff();
        let model = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![0.2, 0.5, 0.5, 0.5])
            .with_batch_norm(true)
            .init(&device)
            .unwrap();

        let log_probs = model.forward_log_probs(random_images(&device));
        let gradients = log_probs.sum().backward();

        let weight_gradient = model.conv_layers[0].conv.weight.grad(&gradients).unwrap();
        assert_eq!(weight_gradient.dims(), [4, 1, 3, 3]);
        let values = weight_gradient.into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|value| value.is_finite()));
    }

    #[test]
    fn layers_follow_plan() {
        let device = Device::flex();
        let model = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![0.0, 0.5, 0.5, 0.3])
            .init(&device)
            .unwrap();

        assert_eq!(model.conv_layers.len(), 2);
        assert!(model.conv_layers[0].dropout.is_none());
        assert!(model.conv_layers[1].dropout.is_some());
        assert!(model.conv_layers[0].batch_norm.is_none());
        assert_eq!(model.conv_layers[1].conv.weight.dims(), [4, 4, 3, 3]);
        assert_eq!(model.hidden_layers.len(), 1);
        assert_eq!(
            model.hidden_layers[0].linear.weight.dims(),
            [4 * 22 * 22, 16]
        );
        assert_eq!(model.output_dropout.as_ref().map(|d| d.prob), Some(0.3));
        assert_eq!(model.output.weight.dims(), [16, 30 * 98]);
    }

    #[test]
    fn normal_init_scale_and_zero_bias() {
        let device = Device::flex();
        let model = KeypointNetConfig::new()
            .with_channel_size(vec![4])
            .with_kernel_size(vec![5])
            .with_hidden_size(vec![16])
            .with_normal_init(true)
            .init(&device)
            .unwrap();

        // Hidden layer: fan_in = 4 * 46 * 46 = 8464, so std = 1 / 92.
        let weights = model.hidden_layers[0]
            .linear
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let count = weights.len() as f64;
        let mean = weights.iter().map(|&w| f64::from(w)).sum::<f64>() / count;
        let variance = weights
            .iter()
            .map(|&w| (f64::from(w) - mean).powi(2))
            .sum::<f64>()
            / count;
        let std = variance.sqrt();
        // 135424 draws: the sample std is within 1% of the true one with high probability.
        assert!((std * 92.0 - 1.0).abs() < 0.01, "{std}");
        assert!(mean.abs() < 1e-4, "{mean}");

        let bias = model.output.bias.as_ref().unwrap().val();
        assert_eq!(bias.abs().sum().into_scalar::<f32>(), 0.0);
        let conv_bias = model.conv_layers[0].conv.bias.as_ref().unwrap().val();
        assert_eq!(conv_bias.abs().sum().into_scalar::<f32>(), 0.0);
    }

    #[test]
    fn default_init_is_torch_uniform() {
        let device = Device::flex();
        let model = small_config().init(&device).unwrap();

        // Hidden layer: fan_in = 4 * 22 * 22 = 1936, so the bound is 1 / 44.
        let weights = model.hidden_layers[0]
            .linear
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let max = weights.iter().fold(0.0f32, |max, w| max.max(w.abs()));
        assert!(max <= 1.0 / 44.0, "{max}");
        assert!(max > 0.95 / 44.0, "{max}");
    }

    /// Returns a tensor of shape `dims` with fixed values from -6 to 6.
    fn fixed_weights(dims: [usize; 4], device: &Device) -> Tensor<4> {
        let weights: Vec<f32> = (0..dims.iter().product::<usize>())
            .map(|index| ((index * 7919) % 13) as f32 - 6.0)
            .collect();
        Tensor::from_data(TensorData::new(weights, dims), device)
    }

    /// Returns the values and the gradients of the images, the conv weight and its bias for
    /// `sum(weights * layer_output)`, with fixed weights from -6 to 6.
    fn values_and_gradients(
        output: Tensor<4>,
        images: &Tensor<4>,
        layer: &ConvLayer,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let weights = fixed_weights(output.dims(), &output.device());
        let values = output.clone().into_data().try_to_vec::<f32>().unwrap();
        let gradients = (output * weights).sum().backward();
        let image_gradient = images.grad(&gradients).unwrap();
        let weight_gradient = layer.conv.weight.val().grad(&gradients).unwrap();
        let bias = layer.conv.bias.as_ref().unwrap().val();
        let bias_gradient = bias.grad(&gradients).unwrap();
        (
            values,
            image_gradient.into_data().try_to_vec::<f32>().unwrap(),
            weight_gradient.into_data().try_to_vec::<f32>().unwrap(),
            bias_gradient.into_data().try_to_vec::<f32>().unwrap(),
        )
    }

    #[test]
    fn relu_layer_pools_first_exactly() {
        let device = Device::flex().autodiff();
        let model = small_config().init(&device).unwrap();
        let layer = &model.conv_layers[0];
        let pool = layer.pool.as_ref().unwrap();
        let images = random_images(&device).require_grad();

        let reference = pool.forward(burn::tensor::activation::relu(
            layer.conv.forward(images.clone()),
        ));
        let expected = values_and_gradients(reference, &images, layer);
        let actual = values_and_gradients(layer.forward(images.clone()), &images, layer);

        assert!(expected.0.contains(&0.0));
        assert!(expected.0.iter().any(|&value| value > 0.0));
        assert_eq!(actual.0, expected.0);
        assert_eq!(actual.1, expected.1);
        assert_eq!(actual.2, expected.2);
        // The bias gradient sums the same values in another order.
        for (actual, expected) in actual.3.iter().zip(&expected.3) {
            assert!((actual - expected).abs() <= 1e-5 * expected.abs().max(1.0));
        }
    }

    /// The first layer during training: parameters need gradients, the images do not.
    #[test]
    fn unfolded_first_layer_matches_conv2d() {
        let device = Device::flex().autodiff();
        let configs = [
            small_config(),
            small_config()
                .with_channel_size(vec![5, 4])
                .with_kernel_size(vec![5, 3])
                .with_kernel_stride(vec![2, 1])
                .with_padding(true),
        ];
        for config in configs {
            let model = config.init(&device).unwrap();
            let layer = &model.conv_layers[0];
            let images = random_images(&device);
            assert!(!images.is_tracked());

            let reference = layer
                .pool
                .as_ref()
                .unwrap()
                .forward(burn::tensor::activation::relu(
                    layer.conv.forward(images.clone()),
                ));
            let actual = layer.forward(images);
            assert_eq!(actual.dims(), reference.dims());

            let gradients_of = |output: Tensor<4>| {
                let weights = fixed_weights(output.dims(), &device);
                let values = output.clone().into_data();
                let gradients = (output * weights).sum().backward();
                let weight = layer.conv.weight.val().grad(&gradients).unwrap();
                let bias = layer.conv.bias.as_ref().unwrap().val();
                let bias = bias.grad(&gradients).unwrap();
                (values, weight.into_data(), bias.into_data())
            };
            let expected = gradients_of(reference);
            let actual = gradients_of(actual);
            let values = Tolerance::<f32>::rel_abs(1e-5, 1e-5);
            actual.0.assert_approx_eq::<f32>(&expected.0, values);
            // Each gradient value sums thousands of products in another order.
            let sums = Tolerance::<f32>::rel_abs(1e-5, 1e-3);
            actual.1.assert_approx_eq::<f32>(&expected.1, sums);
            actual.2.assert_approx_eq::<f32>(&expected.2, sums);
        }
    }

    #[test]
    fn gelu_layer_pools_last() {
        let device = Device::flex();
        let model = small_config()
            .with_activation(Activation::Gelu)
            .init(&device)
            .unwrap();
        let layer = &model.conv_layers[0];
        let images = random_images(&device);

        let expected = layer
            .pool
            .as_ref()
            .unwrap()
            .forward(burn::tensor::activation::gelu(
                layer.conv.forward(images.clone()),
            ));
        let actual = layer.forward(images);

        assert_eq!(
            actual.into_data().try_to_vec::<f32>().unwrap(),
            expected.into_data().try_to_vec::<f32>().unwrap()
        );
    }

    #[test]
    fn invalid_config_init_fails() {
        let device = Device::flex();

        let error = small_config()
            .with_kernel_size(vec![3])
            .init(&device)
            .unwrap_err();

        assert_eq!(
            error,
            ModelError::ListTooShort {
                field: "kernel_size",
                len: 1,
                required: 2,
                per: "one per conv layer"
            }
        );
    }
}
