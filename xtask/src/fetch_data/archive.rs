//! Kaggle's competition archive: checking its entries and extracting the four CSV
//! files, either from the nested `training.zip` and `test.zip` or stored directly.

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use zip::ZipArchive;

use super::files::{KaggleFile, check_csv};

/// Maximum size of a nested zip, which is read into memory. The limit is a guess with a
/// wide margin: each nested zip of Kaggle's archive contains a single CSV file.
const MAX_NESTED_ZIP_BYTES: u64 = 1 << 30;

/// Number of entry names listed in an error about missing entries.
const LISTED_ENTRIES: usize = 10;

/// Location of a CSV file in the outer zip.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// An entry of the outer zip, by name.
    Direct(String),
    /// Inside the nested zip with this name, under the CSV's own name.
    Nested(String),
}

/// An opened outer zip whose entries have been checked: every name stays inside the
/// extraction directory, and each of the four CSV files is present, directly or in its
/// nested zip.
pub struct KaggleArchive {
    path: PathBuf,
    zip: ZipArchive<File>,
    names: Vec<String>,
}

impl KaggleArchive {
    /// Opens the zip at `path` and checks its entries, without decompressing them.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file =
            File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
        let zip = ZipArchive::new(file)
            .with_context(|| format!("{} is not a valid zip archive", path.display()))?;

        let names = entry_names(&zip, path)?;
        for name in &names {
            reject_escaping_name(name, path)?;
        }

        for kind in KaggleFile::ALL {
            if find_entry(kind, &names).is_none() {
                return Err(missing_entry_error(kind, &names, path));
            }
        }

        Ok(Self {
            path: path.to_path_buf(),
            zip,
            names,
        })
    }

    /// Extracts the files `kinds` into `data_dir` and returns their paths.
    ///
    /// Each file is written to a temporary file and renamed into place only after it
    /// decompressed without a checksum error and its header and first row parse, so a
    /// failure leaves the previous file, or none. Nested zips are read into memory and
    /// checked like the outer one before anything is written from them.
    pub fn extract(
        &mut self,
        kinds: &[KaggleFile],
        data_dir: &Path,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let mut written = Vec::with_capacity(kinds.len());
        for &kind in kinds {
            let entry = find_entry(kind, &self.names)
                .ok_or_else(|| missing_entry_error(kind, &self.names, &self.path))?;
            let destination = kind.path_in(data_dir);

            match &entry {
                Entry::Direct(name) => {
                    let label = format!("{}/{name}", self.path.display());
                    let source = self
                        .zip
                        .by_name(name)
                        .with_context(|| format!("failed to read {label}"))?;
                    write_checked(kind, source, &destination, &label)?;
                }
                Entry::Nested(zip_name) => {
                    let outer_label = format!("{}/{zip_name}", self.path.display());
                    let mut nested = self.open_nested(zip_name, &outer_label)?;
                    let names = entry_names(&nested, Path::new(&outer_label))?;
                    for name in &names {
                        reject_escaping_name(name, Path::new(&outer_label))?;
                    }
                    let Some(name) = names.iter().find(|name| *name == kind.file_name()) else {
                        bail!(
                            "{outer_label} contains no {} (entries found: {})",
                            kind.file_name(),
                            list_names(&names)
                        );
                    };

                    let label = format!("{outer_label}/{name}");
                    let source = nested
                        .by_name(name)
                        .with_context(|| format!("failed to read {label}"))?;
                    write_checked(kind, source, &destination, &label)?;
                }
            }

            tracing::info!("extracted {}", destination.display());
            written.push(destination);
        }
        Ok(written)
    }

    /// Reads the nested zip `name` into memory and opens it.
    fn open_nested(
        &mut self,
        name: &str,
        label: &str,
    ) -> anyhow::Result<ZipArchive<Cursor<Vec<u8>>>> {
        let entry = self
            .zip
            .by_name(name)
            .with_context(|| format!("failed to read {label}"))?;
        if entry.size() > MAX_NESTED_ZIP_BYTES {
            bail!(
                "{label} is {} bytes, more than the limit of {MAX_NESTED_ZIP_BYTES} bytes for a \
                 nested zip of Kaggle's archive",
                entry.size()
            );
        }

        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .take(MAX_NESTED_ZIP_BYTES)
            .read_to_end(&mut bytes)
            .with_context(|| format!("failed to decompress {label}"))?;
        ZipArchive::new(Cursor::new(bytes))
            .with_context(|| format!("{label} is not a valid zip archive"))
    }
}

/// Copies `source` into `destination` through a temporary file, checking the CSV
/// before the rename. `label` names the entry in messages.
fn write_checked(
    kind: KaggleFile,
    mut source: impl Read,
    destination: &Path,
    label: &str,
) -> anyhow::Result<()> {
    fkd_data::write_atomically_with(destination, |file| {
        std::io::copy(&mut source, file)?;
        file.rewind()?;
        check_csv(kind, &*file, Path::new(label)).map_err(std::io::Error::other)
    })
    // The message only: `DataError::Io` shows its source in its own message too, so
    // keeping it as the source would print the cause twice.
    .map_err(|error| anyhow::anyhow!("{error}"))
    .with_context(|| format!("failed to extract {label}"))
}

/// Returns the names of all entries of `zip`, in archive order.
fn entry_names<R: Read + Seek>(zip: &ZipArchive<R>, path: &Path) -> anyhow::Result<Vec<String>> {
    zip.file_names()
        .map(|name| name.map(|name| name.into_owned()))
        .collect::<Result<_, _>>()
        .with_context(|| {
            format!(
                "{} has an entry name that cannot be decoded",
                path.display()
            )
        })
}

/// Rejects an entry name that is absolute or climbs out of the extraction directory,
/// such as `/etc/passwd`, `C:\x` or `../x`. The check is on the name alone, so it also
/// covers entries that are never extracted: such a name marks the archive as untrusted.
fn reject_escaping_name(name: &str, archive: &Path) -> anyhow::Result<()> {
    let absolute = name.starts_with('/') || name.starts_with('\\');
    let drive = name
        .split(['/', '\\'])
        .next()
        .is_some_and(|first| first.contains(':'));
    let parent = name.split(['/', '\\']).any(|component| component == "..");
    let nul = name.contains('\0');

    if absolute || drive || parent || nul {
        bail!(
            "{} has the entry '{}', which would be written outside the data directory. \
             The archive was rejected and nothing was extracted from it",
            archive.display(),
            name.escape_debug()
        );
    }
    Ok(())
}

/// Finds the entry that holds `kind`: the CSV at the top level, else its nested zip.
fn find_entry(kind: KaggleFile, names: &[String]) -> Option<Entry> {
    if names.iter().any(|name| name == kind.file_name()) {
        return Some(Entry::Direct(kind.file_name().to_string()));
    }
    let nested = kind.nested_zip_name()?;
    names
        .iter()
        .any(|name| name == nested)
        .then(|| Entry::Nested(nested.to_string()))
}

fn missing_entry_error(kind: KaggleFile, names: &[String], path: &Path) -> anyhow::Error {
    let expected = match kind.nested_zip_name() {
        Some(nested) => format!("{} or {nested}", kind.file_name()),
        None => kind.file_name().to_string(),
    };
    anyhow::anyhow!(
        "{} contains no {expected}. Expected Kaggle's archive with IdLookupTable.csv, \
         SampleSubmission.csv, training.zip and test.zip at the top level (entries found: {})",
        path.display(),
        list_names(names)
    )
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    let mut listed = names
        .iter()
        .take(LISTED_ENTRIES)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED_ENTRIES {
        listed.push_str(&format!(" and {} more", names.len() - LISTED_ENTRIES));
    }
    listed
}
