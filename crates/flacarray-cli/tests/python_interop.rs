//! The `flacarray` command against the reference Python package (flacarray 0.4.1).
//!
//! Python writes inputs as `.npy` files and stores the same arrays with
//! `flacarray.hdf5.write_array`; the command compresses the `.npy` files into its own
//! HDF5 file, which Python reads back with `flacarray.hdf5.read_array` (full and with a
//! keep mask) and compares with the inputs; the command decompresses Python's groups,
//! which must equal bit for bit what Python itself reads back, and verifies them.
//!
//! The interpreter is `$FLACARRAY_PYTHON`, default `.venv-interop/bin/python` at the
//! repository root (made by `scripts/python-venv.sh`). The test is skipped, with a note
//! on stderr, when that interpreter cannot `import flacarray, h5py, numpy`, unless
//! `FLACARRAY_REQUIRE_PYTHON=1` (set by `scripts/test.sh`), which makes it fail.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flacarray_cli::npy;

fn python() -> PathBuf {
    std::env::var_os("FLACARRAY_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-interop/bin/python"),
        PathBuf::from,
    )
}

fn usable_python() -> Option<PathBuf> {
    let py = python();
    let ok = Command::new(&py)
        .args(["-c", "import flacarray, h5py, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(py)
    } else if std::env::var_os("FLACARRAY_REQUIRE_PYTHON").is_some_and(|v| v == "1") {
        panic!(
            "FLACARRAY_REQUIRE_PYTHON=1 but `{} -c \"import flacarray, h5py, numpy\"` failed; \
             run scripts/python-venv.sh",
            py.display()
        );
    } else {
        eprintln!(
            "NOTE: skipping the CLI Python interop test: `{}` cannot import flacarray, h5py \
             and numpy. Run scripts/python-venv.sh or set FLACARRAY_PYTHON.",
            py.display()
        );
        None
    }
}

fn run_python(py: &Path, dir: &Path, script: &str) -> String {
    let out = Command::new(py)
        .current_dir(dir)
        .args(["-c", script])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn flacarray(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_flacarray"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "flacarray {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A quantization option: (`--quanta` or `--precision`, value).
type Quant = Option<(&'static str, &'static str)>;

/// (name, numpy expression of the data, quantization option for both sides)
const CASES: [(&str, &str, Quant); 5] = [
    (
        "f32",
        "(rng.normal(size=(3, 4, 5000)) * 3 + 10).astype(np.float32)",
        Some(("--quanta", "1e-4")),
    ),
    (
        "f64",
        "rng.normal(size=(5, 6000)) * 2.5 - 1",
        Some(("--precision", "6")),
    ),
    (
        "i32",
        "rng.integers(-50000, 50000, size=(4, 3000)).astype(np.int32)",
        None,
    ),
    (
        "i64",
        "(rng.integers(-2**40, 2**40, size=(2, 3, 2000)) + 2**50).astype(np.int64)",
        None,
    ),
    (
        "one",
        "np.cumsum(rng.normal(size=7000)).astype(np.float32)",
        Some(("--quanta", "1e-3")),
    ),
];

#[test]
fn cli_and_flacarray_041_read_each_others_files() {
    let Some(py) = usable_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // 1. Python: inputs and its own HDF5 file.
    let mut script = String::from(
        "import numpy as np, h5py\nfrom flacarray import hdf5 as fh\n\
         rng = np.random.default_rng(20240601)\nf = h5py.File('py.h5', 'w')\n",
    );
    for (name, expr, q) in CASES {
        let kw = match q {
            Some(("--quanta", v)) => format!(", quanta={v}"),
            Some((_, v)) => format!(", precision={v}"),
            None => String::new(),
        };
        script.push_str(&format!(
            "a = {expr}\nnp.save('{name}.npy', a)\n\
             fh.write_array(a, f.create_group('{name}'){kw})\n\
             np.save('{name}.pyback.npy', fh.read_array(f['{name}']))\n"
        ));
    }
    script.push_str("f.close()\nprint('written')\n");
    assert_eq!(run_python(&py, d, &script).trim(), "written");

    // 2. The command: compress the same inputs; decompress and verify Python's groups.
    for (name, _, q) in CASES {
        let mut args = vec![
            "compress".to_owned(),
            format!("{name}.npy"),
            "rs.h5".to_owned(),
            "--group".to_owned(),
            name.to_owned(),
        ];
        if let Some((flag, v)) = q {
            args.extend([flag.to_owned(), v.to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        flacarray(d, &args);
        let back = format!("{name}.rsback.npy");
        flacarray(
            d,
            &["decompress", "--force", "py.h5", &back, "--group", name],
        );
        // Python's values, read by Python, equal the command's, bit for bit.
        let want = npy::read_array(&d.join(format!("{name}.pyback.npy"))).unwrap();
        let got = npy::read_array(&d.join(&back)).unwrap();
        assert_eq!(got, want, "{name}");
        let out = flacarray(d, &["verify", "py.h5", "--group", name]);
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok: "));
    }

    // 3. Python reads the command's file: whole arrays and a keep mask.
    let mut check = String::from(
        "import numpy as np, h5py\nfrom flacarray import hdf5 as fh\n\
         f = h5py.File('rs.h5', 'r')\n",
    );
    for (name, _, q) in CASES {
        let tol = match q {
            Some(("--quanta", v)) => format!("0.5 * {v} * (1 + 1e-5) + 4 * np.finfo(a.dtype).eps * abs(a).max()"),
            Some(_) => "0.5 * (a.std(axis=-1, keepdims=True) / 1e6) * 1.01 + 4 * np.finfo(a.dtype).eps * abs(a).max()".to_owned(),
            None => "0".to_owned(),
        };
        check.push_str(&format!(
            "a = np.load('{name}.npy')\nb = fh.read_array(f['{name}'])\n\
             assert b.shape == a.shape and b.dtype == a.dtype, ('{name}', b.shape, b.dtype)\n\
             assert (abs(b.astype(np.float64) - a.astype(np.float64)) <= {tol}).all(), '{name}'\n\
             if a.ndim > 1:\n\
             \x20   keep = np.zeros(a.shape[:-1], dtype=bool); keep.flat[-1] = True; keep.flat[0] = True\n\
             \x20   k = fh.read_array(f['{name}'], keep=keep)\n\
             \x20   assert k.shape == (2, a.shape[-1]), k.shape\n\
             \x20   assert (k == b[keep]).all(), '{name} keep'\n"
        ));
    }
    check.push_str("print('python read ok')\n");
    assert_eq!(run_python(&py, d, &check).trim(), "python read ok");
}
