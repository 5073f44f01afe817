//! `cargo xtask libtorch`: installs libtorch 2.9.0, the version tch 0.22 accepts, from
//! PyPI's `torch` wheel into a folder that git ignores, and prints the `LIBTORCH` export
//! that `cargo build -p fkd-cli --features tch` needs.
//!
//! The wheel is the only libtorch source reachable where just package registries are.
//! Its `torch/` folder has the layout torch-sys expects of `LIBTORCH` (`include/`, `lib/`),
//! so no Python is needed after the install.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, bail};

/// The libtorch version that tch 0.22 (used by burn-tch 0.22.1) accepts.
const TORCH_VERSION: &str = "2.9.0";

/// CUDA runtime wheels that `libtorch_cpu.so` of the `torch==2.9.0` wheel links against
/// (`libcudart.so.12`, `libcupti.so.12`), at the versions that the wheel's metadata pins.
/// The CPU variant installs them instead of the full set of NVIDIA dependencies.
const CPU_VARIANT_RUNTIME_WHEELS: [&str; 2] = [
    "nvidia-cuda-runtime-cu12==12.8.90",
    "nvidia-cuda-cupti-cu12==12.8.90",
];

/// Libraries in `torch/lib` that only CUDA uses, matched as file-name prefixes. The CPU
/// variant deletes them because they need CUDA libraries it does not install, and because
/// torch-sys links `torch_cuda` whenever `libtorch_cuda.so` exists.
const CUDA_ONLY_LIBRARY_PREFIXES: [&str; 4] = [
    "libtorch_cuda",
    "libc10_cuda.so",
    "libtorch_nvshmem.so",
    "libcaffe2_nvrtc.so",
];

/// The pip `--target` folder inside the install folder, once the install is complete.
const SITE_PACKAGES: &str = "site-packages";

/// The pip `--target` folder while pip runs. It is renamed to [`SITE_PACKAGES`] after
/// the checks pass, so an interrupted install never looks complete.
const STAGING: &str = "site-packages.partial";

/// File in the install folder that records the installed version and variant. It is
/// written last, and its presence is what makes a later run skip the install.
const MARKER_FILE: &str = "fkd-libtorch-installed";

/// Number of pip's output lines repeated in the error when pip fails.
const PIP_TAIL_LINES: usize = 10;

/// Options of `cargo xtask libtorch`.
///
/// Progress goes to stderr and the `export LIBTORCH=...` line to stdout, so
/// `eval "$(cargo xtask libtorch)"` sets the variable in the calling shell.
#[derive(clap::Args, Debug)]
pub struct LibtorchArgs {
    /// Install the CUDA build: the full torch wheel with all its NVIDIA and Python
    /// dependencies (several GB to download, about 6.7 GB installed). Without it, the
    /// CPU-only subset is installed (about 900 MB to download, about 600 MB installed).
    #[arg(long)]
    pub cuda: bool,

    /// Folder to install into, created if missing [default: libtorch/ in the workspace
    /// root, which git ignores].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Python interpreter whose pip downloads the wheels (Python 3.10 or newer).
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: PathBuf,
}

/// The libtorch build to install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Cpu,
    Cuda,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Cpu => "cpu",
            Variant::Cuda => "cuda",
        }
    }

    /// Content of the marker file for this variant.
    fn marker(self) -> String {
        format!("torch {TORCH_VERSION} {}\n", self.name())
    }
}

/// Installs libtorch as `args` request, or reports that it is already installed, and
/// prints the `LIBTORCH` export.
pub fn run(args: &LibtorchArgs) -> anyhow::Result<()> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        bail!(
            "cargo xtask libtorch supports Linux x86_64 only, where PyPI's torch wheel \
             ships CUDA 12.8 builds. Elsewhere, download libtorch {TORCH_VERSION} from \
             pytorch.org and set LIBTORCH to its folder"
        );
    }

    let variant = if args.cuda {
        Variant::Cuda
    } else {
        Variant::Cpu
    };
    let dir = match &args.dir {
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("invalid --dir {}", dir.display()))?
        }
        None => default_dir(),
    };
    let libtorch = dir.join(SITE_PACKAGES).join("torch");

    if let Some(installed) = read_marker(&dir)? {
        if installed != variant.marker() {
            bail!(
                "{} already contains another libtorch install ({}). Remove that folder \
                 or pass another --dir",
                dir.display(),
                installed.trim()
            );
        }
        check_install(&libtorch, variant)?;
        tracing::info!(
            "libtorch {TORCH_VERSION} ({}) is already installed in {}",
            variant.name(),
            libtorch.display()
        );
        print_exports(&libtorch);
        return Ok(());
    }
    if dir.join(SITE_PACKAGES).exists() {
        bail!(
            "{} exists but {} has no {MARKER_FILE} marker, so its content is unknown. \
             Remove it and run again",
            dir.join(SITE_PACKAGES).display(),
            dir.display()
        );
    }

    check_pip(&args.python)?;
    install(&args.python, &dir, variant)?;

    let size = folder_size(&dir.join(SITE_PACKAGES))
        .with_context(|| format!("failed to measure {}", dir.display()))?;
    tracing::info!(
        "installed libtorch {TORCH_VERSION} ({}) in {} ({} MB)",
        variant.name(),
        libtorch.display(),
        size / 1_000_000
    );
    print_exports(&libtorch);
    Ok(())
}

/// `libtorch/` in the workspace root.
fn default_dir() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = xtask_dir.parent().unwrap_or(xtask_dir);
    workspace.join("libtorch")
}

/// Reads the marker file of `dir`, or `None` when there is none.
fn read_marker(dir: &Path) -> anyhow::Result<Option<String>> {
    let path = dir.join(MARKER_FILE);
    match fs::read_to_string(&path) {
        Ok(content) => Ok(Some(content)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("failed to read {}", path.display())),
    }
}

/// Checks that `python -m pip` runs, so a missing tool fails before any download.
fn check_pip(python: &Path) -> anyhow::Result<()> {
    let output = match Command::new(python)
        .args(["-m", "pip", "--version"])
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == io::ErrorKind::NotFound => bail!(
            "{} not found: install Python 3.10 or newer with pip (Debian: apt-get install \
             python3 python3-pip) or pass --python PATH",
            python.display()
        ),
        Err(error) => {
            return Err(error).with_context(|| format!("failed to run {}", python.display()));
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "{} -m pip failed ({}): {}. Install pip (Debian: apt-get install python3-pip, \
             or {} -m ensurepip)",
            python.display(),
            output.status,
            stderr.trim(),
            python.display()
        );
    }
    Ok(())
}

/// Runs pip into the staging folder, trims and checks the result, then moves it into
/// place and writes the marker.
fn install(python: &Path, dir: &Path, variant: Variant) -> anyhow::Result<()> {
    let staging = dir.join(STAGING);
    if staging.exists() {
        tracing::warn!(
            "removing {} left by an interrupted install",
            staging.display()
        );
        fs::remove_dir_all(&staging)
            .with_context(|| format!("failed to remove {}", staging.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;

    match variant {
        Variant::Cpu => tracing::info!(
            "downloading torch=={TORCH_VERSION} and its CUDA runtime wheels from PyPI \
             (about 900 MB)"
        ),
        Variant::Cuda => tracing::info!(
            "downloading torch=={TORCH_VERSION} with all its NVIDIA dependencies from \
             PyPI (several GB, about 6.7 GB installed)"
        ),
    }
    run_pip(python, &staging, variant)?;

    let lib_dir = staging.join("torch").join("lib");
    if variant == Variant::Cpu {
        remove_cuda_only_libraries(&lib_dir)?;
    }
    let version = check_install(&staging.join("torch"), variant)?;

    // torch-sys compares `$LIBTORCH/build-version` with the version it was written for,
    // as it does for pytorch.org's libtorch archives. The wheel has no such file.
    let version_file = staging.join("torch").join("build-version");
    fs::write(&version_file, format!("{version}\n"))
        .with_context(|| format!("failed to write {}", version_file.display()))?;

    let site_packages = dir.join(SITE_PACKAGES);
    fs::rename(&staging, &site_packages).with_context(|| {
        format!(
            "failed to rename {} to {}",
            staging.display(),
            site_packages.display()
        )
    })?;
    write_marker(dir, variant)
}

/// Runs `python -m pip install --target staging` for the variant's wheels, echoing pip's
/// output to stderr and keeping its last lines for the error message.
fn run_pip(python: &Path, staging: &Path, variant: Variant) -> anyhow::Result<()> {
    let torch = format!("torch=={TORCH_VERSION}");
    let mut command = Command::new(python);
    command
        .args([
            "-m",
            "pip",
            "install",
            "--no-compile",
            "--only-binary=:all:",
        ])
        .arg("--target")
        .arg(staging)
        // pip's advice about running as root concerns installs into the system
        // site-packages, and this install goes into its own folder.
        .env("PIP_ROOT_USER_ACTION", "ignore");
    match variant {
        Variant::Cpu => {
            command
                .arg("--no-deps")
                .arg(&torch)
                .args(CPU_VARIANT_RUNTIME_WHEELS);
        }
        Variant::Cuda => {
            // NOTE: this variant has not been run yet, so it is unverified that binaries
            // built against it load every NVIDIA library through libtorch_cuda.so's rpath.
            command.arg(&torch);
        }
    }

    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to start {} -m pip", python.display()))?;

    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(PIP_TAIL_LINES)));
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(echo_lines(stdout, Arc::clone(&tail)));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(echo_lines(stderr, Arc::clone(&tail)));
    }
    let status = child
        .wait()
        .with_context(|| format!("failed to wait for {} -m pip", python.display()))?;
    for reader in readers {
        // A reader thread only ends early on a read error, and losing echoed lines
        // is not worth failing the install for.
        let _ = reader.join();
    }

    if !status.success() {
        // Best effort: the next run removes a left-over staging folder anyway.
        let _ = fs::remove_dir_all(staging);
        let tail = tail.lock().map(|lines| lines.clone()).unwrap_or_default();
        let last_lines: Vec<String> = tail.into_iter().collect();
        bail!(
            "pip failed ({status}) installing {torch} into {}. torch {TORCH_VERSION} \
             wheels need Python 3.10 or newer on Linux x86_64. pip's last lines:\n{}",
            staging.display(),
            last_lines.join("\n")
        );
    }
    Ok(())
}

/// Echoes each line of `stream` to stderr on a thread and keeps the last
/// [`PIP_TAIL_LINES`] of them in `tail`.
fn echo_lines(
    stream: impl Read + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            eprintln!("  {line}");
            if let Ok(mut tail) = tail.lock() {
                if tail.len() == PIP_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
    })
}

/// Deletes the CUDA-only libraries from `lib_dir`.
fn remove_cuda_only_libraries(lib_dir: &Path) -> anyhow::Result<()> {
    let entries =
        fs::read_dir(lib_dir).with_context(|| format!("failed to list {}", lib_dir.display()))?;
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to list {}", lib_dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let cuda_only = CUDA_ONLY_LIBRARY_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if cuda_only {
            fs::remove_file(entry.path())
                .with_context(|| format!("failed to remove {}", entry.path().display()))?;
            removed.push(name);
        }
    }
    removed.sort();
    tracing::info!(
        "removed CUDA-only libraries from {}: {}",
        lib_dir.display(),
        removed.join(", ")
    );
    Ok(())
}

/// Checks an install in `libtorch` (a `torch/` folder): the libraries torch-sys links
/// exist and load, and `torch/version.py` states [`TORCH_VERSION`]. Returns the full
/// version string, such as `2.9.0+cu128`.
fn check_install(libtorch: &Path, variant: Variant) -> anyhow::Result<String> {
    let lib_dir = libtorch.join("lib");
    let mut libraries = vec!["libtorch_cpu.so", "libc10.so"];
    if variant == Variant::Cuda {
        // In the CPU variant libtorch.so cannot load, because it needs the deleted
        // libtorch_cuda.so. Binaries do not need it, because nothing they use resolves
        // to libtorch.so and rustc's default --as-needed drops it from their NEEDED list.
        libraries.extend(["libtorch.so", "libtorch_cuda.so"]);
    }
    for library in &libraries {
        let path = lib_dir.join(library);
        if !path.is_file() {
            bail!(
                "{} is missing after the install; remove {} and run again",
                path.display(),
                libtorch.display()
            );
        }
        check_loadable(&path)?;
    }

    let version_py = libtorch.join("version.py");
    let source = fs::read_to_string(&version_py)
        .with_context(|| format!("failed to read {}", version_py.display()))?;
    let version = parse_torch_version(&source).with_context(|| {
        format!(
            "{} has no line like `__version__ = '{TORCH_VERSION}'`",
            version_py.display()
        )
    })?;
    let release = version.split('+').next().unwrap_or(&version);
    if release != TORCH_VERSION {
        bail!(
            "{} states torch {version}, expected {TORCH_VERSION} because tch 0.22 \
             rejects other versions. Remove {} and run again",
            version_py.display(),
            libtorch.display()
        );
    }
    Ok(version)
}

/// Runs `ldd` on `library` and fails if a dependency is not found. Skips the check with
/// a warning when `ldd` is not available.
fn check_loadable(library: &Path) -> anyhow::Result<()> {
    let output = match Command::new("ldd").arg(library).output() {
        Ok(output) => output,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            tracing::warn!(
                "ldd not found, so {} is not checked for missing dependencies",
                library.display()
            );
            return Ok(());
        }
        Err(error) => return Err(error).context("failed to run ldd"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let missing: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("not found"))
        .map(str::trim)
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} cannot be loaded because dependencies are missing: {}",
            library.display(),
            missing.join(", ")
        );
    }
    if !output.status.success() {
        bail!(
            "ldd {} failed ({}): {}",
            library.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Extracts the version from the `__version__ = '...'` line of torch's `version.py`.
fn parse_torch_version(source: &str) -> Option<String> {
    source.lines().find_map(|line| {
        let value = line.strip_prefix("__version__")?.trim_start();
        let value = value.strip_prefix('=')?.trim();
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// Writes the marker file through a temporary file and a rename, so a crash leaves
/// either no marker or a complete one.
fn write_marker(dir: &Path, variant: Variant) -> anyhow::Result<()> {
    let path = dir.join(MARKER_FILE);
    let temporary = dir.join(format!("{MARKER_FILE}.tmp"));
    fs::write(&temporary, variant.marker())
        .with_context(|| format!("failed to write {}", temporary.display()))?;
    fs::rename(&temporary, &path).with_context(|| {
        format!(
            "failed to rename {} to {}",
            temporary.display(),
            path.display()
        )
    })
}

/// Total size in bytes of the files under `dir`, not following symbolic links.
fn folder_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder)? {
            let entry = entry?;
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                total += metadata.len();
            }
        }
    }
    Ok(total)
}

/// Prints the `LIBTORCH` export to stdout and how to use it to the log.
fn print_exports(libtorch: &Path) {
    tracing::info!(
        "export the LIBTORCH line printed on stdout, then build with `cargo build -p fkd-cli --features tch`; \
         fkd-cli's build script bakes {}/lib into the rpath, so neither LD_LIBRARY_PATH \
         nor LIBTORCH_BYPASS_VERSION_CHECK is needed",
        libtorch.display()
    );
    println!(
        "export LIBTORCH={}",
        shell_quote(&libtorch.to_string_lossy())
    );
}

/// Quotes `value` for a POSIX shell when it contains characters the shell would
/// interpret.
fn shell_quote(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_wheel_version_py() {
        let source = "from typing import Optional\n\n\
                      __all__ = ['__version__', 'debug']\n\
                      __version__ = '2.9.0+cu128'\n\
                      debug = False\n";
        assert_eq!(parse_torch_version(source).as_deref(), Some("2.9.0+cu128"));
    }

    #[test]
    fn version_with_double_quotes() {
        let source = "__version__ = \"2.9.0\"\n";
        assert_eq!(parse_torch_version(source).as_deref(), Some("2.9.0"));
    }

    #[test]
    fn version_missing() {
        let source = "__all__ = ['__version__']\ndebug = False\n";
        assert_eq!(parse_torch_version(source), None);
    }

    #[test]
    fn marker_names_version_and_variant() {
        assert_eq!(Variant::Cpu.marker(), "torch 2.9.0 cpu\n");
        assert_eq!(Variant::Cuda.marker(), "torch 2.9.0 cuda\n");
    }

    #[test]
    fn shell_quote_plain_path() {
        assert_eq!(shell_quote("/work/main/libtorch"), "/work/main/libtorch");
    }

    #[test]
    fn shell_quote_path_with_space_and_quote() {
        assert_eq!(shell_quote("/tmp/my dir/it's"), r"'/tmp/my dir/it'\''s'");
    }

    #[test]
    fn cuda_only_libraries_removed() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "libc10.so",
            "libc10_cuda.so",
            "libcaffe2_nvrtc.so",
            "libgomp.so.1",
            "libtorch.so",
            "libtorch_cpu.so",
            "libtorch_cuda.so",
            "libtorch_cuda_linalg.so",
            "libtorch_nvshmem.so",
        ];
        for name in names {
            fs::write(dir.path().join(name), b"").unwrap();
        }

        remove_cuda_only_libraries(dir.path()).unwrap();

        let mut kept: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            [
                "libc10.so",
                "libgomp.so.1",
                "libtorch.so",
                "libtorch_cpu.so"
            ]
        );
    }

    #[test]
    fn marker_absent_reads_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_marker(dir.path()).unwrap(), None);
    }

    #[test]
    fn marker_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        write_marker(dir.path(), Variant::Cpu).unwrap();
        assert_eq!(
            read_marker(dir.path()).unwrap().as_deref(),
            Some("torch 2.9.0 cpu\n")
        );
        assert!(!dir.path().join(format!("{MARKER_FILE}.tmp")).exists());
    }

    #[test]
    fn folder_size_sums_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("lib")).unwrap();
        fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        fs::write(dir.path().join("lib").join("b"), [0u8; 32]).unwrap();
        assert_eq!(folder_size(dir.path()).unwrap(), 42);
    }
}
