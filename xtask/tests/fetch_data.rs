//! Tests of `cargo xtask fetch-data` against an HTTP server on 127.0.0.1 and zips built
//! here. `real_archive_fetch` also serves the shared data set's archive from the
//! directory in `FKD_SHARED_DATA` and is skipped when that variable is unset.

mod support;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::fetch_data::{
    Credentials, CredentialsSource, FileState, KaggleFile, RULES_URL, Source, ZIP_FILE_NAME,
    check_csv, download_zip, fetch_data, find_credentials, inspect, is_kaggle_url,
};
use zip::CompressionMethod;

use support::{
    Recorded, Reply, TestServer, dir_entries, flat_zip, kaggle_zip, lookup_csv,
    sample_submission_csv, test_csv, training_csv, training_header, zip_of, zip_with,
};

const USERNAME: &str = "alice";
const KEY: &str = "secret-key-123";
/// base64 of "alice:secret-key-123".
const BASIC_AUTHORIZATION: &str = "Basic YWxpY2U6c2VjcmV0LWtleS0xMjM=";

const CSV_NAMES: [&str; 4] = [
    "IdLookupTable.csv",
    "SampleSubmission.csv",
    "test.csv",
    "training.csv",
];

fn credentials() -> Credentials {
    Credentials::new(USERNAME, KEY)
}

fn write_zip(directory: &Path, bytes: &[u8]) -> PathBuf {
    let path = directory.join("archive.zip");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn paths_in(data_dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|name| data_dir.join(name)).collect()
}

fn assert_fixture_files(data_dir: &Path) {
    assert_eq!(
        std::fs::read(data_dir.join("training.csv")).unwrap(),
        training_csv()
    );
    assert_eq!(
        std::fs::read(data_dir.join("test.csv")).unwrap(),
        test_csv()
    );
    assert_eq!(
        std::fs::read(data_dir.join("IdLookupTable.csv")).unwrap(),
        lookup_csv()
    );
    assert_eq!(
        std::fs::read(data_dir.join("SampleSubmission.csv")).unwrap(),
        sample_submission_csv()
    );
}

fn all_extracted(data_dir: &Path) -> Vec<PathBuf> {
    KaggleFile::ALL
        .iter()
        .map(|kind| kind.path_in(data_dir))
        .collect()
}

// Downloads.

#[test]
fn url_fetch_writes_four_files() {
    let archive = kaggle_zip();
    let server = TestServer::start(vec![("/data.zip", Reply::Body(archive.clone()))]);
    let directory = tempfile::tempdir().unwrap();

    let outcome = fetch_data(
        directory.path(),
        &Source::Url(server.url("/data.zip")),
        false,
    )
    .unwrap();

    assert_eq!(outcome.downloaded_bytes, Some(archive.len() as u64));
    assert_eq!(outcome.extracted, all_extracted(directory.path()));
    assert!(outcome.kept.is_empty());
    assert_fixture_files(directory.path());
    assert_eq!(
        std::fs::read(directory.path().join(ZIP_FILE_NAME)).unwrap(),
        archive
    );
    let mut expected: Vec<String> = CSV_NAMES.iter().map(|name| name.to_string()).collect();
    expected.push(ZIP_FILE_NAME.to_string());
    expected.sort();
    assert_eq!(dir_entries(directory.path()), expected);
}

#[test]
fn second_fetch_downloads_nothing() {
    let server = TestServer::start(vec![("/data.zip", Reply::Body(kaggle_zip()))]);
    let directory = tempfile::tempdir().unwrap();
    let source = Source::Url(server.url("/data.zip"));
    fetch_data(directory.path(), &source, false).unwrap();

    let outcome = fetch_data(directory.path(), &source, false).unwrap();

    assert_eq!(outcome.downloaded_bytes, None);
    assert!(outcome.extracted.is_empty());
    assert_eq!(outcome.kept, all_extracted(directory.path()));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn earlier_download_is_reused() {
    let server = TestServer::start(vec![("/data.zip", Reply::Body(kaggle_zip()))]);
    let directory = tempfile::tempdir().unwrap();
    let source = Source::Url(server.url("/data.zip"));
    fetch_data(directory.path(), &source, false).unwrap();
    std::fs::remove_file(directory.path().join("training.csv")).unwrap();

    let outcome = fetch_data(directory.path(), &source, false).unwrap();

    assert_eq!(outcome.downloaded_bytes, None);
    assert_eq!(
        outcome.extracted,
        paths_in(directory.path(), &["training.csv"])
    );
    assert_eq!(outcome.kept.len(), 3);
    assert_eq!(server.requests().len(), 1);
    assert_fixture_files(directory.path());
}

#[test]
fn force_downloads_again() {
    let server = TestServer::start(vec![("/data.zip", Reply::Body(kaggle_zip()))]);
    let directory = tempfile::tempdir().unwrap();
    let source = Source::Url(server.url("/data.zip"));
    fetch_data(directory.path(), &source, false).unwrap();

    let outcome = fetch_data(directory.path(), &source, true).unwrap();

    assert_eq!(outcome.downloaded_bytes, Some(kaggle_zip().len() as u64));
    assert_eq!(outcome.extracted.len(), 4);
    assert!(outcome.kept.is_empty());
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn rejected_credentials_explain_token_and_rules() {
    for (code, reason) in [(401, "Unauthorized"), (403, "Forbidden")] {
        let server = TestServer::start(vec![("/data.zip", Reply::Status(code, reason))]);
        let directory = tempfile::tempdir().unwrap();
        let url = server.url("/data.zip");

        let error = download_zip(
            &url,
            Some(&credentials()),
            &directory.path().join("data.zip"),
        )
        .unwrap_err();

        let message = format!("{error:#}");
        assert!(message.contains(&url), "{message}");
        assert!(message.contains(&code.to_string()), "{message}");
        assert!(message.contains("'alice'"), "{message}");
        assert!(message.contains("Create New Token"), "{message}");
        assert!(message.contains(RULES_URL), "{message}");
        assert!(!message.contains(KEY), "{message}");
        assert!(dir_entries(directory.path()).is_empty());
    }
}

#[test]
fn rules_not_accepted_quotes_server() {
    let json = r#"{"code":403,"message":"You must accept this competition's rules."}"#;
    let server = TestServer::start(vec![("/data.zip", Reply::Json(403, "Forbidden", json))]);
    let directory = tempfile::tempdir().unwrap();

    let error = download_zip(
        &server.url("/data.zip"),
        Some(&credentials()),
        &directory.path().join("data.zip"),
    )
    .unwrap_err();

    let message = format!("{error:#}");
    assert!(
        message.contains(
            "HTTP 403 Forbidden (server message: \"You must accept this competition's rules.\")"
        ),
        "{message}"
    );
    assert!(message.contains(RULES_URL), "{message}");
    assert!(dir_entries(directory.path()).is_empty());
}

#[test]
fn unauthorized_without_credentials_says_why() {
    let server = TestServer::start(vec![("/data.zip", Reply::Status(401, "Unauthorized"))]);
    let directory = tempfile::tempdir().unwrap();

    let error = fetch_data(
        directory.path(),
        &Source::Url(server.url("/data.zip")),
        false,
    )
    .unwrap_err();

    let message = format!("{error:#}");
    assert!(
        message.contains("sent only to https://www.kaggle.com"),
        "{message}"
    );
    assert!(message.contains("Create New Token"), "{message}");
    assert_eq!(server.requests()[0].authorization, None);
    assert!(dir_entries(directory.path()).is_empty());
}

#[test]
fn redirect_drops_authorization() {
    let server = TestServer::start(vec![
        ("/start", Reply::Redirect("/storage/data.zip")),
        ("/storage/data.zip", Reply::Body(kaggle_zip())),
    ]);
    let directory = tempfile::tempdir().unwrap();
    let destination = directory.path().join("data.zip");

    let bytes = download_zip(&server.url("/start"), Some(&credentials()), &destination).unwrap();

    assert_eq!(bytes, kaggle_zip().len() as u64);
    assert_eq!(std::fs::read(&destination).unwrap(), kaggle_zip());
    assert_eq!(
        server.requests(),
        vec![
            Recorded {
                path: "/start".to_string(),
                authorization: Some(BASIC_AUTHORIZATION.to_string()),
            },
            Recorded {
                path: "/storage/data.zip".to_string(),
                authorization: None,
            },
        ]
    );
}

#[test]
fn cut_body_leaves_no_files() {
    let archive = kaggle_zip();
    let total = archive.len();
    let sent = total / 2;
    let server = TestServer::start(vec![(
        "/data.zip",
        Reply::Truncated {
            body: archive,
            sent,
        },
    )]);
    let directory = tempfile::tempdir().unwrap();
    let url = server.url("/data.zip");

    let error = fetch_data(directory.path(), &Source::Url(url.clone()), false).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains(&url), "{message}");
    assert!(
        message.contains(&format!("failed after {sent} of {total} bytes")),
        "{message}"
    );
    assert!(message.contains("Nothing was saved"), "{message}");
    assert!(dir_entries(directory.path()).is_empty());
}

#[test]
fn download_not_zip_is_rejected() {
    let server = TestServer::start(vec![(
        "/data.zip",
        Reply::Body(b"<html>Please sign in</html>".to_vec()),
    )]);
    let directory = tempfile::tempdir().unwrap();

    let error = fetch_data(
        directory.path(),
        &Source::Url(server.url("/data.zip")),
        false,
    )
    .unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains("is not Kaggle's archive"), "{message}");
    assert!(message.contains("not a valid zip archive"), "{message}");
    assert!(dir_entries(directory.path()).is_empty());
}

#[test]
fn download_not_found_names_url() {
    let server = TestServer::start(vec![]);
    let directory = tempfile::tempdir().unwrap();
    let url = server.url("/missing.zip");

    let error = download_zip(&url, None, &directory.path().join("data.zip")).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains(&url), "{message}");
    assert!(
        message.contains("HTTP 404 Not Found: check the URL"),
        "{message}"
    );
    assert!(dir_entries(directory.path()).is_empty());
}

#[test]
fn corrupt_download_is_not_reused() {
    let server = TestServer::start(vec![("/data.zip", Reply::Body(kaggle_zip()))]);
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join(ZIP_FILE_NAME), b"partial").unwrap();

    let outcome = fetch_data(
        directory.path(),
        &Source::Url(server.url("/data.zip")),
        false,
    )
    .unwrap();

    assert_eq!(outcome.downloaded_bytes, Some(kaggle_zip().len() as u64));
    assert_eq!(server.requests().len(), 1);
    assert_fixture_files(directory.path());
}

// Local zips.

#[test]
fn flat_layout_is_extracted() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), &flat_zip());
    let data_dir = directory.path().join("data");

    let outcome = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap();

    assert_eq!(outcome.downloaded_bytes, None);
    assert_eq!(outcome.extracted, all_extracted(&data_dir));
    assert_fixture_files(&data_dir);
    assert_eq!(dir_entries(&data_dir), CSV_NAMES);
}

#[test]
fn escaping_entry_is_rejected() {
    let cases: [(&str, Vec<u8>); 4] = [
        (
            "../evil.csv",
            zip_of(&[("../evil.csv", b"x"), ("training.csv", &training_csv())]),
        ),
        ("/tmp/evil.csv", zip_of(&[("/tmp/evil.csv", b"x")])),
        (
            "data/../../evil.csv",
            zip_of(&[("data/../../evil.csv", b"x")]),
        ),
        (
            "../evil.csv",
            zip_of(&[
                ("IdLookupTable.csv", &lookup_csv()),
                ("SampleSubmission.csv", &sample_submission_csv()),
                ("test.csv", &test_csv()),
                (
                    "training.zip",
                    &zip_of(&[("training.csv", &training_csv()), ("../evil.csv", b"x")]),
                ),
            ]),
        ),
    ];

    for (entry, archive) in cases {
        let directory = tempfile::tempdir().unwrap();
        let zip = write_zip(directory.path(), &archive);
        let data_dir = directory.path().join("data");

        let error = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap_err();

        let message = format!("{error:#}");
        assert!(message.contains(&format!("'{entry}'")), "{message}");
        assert!(message.contains("outside the data directory"), "{message}");
        assert!(!data_dir.join("training.csv").exists(), "{entry}");
        // The data directory that the call created is removed again.
        assert_eq!(dir_entries(directory.path()), ["archive.zip"], "{entry}");
    }
}

#[test]
fn corrupt_entry_is_rejected() {
    let mut archive = zip_with(
        &[
            ("training.csv", &training_csv()),
            ("test.csv", &test_csv()),
            ("IdLookupTable.csv", &lookup_csv()),
            ("SampleSubmission.csv", &sample_submission_csv()),
        ],
        CompressionMethod::Stored,
    );
    // Changes one pixel value of the stored training.csv: the CSV still parses, only
    // the CRC-32 can tell.
    let row_start = find(&archive, b"\n48,48,").unwrap();
    let pixel = row_start + find(&archive[row_start..], b"128").unwrap();
    archive[pixel] = b'2';
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), &archive);
    let data_dir = directory.path().join("data");

    let error = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains("archive.zip/training.csv"), "{message}");
    assert!(message.to_lowercase().contains("checksum"), "{message}");
    assert!(dir_entries(&data_dir).is_empty());
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[test]
fn not_zip_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), b"PK\x03\x04 but nothing else");
    let data_dir = directory.path().join("data");

    let error = fetch_data(&data_dir, &Source::Zip(zip.clone()), false).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains(&zip.display().to_string()), "{message}");
    assert!(message.contains("not a valid zip archive"), "{message}");
    assert!(dir_entries(&data_dir).is_empty());
}

#[test]
fn missing_entry_names_layout() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(
        directory.path(),
        &zip_of(&[("IdLookupTable.csv", &lookup_csv())]),
    );
    let data_dir = directory.path().join("data");

    let error = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap_err();

    let message = format!("{error:#}");
    assert!(
        message.contains("contains no training.csv or training.zip"),
        "{message}"
    );
    assert!(
        message.contains("entries found: IdLookupTable.csv"),
        "{message}"
    );
    assert!(dir_entries(&data_dir).is_empty());
}

#[test]
fn wrong_csv_is_not_written() {
    let directory = tempfile::tempdir().unwrap();
    let archive = zip_of(&[
        ("training.csv", &test_csv()),
        ("test.csv", &test_csv()),
        ("IdLookupTable.csv", &lookup_csv()),
        ("SampleSubmission.csv", &sample_submission_csv()),
    ]);
    let zip = write_zip(directory.path(), &archive);
    let data_dir = directory.path().join("data");

    let error = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap_err();

    let message = format!("{error:#}");
    assert!(
        message.contains("archive.zip/training.csv line 1"),
        "{message}"
    );
    assert!(
        message.contains("header is missing column 'left_eye_center_x'"),
        "{message}"
    );
    assert!(dir_entries(&data_dir).is_empty());
}

#[test]
fn missing_zip_names_path() {
    let directory = tempfile::tempdir().unwrap();
    let zip = directory.path().join("absent.zip");

    let error = fetch_data(directory.path(), &Source::Zip(zip.clone()), false).unwrap_err();

    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("failed to open {}", zip.display())),
        "{message}"
    );
}

#[test]
fn invalid_existing_file_is_replaced() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), &kaggle_zip());
    let data_dir = directory.path().join("data");
    fetch_data(&data_dir, &Source::Zip(zip.clone()), false).unwrap();
    std::fs::write(data_dir.join("test.csv"), b"ImageId,Pixels\n1,2\n").unwrap();

    let outcome = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap();

    assert_eq!(outcome.extracted, paths_in(&data_dir, &["test.csv"]));
    assert_eq!(
        outcome.kept,
        paths_in(
            &data_dir,
            &["training.csv", "IdLookupTable.csv", "SampleSubmission.csv"]
        )
    );
    assert_fixture_files(&data_dir);
}

#[test]
fn truncated_existing_file_is_replaced() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), &kaggle_zip());
    let data_dir = directory.path().join("data");
    fetch_data(&data_dir, &Source::Zip(zip.clone()), false).unwrap();
    let test_path = data_dir.join("test.csv");
    let complete = std::fs::read_to_string(&test_path).unwrap();
    // A second row whose pixel values end early: the header and first row still parse.
    let second_row = complete.lines().nth(1).unwrap().replacen("1,", "2,", 1);
    let cut = format!("{complete}{second_row}\n");
    std::fs::write(&test_path, &cut[..cut.len() - 10]).unwrap();

    assert!(matches!(
        inspect(KaggleFile::Test, &test_path),
        FileState::Invalid(reason) if reason.ends_with("the last row is incomplete or invalid, so the file looks cut short")
    ));
    let outcome = fetch_data(&data_dir, &Source::Zip(zip), false).unwrap();

    assert_eq!(outcome.extracted, paths_in(&data_dir, &["test.csv"]));
    assert_eq!(std::fs::read_to_string(&test_path).unwrap(), complete);
}

#[test]
fn crlf_file_without_final_newline_is_valid() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("IdLookupTable.csv");
    std::fs::write(
        &path,
        "RowId,ImageId,FeatureName\r\n1,1,left_eye_center_x\r\n2,1,nose_tip_y",
    )
    .unwrap();

    assert_eq!(inspect(KaggleFile::IdLookupTable, &path), FileState::Valid);
}

#[test]
fn force_extracts_again() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), &kaggle_zip());
    let data_dir = directory.path().join("data");
    fetch_data(&data_dir, &Source::Zip(zip.clone()), false).unwrap();
    std::fs::write(data_dir.join("training.csv"), b"stale").unwrap();

    let outcome = fetch_data(&data_dir, &Source::Zip(zip), true).unwrap();

    assert_eq!(outcome.extracted, all_extracted(&data_dir));
    assert!(outcome.kept.is_empty());
    assert_fixture_files(&data_dir);
}

// CSV checks.

#[test]
fn check_csv_accepts_fixtures() {
    let path = Path::new("fixture.csv");
    assert_eq!(
        check_csv(KaggleFile::Training, training_csv().as_slice(), path),
        Ok(())
    );
    assert_eq!(
        check_csv(KaggleFile::Test, test_csv().as_slice(), path),
        Ok(())
    );
    assert_eq!(
        check_csv(KaggleFile::IdLookupTable, lookup_csv().as_slice(), path),
        Ok(())
    );
    assert_eq!(
        check_csv(
            KaggleFile::SampleSubmission,
            sample_submission_csv().as_slice(),
            path
        ),
        Ok(())
    );
}

#[test]
fn check_csv_accepts_crlf() {
    let lookup = b"RowId,ImageId,FeatureName,Location\r\n1,1,left_eye_center_x\r\n";

    let result = check_csv(
        KaggleFile::IdLookupTable,
        lookup.as_slice(),
        Path::new("x.csv"),
    );

    assert_eq!(result, Ok(()));
}

#[test]
fn check_csv_rejects_empty() {
    let result = check_csv(KaggleFile::Test, b"".as_slice(), Path::new("test.csv"));

    assert_eq!(
        result,
        Err("test.csv: the file is empty, expected a CSV header line".to_string())
    );
}

#[test]
fn check_csv_rejects_header_only() {
    let header = format!("{}\n", training_header());

    let result = check_csv(
        KaggleFile::Training,
        header.as_bytes(),
        Path::new("training.csv"),
    );

    assert_eq!(
        result,
        Err("training.csv: the file has a header but no rows".to_string())
    );
}

#[test]
fn check_csv_rejects_wrong_header() {
    let result = check_csv(
        KaggleFile::SampleSubmission,
        b"RowId,Value\n1,0\n".as_slice(),
        Path::new("SampleSubmission.csv"),
    );

    let message = result.unwrap_err();
    assert!(
        message.starts_with("SampleSubmission.csv line 1"),
        "{message}"
    );
    assert!(message.contains("missing column 'Location'"), "{message}");
}

#[test]
fn check_csv_rejects_long_first_line() {
    let long = vec![b'a'; 2 << 20];

    let message = check_csv(KaggleFile::Test, long.as_slice(), Path::new("test.csv")).unwrap_err();

    assert!(message.contains("longer than 1048576 bytes"), "{message}");
}

#[test]
fn inspect_reports_each_state() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("test.csv");
    assert_eq!(inspect(KaggleFile::Test, &path), FileState::Missing);

    std::fs::write(&path, test_csv()).unwrap();
    assert_eq!(inspect(KaggleFile::Test, &path), FileState::Valid);

    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        inspect(KaggleFile::Test, &path),
        FileState::Invalid(_)
    ));
}

// Credentials.

fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(name, value)| (name.to_string(), OsString::from(value)))
        .collect();
    move |name| map.get(name).cloned()
}

fn write_kaggle_json(directory: &Path, username: &str, key: &str) -> PathBuf {
    std::fs::create_dir_all(directory).unwrap();
    let path = directory.join("kaggle.json");
    std::fs::write(
        &path,
        format!(r#"{{"username":"{username}","key":"{key}"}}"#),
    )
    .unwrap();
    path
}

#[test]
fn environment_credentials_come_first() {
    let home = tempfile::tempdir().unwrap();
    write_kaggle_json(&home.path().join(".kaggle"), "from-file", "file-key");
    let config = tempfile::tempdir().unwrap();
    write_kaggle_json(config.path(), "from-config", "config-key");
    let config_dir = config.path().to_str().unwrap();
    let env = environment(&[
        ("KAGGLE_USERNAME", "from-env"),
        ("KAGGLE_KEY", "env-key"),
        ("KAGGLE_CONFIG_DIR", config_dir),
    ]);

    let found = find_credentials(env, Some(home.path())).unwrap().unwrap();

    assert_eq!(found.credentials, Credentials::new("from-env", "env-key"));
    assert_eq!(found.source, CredentialsSource::Environment);
}

#[test]
fn config_dir_file_comes_second() {
    let home = tempfile::tempdir().unwrap();
    write_kaggle_json(&home.path().join(".kaggle"), "from-file", "file-key");
    let config = tempfile::tempdir().unwrap();
    let path = write_kaggle_json(config.path(), "from-config", "config-key");
    let env = environment(&[("KAGGLE_CONFIG_DIR", config.path().to_str().unwrap())]);

    let found = find_credentials(env, Some(home.path())).unwrap().unwrap();

    assert_eq!(
        found.credentials,
        Credentials::new("from-config", "config-key")
    );
    assert_eq!(found.source, CredentialsSource::File(path));
}

#[test]
fn home_file_comes_last() {
    let home = tempfile::tempdir().unwrap();
    let path = write_kaggle_json(&home.path().join(".kaggle"), "from-file", "file-key");

    let found = find_credentials(environment(&[]), Some(home.path()))
        .unwrap()
        .unwrap();

    assert_eq!(found.credentials, Credentials::new("from-file", "file-key"));
    assert_eq!(found.source, CredentialsSource::File(path));
}

#[test]
fn config_dir_replaces_home() {
    let home = tempfile::tempdir().unwrap();
    write_kaggle_json(&home.path().join(".kaggle"), "from-file", "file-key");
    let config = tempfile::tempdir().unwrap();
    let env = environment(&[("KAGGLE_CONFIG_DIR", config.path().to_str().unwrap())]);

    let found = find_credentials(env, Some(home.path())).unwrap();

    assert_eq!(found, None);
}

#[test]
fn empty_variables_count_as_unset() {
    let home = tempfile::tempdir().unwrap();
    write_kaggle_json(&home.path().join(".kaggle"), "from-file", "file-key");
    let env = environment(&[("KAGGLE_USERNAME", ""), ("KAGGLE_KEY", "")]);

    let found = find_credentials(env, Some(home.path())).unwrap().unwrap();

    assert_eq!(found.credentials.username, "from-file");
}

#[test]
fn no_credentials_gives_none() {
    let home = tempfile::tempdir().unwrap();

    assert_eq!(
        find_credentials(environment(&[]), Some(home.path())).unwrap(),
        None
    );
    assert_eq!(find_credentials(environment(&[]), None).unwrap(), None);
}

#[test]
fn half_set_environment_is_error() {
    let home = tempfile::tempdir().unwrap();

    let error = find_credentials(
        environment(&[("KAGGLE_USERNAME", "alice")]),
        Some(home.path()),
    )
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        "KAGGLE_USERNAME is set but KAGGLE_KEY is not: set both or neither"
    );
}

#[test]
fn invalid_kaggle_json_names_file() {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("kaggle.json");
    std::fs::write(&path, r#"{"username": "alice"}"#).unwrap();
    let env = environment(&[("KAGGLE_CONFIG_DIR", config.path().to_str().unwrap())]);

    let error = find_credentials(env, None).unwrap_err();

    let message = format!("{error:#}");
    assert!(
        message.starts_with(&format!("{} is not a valid kaggle.json", path.display())),
        "{message}"
    );
    assert!(message.contains("missing field `key`"), "{message}");
}

#[test]
fn debug_hides_key() {
    let text = format!("{:?}", credentials());

    assert!(text.contains(USERNAME), "{text}");
    assert!(!text.contains(KEY), "{text}");
}

#[test]
fn kaggle_url_detection() {
    let cases = [
        (xtask::fetch_data::KAGGLE_URL, true),
        ("https://kaggle.com/api/v1/x", true),
        ("https://WWW.KAGGLE.COM/x", true),
        ("http://www.kaggle.com/x", false),
        ("https://www.kaggle.com.example.org/x", false),
        ("https://storage.googleapis.com/kaggle/x", false),
        ("http://127.0.0.1:8080/x", false),
        ("not a url", false),
    ];

    for (url, expected) in cases {
        assert_eq!(is_kaggle_url(url), expected, "{url}");
    }
}

// The binary.

fn xtask_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .env_remove("KAGGLE_USERNAME")
        .env_remove("KAGGLE_KEY")
        .env_remove("FKD_DATA_DIR")
        .env("KAGGLE_CONFIG_DIR", home)
        .env("HOME", home)
        .env("RUST_LOG", "info");
    command
}

#[test]
fn cli_fetches_then_skips() {
    let directory = tempfile::tempdir().unwrap();
    let zip = write_zip(directory.path(), &kaggle_zip());
    let data_dir = directory.path().join("data");
    let run = || {
        xtask_command(directory.path())
            .args(["fetch-data", "--from"])
            .arg(&zip)
            .arg("--data-dir")
            .arg(&data_dir)
            .output()
            .unwrap()
    };

    let first = run();
    let second = run();

    let first_log = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{first_log}");
    assert!(first_log.contains("extracted 4 of 4 files"), "{first_log}");
    assert_fixture_files(&data_dir);
    let second_log = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{second_log}");
    assert!(
        second_log.contains("present and valid; nothing downloaded"),
        "{second_log}"
    );
}

#[test]
fn cli_downloads_from_url() {
    let server = TestServer::start(vec![("/data.zip", Reply::Body(kaggle_zip()))]);
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");

    let output = xtask_command(directory.path())
        .args(["fetch-data", "--url", &server.url("/data.zip")])
        .env("FKD_DATA_DIR", &data_dir)
        .output()
        .unwrap();

    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("downloaded"), "{log}");
    assert_fixture_files(&data_dir);
    assert_eq!(server.requests().len(), 1);
}

/// Ctrl-C during a download: the handler removes the `.part` file and exits with 130.
#[cfg(unix)]
#[test]
fn cli_ctrl_c_removes_partial_download() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let body = kaggle_zip();
    let sent = body.len() / 2;
    let server = TestServer::start(vec![("/data.zip", Reply::Stalled { body, sent })]);
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");
    let mut child = xtask_command(directory.path())
        .args([
            "fetch-data",
            "--url",
            &server.url("/data.zip"),
            "--data-dir",
        ])
        .arg(&data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // The first half of the body reaches the partial file, then the server stalls.
    let deadline = Instant::now() + Duration::from_secs(30);
    let partial = loop {
        let found = std::fs::read_dir(&data_dir).ok().and_then(|entries| {
            entries.map(|entry| entry.unwrap().path()).find(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "part")
            })
        });
        if let Some(path) = found
            && std::fs::metadata(&path).map_or(0, |metadata| metadata.len()) >= sent as u64
        {
            break path;
        }
        assert!(Instant::now() < deadline, "no partial file in {data_dir:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "fetch-data did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(!partial.exists(), "{partial:?} is left behind");
    assert_eq!(dir_entries(&data_dir), Vec::<String>::new());
    assert!(
        log.contains("interrupted: removed the partial file"),
        "{log}"
    );
}

#[test]
fn cli_from_non_zip_leaves_no_directory() {
    let directory = tempfile::tempdir().unwrap();
    let not_zip = directory.path().join("keypoints.csv");
    std::fs::write(&not_zip, "file,x\nface.png,1\n").unwrap();
    let data_dir = directory.path().join("data");

    let output = xtask_command(directory.path())
        .args(["fetch-data", "--from"])
        .arg(&not_zip)
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();

    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!(
            "--from expects Kaggle's facial-keypoints-detection.zip, the competition's whole \
             archive: {} is not a valid zip archive",
            not_zip.display()
        )),
        "{log}"
    );
    assert!(!log.contains("delete"), "{log}");
    assert!(not_zip.exists());
    assert!(!data_dir.exists());
}

#[test]
fn cli_rejects_from_with_url() {
    let directory = tempfile::tempdir().unwrap();

    let output = xtask_command(directory.path())
        .args([
            "fetch-data",
            "--from",
            "a.zip",
            "--url",
            "http://127.0.0.1:9/a.zip",
        ])
        .output()
        .unwrap();

    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("cannot be used with"), "{log}");
}

#[test]
fn cli_missing_credentials_explain_token() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");

    // No credentials anywhere, so the command stops before any request to Kaggle.
    let output = xtask_command(directory.path())
        .args(["fetch-data", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();

    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(log.contains("no Kaggle credentials found"), "{log}");
    assert!(log.contains("Create New Token"), "{log}");
    assert!(log.contains(RULES_URL), "{log}");
    assert!(log.contains("--from"), "{log}");
    assert!(dir_entries(&data_dir).is_empty());
}

// The shared data set.

#[test]
fn real_archive_fetch() {
    let Some(shared) = std::env::var_os("FKD_SHARED_DATA") else {
        println!("skipped: FKD_SHARED_DATA is not set (the fkd-ytf data directory)");
        return;
    };
    let archive = std::fs::read(Path::new(&shared).join("facial-keypoints-detection.zip")).unwrap();
    let archive_len = archive.len() as u64;
    let server = TestServer::start(vec![("/data.zip", Reply::Body(archive))]);
    let directory = tempfile::tempdir().unwrap();
    let source = Source::Url(server.url("/data.zip"));

    let first = fetch_data(directory.path(), &source, false).unwrap();
    let second = fetch_data(directory.path(), &source, false).unwrap();

    assert_eq!(first.downloaded_bytes, Some(archive_len));
    assert_eq!(first.extracted.len(), 4);
    let expected = [
        ("training.csv", 117_013_290, training_header()),
        ("test.csv", 19_476_199, "ImageId,Image".to_string()),
        (
            "IdLookupTable.csv",
            283_604,
            "RowId,ImageId,FeatureName,Location".to_string(),
        ),
        ("SampleSubmission.csv", 65_296, "RowId,Location".to_string()),
    ];
    for (name, size, header) in expected {
        let path = directory.path().join(name);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), size, "{name}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next().unwrap().trim_end(), header, "{name}");
    }
    assert_eq!(second.downloaded_bytes, None);
    assert_eq!(second.kept.len(), 4);
    assert_eq!(server.requests().len(), 1);
}
