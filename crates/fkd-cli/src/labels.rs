//! Keypoint labels of image files: a CSV with a `file` column and the 30 coordinate
//! columns of `training.csv`, in the images' own pixel coordinates. File names are
//! relative to the CSV's folder, and an empty coordinate field is a missing value.
//!
//! ```text
//! file,left_eye_center_x,left_eye_center_y,...,mouth_center_bottom_lip_y
//! face00.jpg,161.00,117.67,...,194.00
//! ```
//!
//! Four optional columns, `crop_x,crop_y,crop_width,crop_height`, give each image's face
//! region in whole pixels, like `--crop` of `fkd-cli predict`. A row with all four empty
//! uses the whole image.

use std::path::{Path, PathBuf};

use fkd_data::keypoints::{COORDINATE_NAMES, coordinate_index};
use fkd_data::{DataError, Keypoints, Location, NUM_COORDS};

use crate::images::Crop;

/// Name of the column with the image file names.
pub const FILE_COLUMN: &str = "file";

/// Names of the optional face-region columns: left, top, width and height in pixels.
pub const CROP_COLUMNS: [&str; 4] = ["crop_x", "crop_y", "crop_width", "crop_height"];

/// One labelled image.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledImage {
    /// The file name as written in the CSV.
    pub file: String,
    /// The file's path: the CSV's folder joined with `file`.
    pub path: PathBuf,
    /// 1-based line of the CSV that labels the image.
    pub line: u64,
    /// The keypoints in the image's pixel coordinates.
    pub keypoints: Keypoints,
    /// The face region to resize to 96x96, or `None` for the whole image.
    pub crop: Option<Crop>,
}

/// Reads a labels CSV. Errors name the file, the line and the column.
pub fn read_labels(path: &Path) -> Result<Vec<LabelledImage>, DataError> {
    let file = std::fs::File::open(path).map_err(|error| DataError::io(path, error))?;
    parse_labels(file, path)
}

/// Parses a labels CSV read from `reader`. `path` names it in errors and is the base of
/// the relative file names.
pub fn parse_labels(
    reader: impl std::io::Read,
    path: &Path,
) -> Result<Vec<LabelledImage>, DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = csv.records();

    let header = match records.next() {
        Some(record) => record.map_err(|error| csv_error(path, &error))?,
        None => {
            return Err(DataError::invalid(
                Location::file(path),
                format!(
                    "is empty, expected a header `{FILE_COLUMN},{}`",
                    COORDINATE_NAMES.join(",")
                ),
            ));
        }
    };
    let columns = parse_header(&header, path)?;

    let base = path.parent().unwrap_or(Path::new(""));
    let mut images = Vec::new();
    for record in records {
        let record = record.map_err(|error| csv_error(path, &error))?;
        let line = record.position().map_or(0, |position| position.line());
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        if record.len() != header.len() {
            return Err(DataError::invalid(
                Location::line(path, line),
                format!(
                    "has {} fields, expected {} as in the header",
                    record.len(),
                    header.len()
                ),
            ));
        }

        let file = record[columns.file].trim().to_string();
        if file.is_empty() {
            return Err(DataError::invalid(
                Location::line(path, line).column(FILE_COLUMN),
                "is empty, expected an image file name",
            ));
        }

        let mut keypoints = Keypoints::MISSING;
        for (coordinate, &column) in columns.coordinates.iter().enumerate() {
            let field = record[column].trim();
            if field.is_empty() {
                continue;
            }
            let location = || Location::line(path, line).column(COORDINATE_NAMES[coordinate]);
            let value: f32 = field.parse().map_err(|_| {
                DataError::invalid(location(), format!("'{field}' is not a number"))
            })?;
            if !value.is_finite() {
                return Err(DataError::invalid(
                    location(),
                    format!("'{field}' is not a finite number"),
                ));
            }
            keypoints.0[coordinate] = Some(value);
        }

        let crop = match columns.crop {
            Some(positions) => parse_crop(&record, positions, path, line)?,
            None => None,
        };
        images.push(LabelledImage {
            path: base.join(&file),
            file,
            line,
            keypoints,
            crop,
        });
    }

    if images.is_empty() {
        return Err(DataError::invalid(
            Location::file(path),
            "has a header but no labelled images",
        ));
    }
    Ok(images)
}

/// Parses the crop fields of a row: all four empty is `None`, all four set is a crop.
fn parse_crop(
    record: &csv::StringRecord,
    positions: [usize; 4],
    path: &Path,
    line: u64,
) -> Result<Option<Crop>, DataError> {
    let fields = positions.map(|position| record[position].trim());
    if fields.iter().all(|field| field.is_empty()) {
        return Ok(None);
    }

    let mut numbers = [0u32; 4];
    for (index, field) in fields.iter().enumerate() {
        let location = || Location::line(path, line).column(CROP_COLUMNS[index]);
        if field.is_empty() {
            return Err(DataError::invalid(
                location(),
                "is empty while other crop columns are set, expected all four crop values \
                 or none",
            ));
        }
        numbers[index] = field.parse().map_err(|_| {
            let message = if field.starts_with('-') {
                format!("'{field}' is negative, expected 0 or more pixels")
            } else {
                format!("'{field}' is not a whole number of pixels")
            };
            DataError::invalid(location(), message)
        })?;
        if index >= 2 && numbers[index] == 0 {
            return Err(DataError::invalid(
                location(),
                "is 0, expected a positive size",
            ));
        }
    }

    let [x, y, width, height] = numbers;
    Ok(Some(Crop {
        x,
        y,
        width,
        height,
    }))
}

/// Field positions of the file column, of each coordinate in Kaggle's order, and of the
/// crop columns when the header has them.
struct Columns {
    file: usize,
    coordinates: [usize; NUM_COORDS],
    crop: Option<[usize; 4]>,
}

/// Finds the `file` column, the 30 coordinate columns and the optional crop columns, in
/// any order.
fn parse_header(header: &csv::StringRecord, path: &Path) -> Result<Columns, DataError> {
    let location = || Location::line(path, 1);
    let mut file = None;
    let mut coordinates = [None; NUM_COORDS];
    let mut crop = [None; 4];

    for (position, name) in header.iter().enumerate() {
        let name = name.trim();
        let slot = if name == FILE_COLUMN {
            &mut file
        } else if let Some(coordinate) = coordinate_index(name) {
            &mut coordinates[coordinate]
        } else if let Some(index) = CROP_COLUMNS.iter().position(|column| *column == name) {
            &mut crop[index]
        } else {
            return Err(DataError::invalid(
                location().column(name),
                format!(
                    "unknown column, expected `{FILE_COLUMN}`, the 30 coordinate columns \
                     of training.csv such as `left_eye_center_x`, and optionally {}",
                    CROP_COLUMNS.map(|column| format!("`{column}`")).join(", ")
                ),
            ));
        };
        if slot.is_some() {
            return Err(DataError::invalid(
                location().column(name),
                "appears twice in the header",
            ));
        }
        *slot = Some(position);
    }

    let Some(file) = file else {
        return Err(DataError::invalid(
            location(),
            format!("the header has no `{FILE_COLUMN}` column"),
        ));
    };
    let positions = all_found(coordinates).map_err(|coordinate| {
        DataError::invalid(
            location(),
            format!(
                "the header has no `{}` column",
                COORDINATE_NAMES[coordinate]
            ),
        )
    })?;
    let crop = if crop.iter().all(Option::is_none) {
        None
    } else {
        let crop_positions = all_found(crop).map_err(|index| {
            DataError::invalid(
                location(),
                format!(
                    "the header has no `{}` column, expected all four crop columns or none",
                    CROP_COLUMNS[index]
                ),
            )
        })?;
        Some(crop_positions)
    };
    Ok(Columns {
        file,
        coordinates: positions,
        crop,
    })
}

/// Returns the found column positions, or the index of the first column not found.
fn all_found<const N: usize>(positions: [Option<usize>; N]) -> Result<[usize; N], usize> {
    let mut found = [0; N];
    for (index, position) in positions.iter().enumerate() {
        found[index] = position.ok_or(index)?;
    }
    Ok(found)
}

fn csv_error(path: &Path, error: &csv::Error) -> DataError {
    let location = match error.position() {
        Some(position) => Location::line(path, position.line()),
        None => Location::file(path),
    };
    DataError::invalid(location, format!("invalid CSV: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        format!("{FILE_COLUMN},{}", COORDINATE_NAMES.join(","))
    }

    /// Returns a row for `file` with coordinate c = c + 0.5, except empty fields at
    /// `missing`.
    fn row(file: &str, missing: &[usize]) -> String {
        let mut fields = vec![file.to_string()];
        for coordinate in 0..NUM_COORDS {
            if missing.contains(&coordinate) {
                fields.push(String::new());
            } else {
                fields.push(format!("{}.5", coordinate));
            }
        }
        fields.join(",")
    }

    fn parse(text: &str) -> Result<Vec<LabelledImage>, DataError> {
        parse_labels(text.as_bytes(), Path::new("faces/keypoints.csv"))
    }

    #[test]
    fn labels_parse() {
        let text = format!(
            "{}\n{}\n{}\n",
            header(),
            row("a.jpg", &[]),
            row("b.png", &[3])
        );

        let images = parse(&text).unwrap();

        assert_eq!(images.len(), 2);
        assert_eq!(images[0].file, "a.jpg");
        assert_eq!(images[0].path, Path::new("faces/a.jpg"));
        assert_eq!(images[0].line, 2);
        assert_eq!(images[0].keypoints.0[0], Some(0.5));
        assert_eq!(images[0].keypoints.0[29], Some(29.5));
        assert_eq!(images[1].line, 3);
        assert_eq!(images[1].keypoints.0[3], None);
        assert_eq!(images[1].keypoints.present_count(), 29);
    }

    #[test]
    fn columns_in_any_order() {
        let mut names: Vec<&str> = COORDINATE_NAMES.to_vec();
        names.reverse();
        names.push(FILE_COLUMN);
        let mut values: Vec<String> = (0..NUM_COORDS).rev().map(|c| c.to_string()).collect();
        values.push("x.png".to_string());
        let text = format!("{}\n{}\n", names.join(","), values.join(","));

        let images = parse(&text).unwrap();

        assert_eq!(images[0].file, "x.png");
        assert_eq!(images[0].keypoints.0[0], Some(0.0));
        assert_eq!(images[0].keypoints.0[29], Some(29.0));
    }

    #[test]
    fn bad_number_names_line_and_column() {
        let bad = row("a.jpg", &[]).replace(",20.5,", ",abc,");
        let text = format!("{}\n{}\n{bad}\n", header(), row("b.jpg", &[]));

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 3, column nose_tip_x: 'abc' is not a number"
        );
    }

    #[test]
    fn short_row_rejected() {
        let text = format!("{}\na.jpg,1,2\n", header());

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 2: has 3 fields, expected 31 as in the header"
        );
    }

    #[test]
    fn unknown_column_rejected() {
        let text = header().replace("nose_tip_y", "nose_y");

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 1, column nose_y: unknown column, expected `file`, \
             the 30 coordinate columns of training.csv such as `left_eye_center_x`, and \
             optionally `crop_x`, `crop_y`, `crop_width`, `crop_height`"
        );
    }

    fn crop_header() -> String {
        format!("{},crop_x,crop_y,crop_width,crop_height", header())
    }

    #[test]
    fn crop_columns_parse() {
        let text = format!(
            "{}
{},30,40,96,120
{},,,,
",
            crop_header(),
            row("a.jpg", &[]),
            row("b.jpg", &[])
        );

        let images = parse(&text).unwrap();

        assert_eq!(
            images[0].crop,
            Some(Crop {
                x: 30,
                y: 40,
                width: 96,
                height: 120
            })
        );
        assert_eq!(images[1].crop, None);
        assert_eq!(images[0].keypoints.0[29], Some(29.5));
    }

    #[test]
    fn no_crop_columns_mean_whole_images() {
        let text = format!(
            "{}
{}
",
            header(),
            row("a.jpg", &[])
        );

        let images = parse(&text).unwrap();

        assert_eq!(images[0].crop, None);
    }

    #[test]
    fn partial_crop_header_rejected() {
        let text = format!(
            "{},crop_x,crop_y,crop_width
",
            header()
        );

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 1: the header has no `crop_height` column, expected \
             all four crop columns or none"
        );
    }

    #[test]
    fn partial_crop_row_rejected() {
        let text = format!(
            "{}
{},30,40,,120
",
            crop_header(),
            row("a.jpg", &[])
        );

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 2, column crop_width: is empty while other crop \
             columns are set, expected all four crop values or none"
        );
    }

    #[test]
    fn bad_crop_values_rejected() {
        let cases = [
            (
                "-3,40,96,96",
                "column crop_x: '-3' is negative, expected 0 or more pixels",
            ),
            (
                "3,4.5,96,96",
                "column crop_y: '4.5' is not a whole number of pixels",
            ),
            (
                "3,4,96,0",
                "column crop_height: is 0, expected a positive size",
            ),
        ];
        for (crop, message) in cases {
            let text = format!(
                "{}
{},{crop}
",
                crop_header(),
                row("a.jpg", &[])
            );

            let error = parse(&text).unwrap_err();

            assert_eq!(
                error.to_string(),
                format!("faces/keypoints.csv line 2, {message}")
            );
        }
    }

    #[test]
    fn missing_column_rejected() {
        let text = header().replace(",mouth_center_bottom_lip_y", "");

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 1: the header has no `mouth_center_bottom_lip_y` column"
        );
    }

    #[test]
    fn duplicate_column_rejected() {
        let text = format!("{},file", header());

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 1, column file: appears twice in the header"
        );
    }

    #[test]
    fn empty_file_name_rejected() {
        let text = format!("{}\n{}\n", header(), row(" ", &[]));

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 2, column file: is empty, expected an image file name"
        );
    }

    #[test]
    fn infinite_value_rejected() {
        let bad = row("a.jpg", &[]).replace(",0.5,", ",inf,");
        let text = format!("{}\n{bad}\n", header());

        let error = parse(&text).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv line 2, column left_eye_center_x: 'inf' is not a finite number"
        );
    }

    #[test]
    fn header_only_rejected() {
        let error = parse(&format!("{}\n", header())).unwrap_err();

        assert_eq!(
            error.to_string(),
            "faces/keypoints.csv: has a header but no labelled images"
        );
    }
}
