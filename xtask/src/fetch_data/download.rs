//! HTTP download of the competition zip: streamed to a temporary file next to the
//! destination, with progress, and renamed into place only when it is complete and
//! opens as Kaggle's archive.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ureq::config::RedirectAuthHeaders;

use super::archive::KaggleArchive;
use super::credentials::{Credentials, TOKEN_HELP};
use super::interrupt::RemoveOnInterrupt;

/// Page where the competition rules are accepted. Kaggle's API rejects downloads with
/// HTTP 403 for accounts that have not accepted them.
pub const RULES_URL: &str = "https://www.kaggle.com/competitions/facial-keypoints-detection/rules";

/// Time allowed for connecting, for the response head, and for each read of the body.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes copied per read.
const CHUNK_BYTES: usize = 64 * 1024;

/// Without a terminal, one log line per this many bytes when the length is unknown.
const LOG_EVERY_BYTES: u64 = 16 << 20;

/// Maximum number of bytes of an error response read for its message.
const MAX_ERROR_BODY_BYTES: u64 = 4096;

/// Maximum size of a plain-text error body quoted in a message. A longer body is taken
/// for a web page rather than a message.
const MAX_PLAIN_MESSAGE_BYTES: usize = 300;

/// Downloads the zip at `url` to `destination` and returns its size in bytes.
///
/// `credentials`, when given, go in a basic `Authorization` header on the first
/// request only. The header is dropped on redirects, so Kaggle's redirect to its
/// storage host does not receive the key. The body goes to a temporary file in the
/// destination's directory that is deleted on any error and on Ctrl-C. It is renamed to
/// `destination` only after the byte count matches `Content-Length` and the file opens
/// as Kaggle's archive ([`KaggleArchive::open`]).
pub fn download_zip(
    url: &str,
    credentials: Option<&Credentials>,
    destination: &Path,
) -> anyhow::Result<u64> {
    let directory = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = destination
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".to_string());
    let mut partial = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".part")
        .tempfile_in(directory)
        .with_context(|| {
            format!(
                "failed to create a temporary file in {}",
                directory.display()
            )
        })?;
    let _remove_on_interrupt = RemoveOnInterrupt::new(partial.path());

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .redirect_auth_headers(RedirectAuthHeaders::Never)
        .timeout_connect(Some(NETWORK_TIMEOUT))
        .timeout_recv_response(Some(NETWORK_TIMEOUT))
        .timeout_per_read(Some(NETWORK_TIMEOUT))
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(credentials) = credentials {
        request = request.header("Authorization", credentials.basic_authorization());
    }

    tracing::info!("downloading {url}");
    let started = Instant::now();
    let mut response = request
        .call()
        .with_context(|| format!("failed to download {url}"))?;

    let status = response.status();
    if !status.is_success() {
        let server_message = read_server_message(response.body_mut());
        bail!(status_message(
            url,
            status,
            credentials,
            server_message.as_deref()
        ));
    }

    let expected = response.body().content_length();
    let mut progress = Progress::new(expected);
    let mut body = response.body_mut().as_reader();
    let mut buffer = vec![0; CHUNK_BYTES];
    let mut received: u64 = 0;
    loop {
        let read = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                progress.abandon();
                bail!(
                    "download of {url} failed after {} of {} bytes: {error}. Nothing was \
                     saved, so run the command again",
                    received,
                    describe_length(expected)
                );
            }
        };

        partial
            .write_all(&buffer[..read])
            .with_context(|| format!("failed to write {}", partial.path().display()))?;
        received += read as u64;
        progress.advance(received);
    }
    progress.finish();

    if let Some(expected) = expected
        && received != expected
    {
        bail!(
            "download of {url} is incomplete: received {received} of {expected} bytes. \
             Nothing was saved, so run the command again"
        );
    }

    partial
        .as_file()
        .sync_all()
        .with_context(|| format!("failed to write {}", partial.path().display()))?;
    KaggleArchive::open(partial.path())
        .with_context(|| format!("the file downloaded from {url} is not Kaggle's archive"))?;
    partial
        .persist(destination)
        .map_err(|error| error.error)
        .with_context(|| format!("failed to move the download to {}", destination.display()))?;

    tracing::info!(
        "downloaded {} ({received} bytes) in {:.1} s",
        destination.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(received)
}

/// Reads the start of an error response and returns its text: the `message` field of a
/// JSON body, which is how Kaggle's API explains a 403, or a short plain-text body.
/// Returns `None` for HTML pages and for empty or unreadable bodies.
fn read_server_message(body: &mut ureq::Body) -> Option<String> {
    let mut bytes = Vec::new();
    body.as_reader()
        .take(MAX_ERROR_BODY_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    let text = String::from_utf8_lossy(&bytes).trim().to_string();

    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
        return json.get("message")?.as_str().map(str::to_string);
    }
    let plain = !text.is_empty() && !text.starts_with('<') && text.len() <= MAX_PLAIN_MESSAGE_BYTES;
    plain.then_some(text)
}

/// Formats the error message for a non-success HTTP status, with what to do about it.
fn status_message(
    url: &str,
    status: ureq::http::StatusCode,
    credentials: Option<&Credentials>,
    server_message: Option<&str>,
) -> String {
    let code = status.as_u16();
    let mut message = format!("{url} returned HTTP {status}");
    if let Some(server_message) = server_message {
        message.push_str(&format!(" (server message: \"{server_message}\")"));
    }

    if code == 401 || code == 403 {
        let rejected = match credentials {
            Some(credentials) => {
                format!("the credentials of Kaggle user '{}'", credentials.username)
            }
            None => {
                "the request without credentials (they are sent only to https://www.kaggle.com)"
                    .to_string()
            }
        };
        message.push_str(&format!(
            ": the server rejected {rejected}.\n\
             To get a token, {TOKEN_HELP}.\n\
             Then accept the competition rules with the same account at {RULES_URL}: Kaggle \
             returns 403 until they are accepted."
        ));
    } else if code == 404 {
        message.push_str(": check the URL");
    }
    message
}

fn describe_length(length: Option<u64>) -> String {
    match length {
        Some(length) => length.to_string(),
        None => "an unknown number of".to_string(),
    }
}

/// Download progress: a bar on a terminal, otherwise an `info` line per tenth of the
/// length (or per [`LOG_EVERY_BYTES`] when the length is unknown).
struct Progress {
    bar: Option<ProgressBar>,
    total: Option<u64>,
    next_log: u64,
}

impl Progress {
    fn new(total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template = match total {
                Some(_) => "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                None => "{spinner} {bytes} {binary_bytes_per_sec}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        let mut progress = Self {
            bar,
            total,
            next_log: 0,
        };
        progress.next_log = progress.log_step();
        progress
    }

    fn log_step(&self) -> u64 {
        match self.total {
            Some(total) => (total / 10).max(1),
            None => LOG_EVERY_BYTES,
        }
    }

    fn advance(&mut self, received: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(received);
            return;
        }
        if received < self.next_log {
            return;
        }

        match self.total {
            Some(total) if total > 0 => tracing::info!(
                "received {received} of {total} bytes ({}%)",
                received * 100 / total
            ),
            _ => tracing::info!("received {received} bytes"),
        }
        let step = self.log_step();
        self.next_log = (received / step + 1) * step;
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn abandon(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}
