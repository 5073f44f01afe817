//! In-memory face sets: images as one contiguous `u8` buffer and keypoints with explicit
//! missing values.

use crate::keypoints::{IMAGE_PIXELS, NUM_COORDS};

/// Coordinates are stored on a grid of 1/65536 pixel. On that grid `95 - x` is exact in
/// f32 for every coordinate in [-1, 96] (at most 24 significant bits), so a horizontal
/// flip applied twice restores the keypoints bit for bit. Kaggle's coordinates carry
/// six decimals; snapping moves them by at most 7.7e-6 pixel.
pub const COORDINATE_STEPS_PER_PIXEL: f32 = 65536.0;

/// Rounds a coordinate to the nearest point of the 1/65536-pixel grid.
pub fn snap_coordinate(value: f32) -> f32 {
    (value * COORDINATE_STEPS_PER_PIXEL).round() / COORDINATE_STEPS_PER_PIXEL
}

/// The 30 coordinates of one face in Kaggle's order, `None` where the value is missing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Keypoints(pub [Option<f32>; NUM_COORDS]);

impl Keypoints {
    /// Keypoints with every coordinate missing.
    pub const MISSING: Self = Self([None; NUM_COORDS]);

    /// Returns which coordinates are present.
    pub fn mask(&self) -> [bool; NUM_COORDS] {
        self.0.map(|value| value.is_some())
    }

    /// Returns the number of present coordinates.
    pub fn present_count(&self) -> usize {
        self.0.iter().filter(|value| value.is_some()).count()
    }

    /// Returns whether all 30 coordinates are present.
    pub fn is_complete(&self) -> bool {
        self.present_count() == NUM_COORDS
    }
}

/// Labelled faces from `training.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingSet {
    /// Row-major 96x96 grayscale images, one after another.
    pub images: Vec<u8>,
    /// The keypoints of each image.
    pub keypoints: Vec<Keypoints>,
}

impl TrainingSet {
    /// Returns the number of faces.
    pub fn len(&self) -> usize {
        self.keypoints.len()
    }

    /// Returns whether the set has no faces.
    pub fn is_empty(&self) -> bool {
        self.keypoints.is_empty()
    }

    /// Returns the pixels of face `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.images[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    /// Returns a new set with the faces at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> TrainingSet {
        let mut images = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        let mut keypoints = Vec::with_capacity(indices.len());
        for &index in indices {
            images.extend_from_slice(self.image(index));
            keypoints.push(self.keypoints[index]);
        }
        TrainingSet { images, keypoints }
    }
}

/// Unlabelled faces from `test.csv`, each with its 1-based ImageId.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestSet {
    /// ImageId of each face, in file order.
    pub image_ids: Vec<u32>,
    /// Row-major 96x96 grayscale images, one after another.
    pub images: Vec<u8>,
}

impl TestSet {
    /// Returns the number of faces.
    pub fn len(&self) -> usize {
        self.image_ids.len()
    }

    /// Returns whether the set has no faces.
    pub fn is_empty(&self) -> bool {
        self.image_ids.is_empty()
    }

    /// Returns the pixels of face `index` (a position in the file, not an ImageId).
    pub fn image(&self, index: usize) -> &[u8] {
        &self.images[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }
}
