//! `flacarray demo`: realistic timestreams of all four dtypes through an HDF5 file.
//!
//! Each of the [`array_demo_cases`] is compressed and written as its own group (named
//! after its dtype) of one HDF5 file (`--out`, or a temporary directory removed at the
//! end), read back, decoded and [`compare`]d: integers must come back exactly, floats
//! within half a quantum plus rounding. Compress time covers compression and writing;
//! decompress time covers reading and decoding. The command fails (exit status 1) if
//! any case fails.

use std::io::Write;

use anyhow::{Context, Result, bail};
use flacarray::synth::{array_demo_cases, compare};
use flacarray::{CompressOptions, FlacArray, fmt_shape};

use crate::bench::{round_trip, table};
use crate::cli::ArrayDemoArgs;
use crate::progress;
use crate::storage::Store;

/// `flacarray demo`.
///
/// # Errors
/// Any case fails or the file cannot be written.
pub fn run_and_print(args: &ArrayDemoArgs, out: &mut dyn Write) -> Result<()> {
    let (streams, samples) = (
        usize::try_from(args.streams)?,
        usize::try_from(args.samples)?,
    );
    let tmp;
    let path = match &args.out {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
            tmp.path().join("demo.h5")
        }
    };
    let cases = array_demo_cases(streams, samples, args.seed);
    let p = progress::bar(args.common.quiet, Some(2 * cases.len() as u64), "demo");
    let head = "case shape input_B compr._B ratio comp_MB/s dec_MB/s max_err bound status";
    let mut rows = vec![head.split(' ').map(|h| h.replace('_', " ")).collect()];
    let mut failed = Vec::new();
    for case in &cases {
        let store = Store::for_path(&path, &format!("/{}", case.data.dtype().name()));
        let opts = CompressOptions {
            level: args.level,
            threads: args.common.threads(),
            ..case.opts.clone()
        };
        let compress = || {
            let fa = FlacArray::from_decoded(&case.data, &opts, None).context(case.name)?;
            crate::storage::write(&store, &fa, true)?;
            Ok(fa)
        };
        let decompress = |_: &FlacArray| {
            let back = store.read(None, false)?;
            let array = back.to_array().with_context(|| store.describe())?;
            Ok((back, array))
        };
        let (r, _, (back, array)) = round_trip(&case.data, 1, &p, compress, decompress)?;
        let c = compare(&case.data, &array, back.scaling())
            .with_context(|| format!("{}: {}", store.describe(), case.name))?;
        if !c.ok() {
            failed.push(case.name);
        }
        rows.push(vec![
            case.name.to_owned(),
            fmt_shape(case.data.shape()),
            r.input_bytes.to_string(),
            r.compressed_bytes.to_string(),
            format!("{:.3}", r.ratio()),
            format!("{:.1}", r.compress.mb_s(r.input_bytes)),
            format!("{:.1}", r.decompress.mb_s(r.input_bytes)),
            format!("{:.3e}", c.error),
            format!("{:.3e}", c.bound),
            (if c.ok() { "ok" } else { "FAILED" }).to_owned(),
        ]);
    }
    p.finish();
    let file = match &args.out {
        Some(_) => path.display().to_string(),
        None => "(temporary)".into(),
    };
    writeln!(
        out,
        "flacarray demo: {streams} streams x {samples} samples, level {}, file {file}",
        args.level
    )?;
    table(out, &[28, 14, 12, 12, 7, 11, 11, 10, 10], &rows)?;
    if !failed.is_empty() {
        bail!(
            "demo: {} case(s) failed the round trip: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    writeln!(
        out,
        "all {} cases round-tripped within bounds",
        rows.len() - 1
    )?;
    Ok(())
}
