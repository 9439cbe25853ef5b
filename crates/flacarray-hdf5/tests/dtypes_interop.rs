//! What flacarray-rs stores beyond flacarray 0.4.1 (carried types, kept NaN/inf, empty
//! arrays), in HDF5: Rust reads each group back exactly, and flacarray 0.4.1 either
//! reads the values Rust decodes (format-1 groups, as the stored type) or refuses the
//! group (format 2), never other values.
//!
//! The interpreter is `$FLACARRAY_PYTHON`, default `.venv-interop/bin/python` (made by
//! `scripts/python-venv.sh`); the 0.4.1 part is skipped, with a note on stderr, only
//! when it is missing and `FLACARRAY_REQUIRE_PYTHON` is not `1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use flacarray_core::conformance::{extended_cases, run_extended, same_bits};
use flacarray_core::{FlacArrayWriter, read_flacarray};
use flacarray_hdf5::Hdf5Store;
use flacarray_testkit::{check_extended_verdicts, python, run_python, write_npy};
use serde_json::json;

/// Prints the verdict of flacarray 0.4.1 on every case (`interop.extended_verdicts`).
const PY_SCRIPT: &str = r#"
import sys
import h5py
import flacarray
from flacarray.hdf5 import read_array
import interop

d = sys.argv[1]
with h5py.File(f"{d}/ext.h5", "r") as f:
    interop.extended_verdicts(d, lambda name: f[name], read_array, flacarray.FlacArray.read_hdf5)
"#;

/// Held by each test for its whole run: a Python process spawned by one test inherits
/// the other's open HDF5 descriptors, `flock` included, and the other's next open then
/// fails with "unable to lock file".
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn hdf5_stores_the_extended_cases() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let n = std::cell::Cell::new(0);
    run_extended(|| {
        n.set(n.get() + 1);
        // A fresh file per case; every other case in a nested group.
        let group = if n.get() % 2 == 0 { "/" } else { "/a/b" };
        Hdf5Store::create(&dir.path().join(format!("c{}.h5", n.get())), group, false).unwrap()
    });
}

#[test]
fn flacarray_041_reads_the_same_values_or_refuses() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let h5 = d.join("ext.h5");
    let mut manifest = Vec::new();
    for (name, fa) in extended_cases() {
        let group = format!("/{name}");
        Hdf5Store::create(&h5, &group, false)
            .unwrap()
            .write(&fa)
            .unwrap();
        // Rust reads it back exactly, in its own type and format.
        let back = read_flacarray(&Hdf5Store::open(&h5, &group).unwrap(), None, true).unwrap();
        assert_eq!(back.format_version(), fa.format_version(), "{name}");
        assert_eq!(back.logical_dtype(), fa.logical_dtype(), "{name}");
        let want = fa.to_array().unwrap();
        assert!(same_bits(&back.to_array().unwrap(), &want), "{name}");
        // 0.4.1 flattens a single stream; none of these has one.
        let npy = (fa.format_version() == 1).then(|| {
            let file = format!("{name}.npy");
            write_npy(&d.join(&file), &want);
            file
        });
        manifest.push(json!({"name": name, "npy": npy, "shape": fa.shape()}));
    }
    let Some(py) = python(
        "FLACARRAY_PYTHON",
        ".venv-interop/bin/python",
        "flacarray, h5py",
    ) else {
        return;
    };
    std::fs::write(
        d.join("manifest.json"),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
    let out = run_python(&py, d, "check.py", PY_SCRIPT, &[d.to_str().unwrap()]);
    let cases: Vec<_> = extended_cases()
        .into_iter()
        .map(|(name, fa)| (name, fa.format_version()))
        .collect();
    check_extended_verdicts(&out, &cases, "hdf5");
}
