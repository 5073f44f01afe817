//! The four CSV files of Kaggle's download and the check that a copy of one is usable:
//! its header, first row and last row parse with fkd-data's own parsers.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use fkd_data::KaggleFiles;

/// Upper bound on the header plus the first row. A training row is about 37 KB (9216
/// pixel values), so a file whose first two lines exceed this is not a Kaggle file.
const MAX_CHECKED_BYTES: u64 = 1 << 20;

/// One of the CSV files in Kaggle's archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KaggleFile {
    /// `training.csv`: 30 keypoint coordinates and the image of each training face.
    Training,
    /// `test.csv`: `ImageId,Image`.
    Test,
    /// `IdLookupTable.csv`: which coordinates a submission must contain.
    IdLookupTable,
    /// `SampleSubmission.csv`: `RowId,Location`.
    SampleSubmission,
}

impl KaggleFile {
    /// All four files, in the order they are extracted.
    pub const ALL: [Self; 4] = [
        Self::Training,
        Self::Test,
        Self::IdLookupTable,
        Self::SampleSubmission,
    ];

    /// Returns the file's name, in the archive and in the data directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Training => "training.csv",
            Self::Test => "test.csv",
            Self::IdLookupTable => "IdLookupTable.csv",
            Self::SampleSubmission => "SampleSubmission.csv",
        }
    }

    /// Returns the name of the nested zip that contains the file in Kaggle's layout, if
    /// any.
    pub fn nested_zip_name(self) -> Option<&'static str> {
        match self {
            Self::Training => Some("training.zip"),
            Self::Test => Some("test.zip"),
            Self::IdLookupTable | Self::SampleSubmission => None,
        }
    }

    /// Returns the file's path in `data_dir`, by the names of [`KaggleFiles`].
    pub fn path_in(self, data_dir: &Path) -> PathBuf {
        let files = KaggleFiles::in_dir(data_dir);
        match self {
            Self::Training => files.training,
            Self::Test => files.test,
            Self::IdLookupTable => files.lookup,
            Self::SampleSubmission => files.sample_submission,
        }
    }
}

/// State of one Kaggle file in a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// No file at that path.
    Missing,
    /// The header, the first row and the last row parse.
    Valid,
    /// The file exists but cannot be used, for the reason in the message.
    Invalid(String),
}

/// Checks the file `kind` at `path` by its header, first row and last row, without
/// reading the rows in between.
pub fn inspect(kind: KaggleFile, path: &Path) -> FileState {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return FileState::Missing,
        Err(error) => return FileState::Invalid(format!("{}: {error}", path.display())),
    };

    match check_csv(kind, &file, path).and_then(|()| check_last_row(kind, &file, path)) {
        Ok(()) => FileState::Valid,
        Err(message) => FileState::Invalid(message),
    }
}

/// Checks that the last row of `file` parses after its header, which catches most files
/// cut short: their last row misses fields or pixel values.
fn check_last_row(kind: KaggleFile, mut file: &File, path: &Path) -> Result<(), String> {
    let io_error = |error: std::io::Error| format!("{}: {error}", path.display());
    let length = file.metadata().map_err(io_error)?.len();

    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut header = Vec::new();
    BufReader::new(file.take(MAX_CHECKED_BYTES))
        .read_until(b'\n', &mut header)
        .map_err(io_error)?;

    let start = length.saturating_sub(MAX_CHECKED_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(io_error)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io_error)?;
    let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let Some(newline) = body.iter().rposition(|&byte| byte == b'\n') else {
        // The whole file is the header and one row, which check_csv has parsed.
        return Ok(());
    };
    let last_row = &body[newline + 1..];
    if start + (newline as u64) < header.len() as u64 {
        // The last row is the first one, which check_csv has parsed.
        return Ok(());
    }

    let mut text = header;
    text.extend_from_slice(last_row);
    text.push(b'\n');
    match parse_rows(kind, &text, path) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "{}: the last row is incomplete or invalid, so the file looks cut short",
            path.display()
        )),
    }
}

/// Parses `text` as the file `kind` and returns its number of rows.
fn parse_rows(kind: KaggleFile, text: &[u8], path: &Path) -> fkd_data::Result<usize> {
    match kind {
        KaggleFile::Training => fkd_data::parse_training_csv(text, path).map(|set| set.len()),
        KaggleFile::Test => fkd_data::parse_test_csv(text, path).map(|set| set.len()),
        KaggleFile::IdLookupTable => {
            fkd_data::LookupTable::parse(text, path).map(|table| table.len())
        }
        KaggleFile::SampleSubmission => {
            fkd_data::parse_sample_submission(text, path).map(|row_ids| row_ids.len())
        }
    }
}

/// Checks that `reader` starts like the file `kind`: a header with the right columns
/// and one row that parses. `path` only names the file in the message.
pub fn check_csv(kind: KaggleFile, reader: impl Read, path: &Path) -> Result<(), String> {
    let mut reader = BufReader::new(reader.take(MAX_CHECKED_BYTES));
    let mut head = Vec::new();
    for _ in 0..2 {
        let read = reader
            .read_until(b'\n', &mut head)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let complete = read == 0 || head.ends_with(b"\n");
        if !complete && reader.get_ref().limit() == 0 {
            return Err(format!(
                "{}: the header and first row are longer than {MAX_CHECKED_BYTES} bytes, \
                 expected a Kaggle CSV file",
                path.display()
            ));
        }
    }
    if head.is_empty() {
        return Err(format!(
            "{}: the file is empty, expected a CSV header line",
            path.display()
        ));
    }

    let rows = parse_rows(kind, &head, path).map_err(|error| error.to_string())?;

    if rows == 0 {
        return Err(format!(
            "{}: the file has a header but no rows",
            path.display()
        ));
    }
    Ok(())
}
