//! Errors of fkd-feedback: a submission that cannot be written names the ImageId, RowId
//! and FeatureName involved; file and parse errors keep fkd-data's file and line.

use burn::tensor::TensorReadError;
use fkd_data::DataError;

/// An error decoding predictions or writing a submission.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// A requested test image has no prediction.
    #[error(
        "no prediction for ImageId {image_id}, requested by RowId {row_id} ({feature_name}). \
         Requested images without a prediction: {missing_images}. Run the test pass over \
         every face of test.csv before writing the submission"
    )]
    MissingPrediction {
        /// The first requested image without a prediction, in RowId order.
        image_id: u32,
        /// The first RowId that requests it.
        row_id: u32,
        /// The coordinate that RowId requests.
        feature_name: &'static str,
        /// How many requested images have no prediction.
        missing_images: usize,
    },

    /// A requested value is NaN or infinite.
    #[error(
        "prediction for ImageId {image_id}, RowId {row_id} ({feature_name}) is {value}, \
         expected a finite number (the model output is invalid)"
    )]
    NonFinitePrediction {
        /// The test image.
        image_id: u32,
        /// The RowId requesting the value.
        row_id: u32,
        /// The coordinate that RowId requests.
        feature_name: &'static str,
        /// The offending value.
        value: f32,
    },

    /// Probabilities of a shape other than `[batch, 30, 98]`.
    #[error("probabilities have shape {dims:?}, expected [batch, 30, 98]")]
    InvalidShape {
        /// The shape received.
        dims: Vec<usize>,
    },

    /// Reading the decoded coordinates back from the device failed.
    #[error("failed to read predictions from the device: {0}")]
    Readback(#[from] TensorReadError),

    /// Reading the lookup table or writing the submission file failed.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Result type of fkd-feedback.
pub type Result<T, E = FeedbackError> = std::result::Result<T, E>;
