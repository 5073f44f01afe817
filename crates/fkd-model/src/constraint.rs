//! The max-norm constraint: after each update, every output unit's incoming weight vector
//! is scaled back onto the ball of radius `max_norm`.

use burn::tensor::Tensor;

use crate::{KeypointNet, ModelError};

/// Rescales the incoming weights of each output unit of every conv and linear layer, the
/// output layer included, to an L2 norm of at most `max_norm`, like dpnn's
/// `Module:maxParamNorm` (Torch7's `renorm(2, 1, max_norm)` on each parameter with more
/// than one dimension). A unit is a conv output channel, whose weights are its
/// `[in, kh, kw]` block, or a linear output, whose weights are a column of burn's
/// `[in, out]` matrix. Biases and batch normalization parameters are left alone.
///
/// Units within the bound keep their weights bit for bit. Units above it are scaled by
/// `max_norm / norm`. Torch7's `renorm` divides by `norm + 1e-7` instead, a relative
/// difference of about `1e-7 / norm`. Parameters that require gradients keep requiring them.
///
/// Returns [`ModelError::InvalidMaxNorm`] if `max_norm` is not positive and finite.
pub fn apply_max_norm(model: KeypointNet, max_norm: f32) -> Result<KeypointNet, ModelError> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(ModelError::InvalidMaxNorm { value: max_norm });
    }

    let KeypointNet {
        conv_layers,
        hidden_layers,
        output_dropout,
        mut output,
        multisoftmax,
    } = model;

    let conv_layers = conv_layers
        .into_iter()
        .map(|mut layer| {
            layer.conv.weight = layer
                .conv
                .weight
                .map(|weight| renorm_conv_weight(weight, max_norm));
            layer
        })
        .collect();
    let hidden_layers = hidden_layers
        .into_iter()
        .map(|mut layer| {
            layer.linear.weight = layer
                .linear
                .weight
                .map(|weight| renorm_linear_weight(weight, max_norm));
            layer
        })
        .collect();
    output.weight = output
        .weight
        .map(|weight| renorm_linear_weight(weight, max_norm));

    Ok(KeypointNet {
        conv_layers,
        hidden_layers,
        output_dropout,
        output,
        multisoftmax,
    })
}

/// Rescales each output channel `[in, kh, kw]` of a `[out, in, kh, kw]` conv weight.
fn renorm_conv_weight(weight: Tensor<4>, max_norm: f32) -> Tensor<4> {
    let dims = weight.dims();
    let norms = weight.clone().powi_scalar(2).sum_dims(&[1, 2, 3]).sqrt();
    let scale = scale_down(norms, max_norm).expand(dims);
    rescale(weight, scale)
}

/// Rescales each column (output unit) of an `[in, out]` linear weight.
fn renorm_linear_weight(weight: Tensor<2>, max_norm: f32) -> Tensor<2> {
    let dims = weight.dims();
    let norms = weight.clone().powi_scalar(2).sum_dim(0).sqrt();
    let scale = scale_down(norms, max_norm).expand(dims);
    rescale(weight, scale)
}

/// Returns `max_norm / max(norm, max_norm)`: exactly 1 within the bound, `max_norm / norm`
/// above it.
fn scale_down<const D: usize>(norms: Tensor<D>, max_norm: f32) -> Tensor<D> {
    let bound = norms.ones_like().mul_scalar(max_norm);
    bound.clone() / norms.clamp_min(max_norm)
}

/// Multiplies `weight` by `scale` as a new leaf tensor, outside any autodiff graph.
fn rescale<const D: usize>(weight: Tensor<D>, scale: Tensor<D>) -> Tensor<D> {
    let require_grad = weight.is_require_grad();
    let rescaled = (weight.detach() * scale.detach()).detach();
    if require_grad {
        rescaled.require_grad()
    } else {
        rescaled
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::{Device, TensorData};

    use super::*;
    use crate::KeypointNetConfig;

    fn tiny_model(device: &Device) -> KeypointNet {
        KeypointNetConfig::new()
            .with_channel_size(vec![2])
            .with_kernel_size(vec![2])
            .with_pool_size(vec![0])
            .with_hidden_size(vec![2])
            .init(device)
            .unwrap()
    }

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Sets the hidden layer to a `[in, 2]` weight whose column 0 has norm 4 (a 4 in
    /// row 0) and column 1 has norm 1 (a 1 in row 1).
    fn with_hidden_columns(mut model: KeypointNet, device: &Device) -> KeypointNet {
        let [inputs, outputs] = model.hidden_layers[0].linear.weight.dims();
        let mut weight = vec![0.0f32; inputs * outputs];
        weight[0] = 4.0;
        weight[outputs + 1] = 1.0;
        model.hidden_layers[0].linear.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [inputs, outputs]),
            device,
        ));
        model
    }

    #[test]
    fn linear_column_norm_4_becomes_2() {
        let device = Device::flex();
        let model = with_hidden_columns(tiny_model(&device), &device);

        let model = apply_max_norm(model, 2.0).unwrap();

        let weight = values(model.hidden_layers[0].linear.weight.val());
        assert_eq!(weight[0], 2.0);
        for (index, &value) in weight.iter().enumerate() {
            if index != 0 && index != 3 {
                assert_eq!(value, 0.0, "index {index}");
            }
        }
    }

    #[test]
    fn linear_column_norm_1_unchanged() {
        let device = Device::flex();
        let model = with_hidden_columns(tiny_model(&device), &device);

        let model = apply_max_norm(model, 2.0).unwrap();

        let weight = values(model.hidden_layers[0].linear.weight.val());
        assert_eq!(weight[3], 1.0);
    }

    #[test]
    fn linear_mixed_column_scaled_whole() {
        let device = Device::flex();
        let mut model = tiny_model(&device);
        // Output layer column 0 is (3, 4) with norm 5, and column 1 is (0.6, 0.8) with norm 1.
        let [inputs, outputs] = model.output.weight.dims();
        assert_eq!(inputs, 2);
        let mut weight = vec![0.0f32; inputs * outputs];
        weight[0] = 3.0;
        weight[outputs] = 4.0;
        weight[1] = 0.6;
        weight[outputs + 1] = 0.8;
        model.output.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [inputs, outputs]),
            &device,
        ));

        let model = apply_max_norm(model, 2.0).unwrap();

        let weight = values(model.output.weight.val());
        assert!((weight[0] - 1.2).abs() < 1e-6, "{}", weight[0]);
        assert!((weight[outputs] - 1.6).abs() < 1e-6, "{}", weight[outputs]);
        assert_eq!(weight[1], 0.6);
        assert_eq!(weight[outputs + 1], 0.8);
    }

    #[test]
    fn conv_channel_norm_4_becomes_2() {
        let device = Device::flex();
        let mut model = tiny_model(&device);
        // Channel 0: four weights of 2, norm 4. Channel 1: four weights of 0.5, norm 1.
        let mut weight = vec![2.0f32; 4];
        weight.extend([0.5f32; 4]);
        model.conv_layers[0].conv.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [2, 1, 2, 2]),
            &device,
        ));

        let model = apply_max_norm(model, 2.0).unwrap();

        let weight = values(model.conv_layers[0].conv.weight.val());
        assert_eq!(weight[..4], [1.0; 4]);
        assert_eq!(weight[4..], [0.5; 4]);
    }

    #[test]
    fn biases_untouched() {
        let device = Device::flex();
        let mut model = tiny_model(&device);
        let [outputs] = model.output.bias.as_ref().unwrap().dims();
        model.output.bias = Some(Param::from_tensor(Tensor::full([outputs], 10.0, &device)));

        let model = apply_max_norm(model, 1.0).unwrap();

        let bias = values(model.output.bias.unwrap().val());
        assert!(bias.iter().all(|&b| b == 10.0));
    }

    #[test]
    fn all_norms_within_bound_after() {
        let device = Device::flex();
        let model = KeypointNetConfig::new()
            .with_channel_size(vec![4, 4])
            .with_kernel_size(vec![3, 3])
            .with_hidden_size(vec![16])
            .with_normal_init(true)
            .init(&device)
            .unwrap();

        let model = apply_max_norm(model, 0.5).unwrap();

        for layer in &model.conv_layers {
            let norms = layer
                .conv
                .weight
                .val()
                .powi_scalar(2)
                .sum_dims(&[1, 2, 3])
                .sqrt();
            assert!(values(norms).iter().all(|&norm| norm <= 0.5 + 1e-6));
        }
        for weight in [
            model.hidden_layers[0].linear.weight.val(),
            model.output.weight.val(),
        ] {
            let norms = weight.powi_scalar(2).sum_dim(0).sqrt();
            assert!(values(norms).iter().all(|&norm| norm <= 0.5 + 1e-6));
        }
    }

    #[test]
    fn keeps_require_grad() {
        let device = Device::flex().autodiff();
        let model = tiny_model(&device);

        let model = apply_max_norm(model, 0.01).unwrap();

        let weight = model.output.weight.val();
        assert!(weight.is_require_grad());
        assert!(model.conv_layers[0].conv.weight.val().is_require_grad());
    }

    #[test]
    fn invalid_bounds_rejected() {
        let device = Device::flex();

        for bound in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let error = apply_max_norm(tiny_model(&device), bound).unwrap_err();
            assert!(
                matches!(error, ModelError::InvalidMaxNorm { .. }),
                "{bound}: {error}"
            );
        }
        assert_eq!(
            apply_max_norm(tiny_model(&device), 0.0)
                .unwrap_err()
                .to_string(),
            "max norm is 0, expected a positive finite number"
        );
    }
}
