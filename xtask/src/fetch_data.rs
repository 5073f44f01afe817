//! `cargo xtask fetch-data`: downloads Kaggle's Facial Keypoints Detection archive, or
//! takes a local copy, and extracts its four CSV files into the data directory.

mod archive;
mod credentials;
mod download;
mod files;
mod interrupt;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub use archive::KaggleArchive;
pub use credentials::{
    CONFIG_DIR_ENV, Credentials, CredentialsSource, FoundCredentials, KEY_ENV, USERNAME_ENV,
    find_credentials, find_credentials_in_environment,
};
pub use download::{RULES_URL, download_zip};
pub use files::{FileState, KaggleFile, check_csv, inspect};

/// Kaggle's API endpoint for the competition's whole data archive.
pub const KAGGLE_URL: &str =
    "https://www.kaggle.com/api/v1/competitions/data/download-all/facial-keypoints-detection";

/// Hosts that receive Kaggle credentials, over HTTPS only.
const KAGGLE_HOSTS: [&str; 2] = ["www.kaggle.com", "kaggle.com"];

/// Name of the downloaded archive in the data directory.
pub const ZIP_FILE_NAME: &str = "facial-keypoints-detection.zip";

/// Options of `cargo xtask fetch-data`.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchDataArgs {
    /// Extract this local zip (Kaggle's download-all archive) instead of downloading.
    #[arg(long, value_name = "ZIP", conflicts_with = "url")]
    pub from: Option<PathBuf>,

    /// Download the archive from this URL instead of Kaggle's API. Kaggle credentials are
    /// sent only to https://www.kaggle.com, never to another host.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Directory for the CSV files and the downloaded zip [default: $FKD_DATA_DIR, else
    /// ./data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Download and extract again even when the files are present and valid.
    #[arg(long)]
    pub force: bool,
}

/// Source of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A zip already on disk.
    Zip(PathBuf),
    /// A URL to download, with Kaggle credentials when the host is Kaggle's.
    Url(String),
}

/// Summary of a fetch: the files downloaded, extracted and kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOutcome {
    /// Size of the downloaded zip in bytes, or `None` when nothing was downloaded.
    pub downloaded_bytes: Option<u64>,
    /// Files written into the data directory.
    pub extracted: Vec<PathBuf>,
    /// Files that were already present and valid, and were left as they were.
    pub kept: Vec<PathBuf>,
}

/// Runs `cargo xtask fetch-data` with `args`, taking the data directory from
/// `--data-dir`, else `$FKD_DATA_DIR`, else `./data`.
pub fn run(args: &FetchDataArgs) -> anyhow::Result<FetchOutcome> {
    let data_dir = fkd_data::resolve_data_dir(args.data_dir.as_deref());
    let source = match (&args.from, &args.url) {
        (Some(zip), _) => Source::Zip(zip.clone()),
        (None, Some(url)) => Source::Url(url.clone()),
        (None, None) => Source::Url(KAGGLE_URL.to_string()),
    };
    fetch_data(&data_dir, &source, args.force)
}

/// Makes `data_dir` hold valid copies of the four Kaggle CSV files.
///
/// Files that are present and valid are kept unless `force` is set. When all four
/// are valid, nothing is downloaded or read. For a [`Source::Url`], a complete
/// [`ZIP_FILE_NAME`] left in `data_dir` by an earlier download is reused unless
/// `force` is set. Kaggle credentials are looked up with
/// [`find_credentials_in_environment`] only when the URL is Kaggle's and a download is
/// needed.
///
/// A data directory that this call creates is removed again if the call fails and the
/// directory is still empty.
pub fn fetch_data(data_dir: &Path, source: &Source, force: bool) -> anyhow::Result<FetchOutcome> {
    let created = !data_dir.exists();
    let result = fetch_into(data_dir, source, force);
    if result.is_err() && created {
        // remove_dir fails on a directory that is not empty, which is then kept.
        let _ = std::fs::remove_dir(data_dir);
    }
    result
}

fn fetch_into(data_dir: &Path, source: &Source, force: bool) -> anyhow::Result<FetchOutcome> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("failed to create the data directory {}", data_dir.display()))?;

    let mut outcome = FetchOutcome::default();
    let mut needed = Vec::new();
    for kind in KaggleFile::ALL {
        let path = kind.path_in(data_dir);
        if force {
            needed.push(kind);
            continue;
        }
        match inspect(kind, &path) {
            FileState::Valid => outcome.kept.push(path),
            FileState::Missing => needed.push(kind),
            FileState::Invalid(reason) => {
                tracing::warn!("replacing {}: {reason}", path.display());
                needed.push(kind);
            }
        }
    }

    if needed.is_empty() {
        tracing::info!(
            "all four Kaggle files in {} are present and valid; nothing downloaded (pass \
             --force to fetch them again)",
            data_dir.display()
        );
        return Ok(outcome);
    }
    for path in &outcome.kept {
        tracing::info!("keeping {}: present and valid", path.display());
    }

    let zip_path = match source {
        Source::Zip(path) => path.clone(),
        Source::Url(url) => {
            let destination = data_dir.join(ZIP_FILE_NAME);
            if !force && reusable_download(&destination) {
                tracing::info!(
                    "using {} from an earlier download (pass --force to download again)",
                    destination.display()
                );
            } else {
                let credentials = credentials_for(url)?;
                let bytes = download_zip(url, credentials.as_ref(), &destination)?;
                outcome.downloaded_bytes = Some(bytes);
            }
            destination
        }
    };

    let opened = KaggleArchive::open(&zip_path);
    let mut archive = match source {
        Source::Zip(_) => opened.with_context(|| {
            format!("--from expects Kaggle's {ZIP_FILE_NAME}, the competition's whole archive")
        })?,
        Source::Url(_) => opened?,
    };
    let extracted = archive.extract(&needed, data_dir);
    outcome.extracted = match source {
        Source::Url(_) => extracted.with_context(|| {
            format!(
                "{} is damaged; pass --force to download it again",
                zip_path.display()
            )
        })?,
        Source::Zip(_) => extracted?,
    };
    tracing::info!(
        "extracted {} of 4 files from {} into {}",
        outcome.extracted.len(),
        zip_path.display(),
        data_dir.display()
    );
    Ok(outcome)
}

/// Returns whether a zip at `path` exists and opens as Kaggle's archive.
fn reusable_download(path: &Path) -> bool {
    if !path.exists() {
        return false;
    }
    match KaggleArchive::open(path) {
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(
                "downloading the archive again because the earlier download is unusable: {error:#}"
            );
            false
        }
    }
}

/// Returns the credentials to send to `url`: Kaggle's for a Kaggle URL (an error if
/// none are configured), none for any other host.
fn credentials_for(url: &str) -> anyhow::Result<Option<Credentials>> {
    if !is_kaggle_url(url) {
        tracing::debug!("not sending Kaggle credentials to {url}: not a Kaggle HTTPS URL");
        return Ok(None);
    }

    let Some(found) = find_credentials_in_environment()? else {
        bail!(
            "no Kaggle credentials found for {url}.\n\
             To get a token, {}.\n\
             Then accept the competition rules with the same account at {RULES_URL}.\n\
             Or download the archive in a browser from \
             https://www.kaggle.com/competitions/facial-keypoints-detection/data and pass it \
             with --from.",
            credentials::TOKEN_HELP
        );
    };
    tracing::info!(
        "using the Kaggle credentials of user '{}' from {}",
        found.credentials.username,
        found.source
    );
    Ok(Some(found.credentials))
}

/// Returns whether `url` is an HTTPS URL on one of [`KAGGLE_HOSTS`].
pub fn is_kaggle_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<ureq::http::Uri>() else {
        return false;
    };
    let https = uri.scheme_str() == Some("https");
    let kaggle_host = uri.host().is_some_and(|host| {
        KAGGLE_HOSTS
            .iter()
            .any(|kaggle| host.eq_ignore_ascii_case(kaggle))
    });
    https && kaggle_host
}
