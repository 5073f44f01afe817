//! A compact binary cache of parsed CSV files, kept next to the CSV as
//! `<name>.csv.cache`, so later runs skip parsing.
//!
//! The cache records the CSV's size and modification time and is reused only while
//! both are unchanged. A CRC-32 over its content guards against corruption: a cache
//! that fails any check is rebuilt with a warning, never trusted. It is written to a
//! temporary file and renamed into place, so a crash never leaves a partial cache.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::atomic::write_atomically_with;
use crate::error::{DataError, Result};
use crate::faces::{Keypoints, TestSet, TrainingSet};
use crate::keypoints::{IMAGE_PIXELS, NUM_COORDS};
use crate::parse::{read_test_csv, read_training_csv};

const MAGIC: &[u8; 8] = b"FKDCACHE";
const FORMAT_VERSION: u32 = 1;
const KIND_TRAINING: u8 = 1;
const KIND_TEST: u8 = 2;
/// Magic, version, kind, CSV size, mtime seconds, mtime nanoseconds, face count.
const HEADER_BYTES: usize = 8 + 4 + 1 + 8 + 8 + 4 + 8;
const CHECKSUM_BYTES: usize = 4;
/// Per face in a training cache: 30 mask bytes and 30 little-endian f32 values.
const TRAINING_KEYPOINT_BYTES: usize = NUM_COORDS + 4 * NUM_COORDS;

/// Loads `training.csv` at `path`, through its cache when the cache is valid.
pub fn load_training(path: &Path) -> Result<TrainingSet> {
    load_cached(
        path,
        KIND_TRAINING,
        read_training_csv,
        encode_training,
        decode_training,
    )
}

/// Loads `test.csv` at `path`, through its cache when the cache is valid.
pub fn load_test(path: &Path) -> Result<TestSet> {
    load_cached(path, KIND_TEST, read_test_csv, encode_test, decode_test)
}

/// Returns the cache file used for the CSV at `csv_path`.
pub fn cache_path(csv_path: &Path) -> PathBuf {
    let mut name = csv_path.file_name().unwrap_or_default().to_os_string();
    name.push(".cache");
    csv_path.with_file_name(name)
}

/// The CSV properties that a cache must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    size: u64,
    mtime_seconds: u64,
    mtime_nanos: u32,
}

fn source_of(csv_path: &Path) -> Result<Source> {
    let metadata = fs::metadata(csv_path).map_err(|error| DataError::io(csv_path, error))?;
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    Ok(Source {
        size: metadata.len(),
        mtime_seconds: mtime.as_secs(),
        mtime_nanos: mtime.subsec_nanos(),
    })
}

fn load_cached<T>(
    csv_path: &Path,
    kind: u8,
    parse: fn(&Path) -> Result<T>,
    encode: fn(&T, &mut Vec<u8>),
    decode: fn(&[u8], usize) -> Option<T>,
) -> Result<T> {
    let source = source_of(csv_path)?;
    let cache = cache_path(csv_path);

    match fs::read(&cache) {
        Ok(bytes) => match check_cache(&bytes, kind, source) {
            CacheState::Valid { count, payload } => {
                if let Some(set) = decode(payload, count) {
                    tracing::debug!(cache = %cache.display(), count, "loaded from cache");
                    return Ok(set);
                }
                tracing::warn!(cache = %cache.display(), "cache content is inconsistent, rebuilding it");
            }
            CacheState::Stale => {
                tracing::info!(cache = %cache.display(), "CSV changed since the cache was written, rebuilding it");
            }
            CacheState::Corrupt(reason) => {
                tracing::warn!(cache = %cache.display(), reason, "cache is corrupt, rebuilding it");
            }
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(cache = %cache.display(), %error, "cannot read cache, parsing the CSV");
        }
    }

    let set = parse(csv_path)?;

    // The encoder fills in the face count, which the header reserves room for.
    let mut bytes = Vec::new();
    write_header(&mut bytes, kind, source, 0);
    encode(&set, &mut bytes);
    if let Err(error) = write_cache(&cache, &bytes) {
        tracing::warn!(cache = %cache.display(), %error, "cannot write cache; the CSV will be parsed again next time");
    }
    Ok(set)
}

enum CacheState<'a> {
    Valid { count: usize, payload: &'a [u8] },
    Stale,
    Corrupt(&'static str),
}

fn check_cache(bytes: &[u8], kind: u8, source: Source) -> CacheState<'_> {
    if bytes.len() < HEADER_BYTES + CHECKSUM_BYTES {
        return CacheState::Corrupt("shorter than its header");
    }
    if &bytes[..8] != MAGIC {
        return CacheState::Corrupt("wrong magic bytes");
    }

    let (content, checksum) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
    let stored = u32::from_le_bytes(checksum.try_into().expect("4 bytes"));
    if crc32fast::hash(content) != stored {
        return CacheState::Corrupt("checksum mismatch");
    }

    let version = u32::from_le_bytes(content[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION || content[12] != kind {
        return CacheState::Stale;
    }
    let cached = Source {
        size: u64::from_le_bytes(content[13..21].try_into().expect("8 bytes")),
        mtime_seconds: u64::from_le_bytes(content[21..29].try_into().expect("8 bytes")),
        mtime_nanos: u32::from_le_bytes(content[29..33].try_into().expect("4 bytes")),
    };
    if cached != source {
        return CacheState::Stale;
    }

    let count = u64::from_le_bytes(content[33..41].try_into().expect("8 bytes"));
    CacheState::Valid {
        count: count as usize,
        payload: &content[HEADER_BYTES..],
    }
}

fn write_header(bytes: &mut Vec<u8>, kind: u8, source: Source, count: u64) {
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.push(kind);
    bytes.extend_from_slice(&source.size.to_le_bytes());
    bytes.extend_from_slice(&source.mtime_seconds.to_le_bytes());
    bytes.extend_from_slice(&source.mtime_nanos.to_le_bytes());
    bytes.extend_from_slice(&count.to_le_bytes());
}

fn set_count(bytes: &mut [u8], count: usize) {
    bytes[33..41].copy_from_slice(&(count as u64).to_le_bytes());
}

fn encode_training(set: &TrainingSet, bytes: &mut Vec<u8>) {
    set_count(bytes, set.len());
    bytes.extend_from_slice(&set.images);
    for keypoints in &set.keypoints {
        bytes.extend(keypoints.0.iter().map(|value| u8::from(value.is_some())));
        for value in keypoints.0 {
            bytes.extend_from_slice(&value.unwrap_or(0.0).to_le_bytes());
        }
    }
}

fn decode_training(payload: &[u8], count: usize) -> Option<TrainingSet> {
    let image_bytes = count.checked_mul(IMAGE_PIXELS)?;
    let keypoint_bytes = count.checked_mul(TRAINING_KEYPOINT_BYTES)?;
    if payload.len() != image_bytes.checked_add(keypoint_bytes)? {
        return None;
    }

    let (images, rest) = payload.split_at(image_bytes);
    let mut keypoints = Vec::with_capacity(count);
    for face in rest.chunks_exact(TRAINING_KEYPOINT_BYTES) {
        let (mask, values) = face.split_at(NUM_COORDS);
        let mut coordinates = [None; NUM_COORDS];
        for (coordinate, slot) in coordinates.iter_mut().enumerate() {
            let raw = &values[4 * coordinate..4 * coordinate + 4];
            match mask[coordinate] {
                0 => {}
                1 => *slot = Some(f32::from_le_bytes(raw.try_into().ok()?)),
                _ => return None,
            }
        }
        keypoints.push(Keypoints(coordinates));
    }

    Some(TrainingSet {
        images: images.to_vec(),
        keypoints,
    })
}

fn encode_test(set: &TestSet, bytes: &mut Vec<u8>) {
    set_count(bytes, set.len());
    for id in &set.image_ids {
        bytes.extend_from_slice(&id.to_le_bytes());
    }
    bytes.extend_from_slice(&set.images);
}

fn decode_test(payload: &[u8], count: usize) -> Option<TestSet> {
    let id_bytes = count.checked_mul(4)?;
    if payload.len() != id_bytes.checked_add(count.checked_mul(IMAGE_PIXELS)?)? {
        return None;
    }

    let (ids, images) = payload.split_at(id_bytes);
    let image_ids = ids
        .chunks_exact(4)
        .map(|raw| u32::from_le_bytes(raw.try_into().expect("4 bytes")))
        .collect();
    Some(TestSet {
        image_ids,
        images: images.to_vec(),
    })
}

/// Writes `bytes` plus a trailing CRC-32 to `path` atomically.
fn write_cache(path: &Path, bytes: &[u8]) -> Result<()> {
    let checksum = crc32fast::hash(bytes).to_le_bytes();
    write_atomically_with(path, |file| {
        file.write_all(bytes)?;
        file.write_all(&checksum)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keypoints::COORDINATE_NAMES;

    fn write_training_csv(path: &Path, rows: usize) {
        let mut text = COORDINATE_NAMES.join(",");
        text.push_str(",Image\n");
        for row in 0..rows {
            let mut fields = vec![String::new(); NUM_COORDS];
            fields[0] = format!("{}.5", row + 10);
            text.push_str(&fields.join(","));
            text.push(',');
            let image: Vec<String> = (0..IMAGE_PIXELS)
                .map(|i| ((i + row) % 256).to_string())
                .collect();
            text.push_str(&image.join(" "));
            text.push('\n');
        }
        fs::write(path, text).unwrap();
    }

    #[test]
    fn cache_is_written_and_reused() {
        let directory = tempfile::tempdir().unwrap();
        let csv = directory.path().join("training.csv");
        write_training_csv(&csv, 3);

        let parsed = load_training(&csv).unwrap();
        assert!(cache_path(&csv).exists());

        // Make the CSV invalid (99.5 is out of range) without changing its size or
        // modification time: a load that still succeeds must come from the cache.
        let modified = fs::metadata(&csv).unwrap().modified().unwrap();
        let text = fs::read_to_string(&csv)
            .unwrap()
            .replacen("10.5", "99.5", 1);
        fs::write(&csv, text).unwrap();
        fs::File::options()
            .write(true)
            .open(&csv)
            .unwrap()
            .set_modified(modified)
            .unwrap();

        let from_cache = load_training(&csv).unwrap();
        assert_eq!(from_cache, parsed);
        assert_eq!(from_cache.keypoints[0].0[0], Some(10.5));
    }

    #[test]
    fn cache_is_rebuilt_when_csv_changes() {
        let directory = tempfile::tempdir().unwrap();
        let csv = directory.path().join("training.csv");
        write_training_csv(&csv, 2);
        assert_eq!(load_training(&csv).unwrap().len(), 2);

        write_training_csv(&csv, 4);
        assert_eq!(load_training(&csv).unwrap().len(), 4);
        assert_eq!(load_training(&csv).unwrap().len(), 4);
    }

    #[test]
    fn corrupt_cache_is_rebuilt() {
        let directory = tempfile::tempdir().unwrap();
        let csv = directory.path().join("training.csv");
        write_training_csv(&csv, 2);
        let parsed = load_training(&csv).unwrap();

        let cache = cache_path(&csv);
        let mut bytes = fs::read(&cache).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&cache, &bytes).unwrap();

        assert_eq!(load_training(&csv).unwrap(), parsed);
        // The rebuilt cache is valid again.
        let bytes = fs::read(&cache).unwrap();
        assert!(matches!(
            check_cache(&bytes, KIND_TRAINING, source_of(&csv).unwrap()),
            CacheState::Valid { count: 2, .. }
        ));
    }

    #[test]
    fn truncated_cache_is_rebuilt() {
        let directory = tempfile::tempdir().unwrap();
        let csv = directory.path().join("training.csv");
        write_training_csv(&csv, 2);
        let parsed = load_training(&csv).unwrap();

        let cache = cache_path(&csv);
        let bytes = fs::read(&cache).unwrap();
        fs::write(&cache, &bytes[..bytes.len() / 3]).unwrap();

        assert_eq!(load_training(&csv).unwrap(), parsed);
    }

    #[test]
    fn test_set_cache_round_trip() {
        let directory = tempfile::tempdir().unwrap();
        let csv = directory.path().join("test.csv");
        let image: Vec<String> = (0..IMAGE_PIXELS).map(|i| (i % 200).to_string()).collect();
        fs::write(
            &csv,
            format!(
                "ImageId,Image\n5,{}\n9,{}\n",
                image.join(" "),
                image.join(" ")
            ),
        )
        .unwrap();

        let parsed = load_test(&csv).unwrap();
        let cached = load_test(&csv).unwrap();

        assert_eq!(parsed.image_ids, vec![5, 9]);
        assert_eq!(cached, parsed);
    }

    #[test]
    fn cache_check_rejects_other_kind() {
        let directory = tempfile::tempdir().unwrap();
        let csv = directory.path().join("training.csv");
        write_training_csv(&csv, 1);
        load_training(&csv).unwrap();

        let bytes = fs::read(cache_path(&csv)).unwrap();
        assert!(matches!(
            check_cache(&bytes, KIND_TEST, source_of(&csv).unwrap()),
            CacheState::Stale
        ));
    }
}
