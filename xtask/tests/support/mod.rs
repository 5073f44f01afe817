//! Test fixtures for fetch-data: an HTTP server on 127.0.0.1 with canned replies, and
//! small zips in Kaggle's layout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fkd_data::IMAGE_PIXELS;
use fkd_data::keypoints::COORDINATE_NAMES;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Maximum size of a request head that the server reads.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// What the server sends for one path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the body and its `Content-Length`.
    Body(Vec<u8>),
    /// A status line and an empty body.
    Status(u16, &'static str),
    /// A status line and a JSON body.
    Json(u16, &'static str, &'static str),
    /// 302 to another path on the same server.
    Redirect(&'static str),
    /// 200 announcing the whole body's length, then only `sent` bytes before the
    /// connection is closed.
    Truncated { body: Vec<u8>, sent: usize },
    /// 200 announcing the whole body's length, then `sent` bytes, then nothing until the
    /// client closes the connection (at most [`MAX_STALL`]).
    Stalled { body: Vec<u8>, sent: usize },
}

/// Maximum time a [`Reply::Stalled`] keeps its connection open.
pub const MAX_STALL: Duration = Duration::from_secs(30);

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
}

/// An HTTP/1.1 server on 127.0.0.1 that serves one request per connection from a
/// fixed table of paths, and records every request.
pub struct TestServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(routes: Vec<(&'static str, Reply)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));

        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &routes, &requests);
                    }
                }
            })
        };

        Self {
            address,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it checks the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, routes: &[(&'static str, Reply)], requests: &Mutex<Vec<Recorded>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let Some(head) = read_head(&mut stream) else {
        return;
    };

    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    requests.lock().unwrap().push(Recorded {
        path: path.clone(),
        authorization,
    });

    let reply = routes
        .iter()
        .find(|(route, _)| *route == path)
        .map(|(_, reply)| reply.clone())
        .unwrap_or(Reply::Status(404, "Not Found"));

    // Write errors mean the client hung up, which some tests cause on purpose.
    let _ = match reply {
        Reply::Body(body) => write_reply(&mut stream, "200 OK", &[], &body, body.len()),
        Reply::Status(code, reason) => {
            write_reply(&mut stream, &format!("{code} {reason}"), &[], &[], 0)
        }
        Reply::Json(code, reason, json) => write_reply(
            &mut stream,
            &format!("{code} {reason}"),
            &[("Content-Type", "application/json")],
            json.as_bytes(),
            json.len(),
        ),
        Reply::Redirect(location) => {
            write_reply(&mut stream, "302 Found", &[("Location", location)], &[], 0)
        }
        Reply::Truncated { body, sent } => {
            write_reply(&mut stream, "200 OK", &[], &body[..sent], body.len())
        }
        Reply::Stalled { body, sent } => {
            write_reply(&mut stream, "200 OK", &[], &body[..sent], body.len())
                .map(|()| wait_for_close(&mut stream))
        }
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Returns when the client closes the connection, or after [`MAX_STALL`].
fn wait_for_close(stream: &mut TcpStream) {
    let started = std::time::Instant::now();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut byte = [0u8; 1];
    while started.elapsed() < MAX_STALL {
        match stream.read(&mut byte) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_REQUEST_BYTES {
            return None;
        }
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    String::from_utf8(head).ok()
}

fn write_reply(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    content_length: usize,
) -> std::io::Result<()> {
    let mut head =
        format!("HTTP/1.1 {status}\r\nContent-Length: {content_length}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// Returns the training.csv header line, without its newline.
pub fn training_header() -> String {
    format!("{},Image", COORDINATE_NAMES.join(","))
}

fn image_field() -> String {
    vec!["128"; IMAGE_PIXELS].join(" ")
}

/// Builds a training.csv with one face whose 30 coordinates are all 48.
pub fn training_csv() -> Vec<u8> {
    let coordinates = vec!["48"; COORDINATE_NAMES.len()].join(",");
    format!("{}\n{coordinates},{}\n", training_header(), image_field()).into_bytes()
}

/// Builds a test.csv with one image.
pub fn test_csv() -> Vec<u8> {
    format!("ImageId,Image\n1,{}\n", image_field()).into_bytes()
}

/// Builds an IdLookupTable.csv with one row and no Location field, as in Kaggle's file.
pub fn lookup_csv() -> Vec<u8> {
    b"RowId,ImageId,FeatureName,Location\n1,1,left_eye_center_x\n".to_vec()
}

/// Builds a SampleSubmission.csv with one row.
pub fn sample_submission_csv() -> Vec<u8> {
    b"RowId,Location\n1,0\n".to_vec()
}

/// Builds a zip of `entries` (name, content), each compressed with `method`.
pub fn zip_with(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, content) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Builds a deflated zip of `entries` (name, content).
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(entries, CompressionMethod::Deflated)
}

/// Builds a small archive in Kaggle's layout: two CSVs at the top level and two nested
/// zips.
pub fn kaggle_zip() -> Vec<u8> {
    let training = zip_of(&[("training.csv", &training_csv())]);
    let test = zip_of(&[("test.csv", &test_csv())]);
    zip_of(&[
        ("IdLookupTable.csv", &lookup_csv()),
        ("SampleSubmission.csv", &sample_submission_csv()),
        ("test.zip", &test),
        ("training.zip", &training),
    ])
}

/// Builds a small archive with the four CSVs at the top level.
pub fn flat_zip() -> Vec<u8> {
    zip_of(&[
        ("training.csv", &training_csv()),
        ("test.csv", &test_csv()),
        ("IdLookupTable.csv", &lookup_csv()),
        ("SampleSubmission.csv", &sample_submission_csv()),
    ])
}

/// Returns the names of the entries in `directory`, sorted, or none when `directory` does
/// not exist.
pub fn dir_entries(directory: &std::path::Path) -> Vec<String> {
    if !directory.exists() {
        return Vec::new();
    }
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
