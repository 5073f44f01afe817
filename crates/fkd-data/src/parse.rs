//! Parsers for Kaggle's `training.csv` and `test.csv`, with validation that names the
//! file, line, column and value of every problem.
//!
//! The Image column (9216 space-separated integers) is parsed straight from the CSV
//! reader's byte buffer into the image buffer, without a `String` per value.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use csv::{ByteRecord, ReaderBuilder, Terminator};

use crate::error::{DataError, Location, Result};
use crate::faces::{Keypoints, TestSet, TrainingSet, snap_coordinate};
use crate::keypoints::{COORDINATE_NAMES, IMAGE_PIXELS, IMAGE_SIDE, NUM_COORDS};

/// Largest valid coordinate value: a keypoint lies in [0, 96].
pub const MAX_COORDINATE: f32 = IMAGE_SIDE as f32;

const READ_BUFFER_BYTES: usize = 1 << 20;

/// Parses `training.csv` at `path` (no cache; see [`crate::load_training`]).
pub fn read_training_csv(path: &Path) -> Result<TrainingSet> {
    let file = File::open(path).map_err(|error| DataError::io(path, error))?;
    parse_training_csv(BufReader::with_capacity(READ_BUFFER_BYTES, file), path)
}

/// Parses `test.csv` at `path` (no cache; see [`crate::load_test`]).
pub fn read_test_csv(path: &Path) -> Result<TestSet> {
    let file = File::open(path).map_err(|error| DataError::io(path, error))?;
    parse_test_csv(BufReader::with_capacity(READ_BUFFER_BYTES, file), path)
}

/// Parses training CSV text from `reader`; `path` is only used in error messages.
///
/// The header must contain the 30 coordinate columns and `Image`, in any order and
/// nothing else. Empty coordinate fields are missing values.
pub fn parse_training_csv(reader: impl Read, path: &Path) -> Result<TrainingSet> {
    let mut records = CsvRecords::new(reader, path)?;

    let mut expected: Vec<&str> = COORDINATE_NAMES.to_vec();
    expected.push("Image");
    let columns = records.match_header(&expected)?;
    let image_column = columns[NUM_COORDS];

    let mut set = TrainingSet::default();
    while let Some(Row {
        record,
        line,
        is_last,
    }) = records.next_record()?
    {
        let location = Location::line(path, line);

        let mut values = [None; NUM_COORDS];
        for (coordinate, &column) in columns[..NUM_COORDS].iter().enumerate() {
            let field = &record[column];
            let column_location = location.clone().column(COORDINATE_NAMES[coordinate]);
            values[coordinate] = parse_coordinate(field, column_location)?;
        }

        let start = set.images.len();
        set.images.resize(start + IMAGE_PIXELS, 0);
        parse_image(
            &record[image_column],
            &mut set.images[start..],
            location.column("Image"),
            is_last,
        )?;
        set.keypoints.push(Keypoints(values));
    }

    Ok(set)
}

/// Parses test CSV text (`ImageId,Image`) from `reader`; `path` is only used in error
/// messages. ImageIds must be positive and unique.
pub fn parse_test_csv(reader: impl Read, path: &Path) -> Result<TestSet> {
    let mut records = CsvRecords::new(reader, path)?;
    let columns = records.match_header(&["ImageId", "Image"])?;

    let mut set = TestSet::default();
    let mut first_line_of_id = std::collections::HashMap::new();
    while let Some(Row {
        record,
        line,
        is_last,
    }) = records.next_record()?
    {
        let location = Location::line(path, line);

        let image_id = parse_positive_id(&record[columns[0]], location.clone().column("ImageId"))?;
        if let Some(first_line) = first_line_of_id.insert(image_id, line) {
            return Err(DataError::invalid(
                location.column("ImageId"),
                format!("duplicate ImageId {image_id}, already on line {first_line}"),
            ));
        }

        let start = set.images.len();
        set.images.resize(start + IMAGE_PIXELS, 0);
        parse_image(
            &record[columns[1]],
            &mut set.images[start..],
            location.column("Image"),
            is_last,
        )?;
        set.image_ids.push(image_id);
    }

    Ok(set)
}

/// One data row of a CSV file.
pub(crate) struct Row<'r> {
    pub(crate) record: &'r ByteRecord,
    /// 1-based line number where the row starts.
    pub(crate) line: u64,
    /// Whether this is the file's last row.
    pub(crate) is_last: bool,
}

/// A CSV reader that tracks line numbers and checks field counts against the header.
pub(crate) struct CsvRecords<'p, R: Read> {
    reader: csv::Reader<R>,
    path: &'p Path,
    record: ByteRecord,
    next: ByteRecord,
    has_next: bool,
    header_len: usize,
    /// Lengths accepted besides the header's own (a lookup row may omit Location).
    extra_len: Option<usize>,
}

impl<'p, R: Read> CsvRecords<'p, R> {
    /// Opens a CSV stream and reads its header. An empty file is an error.
    pub(crate) fn new(reader: R, path: &'p Path) -> Result<Self> {
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            // Records end at '\n' and a trailing '\r' is trimmed from the last field:
            // csv's CRLF mode counts the '\n' of "\r\n" towards the next record, which
            // would put every line number one line early.
            .terminator(Terminator::Any(b'\n'))
            .buffer_capacity(READ_BUFFER_BYTES)
            .from_reader(reader);
        let mut records = Self {
            reader,
            path,
            record: ByteRecord::new(),
            next: ByteRecord::new(),
            has_next: false,
            header_len: 0,
            extra_len: None,
        };
        records.advance()?;
        if !records.has_next {
            return Err(DataError::invalid(
                Location::file(path),
                "the file is empty, expected a CSV header line",
            ));
        }
        Ok(records)
    }

    /// Checks the header against `expected` column names (any order, all required, no
    /// others) and returns, for each expected name, its position in the file.
    pub(crate) fn match_header(&mut self, expected: &[&str]) -> Result<Vec<usize>> {
        self.match_header_with_optional(expected, &[])
    }

    /// Like [`Self::match_header`], but the `optional` columns may be absent; their
    /// positions come after the required ones, `usize::MAX` when absent.
    pub(crate) fn match_header_with_optional(
        &mut self,
        expected: &[&str],
        optional: &[&str],
    ) -> Result<Vec<usize>> {
        std::mem::swap(&mut self.record, &mut self.next);
        self.advance()?;
        let location = Location::line(self.path, 1);

        let header: Vec<String> = self
            .record
            .iter()
            .map(|field| {
                String::from_utf8_lossy(field)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_string()
            })
            .collect();

        let mut positions = Vec::with_capacity(expected.len() + optional.len());
        for name in expected.iter().chain(optional) {
            let found: Vec<usize> = (0..header.len()).filter(|&i| header[i] == *name).collect();
            match found.as_slice() {
                [position] => positions.push(*position),
                [] if optional.contains(name) => positions.push(usize::MAX),
                [] => {
                    return Err(DataError::invalid(
                        location,
                        format!(
                            "header is missing column '{name}', expected the columns {}",
                            expected.join(",")
                        ),
                    ));
                }
                _ => {
                    return Err(DataError::invalid(
                        location,
                        format!("header names column '{name}' {} times", found.len()),
                    ));
                }
            }
        }

        if let Some(unknown) = header
            .iter()
            .find(|name| !expected.contains(&name.as_str()) && !optional.contains(&name.as_str()))
        {
            return Err(DataError::invalid(
                location,
                format!(
                    "header has unknown column '{unknown}', expected the columns {}",
                    expected.join(",")
                ),
            ));
        }

        self.header_len = header.len();
        Ok(positions)
    }

    /// Also accepts rows of `len` fields (for a column that rows may omit at the end).
    pub(crate) fn accept_row_length(&mut self, len: usize) {
        self.extra_len = Some(len);
    }

    /// Returns the next record and its 1-based line number, or `None` at the end.
    pub(crate) fn next_record(&mut self) -> Result<Option<Row<'_>>> {
        if !self.has_next {
            return Ok(None);
        }
        std::mem::swap(&mut self.record, &mut self.next);
        self.advance()?;

        let line = record_line(&self.record);
        let len = self.record.len();
        if len != self.header_len && Some(len) != self.extra_len {
            let mut message = format!("row has {len} fields, expected {}", self.header_len);
            if !self.has_next {
                message.push_str("; the last line looks truncated");
            }
            return Err(DataError::invalid(Location::line(self.path, line), message));
        }
        Ok(Some(Row {
            record: &self.record,
            line,
            is_last: !self.has_next,
        }))
    }

    /// Reads one record ahead so the last record can be recognized, skipping blank
    /// lines.
    fn advance(&mut self) -> Result<()> {
        loop {
            self.has_next = self
                .reader
                .read_byte_record(&mut self.next)
                .map_err(|error| {
                    let line = error
                        .position()
                        .map(|position| position.line())
                        .unwrap_or(0);
                    DataError::invalid(
                        Location::line(self.path, line),
                        format!("invalid CSV: {error}"),
                    )
                })?;
            let blank = self.next.len() == 1 && self.next[0].trim_ascii().is_empty();
            if !self.has_next || !blank {
                return Ok(());
            }
        }
    }
}

fn record_line(record: &ByteRecord) -> u64 {
    record
        .position()
        .map(|position| position.line())
        .unwrap_or(0)
}

/// Parses one coordinate field: empty is missing, otherwise a finite number in [0, 96],
/// snapped to the coordinate grid.
fn parse_coordinate(field: &[u8], location: Location) -> Result<Option<f32>> {
    let text = field_text(field, &location)?.trim();
    if text.is_empty() {
        return Ok(None);
    }

    let value: f32 = text
        .parse()
        .map_err(|_| DataError::invalid(location.clone(), format!("'{text}' is not a number")))?;
    if !value.is_finite() || !(0.0..=MAX_COORDINATE).contains(&value) {
        return Err(DataError::invalid(
            location,
            format!("coordinate {text} is outside [0, {MAX_COORDINATE}]"),
        ));
    }
    Ok(Some(snap_coordinate(value)))
}

/// Parses a positive integer id such as ImageId or RowId.
pub(crate) fn parse_positive_id(field: &[u8], location: Location) -> Result<u32> {
    let text = field_text(field, &location)?.trim();
    match text.parse::<u32>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(DataError::invalid(
            location,
            format!("'{text}' is not a positive integer id"),
        )),
    }
}

pub(crate) fn field_text<'a>(field: &'a [u8], location: &Location) -> Result<&'a str> {
    std::str::from_utf8(field)
        .map_err(|_| DataError::invalid(location.clone(), "field is not valid UTF-8"))
}

/// Parses the Image field, 9216 integers in 0..=255 separated by spaces, into `pixels`.
fn parse_image(
    field: &[u8],
    pixels: &mut [u8],
    location: Location,
    is_last_line: bool,
) -> Result<()> {
    let mut count = 0usize;
    let mut value: u32 = 0;
    let mut digits = 0usize;
    let mut token_start = 0usize;

    for (position, &byte) in field.iter().enumerate() {
        match byte {
            b'0'..=b'9' => {
                if digits == 0 {
                    token_start = position;
                }
                value = value * 10 + u32::from(byte - b'0');
                digits += 1;
                if value > 255 {
                    let token = token_at(field, token_start);
                    return Err(DataError::invalid(
                        location,
                        format!(
                            "value {} is '{token}', expected an integer in 0..=255",
                            count + 1
                        ),
                    ));
                }
            }
            b' ' | b'\t' | b'\r' => {
                if digits > 0 {
                    if count < IMAGE_PIXELS {
                        pixels[count] = value as u8;
                    }
                    count += 1;
                    value = 0;
                    digits = 0;
                }
            }
            _ => {
                let start = if digits > 0 { token_start } else { position };
                let token = token_at(field, start);
                return Err(DataError::invalid(
                    location,
                    format!(
                        "value {} is '{token}', expected an integer in 0..=255",
                        count + 1
                    ),
                ));
            }
        }
    }
    if digits > 0 {
        if count < IMAGE_PIXELS {
            pixels[count] = value as u8;
        }
        count += 1;
    }

    if count != IMAGE_PIXELS {
        let mut message = format!("has {count} values, expected {IMAGE_PIXELS} (96x96)");
        if is_last_line && count < IMAGE_PIXELS {
            message.push_str("; the last line looks truncated");
        }
        return Err(DataError::invalid(location, message));
    }
    Ok(())
}

/// Returns the whitespace-delimited token starting at `start`, for error messages.
fn token_at(field: &[u8], start: usize) -> String {
    let end = field[start..]
        .iter()
        .position(|byte| byte.is_ascii_whitespace())
        .map_or(field.len(), |offset| start + offset);
    let end = end.min(start + 32);
    String::from_utf8_lossy(&field[start..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        let mut columns: Vec<&str> = COORDINATE_NAMES.to_vec();
        columns.push("Image");
        columns.join(",")
    }

    fn pixels(count: usize) -> String {
        (0..count)
            .map(|i| (i % 256).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// One training row with the given coordinate fields and image text.
    fn row(coordinates: &[&str], image: &str) -> String {
        let mut fields: Vec<String> = (0..NUM_COORDS)
            .map(|i| {
                coordinates
                    .get(i)
                    .map_or(String::new(), |value| value.to_string())
            })
            .collect();
        fields.push(image.to_string());
        fields.join(",")
    }

    fn parse_training(text: &str) -> Result<TrainingSet> {
        parse_training_csv(text.as_bytes(), Path::new("training.csv"))
    }

    fn training_error(text: &str) -> String {
        parse_training(text).unwrap_err().to_string()
    }

    #[test]
    fn training_parses_values_and_missing() {
        let text = format!(
            "{}\n{}\n{}\n",
            header(),
            row(&["66.5", "39", "", "0"], &pixels(IMAGE_PIXELS)),
            row(&[], &pixels(IMAGE_PIXELS)),
        );
        let set = parse_training(&text).unwrap();

        assert_eq!(set.len(), 2);
        assert_eq!(set.keypoints[0].0[0], Some(66.5));
        assert_eq!(set.keypoints[0].0[1], Some(39.0));
        assert_eq!(set.keypoints[0].0[2], None);
        assert_eq!(set.keypoints[0].0[3], Some(0.0));
        assert_eq!(set.keypoints[1], Keypoints::MISSING);
        assert_eq!(set.image(0)[255], 255);
        assert_eq!(set.image(1)[256], 0);
        assert_eq!(
            set.image(1)[IMAGE_PIXELS - 1],
            ((IMAGE_PIXELS - 1) % 256) as u8
        );
    }

    #[test]
    fn training_accepts_crlf_and_no_final_newline() {
        let text = format!(
            "{}\r\n{}\r\n{}",
            header(),
            row(&["1.25"], &pixels(IMAGE_PIXELS)),
            row(&["2"], &pixels(IMAGE_PIXELS)),
        );
        let set = parse_training(&text).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.keypoints[1].0[0], Some(2.0));
        assert_eq!(
            set.image(1)[IMAGE_PIXELS - 1],
            ((IMAGE_PIXELS - 1) % 256) as u8
        );
    }

    #[test]
    fn training_maps_reordered_columns_by_name() {
        let mut columns: Vec<&str> = COORDINATE_NAMES.to_vec();
        columns.insert(0, "Image");
        let mut fields = vec![pixels(IMAGE_PIXELS)];
        fields.extend((0..NUM_COORDS).map(|i| {
            if i == 29 {
                "7.5".to_string()
            } else {
                String::new()
            }
        }));
        let text = format!("{}\n{}\n", columns.join(","), fields.join(","));

        let set = parse_training(&text).unwrap();
        assert_eq!(set.keypoints[0].0[29], Some(7.5));
        assert_eq!(set.keypoints[0].present_count(), 1);
    }

    #[test]
    fn training_rejects_empty_file() {
        assert_eq!(
            training_error(""),
            "training.csv: the file is empty, expected a CSV header line"
        );
    }

    #[test]
    fn training_rejects_wrong_header() {
        let text = header().replace("nose_tip_x", "nose_x");
        let error = training_error(&format!("{text}\n"));
        assert!(
            error.starts_with("training.csv line 1: header is missing column 'nose_tip_x'"),
            "{error}"
        );

        let text = format!("{},Extra\n", header());
        assert_eq!(
            training_error(&text).split(", expected").next().unwrap(),
            "training.csv line 1: header has unknown column 'Extra'"
        );
    }

    #[test]
    fn training_rejects_short_image() {
        let text = format!("{}\n{}\n", header(), row(&[], &pixels(IMAGE_PIXELS - 1)));
        let text = format!("{text}{}\n", row(&[], &pixels(IMAGE_PIXELS)));
        assert_eq!(
            training_error(&text),
            "training.csv line 2, column Image: has 9215 values, expected 9216 (96x96)"
        );
    }

    #[test]
    fn training_rejects_long_image() {
        let text = format!("{}\n{}\n", header(), row(&[], &pixels(IMAGE_PIXELS + 2)));
        assert_eq!(
            training_error(&text),
            "training.csv line 2, column Image: has 9218 values, expected 9216 (96x96)"
        );
    }

    #[test]
    fn training_rejects_pixel_out_of_range() {
        let image = pixels(IMAGE_PIXELS).replacen("16 ", "256 ", 1);
        let text = format!("{}\n{}\n", header(), row(&[], &image));
        assert_eq!(
            training_error(&text),
            "training.csv line 2, column Image: value 17 is '256', expected an integer in 0..=255"
        );
    }

    #[test]
    fn training_rejects_non_integer_pixels() {
        for (bad, shown) in [("3.5", "3.5"), ("-4", "-4"), ("x9", "x9"), ("25x", "25x")] {
            let image = pixels(IMAGE_PIXELS).replacen("3 ", &format!("{bad} "), 1);
            let text = format!("{}\n{}\n", header(), row(&[], &image));
            assert_eq!(
                training_error(&text),
                format!(
                    "training.csv line 2, column Image: value 4 is '{shown}', expected an integer in 0..=255"
                )
            );
        }
    }

    #[test]
    fn training_rejects_bad_coordinates() {
        let cases = [
            ("abc", "'abc' is not a number"),
            ("96.5", "coordinate 96.5 is outside [0, 96]"),
            ("-0.5", "coordinate -0.5 is outside [0, 96]"),
            ("NaN", "coordinate NaN is outside [0, 96]"),
            ("inf", "coordinate inf is outside [0, 96]"),
        ];
        for (value, message) in cases {
            let text = format!(
                "{}\n{}\n{}\n",
                header(),
                row(&[], &pixels(IMAGE_PIXELS)),
                row(&["1", "2", value], &pixels(IMAGE_PIXELS)),
            );
            assert_eq!(
                training_error(&text),
                format!("training.csv line 3, column right_eye_center_x: {message}")
            );
        }
    }

    #[test]
    fn training_reports_truncated_last_line() {
        let text = format!(
            "{}\n{}\n{}",
            header(),
            row(&[], &pixels(IMAGE_PIXELS)),
            row(&["1"], &pixels(IMAGE_PIXELS)),
        );
        let cut = &text[..text.len() - 20_000];
        assert!(training_error(cut).ends_with("; the last line looks truncated"));

        let cut = &text[..text.rfind('\n').unwrap() + 20];
        assert_eq!(
            training_error(cut),
            "training.csv line 3: row has 19 fields, expected 31; the last line looks truncated"
        );
    }

    #[test]
    fn training_rejects_wrong_field_count() {
        let text = format!("{}\n1,2,{}\n", header(), pixels(IMAGE_PIXELS));
        assert_eq!(
            training_error(&text),
            "training.csv line 2: row has 3 fields, expected 31; the last line looks truncated"
        );
    }

    fn test_error(text: &str) -> String {
        parse_test_csv(text.as_bytes(), Path::new("test.csv"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn test_csv_parses_ids() {
        let text = format!(
            "ImageId,Image\r\n2,{}\r\n1,{}\r\n",
            pixels(IMAGE_PIXELS),
            pixels(IMAGE_PIXELS)
        );
        let set = parse_test_csv(text.as_bytes(), Path::new("test.csv")).unwrap();
        assert_eq!(set.image_ids, vec![2, 1]);
        assert_eq!(set.image(1)[300], 44);
    }

    #[test]
    fn test_csv_rejects_duplicate_image_id() {
        let text = format!(
            "ImageId,Image\n1,{}\n2,{}\n1,{}\n",
            pixels(IMAGE_PIXELS),
            pixels(IMAGE_PIXELS),
            pixels(IMAGE_PIXELS)
        );
        assert_eq!(
            test_error(&text),
            "test.csv line 4, column ImageId: duplicate ImageId 1, already on line 2"
        );
    }

    #[test]
    fn test_csv_rejects_non_positive_image_id() {
        for id in ["0", "-3", "x", ""] {
            let text = format!("ImageId,Image\n{id},{}\n", pixels(IMAGE_PIXELS));
            assert_eq!(
                test_error(&text),
                format!("test.csv line 2, column ImageId: '{id}' is not a positive integer id")
            );
        }
    }
}
