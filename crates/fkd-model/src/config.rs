//! The network's configuration and its validation into a per-layer plan of sizes.

use burn::config::Config;
use fkd_data::{IMAGE_SIDE, NUM_BINS, NUM_COORDS};

use crate::{Activation, ModelError};

/// Channels of the input images (grayscale).
pub const INPUT_CHANNELS: usize = 1;

/// Hyper-parameters of [`KeypointNet`](crate::KeypointNet). The defaults are those of the dp
/// library's facial keypoints tutorial (`examples/facialkeypointdetector.lua`), except the
/// dropout probabilities, which add a fourth entry for the hidden layer.
///
/// The per-layer lists (`kernel_size` to `pool_stride`) need one entry per conv layer, that
/// is per entry of `channel_size`. Longer lists are accepted and their extra entries
/// ignored, as dp does. Kernels and pooling windows are square.
#[derive(Config, Debug)]
pub struct KeypointNetConfig {
    /// Output channels of each conv layer. Its length is the number of conv layers, and it
    /// may be empty.
    #[config(default = "vec![64, 96, 96]")]
    pub channel_size: Vec<usize>,
    /// Kernel height and width of each conv layer, in pixels.
    #[config(default = "vec![5, 5, 5]")]
    pub kernel_size: Vec<usize>,
    /// Stride of each conv layer, in pixels.
    #[config(default = "vec![1, 1, 1]")]
    pub kernel_stride: Vec<usize>,
    /// Max-pooling window after each conv layer, in pixels. A size of 0 means no pooling
    /// after that layer.
    #[config(default = "vec![2, 2, 2]")]
    pub pool_size: Vec<usize>,
    /// Stride of each max-pooling window, in pixels.
    #[config(default = "vec![2, 2, 2]")]
    pub pool_stride: Vec<usize>,
    /// Pads each conv layer's input with `floor(kernel / 2)` zeros on every side, which
    /// keeps the size for odd kernels at stride 1.
    #[config(default = false)]
    pub padding: bool,
    /// Width of each dense hidden layer between the conv layers and the output layer.
    #[config(default = "vec![1000]")]
    pub hidden_size: Vec<usize>,
    /// Activation after each conv and hidden layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Enables dropout on the input of each layer, with the probabilities of
    /// `dropout_prob`.
    #[config(default = false)]
    pub dropout: bool,
    /// Dropout probability per depth: the conv layers first, then the hidden layers, then
    /// optionally the output layer. Conv layers drop whole input channels (Torch7's
    /// `SpatialDropout`), dense layers single inputs. A probability of 0 disables dropout at
    /// that depth. When `dropout` is on, the list needs one entry per conv and hidden layer.
    ///
    /// NOTE: the first conv layer's input is the single grayscale channel, so its dropout
    /// zeroes whole images (with probability 0.2 by default), as the dp tutorial's does.
    #[config(default = "vec![0.2, 0.5, 0.5, 0.5]")]
    pub dropout_prob: Vec<f64>,
    /// Batch normalization after each conv and hidden layer, before the activation.
    #[config(default = false)]
    pub batch_norm: bool,
    /// Initializes weights from `N(0, sqrt(1 / fan_in))` and biases with zeros, like dp's
    /// `normalInit`. Otherwise weights and biases are drawn from
    /// `U(-sqrt(1 / fan_in), sqrt(1 / fan_in))`, Torch7's default.
    #[config(default = false)]
    pub normal_init: bool,
}

/// The sizes of one conv layer, checked against its input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConvPlan {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    /// Side of the conv output (before pooling).
    pub conv_side: usize,
    /// Pooling window and stride, if the layer pools.
    pub pool: Option<(usize, usize)>,
    /// Side of the layer's output (after pooling).
    pub output_side: usize,
    pub dropout: Option<f64>,
}

/// The sizes of one dense layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DensePlan {
    pub in_features: usize,
    pub out_features: usize,
    pub dropout: Option<f64>,
}

/// A validated configuration: every layer's sizes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NetworkPlan {
    pub conv: Vec<ConvPlan>,
    /// Features entering the first dense layer.
    pub flatten_features: usize,
    pub hidden: Vec<DensePlan>,
    pub output: DensePlan,
}

impl KeypointNetConfig {
    /// Checks the configuration and computes every layer's sizes for a
    /// `[batch, 1, 96, 96]` input.
    pub(crate) fn plan(&self) -> Result<NetworkPlan, ModelError> {
        let conv_count = self.channel_size.len();
        check_len("kernel_size", self.kernel_size.len(), conv_count)?;
        check_len("kernel_stride", self.kernel_stride.len(), conv_count)?;
        check_len("pool_size", self.pool_size.len(), conv_count)?;
        check_len("pool_stride", self.pool_stride.len(), conv_count)?;
        let dropout = self.dropout_by_depth()?;

        let mut conv = Vec::with_capacity(conv_count);
        let mut channels = INPUT_CHANNELS;
        let mut side = IMAGE_SIDE;
        for (index, &layer_dropout) in dropout.iter().take(conv_count).enumerate() {
            let layer = self.plan_conv(index, channels, side, layer_dropout)?;
            channels = layer.out_channels;
            side = layer.output_side;
            conv.push(layer);
        }

        let flatten_features = channels * side * side;
        let mut hidden = Vec::with_capacity(self.hidden_size.len());
        let mut features = flatten_features;
        for (index, &width) in self.hidden_size.iter().enumerate() {
            if width == 0 {
                return Err(invalid(
                    format!("hidden layer {}", index + 1),
                    "hidden_size",
                    width,
                    "at least 1",
                ));
            }
            hidden.push(DensePlan {
                in_features: features,
                out_features: width,
                dropout: dropout[conv_count + index],
            });
            features = width;
        }

        let output = DensePlan {
            in_features: features,
            out_features: NUM_COORDS * NUM_BINS,
            dropout: dropout[conv_count + self.hidden_size.len()],
        };

        Ok(NetworkPlan {
            conv,
            flatten_features,
            hidden,
            output,
        })
    }

    /// Returns the dropout probability of each depth (conv layers, hidden layers, output
    /// layer), `None` where dropout is off.
    fn dropout_by_depth(&self) -> Result<Vec<Option<f64>>, ModelError> {
        let depths = self.channel_size.len() + self.hidden_size.len() + 1;
        if !self.dropout {
            return Ok(vec![None; depths]);
        }

        check_len_for(
            "dropout_prob",
            self.dropout_prob.len(),
            depths - 1,
            "one per conv and hidden layer",
        )?;
        let mut by_depth = Vec::with_capacity(depths);
        for depth in 0..depths {
            let probability = self.dropout_prob.get(depth).copied().unwrap_or(0.0);
            if !(0.0..1.0).contains(&probability) {
                return Err(invalid(
                    self.depth_name(depth),
                    "dropout_prob",
                    probability,
                    "a probability in [0, 1)",
                ));
            }
            by_depth.push((probability > 0.0).then_some(probability));
        }
        Ok(by_depth)
    }

    /// Names the layer at `depth` (counted from 0) for error messages.
    fn depth_name(&self, depth: usize) -> String {
        let conv_count = self.channel_size.len();
        let hidden_count = self.hidden_size.len();
        if depth < conv_count {
            format!("conv layer {}", depth + 1)
        } else if depth < conv_count + hidden_count {
            format!("hidden layer {}", depth - conv_count + 1)
        } else {
            "output layer".to_owned()
        }
    }

    fn plan_conv(
        &self,
        index: usize,
        in_channels: usize,
        input_side: usize,
        dropout: Option<f64>,
    ) -> Result<ConvPlan, ModelError> {
        let layer = index + 1;
        let name = format!("conv layer {layer}");
        let out_channels = self.channel_size[index];
        let kernel = self.kernel_size[index];
        let stride = self.kernel_stride[index];
        let pool_size = self.pool_size[index];
        let pool_stride = self.pool_stride[index];
        for (field, value) in [
            ("channel_size", out_channels),
            ("kernel_size", kernel),
            ("kernel_stride", stride),
        ] {
            if value == 0 {
                return Err(invalid(name, field, value, "at least 1"));
            }
        }
        if pool_size > 0 && pool_stride == 0 {
            return Err(invalid(
                name,
                "pool_stride",
                pool_stride,
                "at least 1 when pool_size is not 0",
            ));
        }

        let padding = if self.padding { kernel / 2 } else { 0 };
        let padded_side = input_side + 2 * padding;
        if padded_side < kernel {
            return Err(ModelError::KernelLargerThanInput {
                layer,
                input: input_side,
                kernel,
            });
        }
        let conv_side = (padded_side - kernel) / stride + 1;

        let pool = (pool_size > 0).then_some((pool_size, pool_stride));
        let output_side = match pool {
            Some((size, _)) if conv_side < size => {
                return Err(ModelError::PoolLargerThanInput {
                    layer,
                    input: conv_side,
                    pool: size,
                });
            }
            Some((size, stride)) => (conv_side - size) / stride + 1,
            None => conv_side,
        };

        Ok(ConvPlan {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            conv_side,
            pool,
            output_side,
            dropout,
        })
    }
}

fn check_len(field: &'static str, len: usize, conv_count: usize) -> Result<(), ModelError> {
    check_len_for(field, len, conv_count, "one per conv layer")
}

fn check_len_for(
    field: &'static str,
    len: usize,
    required: usize,
    per: &'static str,
) -> Result<(), ModelError> {
    if len < required {
        return Err(ModelError::ListTooShort {
            field,
            len,
            required,
            per,
        });
    }
    Ok(())
}

fn invalid(
    layer: impl Into<String>,
    field: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> ModelError {
    ModelError::InvalidValue {
        layer: layer.into(),
        field,
        value: value.to_string(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_config() -> KeypointNetConfig {
        KeypointNetConfig::new()
            .with_channel_size(vec![4, 4])
            .with_kernel_size(vec![3, 3])
            .with_hidden_size(vec![16])
    }

    #[test]
    fn defaults_follow_dp_tutorial() {
        let config = KeypointNetConfig::new();

        assert_eq!(config.channel_size, vec![64, 96, 96]);
        assert_eq!(config.kernel_size, vec![5, 5, 5]);
        assert_eq!(config.kernel_stride, vec![1, 1, 1]);
        assert_eq!(config.pool_size, vec![2, 2, 2]);
        assert_eq!(config.pool_stride, vec![2, 2, 2]);
        assert!(!config.padding);
        assert_eq!(config.hidden_size, vec![1000]);
        assert_eq!(config.activation, Activation::Relu);
        assert!(!config.dropout);
        assert_eq!(config.dropout_prob, vec![0.2, 0.5, 0.5, 0.5]);
        assert!(!config.batch_norm);
        assert!(!config.normal_init);
    }

    #[test]
    fn default_plan_sides() {
        let plan = KeypointNetConfig::new().plan().unwrap();

        // 96 -conv5-> 92 -pool2-> 46 -conv5-> 42 -pool2-> 21 -conv5-> 17 -pool2-> 8.
        let sides: Vec<(usize, usize)> = plan
            .conv
            .iter()
            .map(|layer| (layer.conv_side, layer.output_side))
            .collect();
        assert_eq!(sides, vec![(92, 46), (42, 21), (17, 8)]);
        assert_eq!(plan.flatten_features, 96 * 8 * 8);
        assert_eq!(plan.hidden[0].in_features, 6144);
        assert_eq!(plan.output.in_features, 1000);
        assert_eq!(plan.output.out_features, 30 * 98);
    }

    #[test]
    fn padding_keeps_side_for_odd_kernels() {
        let plan = KeypointNetConfig::new().with_padding(true).plan().unwrap();

        let sides: Vec<(usize, usize)> = plan
            .conv
            .iter()
            .map(|layer| (layer.conv_side, layer.output_side))
            .collect();
        assert_eq!(plan.conv[0].padding, 2);
        assert_eq!(sides, vec![(96, 48), (48, 24), (24, 12)]);
    }

    #[test]
    fn stride_and_no_pool() {
        let plan = small_config()
            .with_kernel_stride(vec![2, 1])
            .with_pool_size(vec![0, 3])
            .with_pool_stride(vec![0, 2])
            .plan()
            .unwrap();

        // 96 -conv3/2-> 47 (no pool) -conv3-> 45 -pool3/2-> 22.
        assert_eq!(plan.conv[0].conv_side, 47);
        assert_eq!(plan.conv[0].pool, None);
        assert_eq!(plan.conv[0].output_side, 47);
        assert_eq!(plan.conv[1].conv_side, 45);
        assert_eq!(plan.conv[1].output_side, 22);
    }

    #[test]
    fn longer_lists_are_accepted() {
        let plan = small_config()
            .with_kernel_size(vec![3, 3, 7, 7])
            .with_pool_stride(vec![2, 2, 2, 2, 2])
            .plan()
            .unwrap();

        assert_eq!(plan.conv.len(), 2);
    }

    #[test]
    fn no_conv_layers_flattens_image() {
        let plan = KeypointNetConfig::new()
            .with_channel_size(vec![])
            .with_kernel_size(vec![])
            .plan()
            .unwrap();

        assert!(plan.conv.is_empty());
        assert_eq!(plan.flatten_features, 96 * 96);
    }

    #[test]
    fn short_list_names_field_and_counts() {
        let error = KeypointNetConfig::new()
            .with_pool_stride(vec![2, 2])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "config field `pool_stride` has 2 entries, expected at least 3 (one per conv layer)"
        );
    }

    #[test]
    fn kernel_larger_than_input_names_layer() {
        // 96 -conv5-> 92 -pool4-> 23 -conv5-> 19 -pool4-> 4, then a 5x5 kernel.
        let error = KeypointNetConfig::new()
            .with_pool_size(vec![4, 4, 2])
            .with_pool_stride(vec![4, 4, 2])
            .plan()
            .unwrap_err();

        assert_eq!(
            error,
            ModelError::KernelLargerThanInput {
                layer: 3,
                input: 4,
                kernel: 5
            }
        );
        assert_eq!(
            error.to_string(),
            "conv layer 3: input 4x4 is smaller than kernel 5x5"
        );
    }

    #[test]
    fn pool_larger_than_conv_output() {
        let error = small_config()
            .with_pool_size(vec![2, 50])
            .with_pool_stride(vec![2, 50])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "conv layer 2: conv output 45x45 is smaller than pool 50x50"
        );
    }

    #[test]
    fn zero_kernel_rejected() {
        let error = small_config()
            .with_kernel_size(vec![3, 0])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "conv layer 2: kernel_size is 0, expected at least 1"
        );
    }

    #[test]
    fn zero_pool_stride_rejected() {
        let error = small_config()
            .with_pool_stride(vec![0, 2])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "conv layer 1: pool_stride is 0, expected at least 1 when pool_size is not 0"
        );
    }

    #[test]
    fn zero_hidden_size_rejected() {
        let error = small_config()
            .with_hidden_size(vec![16, 0])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "hidden layer 2: hidden_size is 0, expected at least 1"
        );
    }

    #[test]
    fn dropout_by_depth_defaults() {
        let plan = KeypointNetConfig::new().with_dropout(true).plan().unwrap();

        let conv: Vec<Option<f64>> = plan.conv.iter().map(|layer| layer.dropout).collect();
        assert_eq!(conv, vec![Some(0.2), Some(0.5), Some(0.5)]);
        assert_eq!(plan.hidden[0].dropout, Some(0.5));
        assert_eq!(plan.output.dropout, None);
    }

    #[test]
    fn dropout_extra_entry_reaches_output_layer() {
        let plan = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![0.0, 0.1, 0.2, 0.3])
            .plan()
            .unwrap();

        assert_eq!(plan.conv[0].dropout, None);
        assert_eq!(plan.conv[1].dropout, Some(0.1));
        assert_eq!(plan.hidden[0].dropout, Some(0.2));
        assert_eq!(plan.output.dropout, Some(0.3));
    }

    #[test]
    fn dropout_off_ignores_probabilities() {
        let plan = small_config().with_dropout_prob(vec![2.0]).plan().unwrap();

        assert_eq!(plan.conv[0].dropout, None);
        assert_eq!(plan.output.dropout, None);
    }

    #[test]
    fn dropout_short_list_rejected() {
        let error = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![0.2, 0.5])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "config field `dropout_prob` has 2 entries, expected at least 3 (one per conv and \
             hidden layer)"
        );
    }

    #[test]
    fn dropout_probability_one_rejected() {
        let error = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![0.2, 0.5, 1.0])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "hidden layer 1: dropout_prob is 1, expected a probability in [0, 1)"
        );
    }

    #[test]
    fn dropout_nan_rejected() {
        let error = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![f64::NAN, 0.5, 0.5])
            .plan()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "conv layer 1: dropout_prob is NaN, expected a probability in [0, 1)"
        );
    }

    #[test]
    fn json_round_trip() {
        let config = small_config()
            .with_activation(Activation::LeakyRelu)
            .with_dropout(true);

        let json = config.to_string();
        let parsed: KeypointNetConfig = serde_json::from_str(&json).unwrap();

        assert!(json.contains("\"activation\": \"leaky_relu\""), "{json}");
        assert_eq!(parsed.channel_size, vec![4, 4]);
        assert_eq!(parsed.activation, Activation::LeakyRelu);
        assert!(parsed.dropout);
    }
}
