//! Channel dropout for conv inputs: zeroes whole feature maps, like Torch7's
//! `nn.SpatialDropout`, which the dp tutorial puts before each conv layer.

use burn::module::{Flag, Module, Param};
use burn::tensor::{Distribution, Tensor};

/// Zeroes each channel of a `[batch, channels, height, width]` input with probability `prob`
/// and scales the kept channels by `1 / (1 - prob)`, only while training on an autodiff
/// device. Elsewhere it returns the input unchanged.
///
/// Torch7's `SpatialDropout` scales by `1 - prob` at evaluation instead of `1 / (1 - prob)` in
/// training, which gives the same expected activation.
#[derive(Module, Debug)]
pub(crate) struct ChannelDropout {
    prob: f64,
    training: Param<Flag>,
}

impl ChannelDropout {
    /// Creates the layer. `prob` must be in `[0, 1)`, which the config validation ensures.
    pub(crate) fn new(prob: f64) -> Self {
        Self {
            prob,
            training: Param::from_bool(true),
        }
    }

    pub(crate) fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        if !self.training.is_enabled() || !input.device().is_autodiff() || self.prob == 0.0 {
            return input;
        }

        let [batch, channels, height, width] = input.dims();
        let keep = 1.0 - self.prob;
        let kept_channels = Tensor::<4>::random(
            [batch, channels, 1, 1],
            Distribution::Bernoulli(keep),
            &input.device(),
        );
        (input * kept_channels.expand([batch, channels, height, width])).mul_scalar(1.0 / keep)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;

    #[test]
    fn plain_device_is_identity() {
        let device = Device::flex();
        let input = Tensor::<4>::ones([2, 3, 4, 4], &device);

        let output = ChannelDropout::new(0.5).forward(input.clone());

        assert_eq!(
            output.into_data().try_to_vec::<f32>().unwrap(),
            input.into_data().try_to_vec::<f32>().unwrap()
        );
    }

    #[test]
    fn training_zeroes_whole_channels() {
        let device = Device::flex().autodiff();
        let (batch, channels, side) = (8, 16, 3);
        let input = Tensor::<4>::ones([batch, channels, side, side], &device);

        let output = ChannelDropout::new(0.5).forward(input);
        let values = output.into_data().try_to_vec::<f32>().unwrap();

        let mut dropped = 0;
        for channel in values.chunks_exact(side * side) {
            let first = channel[0];
            assert!(first == 0.0 || first == 2.0, "{first}");
            assert!(channel.iter().all(|&value| value == first), "{channel:?}");
            if first == 0.0 {
                dropped += 1;
            }
        }
        // 128 channels at p = 0.5: all kept or all dropped has probability 2^-127.
        assert!(dropped > 0);
        assert!(dropped < batch * channels);
    }

    #[test]
    fn valid_module_is_identity() {
        let device = Device::flex().autodiff();
        let input = Tensor::<4>::ones([2, 3, 4, 4], &device);

        let output = ChannelDropout::new(0.5)
            .valid()
            .forward(input.clone().inner());

        assert_eq!(
            output.into_data().try_to_vec::<f32>().unwrap(),
            input.into_data().try_to_vec::<f32>().unwrap()
        );
    }
}
