//! Parsers for `IdLookupTable.csv` and `SampleSubmission.csv`: which coordinate of
//! which test image each submission row asks for.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{DataError, Location, Result};
use crate::keypoints::{COORDINATE_NAMES, coordinate_index};
use crate::parse::{CsvRecords, Row, field_text, parse_positive_id};

/// One row of `IdLookupTable.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupRow {
    /// The submission row id.
    pub row_id: u32,
    /// The test image, by its 1-based ImageId.
    pub image_id: u32,
    /// Index of the requested coordinate in [`COORDINATE_NAMES`].
    pub coordinate: usize,
}

/// The rows of `IdLookupTable.csv`, sorted by RowId.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupTable {
    /// One entry per requested value, in increasing RowId order.
    pub rows: Vec<LookupRow>,
}

impl LookupTable {
    /// Reads `IdLookupTable.csv` at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|error| DataError::io(path, error))?;
        Self::parse(BufReader::new(file), path)
    }

    /// Parses lookup-table CSV from `reader`; `path` is only used in error messages.
    ///
    /// The header is `RowId,ImageId,FeatureName` with an optional `Location` column;
    /// rows may omit the Location field (Kaggle's own file does). RowIds must be
    /// positive and unique, and every FeatureName one of the 30 coordinate columns.
    pub fn parse(reader: impl Read, path: &Path) -> Result<Self> {
        let mut records = CsvRecords::new(reader, path)?;
        let columns = records
            .match_header_with_optional(&["RowId", "ImageId", "FeatureName"], &["Location"])?;
        if columns[3] != usize::MAX {
            records.accept_row_length(3);
        }

        let mut rows = Vec::new();
        let mut first_line_of_row = HashMap::new();
        while let Some(Row { record, line, .. }) = records.next_record()? {
            let location = Location::line(path, line);

            let row_id = parse_positive_id(&record[columns[0]], location.clone().column("RowId"))?;
            if let Some(first_line) = first_line_of_row.insert(row_id, line) {
                return Err(DataError::invalid(
                    location.column("RowId"),
                    format!("duplicate RowId {row_id}, already on line {first_line}"),
                ));
            }

            let image_id =
                parse_positive_id(&record[columns[1]], location.clone().column("ImageId"))?;

            let feature_location = location.column("FeatureName");
            let feature = field_text(&record[columns[2]], &feature_location)?.trim();
            let coordinate = coordinate_index(feature).ok_or_else(|| {
                DataError::invalid(
                    feature_location,
                    format!(
                        "unknown FeatureName '{feature}', expected one of the 30 keypoint \
                         coordinates ({} ... {})",
                        COORDINATE_NAMES[0], COORDINATE_NAMES[29]
                    ),
                )
            })?;

            rows.push(LookupRow {
                row_id,
                image_id,
                coordinate,
            });
        }

        rows.sort_by_key(|row| row.row_id);
        Ok(Self { rows })
    }

    /// Returns the number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Returns whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Reads the RowIds of `SampleSubmission.csv` (`RowId,Location`), in file order.
pub fn read_sample_submission(path: &Path) -> Result<Vec<u32>> {
    let file = File::open(path).map_err(|error| DataError::io(path, error))?;
    parse_sample_submission(BufReader::new(file), path)
}

/// Parses sample-submission CSV from `reader`; `path` is only used in error messages.
pub fn parse_sample_submission(reader: impl Read, path: &Path) -> Result<Vec<u32>> {
    let mut records = CsvRecords::new(reader, path)?;
    let columns = records.match_header(&["RowId", "Location"])?;

    let mut row_ids = Vec::new();
    while let Some(Row { record, line, .. }) = records.next_record()? {
        let location = Location::line(path, line).column("RowId");
        row_ids.push(parse_positive_id(&record[columns[0]], location)?);
    }
    Ok(row_ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LookupTable> {
        LookupTable::parse(text.as_bytes(), Path::new("IdLookupTable.csv"))
    }

    #[test]
    fn lookup_accepts_rows_without_location() {
        let table = parse("RowId,ImageId,FeatureName,Location\r\n2,1,nose_tip_y\r\n1,1,left_eye_center_x,\r\n3,7,mouth_center_bottom_lip_y\r\n").unwrap();
        assert_eq!(
            table.rows,
            vec![
                LookupRow {
                    row_id: 1,
                    image_id: 1,
                    coordinate: 0
                },
                LookupRow {
                    row_id: 2,
                    image_id: 1,
                    coordinate: 21
                },
                LookupRow {
                    row_id: 3,
                    image_id: 7,
                    coordinate: 29
                },
            ]
        );
    }

    #[test]
    fn lookup_accepts_header_without_location() {
        let table = parse("RowId,ImageId,FeatureName\n1,4,nose_tip_x\n").unwrap();
        assert_eq!(
            table.rows,
            vec![LookupRow {
                row_id: 1,
                image_id: 4,
                coordinate: 20
            }]
        );
    }

    #[test]
    fn lookup_rejects_unknown_feature() {
        let error = parse("RowId,ImageId,FeatureName\n1,4,nose_x\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "IdLookupTable.csv line 2, column FeatureName: unknown FeatureName 'nose_x'"
            ),
            "{error}"
        );
    }

    #[test]
    fn lookup_rejects_duplicate_row_id() {
        let error =
            parse("RowId,ImageId,FeatureName\n1,4,nose_tip_x\n1,4,nose_tip_y\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "IdLookupTable.csv line 3, column RowId: duplicate RowId 1, already on line 2"
        );
    }

    #[test]
    fn crlf_errors_name_the_right_line() {
        let error =
            parse("RowId,ImageId,FeatureName\r\n1,4,nose_tip_x\r\n2,4,nose_tip_y\r\n3,4,nose\r\n")
                .unwrap_err();
        assert!(
            error.to_string().starts_with(
                "IdLookupTable.csv line 4, column FeatureName: unknown FeatureName 'nose'"
            ),
            "{error}"
        );
    }

    #[test]
    fn lookup_rejects_bad_image_id() {
        let error = parse("RowId,ImageId,FeatureName\n1,0,nose_tip_x\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "IdLookupTable.csv line 2, column ImageId: '0' is not a positive integer id"
        );
    }

    #[test]
    fn sample_submission_reads_row_ids() {
        let row_ids =
            parse_sample_submission("RowId,Location\n1,0\n2,0\n".as_bytes(), Path::new("s.csv"))
                .unwrap();
        assert_eq!(row_ids, vec![1, 2]);
    }
}
