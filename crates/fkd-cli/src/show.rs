//! `fkd-cli show`: a contact sheet of training faces with their labelled keypoints as
//! dots and, given a run, its predicted keypoints as crosses.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Result, bail};
use clap::Args;
use fkd_data::{IMAGE_SIDE, KaggleFiles, Keypoints, NUM_COORDS, load_training, resolve_data_dir};
use image::{Rgb, RgbImage};

use crate::device::DeviceSpec;
use crate::draw::{
    CENTRE_COLOUR, GLYPH_SIDE, LEFT_COLOUR, Marker, RIGHT_COLOUR, draw_keypoints, draw_label,
    draw_present_keypoints,
};
use crate::images::write_png;
use crate::predictor::{CheckpointArg, Predictor};

/// Most faces on one sheet.
pub const MAX_FACES: usize = 400;

/// Pixels between faces and around the sheet.
const GAP: u32 = 4;

/// Height of the legend strip under the faces, in pixels.
const LEGEND_HEIGHT: u32 = GLYPH_SIDE + 2 * GAP;

const BACKGROUND: Rgb<u8> = Rgb([40, 40, 40]);
const TEXT: Rgb<u8> = Rgb([255, 255, 255]);
const LABEL_BACKGROUND: Rgb<u8> = Rgb([0, 0, 0]);

/// Options of `fkd-cli show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Directory with training.csv [default: the run's data directory with --run, else
    /// $FKD_DATA_DIR, else ./data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Rows of training.csv to show: A..B, 0-based, B excluded.
    #[arg(long, default_value = "0..16", value_name = "A..B")]
    pub rows: RowRange,

    /// Run directory whose predictions to draw as crosses.
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,

    /// Checkpoint to load: best (lowest validation MSE) or last.
    #[arg(long, value_enum, default_value = "best")]
    pub checkpoint: CheckpointArg,

    /// Device: cpu (burn's flex backend), tch-cpu (libtorch CPU) or cuda:N (0-based).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,

    /// Faces per row of the sheet [default: the square root of the number of faces,
    /// rounded up].
    #[arg(long)]
    pub columns: Option<usize>,

    /// Magnification of each 96x96 face (sheet pixels per face pixel, 1 to 8).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub scale: u32,

    /// PNG file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// A half-open range of rows `A..B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRange {
    /// First row, 0-based.
    pub start: usize,
    /// One past the last row.
    pub end: usize,
}

impl FromStr for RowRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected A..B with 0-based rows and A < B, such as '0..16'";
        let Some((start, end)) = text.split_once("..") else {
            return Err(format!("'{text}' is not a range; {expected}"));
        };
        let parse = |value: &str| {
            value
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("'{value}' in '{text}' is not a row number; {expected}"))
        };
        let (start, end) = (parse(start)?, parse(end)?);
        if start >= end {
            return Err(format!("'{text}' is empty; {expected}"));
        }
        if end - start > MAX_FACES {
            return Err(format!(
                "'{text}' has {} rows, more than the {MAX_FACES} a sheet shows",
                end - start
            ));
        }
        Ok(Self { start, end })
    }
}

/// Runs `fkd-cli show`.
pub fn run(args: &ShowArgs) -> Result<()> {
    let predictor = match &args.run {
        Some(run) => Some(Predictor::load(run, args.checkpoint, &args.device)?),
        None => None,
    };
    let data_dir = match (&args.data, &predictor) {
        (Some(data), _) => data.clone(),
        (None, Some(predictor)) => predictor.config.data.data_dir.clone(),
        (None, None) => resolve_data_dir(None),
    };
    let files = KaggleFiles::in_dir(&data_dir);
    if !files.training.is_file() {
        bail!(
            "{} not found; run `cargo xtask fetch-data` or pass --data DIR",
            files.training.display()
        );
    }

    let training = load_training(&files.training)?;
    if args.rows.end > training.len() {
        bail!(
            "rows {}..{} reach past the {} rows of {}",
            args.rows.start,
            args.rows.end,
            training.len(),
            files.training.display()
        );
    }
    let rows: Vec<usize> = (args.rows.start..args.rows.end).collect();

    let predictions = predictor.map(|predictor| {
        let faces: Vec<&[u8]> = rows.iter().map(|&row| training.image(row)).collect();
        predictor.predict(&faces)
    });

    let columns = args
        .columns
        .unwrap_or_else(|| (rows.len() as f64).sqrt().ceil() as usize)
        .clamp(1, rows.len());
    let mut sheet = blank_sheet(rows.len(), columns, args.scale);
    for (index, &row) in rows.iter().enumerate() {
        let tile = Tile::at(index, columns, args.scale);
        tile.draw_face(&mut sheet, training.image(row));
        // Predictions first, so the labels' dots stay visible where the two overlap.
        if let Some(predictions) = &predictions {
            tile.draw_prediction(&mut sheet, &predictions[index]);
        }
        tile.draw_labels(&mut sheet, &training.keypoints[row]);
        draw_label(
            &mut sheet,
            i64::from(tile.left) + 2,
            i64::from(tile.top) + 2,
            &format!("row {row}"),
            TEXT,
            LABEL_BACKGROUND,
        );
    }
    draw_legend(&mut sheet, predictions.is_some());

    write_png(&sheet, &args.out)?;
    tracing::info!(
        "wrote {} faces (rows {}..{}) to {}",
        rows.len(),
        args.rows.start,
        args.rows.end,
        args.out.display()
    );
    Ok(())
}

/// Returns an empty sheet for `count` faces in `columns` columns, with the legend strip.
fn blank_sheet(count: usize, columns: usize, scale: u32) -> RgbImage {
    let side = IMAGE_SIDE as u32 * scale;
    let rows = count.div_ceil(columns) as u32;
    let width = GAP + columns as u32 * (side + GAP);
    let height = GAP + rows * (side + GAP) + LEGEND_HEIGHT;
    RgbImage::from_pixel(width, height, BACKGROUND)
}

/// Writes what the markers mean at the bottom of the sheet.
fn draw_legend(sheet: &mut RgbImage, with_predictions: bool) {
    let y = i64::from(sheet.height() - LEGEND_HEIGHT + GAP);
    let mut x = i64::from(GAP);
    let markers = if with_predictions {
        "dots: labels, crosses: predictions;"
    } else {
        "dots: labels;"
    };
    let entries = [
        (markers, TEXT),
        ("subject's left", LEFT_COLOUR),
        ("right", RIGHT_COLOUR),
        ("centre", CENTRE_COLOUR),
    ];
    for (text, colour) in entries {
        draw_label(sheet, x, y, text, colour, BACKGROUND);
        x += (text.len() as i64 + 1) * i64::from(GLYPH_SIDE);
    }
}

/// The place of one face on the sheet.
struct Tile {
    left: u32,
    top: u32,
    scale: u32,
}

impl Tile {
    fn at(index: usize, columns: usize, scale: u32) -> Self {
        let side = IMAGE_SIDE as u32 * scale;
        Self {
            left: GAP + (index % columns) as u32 * (side + GAP),
            top: GAP + (index / columns) as u32 * (side + GAP),
            scale,
        }
    }

    /// Copies the face's grayscale pixels, each as a `scale` x `scale` block.
    fn draw_face(&self, sheet: &mut RgbImage, pixels: &[u8]) {
        for (index, &value) in pixels.iter().enumerate() {
            let (column, row) = ((index % IMAGE_SIDE) as u32, (index / IMAGE_SIDE) as u32);
            for dy in 0..self.scale {
                for dx in 0..self.scale {
                    let x = self.left + column * self.scale + dx;
                    let y = self.top + row * self.scale + dy;
                    sheet.put_pixel(x, y, Rgb([value, value, value]));
                }
            }
        }
    }

    /// Maps coordinate `coordinate` (even: x, odd: y) of a face to the sheet: the
    /// centre of face pixel i is the centre of its block.
    fn to_sheet(&self, coordinate: usize, value: f32) -> f32 {
        let offset = if coordinate.is_multiple_of(2) {
            self.left
        } else {
            self.top
        };
        offset as f32 + (value + 0.5) * self.scale as f32 - 0.5
    }

    fn draw_labels(&self, sheet: &mut RgbImage, keypoints: &Keypoints) {
        let mut mapped = Keypoints::MISSING;
        for (coordinate, value) in keypoints.0.iter().enumerate() {
            mapped.0[coordinate] = value.map(|value| self.to_sheet(coordinate, value));
        }
        draw_present_keypoints(sheet, &mapped, Marker::Dot, self.marker_radius());
    }

    fn draw_prediction(&self, sheet: &mut RgbImage, prediction: &[f32; NUM_COORDS]) {
        let mut mapped = [0.0; NUM_COORDS];
        for (coordinate, value) in prediction.iter().enumerate() {
            mapped[coordinate] = self.to_sheet(coordinate, *value);
        }
        draw_keypoints(sheet, &mapped, Marker::Cross, self.marker_radius());
    }

    fn marker_radius(&self) -> f64 {
        f64::from(self.scale).max(2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_range_parses() {
        assert_eq!(
            "0..16".parse::<RowRange>(),
            Ok(RowRange { start: 0, end: 16 })
        );
        assert_eq!(
            "100..104".parse::<RowRange>(),
            Ok(RowRange {
                start: 100,
                end: 104
            })
        );
    }

    #[test]
    fn row_range_errors() {
        assert_eq!(
            "5".parse::<RowRange>().unwrap_err(),
            "'5' is not a range; expected A..B with 0-based rows and A < B, such as '0..16'"
        );
        assert_eq!(
            "8..8".parse::<RowRange>().unwrap_err(),
            "'8..8' is empty; expected A..B with 0-based rows and A < B, such as '0..16'"
        );
        assert_eq!(
            "a..8".parse::<RowRange>().unwrap_err(),
            "'a' in 'a..8' is not a row number; expected A..B with 0-based rows and A < B, \
             such as '0..16'"
        );
        assert_eq!(
            "0..401".parse::<RowRange>().unwrap_err(),
            "'0..401' has 401 rows, more than the 400 a sheet shows"
        );
    }

    #[test]
    fn sheet_size() {
        let sheet = blank_sheet(16, 4, 2);

        assert_eq!(sheet.width(), 4 + 4 * (192 + 4));
        assert_eq!(sheet.height(), 4 + 4 * (192 + 4) + LEGEND_HEIGHT);
    }

    #[test]
    fn tile_maps_pixel_centres() {
        let tile = Tile::at(5, 4, 3);

        assert_eq!((tile.left, tile.top), (4 + 292, 4 + 292));
        assert_eq!(tile.to_sheet(0, 0.0), 296.0 + 1.0);
        assert_eq!(tile.to_sheet(1, 95.0), 296.0 + 286.0);
        assert_eq!(tile.to_sheet(2, -0.5), 296.0 - 0.5);
    }
}
