//! A printable table of the network's layers: each layer's output shape and parameter
//! count, computed from the configuration without building the network.

use std::fmt;

use fkd_data::{IMAGE_SIDE, NUM_BINS, NUM_COORDS};

use crate::config::{ConvPlan, DensePlan};
use crate::{INPUT_CHANNELS, KeypointNetConfig, ModelError};

/// One row of a [`ModelSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSummary {
    /// The layer's kind and settings, e.g. `"conv 1: 5x5, stride 1, padding 0"`.
    pub name: String,
    /// Output shape for one image, without the batch dimension.
    pub output_shape: Vec<usize>,
    /// Number of trainable parameters: weights, biases, and batch normalization scale and
    /// shift. burn's `Module::num_params` also counts batch normalization's running mean
    /// and variance, which are not trained.
    pub parameters: usize,
}

/// The network's layers in forward order, from the input to the MultiSoftMax. `Display`
/// prints it as a table with a total line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    /// The layers, the input first.
    pub layers: Vec<LayerSummary>,
}

impl ModelSummary {
    /// Returns the total number of trainable parameters.
    pub fn total_parameters(&self) -> usize {
        self.layers.iter().map(|layer| layer.parameters).sum()
    }
}

impl KeypointNetConfig {
    /// Returns the summary table of the network this configuration builds, or the error
    /// that [`init`](Self::init) would return.
    pub fn summary(&self) -> Result<ModelSummary, ModelError> {
        let plan = self.plan()?;
        let mut table = TableBuilder::default();
        table.push("input", vec![INPUT_CHANNELS, IMAGE_SIDE, IMAGE_SIDE], 0);

        let mut shape = vec![INPUT_CHANNELS, IMAGE_SIDE, IMAGE_SIDE];
        for (index, layer) in plan.conv.iter().enumerate() {
            shape = self.summarize_conv(&mut table, index + 1, layer, shape);
        }

        table.push("flatten", vec![plan.flatten_features], 0);
        for (index, layer) in plan.hidden.iter().enumerate() {
            self.summarize_dense(&mut table, &format!("hidden {}", index + 1), layer, true);
        }
        self.summarize_dense(&mut table, "output", &plan.output, false);
        table.push("reshape", vec![NUM_COORDS, NUM_BINS], 0);
        table.push("multisoftmax", vec![NUM_COORDS, NUM_BINS], 0);

        Ok(ModelSummary {
            layers: table.layers,
        })
    }

    /// Adds one conv layer's rows and returns its output shape.
    fn summarize_conv(
        &self,
        table: &mut TableBuilder,
        number: usize,
        layer: &ConvPlan,
        input_shape: Vec<usize>,
    ) -> Vec<usize> {
        if let Some(prob) = layer.dropout {
            table.push(
                format!("channel dropout {number}: p = {prob}"),
                input_shape,
                0,
            );
        }

        let channels = layer.out_channels;
        let conv_shape = vec![channels, layer.conv_side, layer.conv_side];
        let weights = channels * layer.in_channels * layer.kernel * layer.kernel;
        table.push(
            format!(
                "conv {number}: {k}x{k}, stride {}, padding {}",
                layer.stride,
                layer.padding,
                k = layer.kernel
            ),
            conv_shape.clone(),
            weights + channels,
        );
        if self.batch_norm {
            table.push(
                format!("batch norm {number}"),
                conv_shape.clone(),
                2 * channels,
            );
        }
        table.push(
            format!("{} {number}", self.activation),
            conv_shape.clone(),
            0,
        );

        let Some((size, stride)) = layer.pool else {
            return conv_shape;
        };
        let output_shape = vec![channels, layer.output_side, layer.output_side];
        table.push(
            format!("max pool {number}: {size}x{size}, stride {stride}"),
            output_shape.clone(),
            0,
        );
        output_shape
    }

    fn summarize_dense(
        &self,
        table: &mut TableBuilder,
        name: &str,
        layer: &DensePlan,
        hidden: bool,
    ) {
        if let Some(prob) = layer.dropout {
            table.push(
                format!("dropout {name}: p = {prob}"),
                vec![layer.in_features],
                0,
            );
        }

        let features = layer.out_features;
        table.push(
            format!("linear {name}: {} -> {features}", layer.in_features),
            vec![features],
            layer.in_features * features + features,
        );
        if !hidden {
            return;
        }
        if self.batch_norm {
            table.push(format!("batch norm {name}"), vec![features], 2 * features);
        }
        table.push(format!("{} {name}", self.activation), vec![features], 0);
    }
}

#[derive(Default)]
struct TableBuilder {
    layers: Vec<LayerSummary>,
}

impl TableBuilder {
    fn push(&mut self, name: impl Into<String>, output_shape: Vec<usize>, parameters: usize) {
        self.layers.push(LayerSummary {
            name: name.into(),
            output_shape,
            parameters,
        });
    }
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LAYER: &str = "layer";
        const SHAPE: &str = "output shape";
        const PARAMETERS: &str = "parameters";

        let shapes: Vec<String> = self
            .layers
            .iter()
            .map(|layer| format_shape(&layer.output_shape))
            .collect();
        let total = self.total_parameters();
        let name_width = self
            .layers
            .iter()
            .map(|layer| layer.name.len())
            .chain([LAYER.len()])
            .max()
            .unwrap_or(0);
        let shape_width = shapes.iter().map(String::len).chain([SHAPE.len()]).max();
        let shape_width = shape_width.unwrap_or(0);
        let count_width = PARAMETERS.len().max(total.to_string().len());

        writeln!(
            f,
            "{LAYER:<name_width$}  {SHAPE:<shape_width$}  {PARAMETERS:>count_width$}"
        )?;
        for (layer, shape) in self.layers.iter().zip(&shapes) {
            writeln!(
                f,
                "{:<name_width$}  {shape:<shape_width$}  {:>count_width$}",
                layer.name, layer.parameters
            )?;
        }
        write!(
            f,
            "{:<name_width$}  {:<shape_width$}  {total:>count_width$}",
            "total", ""
        )
    }
}

/// Formats `[64, 92, 92]` as `64x92x92`.
fn format_shape(shape: &[usize]) -> String {
    let sides: Vec<String> = shape.iter().map(usize::to_string).collect();
    sides.join("x")
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::tensor::Device;

    use super::*;

    fn small_config() -> KeypointNetConfig {
        KeypointNetConfig::new()
            .with_channel_size(vec![4, 4])
            .with_kernel_size(vec![3, 3])
            .with_hidden_size(vec![16])
    }

    #[test]
    fn small_total_matches_hand_count() {
        let summary = small_config().summary().unwrap();

        // conv 1: 4 * 1 * 3 * 3 + 4 = 40; conv 2: 4 * 4 * 9 + 4 = 148;
        // 96 -> 94 -> 47 -> 45 -> 22, so hidden: 4 * 22 * 22 * 16 + 16 = 30992;
        // output: 16 * 2940 + 2940 = 49980.
        assert_eq!(summary.total_parameters(), 40 + 148 + 30_992 + 49_980);
    }

    #[test]
    fn small_total_matches_built_model() {
        let config = small_config();
        let model = config.init(&Device::flex()).unwrap();

        assert_eq!(
            config.summary().unwrap().total_parameters(),
            model.num_params()
        );
    }

    #[test]
    fn batch_norm_total_matches_built_model() {
        let config = small_config().with_batch_norm(true);
        let model = config.init(&Device::flex()).unwrap();

        let summary = config.summary().unwrap();

        // Two conv batch norms of 4 channels, one hidden of 16 features: 2 * (4 + 4 + 16)
        // for scale and shift. burn's num_params also counts the running mean and variance.
        assert_eq!(summary.total_parameters(), 81_160 + 48);
        assert_eq!(model.num_params(), summary.total_parameters() + 48);
    }

    #[test]
    fn default_total_matches_hand_count() {
        let summary = KeypointNetConfig::new().summary().unwrap();

        // conv: 1664 + 153696 + 230496; hidden: 6144 * 1000 + 1000; output: 1000 * 2940 + 2940.
        assert_eq!(summary.total_parameters(), 9_473_796);
    }

    #[test]
    fn rows_in_forward_order() {
        let summary = small_config()
            .with_dropout(true)
            .with_dropout_prob(vec![0.2, 0.5, 0.5])
            .summary()
            .unwrap();

        let rows: Vec<(&str, &[usize], usize)> = summary
            .layers
            .iter()
            .map(|layer| {
                (
                    layer.name.as_str(),
                    layer.output_shape.as_slice(),
                    layer.parameters,
                )
            })
            .collect();
        let expected: Vec<(&str, &[usize], usize)> = vec![
            ("input", &[1, 96, 96], 0),
            ("channel dropout 1: p = 0.2", &[1, 96, 96], 0),
            ("conv 1: 3x3, stride 1, padding 0", &[4, 94, 94], 40),
            ("relu 1", &[4, 94, 94], 0),
            ("max pool 1: 2x2, stride 2", &[4, 47, 47], 0),
            ("channel dropout 2: p = 0.5", &[4, 47, 47], 0),
            ("conv 2: 3x3, stride 1, padding 0", &[4, 45, 45], 148),
            ("relu 2", &[4, 45, 45], 0),
            ("max pool 2: 2x2, stride 2", &[4, 22, 22], 0),
            ("flatten", &[1936], 0),
            ("dropout hidden 1: p = 0.5", &[1936], 0),
            ("linear hidden 1: 1936 -> 16", &[16], 30_992),
            ("relu hidden 1", &[16], 0),
            ("linear output: 16 -> 2940", &[2940], 49_980),
            ("reshape", &[30, 98], 0),
            ("multisoftmax", &[30, 98], 0),
        ];
        assert_eq!(rows, expected);
    }

    #[test]
    fn display_table() {
        let summary = KeypointNetConfig::new()
            .with_channel_size(vec![2])
            .with_kernel_size(vec![5])
            .with_pool_size(vec![0])
            .with_hidden_size(vec![])
            .summary()
            .unwrap();

        let expected = "\
layer                             output shape  parameters
input                             1x96x96                0
conv 1: 5x5, stride 1, padding 0  2x92x92               52
relu 1                            2x92x92                0
flatten                           16928                  0
linear output: 16928 -> 2940      2940            49771260
reshape                           30x98                  0
multisoftmax                      30x98                  0
total                                             49771312";
        assert_eq!(summary.to_string(), expected);
    }

    #[test]
    fn invalid_config_returns_error() {
        let error = small_config()
            .with_kernel_size(vec![3, 60])
            .summary()
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "conv layer 2: input 47x47 is smaller than kernel 60x60"
        );
    }
}
