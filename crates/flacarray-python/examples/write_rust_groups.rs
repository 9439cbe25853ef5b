//! The Rust writers and reader for the Python package's tests (`tests/test_dtypes.py`):
//!
//! ```text
//! write_rust_groups write DIR
//! write_rust_groups read PATH GROUP OUT.npy
//! ```
//!
//! `write` stores `flacarray_core::conformance::extended_cases()` (element types
//! beyond flacarray 0.4.1's, kept NaN/inf, empty arrays) in `DIR/ext.h5` (one group per
//! case), `DIR/ext3.zarr` and `DIR/ext2.zarr` (Zarr formats 3 and 2), the values in
//! the stored type as `DIR/<case>.npy` (1-d) and `DIR/manifest.json` (per case: name,
//! shape, logical dtype, format version, npy file).
//!
//! `read` reads group `GROUP` of an HDF5 file or (a path ending in `.zarr`) a Zarr
//! store with the Rust reader (checksums checked), writes the values in the stored type
//! to `OUT.npy` (1-d) and prints `{"dtype", "format", "shape"}` as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use flacarray_core::conformance::extended_cases;
use flacarray_core::{FlacArray, FlacArrayWriter, read_flacarray};
use flacarray_hdf5::Hdf5Store;
use flacarray_testkit::write_npy;
use flacarray_zarr::{ZarrFormat, ZarrStore};

fn write(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut manifest = Vec::new();
    for (name, fa) in extended_cases() {
        let group = format!("/{name}");
        Hdf5Store::create(&dir.join("ext.h5"), &group, false)
            .unwrap()
            .write(&fa)
            .unwrap();
        for (file, format) in [("ext3.zarr", ZarrFormat::V3), ("ext2.zarr", ZarrFormat::V2)] {
            ZarrStore::create(&dir.join(file), name, false, format)
                .unwrap()
                .write(&fa)
                .unwrap();
        }
        let npy = format!("{name}.npy");
        write_npy(&dir.join(&npy), &fa.to_array().unwrap());
        manifest.push(serde_json::json!({
            "name": name,
            "shape": fa.shape(),
            "dtype": fa.logical_dtype().name(),
            "format": fa.format_version(),
            "npy": npy,
        }));
    }
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
}

fn read(path: &Path, group: &str, out: &Path) -> Result<FlacArray, String> {
    let fa = if path.extension().is_some_and(|e| e == "zarr") {
        read_flacarray(
            &ZarrStore::open(path, group).map_err(|e| e.to_string())?,
            None,
            true,
        )
        .map_err(|e| e.to_string())?
    } else {
        read_flacarray(
            &Hdf5Store::open(path, group).map_err(|e| e.to_string())?,
            None,
            true,
        )
        .map_err(|e| e.to_string())?
    };
    write_npy(out, &fa.to_array().map_err(|e| e.to_string())?);
    Ok(fa)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", dir] => write(&PathBuf::from(dir)),
        ["read", path, group, out] => match read(Path::new(path), group, Path::new(out)) {
            Ok(fa) => println!(
                "{}",
                serde_json::json!({
                    "dtype": fa.logical_dtype().name(),
                    "format": fa.format_version(),
                    "shape": fa.shape(),
                })
            ),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        },
        _ => {
            eprintln!("usage: write_rust_groups write DIR | read PATH GROUP OUT.npy");
            std::process::exit(2);
        }
    }
}
