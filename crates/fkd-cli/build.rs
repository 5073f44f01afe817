//! Build script of fkd-cli. With the `tch` feature it adds libtorch's library folder to
//! the rpath of the binary, tests, examples and benchmarks, so they start without
//! `LD_LIBRARY_PATH`. With default features it does nothing.
//!
//! torch-sys 0.22 sets no rpath on final binaries: it only passes the folder on to
//! crates that depend on it directly, as `DEP_TCH_LIBTORCH_LIB`. In the PyPI wheel that
//! `cargo xtask libtorch` installs, libtorch's own libraries find the CUDA libraries they
//! need through their rpath (`$ORIGIN/../../nvidia/*/lib`), so the libtorch folder alone
//! is enough here.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }

    // torch-sys passes the folder on Linux and macOS only, because Windows has no rpath.
    let Some(lib_dir) = env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        println!(
            "cargo:warning=torch-sys did not report libtorch's library folder, so fkd-cli \
             needs libtorch on the library search path (LD_LIBRARY_PATH or PATH) to start"
        );
        return;
    };
    let lib_dir = lib_dir.to_string_lossy();
    if lib_dir.contains(',') {
        // `-Wl,` splits its argument at commas, so the linker would get a broken path.
        println!(
            "cargo:warning=libtorch's library folder {lib_dir} contains a comma and cannot \
             be added to the rpath. Move libtorch or set LD_LIBRARY_PATH to start fkd-cli"
        );
        return;
    }

    // `rustc-link-arg` applies to binaries, tests, examples and benchmarks alike, and
    // `cargo test --features tch` needs libtorch as much as the fkd-cli binary does.
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
}
