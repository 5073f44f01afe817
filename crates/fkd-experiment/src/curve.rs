//! The learning curve: `learning-curve.png` beside `metrics.csv`, redrawn after every
//! epoch.
//!
//! The picture plots the keypoint MSE per epoch on a log scale: training MSE in blue,
//! validation MSE in orange, the mean baseline's validation MSE as a dashed grey
//! horizontal line, and the best epoch as a green vertical line. Labels use an 8x8
//! bitmap font, so no system font is needed.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use fkd_data::write_atomically;
use image::{ImageFormat, Rgb, RgbImage};

use crate::error::{ExperimentError, Result};
use crate::events::{Control, EpochReport, Event, Observer};
use crate::raster::{Dash, GLYPH_SIDE, draw_disc, draw_line, draw_text, text_width};
use crate::run_dir::RunDirectory;

/// File name of the learning curve in a run directory.
pub const LEARNING_CURVE_FILE: &str = "learning-curve.png";

/// Width of the picture, in pixels.
pub const CURVE_WIDTH: u32 = 800;

/// Height of the picture, in pixels.
pub const CURVE_HEIGHT: u32 = 480;

/// Colour of the training MSE line.
pub const TRAIN_COLOUR: Rgb<u8> = Rgb([31, 119, 180]);

/// Colour of the validation MSE line.
pub const VALID_COLOUR: Rgb<u8> = Rgb([255, 127, 14]);

/// Colour of the baseline's dashed line.
pub const BASELINE_COLOUR: Rgb<u8> = Rgb([110, 110, 110]);

/// Colour of the best epoch's vertical line.
pub const BEST_COLOUR: Rgb<u8> = Rgb([44, 160, 44]);

const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
const TEXT: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

/// The plot area, in pixels of the picture.
const PLOT_LEFT: f64 = 72.0;
const PLOT_RIGHT: f64 = CURVE_WIDTH as f64 - 24.0;
const PLOT_TOP: f64 = 56.0;
const PLOT_BOTTOM: f64 = CURVE_HEIGHT as f64 - 48.0;

/// The values of one epoch that the curve plots, in square pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Keypoint MSE of the training pass.
    pub train_mse: Option<f64>,
    /// Keypoint MSE on the validation split.
    pub valid_mse: Option<f64>,
    /// The mean baseline's MSE on the validation split.
    pub baseline_mse: Option<f64>,
}

impl CurvePoint {
    /// Returns the point of an epoch's report.
    pub fn from_report(report: &EpochReport) -> Self {
        Self {
            epoch: report.epoch,
            train_mse: report.train.model.map(|error| error.mse),
            valid_mse: report.valid.model.map(|error| error.mse),
            baseline_mse: report.valid.baseline.map(|error| error.mse),
        }
    }
}

/// Redraws `learning-curve.png` after every epoch.
///
/// A failed write is logged as a warning and does not stop the run, because the next
/// epoch rewrites the whole picture.
#[derive(Debug)]
pub struct LearningCurve {
    path: PathBuf,
    points: Vec<CurvePoint>,
}

impl LearningCurve {
    /// Creates the curve of `run`. On resume it starts from the rows of `metrics.csv` up
    /// to and including epoch `last_epoch`.
    pub fn new(run: &RunDirectory, last_epoch: usize) -> Self {
        let points = read_metrics_points(&run.metrics_path(), last_epoch);
        Self {
            path: run.file(LEARNING_CURVE_FILE),
            points,
        }
    }

    /// Returns the path of the picture.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the points plotted so far, in epoch order.
    pub fn points(&self) -> &[CurvePoint] {
        &self.points
    }

    /// Adds the point of `point.epoch`, replacing an earlier one of that epoch, and
    /// rewrites the picture.
    pub fn record(&mut self, point: CurvePoint, best_epoch: Option<usize>) -> Result<()> {
        self.points.retain(|existing| existing.epoch != point.epoch);
        self.points.push(point);
        self.points.sort_by_key(|point| point.epoch);

        let picture = render_learning_curve(&self.points, best_epoch);
        let mut bytes = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .map_err(|error| ExperimentError::checkpoint(&self.path, error.to_string()))?;
        write_atomically(&self.path, &bytes)?;
        Ok(())
    }
}

impl Observer for LearningCurve {
    fn on_event(&mut self, event: &Event<'_>) -> Result<Control> {
        if let Event::EpochDone(context) = event {
            let point = CurvePoint::from_report(context.report);
            if let Err(error) = self.record(point, context.state.best_epoch) {
                tracing::warn!(
                    "cannot write the learning curve {}: {error}",
                    self.path.display()
                );
            }
        }
        Ok(Control::Continue)
    }
}

/// Reads the points of epochs up to `last_epoch` from a `metrics.csv`, finding the
/// columns by header name. A missing file gives no points, and a row that does not
/// parse is skipped with a warning.
fn read_metrics_points(path: &Path, last_epoch: usize) -> Vec<CurvePoint> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.split(',').collect();
    let column = |name: &str| columns.iter().position(|column| *column == name);
    let (Some(epoch), Some(train), Some(valid), Some(baseline)) = (
        column("epoch"),
        column("train_mse"),
        column("valid_mse"),
        column("baseline_mse"),
    ) else {
        tracing::warn!(
            "{}: header has no epoch, train_mse, valid_mse or baseline_mse column; \
             the learning curve starts empty",
            path.display()
        );
        return Vec::new();
    };

    let mut points = Vec::new();
    for (index, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let value = |column: usize| -> std::result::Result<Option<f64>, ()> {
            match fields.get(column) {
                Some(&"") => Ok(None),
                Some(field) => field.parse().map(Some).map_err(|_| ()),
                None => Err(()),
            }
        };
        let parsed = fields
            .get(epoch)
            .and_then(|field| field.parse::<usize>().ok())
            .ok_or(())
            .and_then(|epoch| {
                Ok(CurvePoint {
                    epoch,
                    train_mse: value(train)?,
                    valid_mse: value(valid)?,
                    baseline_mse: value(baseline)?,
                })
            });
        match parsed {
            Ok(point) if point.epoch <= last_epoch => points.push(point),
            Ok(_) => {}
            Err(()) => tracing::warn!(
                "{} line {}: invalid metrics row '{line}', left out of the learning curve",
                path.display(),
                index + 2
            ),
        }
    }
    points.sort_by_key(|point| point.epoch);
    points
}

/// Draws the learning curve of `points` (in epoch order), marking `best_epoch`.
pub fn render_learning_curve(points: &[CurvePoint], best_epoch: Option<usize>) -> RgbImage {
    let mut image = RgbImage::from_pixel(CURVE_WIDTH, CURVE_HEIGHT, BACKGROUND);
    draw_text(
        &mut image,
        PLOT_LEFT as i64,
        8,
        "keypoint MSE per epoch (square pixels, log scale)",
        TEXT,
    );
    draw_legend(&mut image, best_epoch);

    let values: Vec<f64> = points
        .iter()
        .flat_map(|point| [point.train_mse, point.valid_mse, point.baseline_mse])
        .flatten()
        .filter(|value| value.is_finite() && *value > 0.0)
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        draw_frame(&mut image);
        draw_text(&mut image, 300, 240, "no epochs yet", TEXT);
        return image;
    };
    if values.is_empty() {
        draw_frame(&mut image);
        draw_text(&mut image, 300, 240, "no MSE values", TEXT);
        return image;
    }

    let x_axis = EpochAxis::new(first.epoch, last.epoch);
    let y_axis = LogAxis::new(&values);
    draw_grid(&mut image, &x_axis, &y_axis);

    if let Some(baseline) = points.iter().rev().find_map(|point| point.baseline_mse)
        && let Some(y) = y_axis.pixel(baseline)
    {
        draw_line(
            &mut image,
            (PLOT_LEFT, y),
            (PLOT_RIGHT, y),
            2,
            Some(Dash { on: 8.0, off: 6.0 }),
            BASELINE_COLOUR,
        );
    }

    if let Some(best) = best_epoch
        && (first.epoch..=last.epoch).contains(&best)
    {
        let x = x_axis.pixel(best);
        draw_line(
            &mut image,
            (x, PLOT_TOP),
            (x, PLOT_BOTTOM),
            1,
            None,
            BEST_COLOUR,
        );
        let best_valid = points
            .iter()
            .find(|point| point.epoch == best)
            .and_then(|point| point.valid_mse)
            .and_then(|mse| y_axis.pixel(mse));
        if let Some(y) = best_valid {
            draw_disc(&mut image, (x, y), 6.0, BEST_COLOUR);
        }
    }

    let train: Vec<(usize, Option<f64>)> = points
        .iter()
        .map(|point| (point.epoch, point.train_mse))
        .collect();
    let valid: Vec<(usize, Option<f64>)> = points
        .iter()
        .map(|point| (point.epoch, point.valid_mse))
        .collect();
    draw_frame(&mut image);
    draw_series(&mut image, &x_axis, &y_axis, &train, TRAIN_COLOUR);
    draw_series(&mut image, &x_axis, &y_axis, &valid, VALID_COLOUR);
    image
}

/// Draws the legend line under the title: a sample of each line and its name.
fn draw_legend(image: &mut RgbImage, best_epoch: Option<usize>) {
    let best = match best_epoch {
        Some(epoch) => format!("best epoch ({epoch})"),
        None => "best epoch".to_string(),
    };
    let entries = [
        ("train", TRAIN_COLOUR, None),
        ("valid", VALID_COLOUR, None),
        (
            "baseline (valid)",
            BASELINE_COLOUR,
            Some(Dash { on: 5.0, off: 4.0 }),
        ),
        (best.as_str(), BEST_COLOUR, None),
    ];

    let y = 28;
    let mut x = PLOT_LEFT as i64;
    for (label, colour, dash) in entries {
        let middle = (y + GLYPH_SIDE / 2) as f64;
        draw_line(
            image,
            (x as f64, middle),
            (x as f64 + 24.0, middle),
            2,
            dash,
            colour,
        );
        draw_text(image, x + 30, y, label, TEXT);
        x += 30 + text_width(label) + 24;
    }
}

/// Draws the rectangle around the plot area.
fn draw_frame(image: &mut RgbImage) {
    let corners = [
        (PLOT_LEFT, PLOT_TOP),
        (PLOT_RIGHT, PLOT_TOP),
        (PLOT_RIGHT, PLOT_BOTTOM),
        (PLOT_LEFT, PLOT_BOTTOM),
    ];
    for side in 0..4 {
        draw_line(image, corners[side], corners[(side + 1) % 4], 1, None, TEXT);
    }
}

/// Draws grid lines, ticks and tick labels of both axes, and the x axis's name.
fn draw_grid(image: &mut RgbImage, x_axis: &EpochAxis, y_axis: &LogAxis) {
    for epoch in x_axis.ticks() {
        let x = x_axis.pixel(epoch);
        draw_line(image, (x, PLOT_TOP), (x, PLOT_BOTTOM), 1, None, GRID);
        draw_line(
            image,
            (x, PLOT_BOTTOM),
            (x, PLOT_BOTTOM + 5.0),
            1,
            None,
            TEXT,
        );
        let label = epoch.to_string();
        let left = x.round() as i64 - text_width(&label) / 2;
        draw_text(image, left, PLOT_BOTTOM as i64 + 10, &label, TEXT);
    }
    let name = "epoch";
    let centre = ((PLOT_LEFT + PLOT_RIGHT) / 2.0) as i64;
    draw_text(
        image,
        centre - text_width(name) / 2,
        PLOT_BOTTOM as i64 + 28,
        name,
        TEXT,
    );

    for value in y_axis.ticks() {
        let Some(y) = y_axis.pixel(value) else {
            continue;
        };
        draw_line(image, (PLOT_LEFT, y), (PLOT_RIGHT, y), 1, None, GRID);
        draw_line(image, (PLOT_LEFT - 5.0, y), (PLOT_LEFT, y), 1, None, TEXT);
        let label = format_tick(value);
        let left = PLOT_LEFT as i64 - 10 - text_width(&label);
        draw_text(image, left, y.round() as i64 - GLYPH_SIDE / 2, &label, TEXT);
    }
}

/// Draws a line through the present values of `series` (epoch, value), broken where a
/// value is missing, with a dot at every value.
fn draw_series(
    image: &mut RgbImage,
    x_axis: &EpochAxis,
    y_axis: &LogAxis,
    series: &[(usize, Option<f64>)],
    colour: Rgb<u8>,
) {
    let pixels: Vec<Option<(f64, f64)>> = series
        .iter()
        .map(|&(epoch, value)| {
            let y = value.and_then(|value| y_axis.pixel(value))?;
            Some((x_axis.pixel(epoch), y))
        })
        .collect();

    for pair in pixels.windows(2) {
        if let (Some(from), Some(to)) = (pair[0], pair[1]) {
            draw_line(image, from, to, 2, None, colour);
        }
    }
    for pixel in pixels.iter().flatten() {
        draw_disc(image, *pixel, 3.0, colour);
    }
}

/// The x axis: epochs mapped linearly onto the plot's width.
struct EpochAxis {
    first: f64,
    last: f64,
}

impl EpochAxis {
    /// Spans `first..=last`, widened by half an epoch on each side when they are equal.
    fn new(first: usize, last: usize) -> Self {
        if first == last {
            return Self {
                first: first as f64 - 0.5,
                last: last as f64 + 0.5,
            };
        }
        Self {
            first: first as f64,
            last: last as f64,
        }
    }

    fn pixel(&self, epoch: usize) -> f64 {
        let fraction = (epoch as f64 - self.first) / (self.last - self.first);
        PLOT_LEFT + fraction * (PLOT_RIGHT - PLOT_LEFT)
    }

    /// Returns the first epoch and the multiples of the smallest step among 1, 2, 5,
    /// 10, 20, 50... that leaves at most 10 steps across the axis.
    fn ticks(&self) -> Vec<usize> {
        let span = self.last - self.first;
        let step = (0..18u32)
            .flat_map(|power| [1, 2, 5].map(|mantissa| mantissa * 10usize.pow(power)))
            .find(|&step| span / step as f64 <= 10.0)
            .unwrap_or(1);

        let start = self.first.ceil().max(1.0) as usize;
        let end = self.last.floor() as usize;
        (start..=end)
            .filter(|epoch| epoch % step == 0 || *epoch == start)
            .collect()
    }
}

/// The y axis: MSE on a log10 scale, padded to at least a factor of 2.
struct LogAxis {
    low: f64,
    high: f64,
}

impl LogAxis {
    /// Spans the positive `values` with 5% padding, at least a factor of 2.
    fn new(values: &[f64]) -> Self {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut low, mut high) = (min.log10(), max.log10());
        let minimum_span = 2f64.log10();
        if high - low < minimum_span {
            let middle = (low + high) / 2.0;
            low = middle - minimum_span / 2.0;
            high = middle + minimum_span / 2.0;
        }
        let padding = (high - low) * 0.05;
        Self {
            low: low - padding,
            high: high + padding,
        }
    }

    /// Returns the y pixel of `value`, or `None` for a value that a log scale cannot
    /// show (not positive, or not finite).
    fn pixel(&self, value: f64) -> Option<f64> {
        if !(value.is_finite() && value > 0.0) {
            return None;
        }
        let fraction = (value.log10() - self.low) / (self.high - self.low);
        Some(PLOT_BOTTOM - fraction * (PLOT_BOTTOM - PLOT_TOP))
    }

    /// Returns the ticks inside the axis from the coarsest mantissa set (1, 2, 5, then
    /// 1 to 9, then finer) that gives at least 3 ticks, without going past 12 ticks.
    fn ticks(&self) -> Vec<f64> {
        const MANTISSA_SETS: [&[f64]; 3] = [
            &[1.0, 2.0, 5.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
            &[
                1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0,
            ],
        ];
        let mut best = Vec::new();
        for mantissas in MANTISSA_SETS {
            let mut ticks = Vec::new();
            for exponent in self.low.floor() as i32..=self.high.ceil() as i32 {
                for mantissa in mantissas {
                    let value = mantissa * 10f64.powi(exponent);
                    let log = value.log10();
                    if log >= self.low && log <= self.high {
                        ticks.push(value);
                    }
                }
            }
            if ticks.len() > 12 {
                break;
            }
            best = ticks;
            if best.len() >= 3 {
                break;
            }
        }
        best
    }
}

/// Formats a tick value with at most 3 significant digits and no trailing zeros.
fn format_tick(value: f64) -> String {
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 8) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(epoch: usize, train: f64, valid: f64, baseline: f64) -> CurvePoint {
        CurvePoint {
            epoch,
            train_mse: Some(train),
            valid_mse: Some(valid),
            baseline_mse: Some(baseline),
        }
    }

    fn three_epochs() -> Vec<CurvePoint> {
        vec![
            point(1, 49.4, 16.2, 16.5),
            point(2, 19.3, 15.2, 16.5),
            point(3, 17.4, 14.8, 16.5),
        ]
    }

    fn count(image: &RgbImage, colour: Rgb<u8>) -> usize {
        image.pixels().filter(|pixel| **pixel == colour).count()
    }

    #[test]
    fn curve_has_fixed_size() {
        let image = render_learning_curve(&three_epochs(), Some(3));

        assert_eq!(image.width(), CURVE_WIDTH);
        assert_eq!(image.height(), CURVE_HEIGHT);
    }

    #[test]
    fn curve_draws_every_series() {
        let image = render_learning_curve(&three_epochs(), Some(3));

        assert!(count(&image, TRAIN_COLOUR) > 100);
        assert!(count(&image, VALID_COLOUR) > 100);
        assert!(count(&image, BASELINE_COLOUR) > 100);
        assert!(count(&image, BEST_COLOUR) > 100);
    }

    #[test]
    fn curve_points_at_their_pixels() {
        let points = three_epochs();
        let image = render_learning_curve(&points, None);
        let values: Vec<f64> = points
            .iter()
            .flat_map(|point| [point.train_mse, point.valid_mse, point.baseline_mse])
            .flatten()
            .collect();
        let x_axis = EpochAxis::new(1, 3);
        let y_axis = LogAxis::new(&values);

        let train_first = (x_axis.pixel(1), y_axis.pixel(49.4).unwrap());
        let valid_last = (x_axis.pixel(3), y_axis.pixel(14.8).unwrap());

        assert_eq!(
            *image.get_pixel(train_first.0.round() as u32, train_first.1.round() as u32),
            TRAIN_COLOUR
        );
        assert_eq!(
            *image.get_pixel(valid_last.0.round() as u32, valid_last.1.round() as u32),
            VALID_COLOUR
        );
        assert_eq!(x_axis.pixel(1), PLOT_LEFT);
        assert_eq!(x_axis.pixel(3), PLOT_RIGHT);
    }

    #[test]
    fn curve_without_best_has_no_green() {
        let image = render_learning_curve(&three_epochs(), None);
        let legend_only = render_learning_curve(&[], None);

        assert_eq!(count(&image, BEST_COLOUR), count(&legend_only, BEST_COLOUR));
    }

    #[test]
    fn curve_of_one_epoch() {
        let image = render_learning_curve(&[point(1, 30.0, 20.0, 25.0)], Some(1));

        assert!(count(&image, TRAIN_COLOUR) > 20);
        assert!(count(&image, VALID_COLOUR) > 20);
    }

    #[test]
    fn curve_skips_missing_and_non_positive() {
        let points = vec![
            CurvePoint {
                epoch: 1,
                train_mse: None,
                valid_mse: Some(0.0),
                baseline_mse: None,
            },
            CurvePoint {
                epoch: 2,
                train_mse: Some(f64::NAN),
                valid_mse: None,
                baseline_mse: None,
            },
        ];

        let image = render_learning_curve(&points, None);

        let legend_only = render_learning_curve(&[], None);

        assert_eq!(image.width(), CURVE_WIDTH);
        assert_eq!(
            count(&image, VALID_COLOUR),
            count(&legend_only, VALID_COLOUR)
        );
    }

    #[test]
    fn epoch_ticks_step() {
        assert_eq!(EpochAxis::new(1, 3).ticks(), vec![1, 2, 3]);
        assert_eq!(EpochAxis::new(1, 1).ticks(), vec![1]);
        assert_eq!(
            EpochAxis::new(1, 30).ticks(),
            vec![1, 5, 10, 15, 20, 25, 30]
        );
        assert_eq!(
            EpochAxis::new(1, 100).ticks(),
            vec![1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        );
        assert_eq!(
            EpochAxis::new(1, 300).ticks(),
            vec![1, 50, 100, 150, 200, 250, 300]
        );
    }

    #[test]
    fn log_ticks_narrow_range() {
        let axis = LogAxis::new(&[14.8, 16.5]);

        let ticks = axis.ticks();

        assert!(ticks.len() >= 3, "{ticks:?}");
        assert!(ticks.contains(&14.0) || ticks.contains(&16.0), "{ticks:?}");
    }

    #[test]
    fn log_ticks_wide_range() {
        let axis = LogAxis::new(&[1.5, 400.0]);

        assert_eq!(
            axis.ticks(),
            vec![2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
        );
    }

    #[test]
    fn tick_labels() {
        assert_eq!(format_tick(1.0), "1");
        assert_eq!(format_tick(200.0), "200");
        assert_eq!(format_tick(1.5), "1.5");
        assert_eq!(format_tick(0.05), "0.05");
        assert_eq!(format_tick(14.0), "14");
    }

    #[test]
    fn metrics_points_parse() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("metrics.csv");
        std::fs::write(
            &path,
            "epoch,train_loss,train_mse,valid_mse,valid_rmse,baseline_mse,learning_rate,seconds\n\
             1,2.0,49.4,16.2,4.02,16.5,0.01,11.4\n\
             2,1.6,,15.2,3.89,16.5,0.01,8.0\n\
             x,1,2,3,4,5,6,7\n\
             3,1.5,17.3,14.7,3.84,16.5,0.01,12.1\n",
        )
        .unwrap();

        let points = read_metrics_points(&path, 2);

        assert_eq!(
            points,
            vec![point(1, 49.4, 16.2, 16.5), {
                CurvePoint {
                    train_mse: None,
                    ..point(2, 0.0, 15.2, 16.5)
                }
            }]
        );
    }

    #[test]
    fn metrics_points_missing_file() {
        let directory = tempfile::tempdir().unwrap();

        let points = read_metrics_points(&directory.path().join("metrics.csv"), 5);

        assert!(points.is_empty());
    }

    #[test]
    fn record_writes_png() {
        let directory = tempfile::tempdir().unwrap();
        let run = RunDirectory::create(&directory.path().join("run")).unwrap();
        let mut curve = LearningCurve::new(&run, 0);

        curve.record(point(1, 30.0, 20.0, 25.0), Some(1)).unwrap();
        curve.record(point(2, 25.0, 18.0, 25.0), Some(2)).unwrap();
        let written = image::open(curve.path()).unwrap().to_rgb8();

        assert_eq!(curve.points().len(), 2);
        assert_eq!(written, render_learning_curve(curve.points(), Some(2)));
        assert_eq!(*written.get_pixel(0, 0), BACKGROUND);
    }
}
