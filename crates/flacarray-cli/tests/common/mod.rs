//! What the CLI's integration tests share: running the binary, checking its exit status
//! and its one-line error on stderr, and a temporary directory of test files.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flacarray::npy::NpyData;
use flacarray_cli::npy;
use tempfile::TempDir;

/// The `flacarray` binary, without `RUST_BACKTRACE` (a panic must not pass for a
/// message).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flacarray"));
    c.env_remove("RUST_BACKTRACE");
    c
}

/// Runs the binary to its end.
pub fn flacarray(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit status 0.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        stderr(out)
    );
}

/// Exit status `code` and exactly one line on stderr, `flacarray: error: ...`,
/// mentioning every needle; no panic and no HDF5 diagnostics.
pub fn assert_fails(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("flacarray: error: "), "{err:?}");
    for n in needles {
        assert!(err.contains(n), "{err:?} should mention {n:?}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("HDF5-DIAG"),
        "{err:?}"
    );
}

/// A temporary path as the `&str` argument of a command.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// Whether `path` is a symbolic link (not followed).
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_symlink()
}

/// A temporary directory, removed on drop.
pub struct Dir(TempDir);

impl Dir {
    /// A new empty directory.
    pub fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `bytes` to `name`; returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write input");
        p
    }

    /// Writes `arr` as the `.npy` file `name`; returns its path.
    pub fn npy(&self, name: &str, arr: &(impl NpyData + ?Sized)) -> PathBuf {
        let path = self.path(name);
        npy::write_file(&path, arr).expect("write npy");
        path
    }

    /// The names in the directory, sorted (to check that no temporary file is left).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.0.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}
