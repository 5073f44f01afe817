//! burn's `Dataset` and `Batcher` for faces: the dataset yields plain items, the batcher
//! preprocesses, augments and turns them into tensors.

use std::sync::{Arc, Mutex};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::augment::flip_face;
use crate::faces::{Keypoints, TestSet, TrainingSet};
use crate::keypoints::{IMAGE_PIXELS, IMAGE_SIDE, NUM_BINS, NUM_COORDS};
use crate::preprocess::Preprocessor;
use crate::targets::extend_targets;

/// One face as the dataset yields it.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceItem {
    /// Row index in training.csv (0-based), or ImageId for a test face.
    pub id: u32,
    /// Row-major 96x96 grayscale pixels.
    pub image: Vec<u8>,
    /// The face's keypoints; all missing for a test face.
    pub keypoints: Keypoints,
}

/// A dataset over a training set's rows or a test set's images.
#[derive(Debug, Clone)]
pub struct FaceDataset {
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    Training {
        set: Arc<TrainingSet>,
        rows: Vec<usize>,
    },
    Test {
        set: Arc<TestSet>,
    },
}

impl FaceDataset {
    /// A dataset over the `rows` of a training set, in that order.
    pub fn training(set: Arc<TrainingSet>, rows: Vec<usize>) -> Self {
        Self {
            source: Source::Training { set, rows },
        }
    }

    /// A dataset over every image of a test set, in file order.
    pub fn test(set: Arc<TestSet>) -> Self {
        Self {
            source: Source::Test { set },
        }
    }
}

impl Dataset<FaceItem> for FaceDataset {
    /// Returns face `index`; panics when `index >= len()`, as the trait requires.
    fn get(&self, index: usize) -> Result<FaceItem, DatasetError> {
        let length = self.len();
        assert!(
            index < length,
            "face index {index} out of range for a dataset of {length}"
        );

        match &self.source {
            Source::Training { set, rows } => {
                let row = rows[index];
                Ok(FaceItem {
                    id: row as u32,
                    image: set.image(row).to_vec(),
                    keypoints: set.keypoints[row],
                })
            }
            Source::Test { set } => Ok(FaceItem {
                id: set.image_ids[index],
                image: set.image(index).to_vec(),
                keypoints: Keypoints::MISSING,
            }),
        }
    }

    fn len(&self) -> usize {
        match &self.source {
            Source::Training { rows, .. } => rows.len(),
            Source::Test { set } => set.len(),
        }
    }
}

/// A batch of faces as tensors, plus host copies of what feedbacks need.
#[derive(Debug, Clone)]
pub struct FaceBatch {
    /// Preprocessed images, `[batch, 1, 96, 96]`.
    pub images: Tensor<4>,
    /// Gaussian target distributions, `[batch, 30, 98]`; zero rows where missing.
    pub targets: Tensor<3>,
    /// Coordinates in pixels, `[batch, 30]`; the value at a missing coordinate is 0 and
    /// must be ignored through `mask`.
    pub coordinates: Tensor<2>,
    /// Which coordinates are present, `[batch, 30]`.
    pub mask: Tensor<2, Bool>,
    /// Each face's id (training row or test ImageId).
    pub ids: Vec<u32>,
    /// Each face's keypoints after augmentation, on the host.
    pub keypoints: Vec<Keypoints>,
}

/// Turns [`FaceItem`]s into a [`FaceBatch`]: preprocessing, optional random horizontal
/// flips, and Gaussian targets.
#[derive(Debug)]
pub struct FaceBatcher {
    preprocessor: Arc<Preprocessor>,
    target_stdv: f32,
    flip_probability: f64,
    rng: Mutex<ChaCha8Rng>,
}

impl FaceBatcher {
    /// A batcher that applies `preprocessor` and builds targets of stdv `target_stdv`
    /// pixels, without augmentation.
    pub fn new(preprocessor: Arc<Preprocessor>, target_stdv: f32) -> Self {
        Self {
            preprocessor,
            target_stdv,
            flip_probability: 0.0,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(0)),
        }
    }

    /// Flips each face horizontally with probability `probability`, drawing from a
    /// generator seeded with `seed`.
    pub fn with_random_flip(mut self, probability: f64, seed: u64) -> Self {
        self.flip_probability = probability;
        self.rng = Mutex::new(ChaCha8Rng::seed_from_u64(seed));
        self
    }

    /// Returns the batcher's preprocessor.
    pub fn preprocessor(&self) -> &Preprocessor {
        &self.preprocessor
    }
}

impl Batcher<FaceItem, FaceBatch> for FaceBatcher {
    fn batch(&self, mut items: Vec<FaceItem>, device: &Device) -> FaceBatch {
        let batch_size = items.len();

        if self.flip_probability > 0.0 {
            let mut rng = self
                .rng
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for item in &mut items {
                if rng.random_bool(self.flip_probability) {
                    flip_face(&mut item.image, &mut item.keypoints, IMAGE_SIDE);
                }
            }
        }

        let mut pixels = vec![0.0f32; batch_size * IMAGE_PIXELS];
        for (item, out) in items.iter().zip(pixels.chunks_exact_mut(IMAGE_PIXELS)) {
            self.preprocessor.apply(&item.image, out);
        }

        let mut targets = Vec::with_capacity(batch_size * NUM_COORDS * NUM_BINS);
        let mut coordinates = Vec::with_capacity(batch_size * NUM_COORDS);
        let mut mask = Vec::with_capacity(batch_size * NUM_COORDS);
        for item in &items {
            extend_targets(&item.keypoints, self.target_stdv, &mut targets);
            coordinates.extend(item.keypoints.0.map(|value| value.unwrap_or(0.0)));
            mask.extend(item.keypoints.mask());
        }

        FaceBatch {
            images: Tensor::from_data(
                TensorData::new(pixels, [batch_size, 1, IMAGE_SIDE, IMAGE_SIDE]),
                device,
            ),
            targets: Tensor::from_data(
                TensorData::new(targets, [batch_size, NUM_COORDS, NUM_BINS]),
                device,
            ),
            coordinates: Tensor::from_data(
                TensorData::new(coordinates, [batch_size, NUM_COORDS]),
                device,
            ),
            mask: Tensor::from_data(TensorData::new(mask, [batch_size, NUM_COORDS]), device),
            ids: items.iter().map(|item| item.id).collect(),
            keypoints: items.iter().map(|item| item.keypoints).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn training_set() -> Arc<TrainingSet> {
        let mut set = TrainingSet::default();
        for row in 0..3u8 {
            set.images
                .extend(std::iter::repeat_n(row * 100, IMAGE_PIXELS));
            let mut keypoints = Keypoints::MISSING;
            keypoints.0[0] = Some(10.0 + f32::from(row));
            keypoints.0[21] = Some(50.0);
            set.keypoints.push(keypoints);
        }
        Arc::new(set)
    }

    #[test]
    fn dataset_yields_selected_rows() {
        let dataset = FaceDataset::training(training_set(), vec![2, 0]);
        assert_eq!(dataset.len(), 2);
        let item = dataset.get(0).unwrap();
        assert_eq!(item.id, 2);
        assert_eq!(item.image[0], 200);
        assert_eq!(item.keypoints.0[0], Some(12.0));
    }

    #[test]
    #[should_panic(expected = "face index 2 out of range")]
    fn dataset_panics_past_end() {
        let dataset = FaceDataset::training(training_set(), vec![2, 0]);
        let _ = dataset.get(2);
    }

    #[test]
    fn batcher_builds_tensors() {
        let device = Device::flex();
        let dataset = FaceDataset::training(training_set(), vec![1, 2]);
        let items = vec![dataset.get(0).unwrap(), dataset.get(1).unwrap()];
        let batcher = FaceBatcher::new(Arc::new(Preprocessor::default()), 0.8);

        let batch = batcher.batch(items, &device);

        assert_eq!(batch.images.dims(), [2, 1, 96, 96]);
        assert_eq!(batch.targets.dims(), [2, 30, 98]);
        assert_eq!(batch.ids, vec![1, 2]);

        let images = batch.images.into_data().try_to_vec::<f32>().unwrap();
        assert!((images[0] - 100.0 / 255.0).abs() < 1e-6);
        assert!((images[IMAGE_PIXELS] - 200.0 / 255.0).abs() < 1e-6);

        let coordinates = batch.coordinates.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(coordinates[0], 11.0);
        assert_eq!(coordinates[30], 12.0);

        let mask = batch.mask.into_data().try_to_vec::<bool>().unwrap();
        assert!(mask[0] && mask[21] && !mask[1]);

        let targets = batch.targets.into_data().try_to_vec::<f32>().unwrap();
        assert!((targets[11] - 0.498_677_85).abs() < 1e-6);
        assert!(
            targets[NUM_BINS..2 * NUM_BINS]
                .iter()
                .all(|&value| value == 0.0)
        );
    }

    #[test]
    fn batcher_flips_with_probability_one() {
        let device = Device::flex();
        let dataset = FaceDataset::training(training_set(), vec![0]);
        let batcher =
            FaceBatcher::new(Arc::new(Preprocessor::default()), 0.8).with_random_flip(1.0, 5);

        let batch = batcher.batch(vec![dataset.get(0).unwrap()], &device);

        // left_eye_center_x = 10 becomes right_eye_center_x = 95 - 10.
        assert_eq!(batch.keypoints[0].0[0], None);
        assert_eq!(batch.keypoints[0].0[2], Some(85.0));
        assert_eq!(batch.keypoints[0].0[21], Some(50.0));
    }
}
