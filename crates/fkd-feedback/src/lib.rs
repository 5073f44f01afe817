//! Feedbacks that watch a training loop's passes: keypoint MSE against the mean
//! baseline, and the Kaggle submission writer.
//!
//! - [`Feedback`]: receives every batch as a [`BatchOutput`], returns a report at the
//!   end of a pass, and is reset between epochs. [`decode_to_host`] turns the model's
//!   probabilities into the host-side predictions a `BatchOutput` carries.
//! - [`KeypointFeedback`]: MSE and RMSE over present targets, overall and per keypoint,
//!   next to the [`fkd_data::MeanBaseline`]'s error on the same targets.
//! - [`SubmissionFeedback`]: collects test predictions by ImageId and writes the
//!   `RowId,Location` file of an `IdLookupTable.csv`; [`write_baseline_submission`]
//!   writes the mean baseline's.
//!
//! ```
//! use fkd_data::{Keypoints, MeanBaseline, NUM_COORDS};
//! use fkd_feedback::{BatchOutput, Feedback, KeypointFeedback};
//!
//! let mut target = Keypoints::MISSING;
//! target.0[0] = Some(30.0);
//! let baseline = MeanBaseline::fit([&target]);
//!
//! let mut feedback = KeypointFeedback::new("valid", &baseline);
//! feedback.add_batch(&BatchOutput {
//!     ids: &[0],
//!     targets: &[target],
//!     predictions: &[[32.0; NUM_COORDS]],
//! });
//!
//! assert_eq!(feedback.report().model.unwrap().mse, 4.0);
//! assert_eq!(
//!     feedback.summary_line(),
//!     "valid keypoint MSE 4.00 (RMSE 2.00) vs baseline 0.00 over 1 values"
//! );
//! ```

mod error;
mod feedback;
mod keypoint;
mod submission;

pub use error::{FeedbackError, Result};
pub use feedback::{BatchOutput, Feedback, decode_to_host, try_decode_to_host};
pub use keypoint::{KeypointError, KeypointFeedback, KeypointReport, SquaredError};
pub use submission::{
    SUBMISSION_HEADER, SubmissionFeedback, SubmissionReport, write_baseline_submission,
};
