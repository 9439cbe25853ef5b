//! What flacarray-rs stores beyond flacarray 0.4.1 (carried types, kept NaN/inf, empty
//! arrays), in Zarr v3 and v2 stores: Rust reads each group back exactly, and
//! flacarray 0.4.1 (through zarr-python 3 for v3, zarr-python 2 for v2) either reads
//! the values Rust decodes (format-1 groups, as the stored type) or refuses the group
//! (format 2), never other values.
//!
//! Interpreters: `$FLACARRAY_PYTHON` (default `.venv-interop/bin/python`) and
//! `$FLACARRAY_PYTHON_ZARR2` (default `.venv-interop-zarr2/bin/python`), made by
//! `scripts/python-venv.sh`; the 0.4.1 part is skipped, with a note on stderr, only
//! when one is missing and `FLACARRAY_REQUIRE_PYTHON` is not `1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use flacarray_core::conformance::{extended_cases, run_extended, same_bits};
use flacarray_core::{FlacArrayWriter, read_flacarray};
use flacarray_testkit::{check_extended_verdicts, python, run_python, write_npy};
use flacarray_zarr::{ZarrFormat, ZarrStore};
use serde_json::json;

/// Prints the verdict of flacarray 0.4.1 on every case (`interop.extended_verdicts`).
const PY_SCRIPT: &str = r#"
import sys
import zarr
import flacarray
from flacarray.zarr import read_array
import interop

d, store = sys.argv[1], sys.argv[2]
interop.extended_verdicts(
    d,
    lambda name: zarr.open_group(store=f"{d}/{store}", mode="r", path=name),
    read_array,
    flacarray.FlacArray.read_zarr,
)
"#;

#[test]
fn zarr_v3_and_v2_store_the_extended_cases() {
    let dir = tempfile::tempdir().unwrap();
    for (store, format) in [("v3.zarr", ZarrFormat::V3), ("v2.zarr", ZarrFormat::V2)] {
        let n = std::cell::Cell::new(0);
        run_extended(|| {
            n.set(n.get() + 1);
            ZarrStore::create(
                &dir.path().join(store),
                &format!("case{}", n.get()),
                false,
                format,
            )
            .unwrap()
        });
    }
}

#[test]
fn flacarray_041_reads_the_same_values_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut manifest = Vec::new();
    for (k, (name, fa)) in extended_cases().into_iter().enumerate() {
        for (store, format) in [("v3.zarr", ZarrFormat::V3), ("v2.zarr", ZarrFormat::V2)] {
            let path = d.join(store);
            ZarrStore::create(&path, name, false, format)
                .unwrap()
                .write(&fa)
                .unwrap();
            let back = read_flacarray(&ZarrStore::open(&path, name).unwrap(), None, true)
                .unwrap_or_else(|e| panic!("{store} {name}: {e}"));
            assert_eq!(back.format_version(), fa.format_version(), "{name}");
            assert_eq!(back.logical_dtype(), fa.logical_dtype(), "{name}");
            assert!(
                same_bits(&back.to_array().unwrap(), &fa.to_array().unwrap()),
                "{store} {name}"
            );
        }
        let npy = (fa.format_version() == 1).then(|| {
            let file = format!("case{k}.npy");
            write_npy(&d.join(&file), &fa.to_array().unwrap());
            file
        });
        manifest.push(json!({"name": name, "npy": npy, "shape": fa.shape()}));
    }
    std::fs::write(
        d.join("manifest.json"),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
    for (var, default, store) in [
        ("FLACARRAY_PYTHON", ".venv-interop/bin/python", "v3.zarr"),
        (
            "FLACARRAY_PYTHON_ZARR2",
            ".venv-interop-zarr2/bin/python",
            "v2.zarr",
        ),
    ] {
        let Some(py) = python(var, default, "flacarray, zarr") else {
            continue;
        };
        let out = run_python(&py, d, "check.py", PY_SCRIPT, &[d.to_str().unwrap(), store]);
        let cases: Vec<_> = extended_cases()
            .into_iter()
            .map(|(name, fa)| (name, fa.format_version()))
            .collect();
        check_extended_verdicts(&out, &cases, store);
    }
}
