//! `flacarray stream demo`: a codec round trip, in memory and on one thread, of the
//! integer [`stream_demo_cases`] (detector int32, detector int64 stored as two
//! channels, incompressible full-range int32 noise), each stream compared exactly.

use std::io::Write;

use anyhow::{Context, Result, bail};
use flacarray::synth::{compare, stream_demo_cases};
use flacarray::{CompressOptions, FlacArray, ReadOptions};

use crate::bench::{round_trip, table};
use crate::cli::DemoArgs;
use crate::progress;

/// Runs `flacarray stream demo`: builds the cases, runs them, prints the table.
///
/// # Errors
/// Any stream failed to round-trip (exit status 1), or stdout cannot be written.
pub fn run_and_print(args: &DemoArgs) -> Result<()> {
    let (streams, samples) = (
        usize::try_from(args.streams)?,
        usize::try_from(args.samples)?,
    );
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "flacarray demo: FLAC round trip at level {}, {streams} streams x {samples} samples \
         per case, seed {} (single thread)",
        args.level, args.seed
    )?;
    let opts = CompressOptions {
        level: args.level,
        threads: Some(1),
        ..CompressOptions::default()
    };
    let read = ReadOptions {
        threads: Some(1),
        ..ReadOptions::default()
    };
    let head =
        "case streams ch samples/ch input_bytes compressed_bytes ratio enc_MB/s dec_MB/s check";
    let mut rows = vec![head.split(' ').map(|h| h.replace('_', " ")).collect()];
    let mut failures = Vec::new();
    let p = progress::bar(true, None, "demo");
    for case in stream_demo_cases(streams, samples, args.seed) {
        let encode = || FlacArray::from_decoded(&case.data, &opts, None);
        let (r, fa, back) = round_trip(
            &case.data,
            1,
            &p,
            || encode().with_context(|| format!("{}: encoding", case.name)),
            |fa| Ok(fa.decompress(&read)),
        )?;
        let failed = match back.and_then(|b| compare(&case.data, &b.array, fa.scaling())) {
            Err(e) => (streams, Some(e.to_string())),
            Ok(c) => (
                c.bad_streams.len(),
                c.bad_streams
                    .first()
                    .map(|k| format!("stream {k}: decoded samples differ")),
            ),
        };
        rows.push(vec![
            case.name.to_owned(),
            streams.to_string(),
            case.data.dtype().channels(1).to_string(),
            samples.to_string(),
            r.input_bytes.to_string(),
            r.compressed_bytes.to_string(),
            format!("{:.2}", r.ratio()),
            format!("{:.1}", r.compress.mb_s(r.input_bytes)),
            format!("{:.1}", r.decompress.mb_s(r.input_bytes)),
            match failed.0 {
                0 => "ok".to_owned(),
                n => format!("{n} FAILED"),
            },
        ]);
        failures.push(failed);
    }
    table(&mut out, &[24, 7, 4, 12, 13, 16, 6, 11, 11], &rows)?;
    writeln!(out, "{}", verdict(streams * failures.len(), &failures)?)?;
    Ok(())
}

/// The closing line when all `total` streams round-tripped, given each case's failed
/// streams and first failure.
///
/// # Errors
/// Some stream failed: the error counts them and describes the first.
pub fn verdict(total: usize, failures: &[(usize, Option<String>)]) -> Result<String> {
    let failed: usize = failures.iter().map(|f| f.0).sum();
    if failed > 0 {
        let first = failures
            .iter()
            .find_map(|f| f.1.as_deref())
            .unwrap_or("unknown");
        bail!("demo: {failed} of {total} streams did not round-trip exactly (first: {first})");
    }
    Ok(format!("all {total} streams round-tripped exactly"))
}
