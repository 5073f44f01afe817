//! Seeded shuffling and the train/valid split.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{DataError, Result};

/// Default fraction of the training rows held out for validation.
pub const DEFAULT_VALID_RATIO: f64 = 1.0 / 6.0;

/// Row indices of the two sides of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Rows used for training.
    pub train: Vec<usize>,
    /// Rows held out for validation.
    pub valid: Vec<usize>,
}

/// Returns `0..count` in an order determined by `seed` alone (ChaCha8, so the order is
/// the same on every platform and rand version).
pub fn shuffled_indices(count: usize, seed: u64) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..count).collect();
    indices.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    indices
}

/// Splits rows `0..count` after a seeded shuffle: `floor(count * valid_ratio)` rows go
/// to validation and the remaining `count - floor(count * valid_ratio)` to training.
/// The two sides are disjoint and together cover every row.
///
/// `valid_ratio` must lie strictly between 0 and 1, and both sides must be non-empty.
pub fn split_train_valid(count: usize, valid_ratio: f64, seed: u64) -> Result<Split> {
    if !(valid_ratio > 0.0 && valid_ratio < 1.0) {
        return Err(DataError::InvalidParameter {
            name: "valid_ratio",
            message: format!("{valid_ratio} is not strictly between 0 and 1"),
        });
    }

    let valid_count = (count as f64 * valid_ratio).floor() as usize;
    if valid_count == 0 || valid_count == count {
        return Err(DataError::InvalidParameter {
            name: "valid_ratio",
            message: format!(
                "{valid_ratio} of {count} rows leaves {valid_count} for validation and {} \
                 for training; both need at least one",
                count - valid_count
            ),
        });
    }

    let mut indices = shuffled_indices(count, seed);
    let train = indices.split_off(valid_count);
    Ok(Split {
        train,
        valid: indices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_disjoint_and_covering() {
        let split = split_train_valid(3620, DEFAULT_VALID_RATIO, 7).unwrap();
        assert_eq!(split.valid.len(), 603);
        assert_eq!(split.train.len(), 3017);

        let mut all: Vec<usize> = split.train.iter().chain(&split.valid).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..3620).collect::<Vec<_>>());
    }

    #[test]
    fn split_sizes_floor_valid_side() {
        for (count, ratio, valid) in [(10, 0.25, 2), (7, 0.5, 3), (6, 1.0 / 6.0, 1), (5, 0.99, 4)] {
            let split = split_train_valid(count, ratio, 1).unwrap();
            assert_eq!(split.valid.len(), valid, "count {count} ratio {ratio}");
            assert_eq!(
                split.train.len(),
                count - valid,
                "count {count} ratio {ratio}"
            );
        }
    }

    #[test]
    fn split_depends_only_on_seed() {
        assert_eq!(
            split_train_valid(100, 0.2, 3).unwrap(),
            split_train_valid(100, 0.2, 3).unwrap()
        );
        assert_ne!(
            split_train_valid(100, 0.2, 3).unwrap(),
            split_train_valid(100, 0.2, 4).unwrap()
        );
    }

    #[test]
    fn split_rejects_bad_ratios() {
        for ratio in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let error = split_train_valid(100, ratio, 0).unwrap_err().to_string();
            assert!(error.contains("valid_ratio"), "{error}");
        }
        let error = split_train_valid(3, 0.2, 0).unwrap_err().to_string();
        assert!(error.contains("leaves 0 for validation"), "{error}");
    }
}
