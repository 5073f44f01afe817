//! Errors of fkd-data: every one names the file and, where it applies, the line, the
//! column and the offending value.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as the caller named it.
    pub path: PathBuf,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<u64>,
    /// Column name, when the problem is in one field.
    pub column: Option<String>,
}

impl Location {
    /// A location covering a whole file.
    pub fn file(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            line: None,
            column: None,
        }
    }

    /// A location on one line of a file.
    pub fn line(path: &Path, line: u64) -> Self {
        Self {
            path: path.to_path_buf(),
            line: Some(line),
            column: None,
        }
    }

    /// The same location narrowed to one column.
    pub fn column(mut self, column: &str) -> Self {
        self.column = Some(column.to_string());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        Ok(())
    }
}

/// An error reading, validating or caching the Kaggle files.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened, read or written. The I/O error is part of the
    /// message and not a separate `source()`, so error chains print it once.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },

    /// The file's content is not what the Kaggle format expects.
    #[error("{location}: {message}")]
    Invalid {
        /// Where the problem is.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },

    /// A parameter passed by the caller is outside its valid range.
    #[error("invalid {name}: {message}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl DataError {
    /// Wraps an I/O error with the file it concerns.
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    /// Builds an [`DataError::Invalid`] at `location`.
    pub fn invalid(location: Location, message: impl Into<String>) -> Self {
        Self::Invalid {
            location,
            message: message.into(),
        }
    }
}

/// Result type of fkd-data.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
