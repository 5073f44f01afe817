//! Image preprocessing: pixel scaling to a range, then optionally per-pixel
//! standardization and ZCA whitening, fitted on the training split only and applied
//! unchanged to validation, test and new images.
//!
//! A fitted [`Preprocessor`] is saved with a run as a safetensors file, so prediction
//! later applies the same statistics.

use std::collections::HashMap;
use std::path::Path;

use nalgebra::{DMatrix, SymmetricEigen};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::keypoints::IMAGE_PIXELS;

/// Default ZCA filter bias, added to every eigenvalue before the inverse square root
/// (dp's `filter_bias`).
pub const DEFAULT_ZCA_EPSILON: f32 = 0.1;

/// ZCA is fitted on at most this many images (the first ones of the training split),
/// which bounds the eigendecomposition to a 2000x2000 Gram matrix.
pub const ZCA_MAX_FIT_IMAGES: usize = 2000;

/// Which preprocessing steps to fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PreprocessingConfig {
    /// Pixel value 0 maps to `range.0`, 255 to `range.1`.
    pub range: (f32, f32),
    /// Subtract each pixel's training mean and divide by its standard deviation.
    pub standardize: bool,
    /// Apply ZCA whitening with this filter bias, after scaling and standardizing.
    pub zca_epsilon: Option<f32>,
}

impl Default for PreprocessingConfig {
    fn default() -> Self {
        Self {
            range: (0.0, 1.0),
            standardize: false,
            zca_epsilon: None,
        }
    }
}

/// Per-pixel statistics of the training images.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardize {
    /// Mean of each pixel after scaling.
    pub means: Vec<f32>,
    /// Standard deviation of each pixel after scaling; pixels that never vary get 1.
    pub stdvs: Vec<f32>,
}

/// A fitted ZCA whitening: `y = (x - mean) / sqrt(eps) + sum_k scale_k (u_k . (x - mean)) u_k`
/// over the kept eigenvectors `u_k` of the training covariance. This equals
/// `U (L + eps)^(-1/2) U^T (x - mean)` over the full eigenbasis, because directions with
/// eigenvalue 0 get `1 / sqrt(eps)`. Directions whose eigenvalue is below `eps / 100`
/// are treated as 0: their factor differs from `1 / sqrt(eps)` by under 0.5%.
#[derive(Debug, Clone, PartialEq)]
pub struct Zca {
    /// The filter bias added to each eigenvalue.
    pub epsilon: f32,
    /// Mean of each input pixel.
    pub means: Vec<f32>,
    /// Kept eigenvectors, one row of 9216 values each.
    pub components: Vec<f32>,
    /// `(lambda_k + eps)^(-1/2) - eps^(-1/2)` for each kept eigenvector.
    pub scales: Vec<f32>,
}

impl Zca {
    /// Returns the number of kept eigenvectors.
    pub fn component_count(&self) -> usize {
        self.scales.len()
    }
}

/// Fitted preprocessing, applied to one image at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessor {
    /// Value that pixel 0 maps to.
    pub min: f32,
    /// Value that pixel 255 maps to.
    pub max: f32,
    /// Per-pixel standardization, when configured.
    pub standardize: Option<Standardize>,
    /// ZCA whitening, when configured.
    pub zca: Option<Zca>,
}

impl Default for Preprocessor {
    fn default() -> Self {
        Self::scaling(0.0, 1.0)
    }
}

impl Preprocessor {
    /// Returns a preprocessor that only scales pixels to `[min, max]`.
    pub fn scaling(min: f32, max: f32) -> Self {
        Self {
            min,
            max,
            standardize: None,
            zca: None,
        }
    }

    /// Fits the configured steps on `images` (row-major 96x96 images, one after
    /// another), which must be the training split only.
    pub fn fit(config: &PreprocessingConfig, images: &[u8]) -> Result<Self> {
        let (min, max) = config.range;
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(DataError::InvalidParameter {
                name: "pixel range",
                message: format!("[{min}, {max}] must be finite with min < max"),
            });
        }
        let count = images.len() / IMAGE_PIXELS;
        if count == 0 || !images.len().is_multiple_of(IMAGE_PIXELS) {
            return Err(DataError::InvalidParameter {
                name: "images",
                message: format!(
                    "{} bytes is not a positive number of 96x96 images",
                    images.len()
                ),
            });
        }

        let mut preprocessor = Self::scaling(min, max);

        if config.standardize {
            preprocessor.standardize = Some(fit_standardize(&preprocessor, images, count));
        }

        if let Some(epsilon) = config.zca_epsilon {
            if !(epsilon.is_finite() && epsilon > 0.0) {
                return Err(DataError::InvalidParameter {
                    name: "ZCA epsilon",
                    message: format!("{epsilon} must be positive"),
                });
            }
            preprocessor.zca = Some(fit_zca(&preprocessor, images, count, epsilon));
        }

        Ok(preprocessor)
    }

    /// Writes the preprocessed pixels of one 96x96 image into `out`.
    pub fn apply(&self, pixels: &[u8], out: &mut [f32]) {
        debug_assert_eq!(pixels.len(), IMAGE_PIXELS);
        debug_assert_eq!(out.len(), IMAGE_PIXELS);

        let step = (self.max - self.min) / 255.0;
        for (value, &pixel) in out.iter_mut().zip(pixels) {
            *value = self.min + step * f32::from(pixel);
        }

        if let Some(standardize) = &self.standardize {
            for ((value, mean), stdv) in out
                .iter_mut()
                .zip(&standardize.means)
                .zip(&standardize.stdvs)
            {
                *value = (*value - mean) / stdv;
            }
        }

        if let Some(zca) = &self.zca {
            apply_zca(zca, out);
        }
    }

    /// Saves the preprocessor as a safetensors file at `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut metadata = HashMap::new();
        metadata.insert("format".to_string(), "fkd-preprocessor".to_string());
        metadata.insert("min".to_string(), self.min.to_string());
        metadata.insert("max".to_string(), self.max.to_string());

        let mut arrays: Vec<(&str, Vec<usize>, &[f32])> = Vec::new();
        if let Some(standardize) = &self.standardize {
            arrays.push(("standardize.means", vec![IMAGE_PIXELS], &standardize.means));
            arrays.push(("standardize.stdvs", vec![IMAGE_PIXELS], &standardize.stdvs));
        }
        if let Some(zca) = &self.zca {
            metadata.insert("zca.epsilon".to_string(), zca.epsilon.to_string());
            let count = zca.component_count();
            arrays.push(("zca.means", vec![IMAGE_PIXELS], &zca.means));
            arrays.push(("zca.components", vec![count, IMAGE_PIXELS], &zca.components));
            arrays.push(("zca.scales", vec![count], &zca.scales));
        }

        let bytes: Vec<(&str, Vec<usize>, Vec<u8>)> = arrays
            .into_iter()
            .map(|(name, shape, values)| (name, shape, f32_bytes(values)))
            .collect();
        let mut views = Vec::with_capacity(bytes.len());
        for (name, shape, data) in &bytes {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).map_err(|error| {
                DataError::invalid(
                    crate::Location::file(path),
                    format!("cannot encode {name}: {error}"),
                )
            })?;
            views.push((*name, view));
        }

        let encoded = safetensors::serialize(views, Some(metadata)).map_err(|error| {
            DataError::invalid(
                crate::Location::file(path),
                format!("cannot encode: {error}"),
            )
        })?;
        crate::write_atomically(path, &encoded)
    }

    /// Loads a preprocessor saved by [`Preprocessor::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|error| DataError::io(path, error))?;
        let invalid = |message: String| DataError::invalid(crate::Location::file(path), message);

        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|error| invalid(format!("not a safetensors file: {error}")))?;
        let tensors = SafeTensors::deserialize(&bytes)
            .map_err(|error| invalid(format!("not a safetensors file: {error}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("format").map(String::as_str) != Some("fkd-preprocessor") {
            return Err(invalid(
                "not an fkd preprocessor file (metadata 'format' is missing)".into(),
            ));
        }
        let number = |key: &str| -> Result<f32> {
            metadata
                .get(key)
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| invalid(format!("metadata '{key}' is missing or not a number")))
        };
        let array = |name: &str, len: Option<usize>| -> Result<Vec<f32>> {
            let view = tensors
                .tensor(name)
                .map_err(|error| invalid(format!("array '{name}': {error}")))?;
            if view.dtype() != Dtype::F32 {
                return Err(invalid(format!(
                    "array '{name}' is {:?}, expected F32",
                    view.dtype()
                )));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|raw| f32::from_le_bytes(raw.try_into().expect("4 bytes")))
                .collect();
            if let Some(len) = len
                && values.len() != len
            {
                return Err(invalid(format!(
                    "array '{name}' has {} values, expected {len}",
                    values.len()
                )));
            }
            Ok(values)
        };

        let mut preprocessor = Self::scaling(number("min")?, number("max")?);
        if tensors.tensor("standardize.means").is_ok() {
            preprocessor.standardize = Some(Standardize {
                means: array("standardize.means", Some(IMAGE_PIXELS))?,
                stdvs: array("standardize.stdvs", Some(IMAGE_PIXELS))?,
            });
        }
        if metadata.contains_key("zca.epsilon") {
            let scales = array("zca.scales", None)?;
            preprocessor.zca = Some(Zca {
                epsilon: number("zca.epsilon")?,
                means: array("zca.means", Some(IMAGE_PIXELS))?,
                components: array("zca.components", Some(scales.len() * IMAGE_PIXELS))?,
                scales,
            });
        }
        Ok(preprocessor)
    }
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

/// Returns the scaled (and standardized, if fitted) pixels of each image, as f64 rows.
fn scaled_rows(preprocessor: &Preprocessor, images: &[u8], count: usize) -> Vec<Vec<f32>> {
    let mut rows = Vec::with_capacity(count);
    for image in images.chunks_exact(IMAGE_PIXELS).take(count) {
        let mut row = vec![0.0; IMAGE_PIXELS];
        preprocessor.apply(image, &mut row);
        rows.push(row);
    }
    rows
}

fn fit_standardize(scaling: &Preprocessor, images: &[u8], count: usize) -> Standardize {
    let mut sums = vec![0.0f64; IMAGE_PIXELS];
    let mut squares = vec![0.0f64; IMAGE_PIXELS];
    let mut row = vec![0.0f32; IMAGE_PIXELS];
    for image in images.chunks_exact(IMAGE_PIXELS) {
        scaling.apply(image, &mut row);
        for (pixel, &value) in row.iter().enumerate() {
            sums[pixel] += f64::from(value);
            squares[pixel] += f64::from(value) * f64::from(value);
        }
    }

    let n = count as f64;
    let means: Vec<f32> = sums.iter().map(|sum| (sum / n) as f32).collect();
    let stdvs = sums
        .iter()
        .zip(&squares)
        .map(|(sum, square)| {
            let variance = (square / n - (sum / n).powi(2)).max(0.0);
            let stdv = variance.sqrt();
            if stdv < 1e-6 { 1.0 } else { stdv as f32 }
        })
        .collect();
    Standardize { means, stdvs }
}

/// Fits ZCA through the eigendecomposition of the n x n Gram matrix of the centred
/// images, whose non-zero eigenvalues are those of the 9216x9216 covariance.
fn fit_zca(before: &Preprocessor, images: &[u8], count: usize, epsilon: f32) -> Zca {
    let fit_count = count.min(ZCA_MAX_FIT_IMAGES);
    let rows = scaled_rows(before, images, fit_count);

    let mut means = vec![0.0f64; IMAGE_PIXELS];
    for row in &rows {
        for (mean, &value) in means.iter_mut().zip(row) {
            *mean += f64::from(value);
        }
    }
    let means: Vec<f32> = means
        .iter()
        .map(|sum| (sum / fit_count as f64) as f32)
        .collect();

    // X: fit_count x 9216, centred.
    let centred = DMatrix::<f32>::from_fn(fit_count, IMAGE_PIXELS, |row, pixel| {
        rows[row][pixel] - means[pixel]
    });
    drop(rows);

    // Covariance C = X^T X / n and Gram G = X X^T / n share their non-zero eigenvalues,
    // and C's eigenvector for eigenvalue l is X^T v / sqrt(n l) for G's eigenvector v.
    let n = fit_count as f32;
    let gram = (&centred * centred.transpose()) / n;
    let eigen = SymmetricEigen::new(gram.map(f64::from));

    let threshold = f64::from(epsilon) / 100.0;
    let inverse_root_epsilon = 1.0 / f64::from(epsilon).sqrt();
    let mut components = Vec::new();
    let mut scales = Vec::new();
    for (index, &eigenvalue) in eigen.eigenvalues.iter().enumerate() {
        if eigenvalue <= threshold {
            continue;
        }
        let vector = eigen.eigenvectors.column(index).map(|value| value as f32);
        // X^T v has norm sqrt(n l) in exact arithmetic; dividing by the computed norm
        // keeps the component unit-length despite f32 rounding.
        let mut component = centred.tr_mul(&vector);
        let norm = component.norm();
        if norm == 0.0 {
            continue;
        }
        component /= norm;
        components.extend(component.iter());
        scales.push((1.0 / (eigenvalue + f64::from(epsilon)).sqrt() - inverse_root_epsilon) as f32);
    }

    tracing::info!(
        images = fit_count,
        components = scales.len(),
        epsilon,
        "fitted ZCA whitening"
    );
    Zca {
        epsilon,
        means,
        components,
        scales,
    }
}

fn apply_zca(zca: &Zca, values: &mut [f32]) {
    for (value, mean) in values.iter_mut().zip(&zca.means) {
        *value -= mean;
    }

    let projections: Vec<f32> = zca
        .components
        .chunks_exact(IMAGE_PIXELS)
        .map(|component| {
            component
                .iter()
                .zip(values.iter())
                .map(|(u, x)| u * x)
                .sum()
        })
        .collect();

    let inverse_root_epsilon = 1.0 / zca.epsilon.sqrt();
    for value in values.iter_mut() {
        *value *= inverse_root_epsilon;
    }
    for ((component, projection), scale) in zca
        .components
        .chunks_exact(IMAGE_PIXELS)
        .zip(&projections)
        .zip(&zca.scales)
    {
        let weight = projection * scale;
        for (value, u) in values.iter_mut().zip(component) {
            *value += weight * u;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(count: usize) -> Vec<u8> {
        (0..count * IMAGE_PIXELS)
            .map(|i| ((i * 31 + i / IMAGE_PIXELS * 17) % 256) as u8)
            .collect()
    }

    #[test]
    fn scaling_maps_0_and_255_to_range() {
        let preprocessor = Preprocessor::scaling(-1.0, 1.0);
        let mut pixels = vec![0u8; IMAGE_PIXELS];
        pixels[1] = 255;
        pixels[2] = 51;
        let mut out = vec![0.0; IMAGE_PIXELS];
        preprocessor.apply(&pixels, &mut out);
        assert_eq!(out[0], -1.0);
        assert_eq!(out[1], 1.0);
        assert!((out[2] - -0.6).abs() < 1e-6, "{}", out[2]);
    }

    #[test]
    fn standardize_centres_training_pixels() {
        let mut data = vec![0u8; 2 * IMAGE_PIXELS];
        data[IMAGE_PIXELS..].fill(255);
        data[IMAGE_PIXELS + 5] = 0;
        let config = PreprocessingConfig {
            standardize: true,
            ..Default::default()
        };
        let preprocessor = Preprocessor::fit(&config, &data).unwrap();
        let standardize = preprocessor.standardize.as_ref().unwrap();
        assert_eq!(standardize.means[0], 0.5);
        assert!((standardize.stdvs[0] - 0.5).abs() < 1e-6);
        // Pixel 5 is 0 in both images: it never varies and keeps a stdv of 1.
        assert_eq!(standardize.stdvs[5], 1.0);

        let mut out = vec![0.0; IMAGE_PIXELS];
        preprocessor.apply(&data[..IMAGE_PIXELS], &mut out);
        assert!((out[0] - -1.0).abs() < 1e-6);
        assert_eq!(out[5], 0.0);
    }

    #[test]
    fn zca_whitens_training_covariance() {
        let count = 12;
        let data = images(count);
        let config = PreprocessingConfig {
            zca_epsilon: Some(1e-3),
            ..Default::default()
        };
        let preprocessor = Preprocessor::fit(&config, &data).unwrap();
        let zca = preprocessor.zca.as_ref().unwrap();
        assert!(zca.component_count() > 0);
        assert!(zca.component_count() < count);

        // Along each kept eigenvector u with eigenvalue l, whitened data has variance
        // l / (l + eps), so the projected variance sums to below the component count.
        let mut outputs = Vec::new();
        for image in data.chunks_exact(IMAGE_PIXELS) {
            let mut out = vec![0.0; IMAGE_PIXELS];
            preprocessor.apply(image, &mut out);
            outputs.push(out);
        }
        let first = &zca.components[..IMAGE_PIXELS];
        let norm: f32 = first.iter().map(|u| u * u).sum();
        assert!((norm - 1.0).abs() < 1e-3, "{norm}");
        let variance: f32 = outputs
            .iter()
            .map(|out| {
                out.iter()
                    .zip(first)
                    .map(|(x, u)| x * u)
                    .sum::<f32>()
                    .powi(2)
            })
            .sum::<f32>()
            / count as f32;
        assert!(variance > 0.9, "{variance}");
        assert!(variance <= 1.0 + 1e-3, "{variance}");
    }

    #[test]
    fn save_and_load_round_trip() {
        let data = images(6);
        let config = PreprocessingConfig {
            range: (-1.0, 1.0),
            standardize: true,
            zca_epsilon: Some(0.1),
        };
        let preprocessor = Preprocessor::fit(&config, &data).unwrap();
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("preprocessing.safetensors");

        preprocessor.save(&path).unwrap();
        let loaded = Preprocessor::load(&path).unwrap();

        assert_eq!(loaded, preprocessor);
    }

    #[test]
    fn fit_rejects_bad_range() {
        let config = PreprocessingConfig {
            range: (1.0, 1.0),
            ..Default::default()
        };
        let error = Preprocessor::fit(&config, &images(1))
            .unwrap_err()
            .to_string();
        assert!(error.contains("min < max"), "{error}");
    }
}
