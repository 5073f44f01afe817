//! The error type of the model crate: invalid configurations and tensors of the wrong shape.

/// An invalid network configuration, or a tensor whose rank or shape does not fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// [`MultiSoftMax`](crate::MultiSoftMax) received a tensor that is neither 2D nor 3D.
    #[error("MultiSoftMax expects a 2D or 3D tensor, got rank {rank}")]
    UnsupportedRank {
        /// The rank of the input tensor.
        rank: usize,
    },

    /// A per-layer list of the configuration has fewer entries than there are layers.
    #[error("config field `{field}` has {len} entries, expected at least {required} ({per})")]
    ListTooShort {
        /// The configuration field.
        field: &'static str,
        /// The number of entries given.
        len: usize,
        /// The number of entries needed.
        required: usize,
        /// The layers the entries correspond to, e.g. "one per conv layer".
        per: &'static str,
    },

    /// A configuration value is outside its valid range.
    #[error("{layer}: {field} is {value}, expected {expected}")]
    InvalidValue {
        /// The layer the value belongs to, e.g. "conv layer 2" or "hidden layer 1".
        layer: String,
        /// The configuration field.
        field: &'static str,
        /// The value given.
        value: String,
        /// The valid range.
        expected: &'static str,
    },

    /// A conv kernel is larger than its layer's input, so the layer's output would be empty.
    /// Padding is never the cause: `floor(kernel / 2)` on each side always fits the kernel.
    #[error("conv layer {layer}: input {input}x{input} is smaller than kernel {kernel}x{kernel}")]
    KernelLargerThanInput {
        /// The conv layer, counted from 1.
        layer: usize,
        /// Height and width of the layer's input.
        input: usize,
        /// Height and width of the kernel.
        kernel: usize,
    },

    /// A max-pooling window is larger than the conv output it pools.
    #[error("conv layer {layer}: conv output {input}x{input} is smaller than pool {pool}x{pool}")]
    PoolLargerThanInput {
        /// The conv layer, counted from 1.
        layer: usize,
        /// Height and width of the conv output.
        input: usize,
        /// Height and width of the pooling window.
        pool: usize,
    },

    /// The max-norm constraint received a bound that is not a positive finite number.
    #[error("max norm is {value}, expected a positive finite number")]
    InvalidMaxNorm {
        /// The bound given.
        value: f32,
    },

    /// Two tensors passed together have shapes that do not match.
    #[error("{name} has shape {actual:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The tensor's role, e.g. "targets".
        name: &'static str,
        /// Its shape.
        actual: Vec<usize>,
        /// The shape it must have.
        expected: Vec<usize>,
    },
}
