//! The `Feedback` trait that a training loop feeds with every batch's output, and the
//! decoding of model output into host-side predictions.

use burn::tensor::Tensor;
use fkd_data::{Keypoints, NUM_BINS, NUM_COORDS};

use crate::error::{FeedbackError, Result};

/// The output of one batch that a feedback reads, on the host.
///
/// The three slices are parallel: entry `i` of each describes face `i` of the batch.
/// A feedback reads only the slices it needs, so a test batch may pass empty `targets`.
#[derive(Debug, Clone, Copy)]
pub struct BatchOutput<'a> {
    /// Each face's id: training row index, or ImageId for test faces.
    pub ids: &'a [u32],
    /// Each face's target keypoints (missing values are None: that is the mask).
    pub targets: &'a [Keypoints],
    /// Each face's decoded prediction in pixels (fkd_model::expected_coordinates, moved
    /// to the host once per batch by the loop).
    pub predictions: &'a [[f32; NUM_COORDS]],
}

/// A component that watches one pass over a data split and summarizes it.
///
/// The loop calls [`Feedback::add_batch`] for every batch of the pass,
/// [`Feedback::report`] at its end, and [`Feedback::reset`] before the next epoch.
pub trait Feedback {
    /// The summary of a pass, serializable into the metrics history.
    type Report: serde::Serialize + Clone + std::fmt::Debug;

    /// Accumulates one batch.
    fn add_batch(&mut self, batch: &BatchOutput<'_>);

    /// Returns the summary of every batch added since the last reset.
    fn report(&self) -> Self::Report;

    /// Forgets every batch, ready for the next pass.
    fn reset(&mut self);
}

/// Decodes `[batch, 30, 98]` probabilities with [`fkd_model::expected_coordinates`] and
/// copies the coordinates to the host in one transfer.
///
/// # Panics
///
/// Panics when the shape is not `[batch, 30, 98]` or the device read fails.
/// [`try_decode_to_host`] returns these as errors.
pub fn decode_to_host(probabilities: Tensor<3>) -> Vec<[f32; NUM_COORDS]> {
    match try_decode_to_host(probabilities) {
        Ok(predictions) => predictions,
        Err(error) => panic!("decode_to_host: {error}"),
    }
}

/// Decodes `[batch, 30, 98]` probabilities like [`decode_to_host`], returning an error
/// for another shape or a failed device read.
pub fn try_decode_to_host(probabilities: Tensor<3>) -> Result<Vec<[f32; NUM_COORDS]>> {
    let dims = probabilities.dims();
    if dims[1] != NUM_COORDS || dims[2] != NUM_BINS {
        return Err(FeedbackError::InvalidShape {
            dims: dims.to_vec(),
        });
    }

    let coordinates = fkd_model::expected_coordinates(probabilities);
    let values = coordinates.try_into_vec_as::<f32>()?;

    let predictions = values
        .chunks_exact(NUM_COORDS)
        .map(|face| {
            let mut prediction = [0.0; NUM_COORDS];
            prediction.copy_from_slice(face);
            prediction
        })
        .collect();
    Ok(predictions)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    /// Returns `[faces, 30, 98]` probabilities with all the mass of coordinate `c` of
    /// face `f` on bin `bins[f][c]`.
    fn one_hot(bins: &[[usize; NUM_COORDS]]) -> Tensor<3> {
        let mut values = vec![0.0f32; bins.len() * NUM_COORDS * NUM_BINS];
        for (face, face_bins) in bins.iter().enumerate() {
            for (coordinate, &bin) in face_bins.iter().enumerate() {
                values[(face * NUM_COORDS + coordinate) * NUM_BINS + bin] = 1.0;
            }
        }
        let data = TensorData::new(values, [bins.len(), NUM_COORDS, NUM_BINS]);
        Tensor::from_data(data, &Device::flex())
    }

    #[test]
    fn decode_one_hot_bins() {
        let first: [usize; NUM_COORDS] = std::array::from_fn(|coordinate| coordinate);
        let second: [usize; NUM_COORDS] = std::array::from_fn(|coordinate| 97 - coordinate);

        let predictions = decode_to_host(one_hot(&[first, second]));

        assert_eq!(predictions.len(), 2);
        assert_eq!(predictions[0][0], 0.0);
        assert_eq!(predictions[0][29], 29.0);
        assert_eq!(predictions[1][0], 97.0);
        assert_eq!(predictions[1][29], 68.0);
    }

    #[test]
    fn decode_split_mass() {
        let mut values = vec![0.0f32; NUM_COORDS * NUM_BINS];
        values[10] = 0.25;
        values[20] = 0.75;
        let data = TensorData::new(values, [1, NUM_COORDS, NUM_BINS]);

        let predictions = decode_to_host(Tensor::from_data(data, &Device::flex()));

        assert_eq!(predictions[0][0], 17.5);
        assert_eq!(predictions[0][1], 0.0);
    }

    #[test]
    fn decode_empty_batch() {
        let data = TensorData::new(Vec::<f32>::new(), [0, NUM_COORDS, NUM_BINS]);

        let predictions = try_decode_to_host(Tensor::from_data(data, &Device::flex())).unwrap();

        assert!(predictions.is_empty());
    }

    #[test]
    fn decode_rejects_wrong_shape() {
        let data = TensorData::new(vec![0.0f32; 2 * 15 * NUM_BINS], [2, 15, NUM_BINS]);

        let error = try_decode_to_host(Tensor::from_data(data, &Device::flex())).unwrap_err();

        assert_eq!(
            error.to_string(),
            "probabilities have shape [2, 15, 98], expected [batch, 30, 98]"
        );
    }
}
