//! Kaggle API credentials: a username and an API key, found the way Kaggle's own CLI
//! finds them (`KAGGLE_USERNAME` and `KAGGLE_KEY` first, then `kaggle.json`).

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;

/// Environment variable with the Kaggle username.
pub const USERNAME_ENV: &str = "KAGGLE_USERNAME";

/// Environment variable with the Kaggle API key.
pub const KEY_ENV: &str = "KAGGLE_KEY";

/// Environment variable naming the directory of `kaggle.json`, used in place of
/// `~/.kaggle`.
pub const CONFIG_DIR_ENV: &str = "KAGGLE_CONFIG_DIR";

/// Instructions for getting credentials, used in error messages.
pub const TOKEN_HELP: &str = "create an API token on kaggle.com under Settings > API > \
     \"Create New Token\", save the downloaded kaggle.json as ~/.kaggle/kaggle.json (or in \
     $KAGGLE_CONFIG_DIR), or set KAGGLE_USERNAME and KAGGLE_KEY";

/// A Kaggle username and API key. `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The Kaggle username.
    pub username: String,
    key: String,
}

impl Credentials {
    /// Credentials from a username and an API key.
    pub fn new(username: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            key: key.into(),
        }
    }

    /// Formats the value of an HTTP `Authorization` header for basic authentication.
    pub(crate) fn basic_authorization(&self) -> String {
        let pair = format!("{}:{}", self.username, self.key);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("key", &"<hidden>")
            .finish()
    }
}

/// Origin of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsSource {
    /// `KAGGLE_USERNAME` and `KAGGLE_KEY`.
    Environment,
    /// A `kaggle.json` file.
    File(PathBuf),
}

impl fmt::Display for CredentialsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => write!(f, "{USERNAME_ENV} and {KEY_ENV}"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Credentials and their origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundCredentials {
    /// The username and key.
    pub credentials: Credentials,
    /// The variables or the file they were read from.
    pub source: CredentialsSource,
}

/// The content of `kaggle.json`: `{"username": "...", "key": "..."}`.
#[derive(serde::Deserialize)]
struct KaggleJson {
    username: String,
    key: String,
}

/// Looks up Kaggle credentials in the process environment and the home directory.
pub fn find_credentials_in_environment() -> anyhow::Result<Option<FoundCredentials>> {
    find_credentials(
        |name| std::env::var_os(name),
        std::env::home_dir().as_deref(),
    )
}

/// Looks up Kaggle credentials, reading variables through `env` and taking `home` as
/// the home directory.
///
/// The order is Kaggle's CLI's: `KAGGLE_USERNAME` and `KAGGLE_KEY` when both are set,
/// else `$KAGGLE_CONFIG_DIR/kaggle.json` when that variable is set, else
/// `~/.kaggle/kaggle.json`. Returns `None` when the chosen file does not exist.
/// Exactly one of the two variables set is an error, and so is a `kaggle.json`
/// that is not valid JSON with non-empty `username` and `key` strings.
pub fn find_credentials(
    env: impl Fn(&str) -> Option<OsString>,
    home: Option<&Path>,
) -> anyhow::Result<Option<FoundCredentials>> {
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());

    match (non_empty(USERNAME_ENV), non_empty(KEY_ENV)) {
        (Some(username), Some(key)) => {
            let username = username
                .into_string()
                .map_err(|_| anyhow::anyhow!("{USERNAME_ENV} is not valid UTF-8"))?;
            let key = key
                .into_string()
                .map_err(|_| anyhow::anyhow!("{KEY_ENV} is not valid UTF-8"))?;
            return Ok(Some(FoundCredentials {
                credentials: Credentials::new(username, key),
                source: CredentialsSource::Environment,
            }));
        }
        (Some(_), None) => bail!("{USERNAME_ENV} is set but {KEY_ENV} is not: set both or neither"),
        (None, Some(_)) => bail!("{KEY_ENV} is set but {USERNAME_ENV} is not: set both or neither"),
        (None, None) => {}
    }

    let config_dir = match non_empty(CONFIG_DIR_ENV) {
        Some(directory) => PathBuf::from(directory),
        None => match home {
            Some(home) => home.join(".kaggle"),
            None => return Ok(None),
        },
    };
    let path = config_dir.join("kaggle.json");

    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read {}", path.display()));
        }
    };
    let json: KaggleJson = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid kaggle.json, expected {{\"username\": \"...\", \"key\": \"...\"}}",
            path.display()
        )
    })?;
    if json.username.is_empty() || json.key.is_empty() {
        bail!(
            "{} has an empty username or key, expected both to be set",
            path.display()
        );
    }
    warn_if_readable_by_others(&path);

    Ok(Some(FoundCredentials {
        credentials: Credentials::new(json.username, json.key),
        source: CredentialsSource::File(path),
    }))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;

    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "{} is readable by other users (mode {:o}): run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}
