//! The activation function applied after each conv and hidden layer.

use std::fmt;

use burn::tensor::Tensor;
use burn::tensor::activation::{gelu, leaky_relu, relu, sigmoid, tanh};
use serde::{Deserialize, Serialize};

/// Negative slope of [`Activation::LeakyRelu`], the default of PyTorch and burn.
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

/// Element-wise activation of the hidden layers. Serialized in snake case (`"relu"`,
/// `"leaky_relu"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)`, the dp tutorial's default.
    #[default]
    Relu,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Gaussian error linear unit, exact form `x * Phi(x)`.
    Gelu,
    /// `max(0, x) + LEAKY_RELU_SLOPE * min(0, x)`.
    LeakyRelu,
}

impl Activation {
    /// Applies the activation element-wise.
    pub fn forward<const D: usize>(self, input: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Relu => relu(input),
            Self::Tanh => tanh(input),
            Self::Sigmoid => sigmoid(input),
            Self::Gelu => gelu(input),
            Self::LeakyRelu => leaky_relu(input, LEAKY_RELU_SLOPE),
        }
    }

    /// Returns the name used in config files, which `Display` also prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Gelu => "gelu",
            Self::LeakyRelu => "leaky_relu",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tolerance};

    use super::*;

    fn apply(activation: Activation) -> Vec<f32> {
        let device = Device::flex();
        let input = Tensor::<1>::from_floats([-2.0, 0.0, 1.0], &device);
        activation.forward(input).into_data().try_to_vec().unwrap()
    }

    fn assert_close(actual: &[f32], expected: &[f32]) {
        let device = Device::flex();
        Tensor::<1>::from_floats(actual, &device)
            .into_data()
            .assert_approx_eq::<f32>(
                &Tensor::<1>::from_floats(expected, &device).into_data(),
                Tolerance::absolute(1e-5),
            );
    }

    #[test]
    fn relu_values() {
        assert_close(&apply(Activation::Relu), &[0.0, 0.0, 1.0]);
    }

    #[test]
    fn tanh_values() {
        assert_close(&apply(Activation::Tanh), &[-0.964_027_6, 0.0, 0.761_594_2]);
    }

    #[test]
    fn sigmoid_values() {
        assert_close(
            &apply(Activation::Sigmoid),
            &[0.119_202_92, 0.5, 0.731_058_6],
        );
    }

    #[test]
    fn gelu_values() {
        // x * Phi(x): Phi(-2) = 0.0227501, Phi(1) = 0.8413447.
        assert_close(&apply(Activation::Gelu), &[-0.045_500_26, 0.0, 0.841_344_7]);
    }

    #[test]
    fn leaky_relu_values() {
        assert_close(&apply(Activation::LeakyRelu), &[-0.02, 0.0, 1.0]);
    }

    #[test]
    fn serde_uses_snake_case() {
        let json = serde_json::to_string(&Activation::LeakyRelu).unwrap();
        let parsed: Activation = serde_json::from_str("\"gelu\"").unwrap();

        assert_eq!(json, "\"leaky_relu\"");
        assert_eq!(parsed, Activation::Gelu);
    }

    #[test]
    fn display_matches_serde_name() {
        for activation in [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::LeakyRelu,
        ] {
            let json = serde_json::to_string(&activation).unwrap();
            assert_eq!(json, format!("\"{activation}\""));
        }
    }
}
