//! Atomic file writes: a temporary file in the target's directory, synced, then renamed
//! over the target, so readers see the old content or the new, never a partial file.

use std::io::Write;
use std::path::Path;

use crate::error::{DataError, Result};

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

/// Creates `path` atomically from what `write` puts into the temporary file.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let directory = parent_directory(path);
    check_directory(path)?;
    // tempfile's error names the random temporary file, which means nothing to the user,
    // so only its kind is kept.
    let mut file = tempfile::NamedTempFile::new_in(directory).map_err(|error| {
        let message = format!(
            "cannot create a file in {}: {}",
            directory.display(),
            std::io::Error::from(error.kind())
        );
        DataError::io(path, std::io::Error::new(error.kind(), message))
    })?;

    // tempfile creates files readable by their owner only; data files and submissions
    // get rw-r--r-- instead.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = std::fs::Permissions::from_mode(0o644);
        file.as_file()
            .set_permissions(permissions)
            .map_err(|error| DataError::io(path, error))?;
    }

    write(file.as_file_mut()).map_err(|error| DataError::io(path, error))?;
    file.as_file()
        .sync_all()
        .map_err(|error| DataError::io(path, error))?;
    file.persist(path)
        .map_err(|error| DataError::io(path, error.error))?;
    Ok(())
}

/// Returns an error naming the directory of `path` when that directory does not exist.
///
/// Commands call this before long work whose result goes to `path`.
pub fn check_directory(path: &Path) -> Result<()> {
    let directory = parent_directory(path);
    if directory.is_dir() {
        return Ok(());
    }
    let message = format!("the directory {} does not exist", directory.display());
    Err(DataError::io(
        path,
        std::io::Error::new(std::io::ErrorKind::NotFound, message),
    ))
}

/// Returns the directory that contains `path`: its parent, or `.` for a bare file name.
fn parent_directory(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_old_content() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("out.csv");
        write_atomically(&path, b"old").unwrap();

        let result = write_atomically_with(&path, |file| {
            file.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });

        assert!(result.unwrap_err().to_string().contains("disk full"));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn written_file_is_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("submission.csv");
        write_atomically(&path, b"RowId,Location\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "mode {mode:o}");
    }

    #[test]
    fn missing_directory_is_named() {
        let directory = tempfile::tempdir().unwrap();
        let missing = directory.path().join("nodir");
        let path = missing.join("x.csv");

        let error = write_atomically(&path, b"x").unwrap_err().to_string();

        assert_eq!(
            error,
            format!(
                "{}: the directory {} does not exist",
                path.display(),
                missing.display()
            )
        );
        assert!(!missing.exists());
    }
}
