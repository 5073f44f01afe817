//! `fkd-cli predict`: keypoints of faces in image files, in the images' own pixel
//! coordinates, as CSV or JSON, with optional overlay pictures.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use fkd_data::NUM_COORDS;
use fkd_data::keypoints::{COORDINATE_NAMES, KEYPOINT_NAMES};
use image::RgbImage;
use serde::Serialize;

use crate::device::DeviceSpec;
use crate::draw::{Marker, draw_keypoints, marker_radius};
use crate::images::{Crop, Face, face_from_image, read_image, write_png};
use crate::predictor::{CheckpointArg, Predictor};

/// Number of image files decoded and predicted together. It bounds the decoded images
/// held in memory at once.
const FILES_PER_CHUNK: usize = 64;

/// Options of `fkd-cli predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Run directory written by `fkd-cli train`.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,

    /// Checkpoint to load: best (lowest validation MSE) or last.
    #[arg(long, value_enum, default_value = "best")]
    pub checkpoint: CheckpointArg,

    /// Device: cpu (burn's flex backend), tch-cpu (libtorch CPU) or cuda:N (0-based).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,

    /// Region X,Y,W,H (left, top, width, height in pixels) of every image to use as the
    /// face. Without it, the whole image is resized to 96x96.
    #[arg(long, value_name = "X,Y,W,H")]
    pub crop: Option<Crop>,

    /// Output format on stdout: csv (`file` then the 30 coordinate columns) or json.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutputFormat,

    /// Directory in which to write each image as PNG with its predicted keypoints drawn
    /// (created if missing).
    #[arg(long, value_name = "DIR")]
    pub overlay: Option<PathBuf>,

    /// Image files. Their format is recognized by content, not by extension.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

/// Output formats of `fkd-cli predict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One CSV row per image: `file` then the 30 coordinate columns, in pixels.
    Csv,
    /// A JSON array with one object per image: its file, size and 15 named keypoints.
    Json,
}

/// The prediction for one image file, as JSON writes it.
#[derive(Debug, Serialize)]
struct ImagePrediction {
    file: String,
    width: u32,
    height: u32,
    keypoints: Vec<NamedKeypoint>,
}

/// One keypoint in the image's pixel coordinates.
#[derive(Debug, Serialize)]
struct NamedKeypoint {
    name: &'static str,
    x: f32,
    y: f32,
}

/// An image that decoded, with its face and original picture.
struct Decoded {
    path: PathBuf,
    image: RgbImage,
    face: Face,
}

/// Runs `fkd-cli predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let predictor = Predictor::load(&args.run, args.checkpoint, &args.device)?;
    if let Some(directory) = &args.overlay {
        std::fs::create_dir_all(directory).with_context(|| {
            format!(
                "cannot create the overlay directory {}",
                directory.display()
            )
        })?;
    }

    let stdout = std::io::stdout();
    let mut csv = csv::Writer::from_writer(stdout.lock());
    if args.format == OutputFormat::Csv {
        let mut header = vec!["file"];
        header.extend(COORDINATE_NAMES);
        csv.write_record(&header)?;
        csv.flush()?;
    }

    let mut json = Vec::new();
    let mut overlay_names = HashSet::new();
    let mut failed = 0usize;
    for chunk in args.images.chunks(FILES_PER_CHUNK) {
        let mut decoded = Vec::with_capacity(chunk.len());
        for path in chunk {
            match read_image(path).and_then(|image| {
                let face = face_from_image(&image, args.crop)
                    .with_context(|| path.display().to_string())?;
                Ok(Decoded {
                    path: path.clone(),
                    image,
                    face,
                })
            }) {
                Ok(item) => decoded.push(item),
                Err(error) => {
                    eprintln!("error: {error:#}");
                    failed += 1;
                }
            }
        }

        let faces: Vec<&[u8]> = decoded
            .iter()
            .map(|item| item.face.pixels.as_slice())
            .collect();
        let predictions = predictor.predict(&faces);

        for (item, prediction) in decoded.iter().zip(&predictions) {
            let coordinates = item.face.frame.coordinates_to_original(prediction);
            let file = item.path.display().to_string();
            match args.format {
                OutputFormat::Csv => {
                    let mut record = vec![file];
                    record.extend(coordinates.iter().map(|value| format!("{value:.3}")));
                    csv.write_record(&record)?;
                    csv.flush()?;
                }
                OutputFormat::Json => json.push(image_prediction(file, &item.image, &coordinates)),
            }

            if let Some(directory) = &args.overlay {
                let target = overlay_path(directory, &item.path, &mut overlay_names);
                match write_overlay(&item.image, &coordinates, &target) {
                    Ok(()) => tracing::info!(
                        "wrote the overlay of {} to {}",
                        item.path.display(),
                        target.display()
                    ),
                    Err(error) => {
                        eprintln!("error: {}: {error:#}", item.path.display());
                        failed += 1;
                    }
                }
            }
        }
    }

    if args.format == OutputFormat::Json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    }

    if failed > 0 {
        bail!(
            "{failed} of {} image files failed (see the errors above)",
            args.images.len()
        );
    }
    Ok(())
}

fn image_prediction(
    file: String,
    image: &RgbImage,
    coordinates: &[f32; NUM_COORDS],
) -> ImagePrediction {
    let keypoints = KEYPOINT_NAMES
        .iter()
        .enumerate()
        .map(|(keypoint, &name)| NamedKeypoint {
            name,
            x: coordinates[2 * keypoint],
            y: coordinates[2 * keypoint + 1],
        })
        .collect();
    ImagePrediction {
        file,
        width: image.width(),
        height: image.height(),
        keypoints,
    }
}

/// Returns `<directory>/<file stem>.png`, with `-2`, `-3`... appended to the stem when
/// an earlier image of this run already took that name.
fn overlay_path(directory: &Path, image: &Path, taken: &mut HashSet<PathBuf>) -> PathBuf {
    let stem = image
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".to_string());
    let mut candidate = directory.join(format!("{stem}.png"));
    let mut number = 2;
    while taken.contains(&candidate) {
        candidate = directory.join(format!("{stem}-{number}.png"));
        number += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Writes `image` with `coordinates` drawn as dots to `path`.
fn write_overlay(image: &RgbImage, coordinates: &[f32; NUM_COORDS], path: &Path) -> Result<()> {
    let mut overlay = image.clone();
    let radius = marker_radius(image.width(), image.height());
    draw_keypoints(&mut overlay, coordinates, Marker::Dot, radius);
    write_png(&overlay, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_names_unique() {
        let mut taken = HashSet::new();
        let directory = Path::new("out");

        let first = overlay_path(directory, Path::new("a/face.jpg"), &mut taken);
        let second = overlay_path(directory, Path::new("b/face.png"), &mut taken);
        let third = overlay_path(directory, Path::new("face"), &mut taken);

        assert_eq!(first, Path::new("out/face.png"));
        assert_eq!(second, Path::new("out/face-2.png"));
        assert_eq!(third, Path::new("out/face-3.png"));
    }
}
