//! Removal of partial downloads when the user presses Ctrl-C.
//!
//! A temporary file deletes itself when it is dropped, but Ctrl-C ends the process
//! without running destructors. The handler installed here removes every file that a
//! [`RemoveOnInterrupt`] guard registered, then exits with status 130, the shell's code
//! for SIGINT.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

/// Exit status after Ctrl-C: 128 + SIGINT.
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Files to remove on Ctrl-C.
static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the Ctrl-C handler once per process.
static HANDLER: Once = Once::new();

/// A registration of a file that Ctrl-C removes, for as long as the guard lives.
#[derive(Debug)]
pub struct RemoveOnInterrupt {
    path: PathBuf,
}

impl RemoveOnInterrupt {
    /// Registers `path`, installing the Ctrl-C handler on first use.
    pub fn new(path: &Path) -> Self {
        HANDLER.call_once(install_handler);
        registered().push(path.to_path_buf());
        Self {
            path: path.to_path_buf(),
        }
    }
}

impl Drop for RemoveOnInterrupt {
    fn drop(&mut self) {
        let mut paths = registered();
        if let Some(index) = paths.iter().position(|path| *path == self.path) {
            paths.swap_remove(index);
        }
    }
}

/// Locks the registered paths. A panic while the lock was held leaves a usable list.
fn registered() -> MutexGuard<'static, Vec<PathBuf>> {
    REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn install_handler() {
    let result = ctrlc::set_handler(|| {
        for path in registered().iter() {
            if std::fs::remove_file(path).is_ok() {
                eprintln!("interrupted: removed the partial file {}", path.display());
            }
        }
        std::process::exit(INTERRUPTED_EXIT_CODE);
    });
    if let Err(error) = result {
        tracing::warn!(
            "cannot handle Ctrl-C ({error}), so an interrupted download leaves its .part \
             file behind"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_registers_until_dropped() {
        let path = Path::new("/nonexistent/registered-by-test.part");

        let guard = RemoveOnInterrupt::new(path);
        assert!(registered().iter().any(|registered| registered == path));

        drop(guard);
        assert!(!registered().iter().any(|registered| registered == path));
    }
}
