//! The MPI test suite of flacarray-mpi (run by `scripts/mpi-tests.sh` under
//! `mpirun -n 1`, `-n 2` and `-n 3`; MPI can be initialised once per process, so these
//! cannot be `cargo test` tests).
//!
//! Every check compares values; on the first failure the rank prints what failed and
//! aborts the whole job with a non-zero exit code.
//!
//! Cases, for int32, int64, float32 and float64 data:
//! * the datasets written by the ranks equal, byte for byte, those one process writes
//!   for the whole array (even split, and a custom `mpi_dist` with an empty rank 0);
//! * global shape, `mpi_dist`, byte totals and global stream starts;
//! * distributed reads (default split, custom `mpi_dist`, keep masks, one kept stream)
//!   equal the serial decode;
//! * 1-d local arrays, errors on every rank (mismatched shapes and dtypes, NaN, bad
//!   `mpi_dist` and keep, missing group, no `replace`), messages split into pieces.
//!
//! Format 2 and the recorded types (`check_extension`), for bool, int8, int16, uint8,
//! uint16, uint32, uint64 (beyond 2^63 on some ranks only), float16, float32 and float64
//! with extreme values, and NaN/inf kept (`keep_nonfinite`: runs at stream starts and
//! ends, all, alternating, NaN payloads, on some ranks only), with the even split, an
//! empty rank 0, more ranks than rows, and empty axes `(0, n)` and `(n, 0)`:
//! * the HDF5 groups and Zarr stores written by the ranks hold the serial writer's
//!   array (tables, bytes, format version, `flacarray_dtype`, non-finite flags and runs);
//! * distributed reads of the serial file give each rank its rows in the logical type
//!   with NaN/inf bit for bit (whole slabs and keep masks).

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flacarray_core::{
    CompressOptions, Element, FlacArray, FlacArrayReader, FlacArrayWriter, LogicalDType,
    QuantaOption, Value, f16, read_flacarray,
};
use flacarray_hdf5::{Hdf5Store, read_file};
use flacarray_mpi::mpi::collective::SystemOperation;
use flacarray_mpi::mpi::topology::SimpleCommunicator;
use flacarray_mpi::mpi::traits::{Communicator, CommunicatorCollectives};
use flacarray_mpi::{
    DistFlacArray, Error, ZarrFormat, broadcast_bytes, read_hdf5, read_zarr, receive_bytes,
    send_bytes, split_rows, write_hdf5,
};
use flacarray_zarr::ZarrStore;
use ndarray::{ArrayD, Axis, IxDyn, Slice};

type Res<T = ()> = Result<T, Box<dyn StdError>>;

/// Checks passed on this rank (summed over the ranks and printed by rank 0).
static CHECKS: AtomicUsize = AtomicUsize::new(0);

fn passed() {
    CHECKS.fetch_add(1, Ordering::Relaxed);
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {{
        if !$cond {
            return Err(format!($($msg)+).into());
        }
        passed();
    }};
}

struct Ctx {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    /// Scratch directory (rank 0 only; the file paths matter on rank 0 only).
    dir: PathBuf,
}

impl Ctx {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The rows `(a, b)` of axis 0, or `None` when empty.
fn slab<T: Clone>(global: &ArrayD<T>, (a, b): (usize, usize)) -> Option<ArrayD<T>> {
    (a < b).then(|| global.slice_axis(Axis(0), Slice::from(a..b)).to_owned())
}

/// Checks that every rank got an error, of the expected kind on the failing rank.
fn expect_err<T: std::fmt::Debug>(
    ctx: &Ctx,
    what: &str,
    res: Result<T, Error>,
    failing: usize,
    kind: fn(&Error) -> bool,
) -> Res {
    match res {
        Ok(v) => Err(format!("{what}: expected an error on every rank, got {v:?}").into()),
        Err(e) if ctx.rank == failing => {
            ensure!(kind(&e), "{what}: rank {failing} got the wrong error: {e}");
            Ok(())
        }
        Err(Error::OtherRank { rank, .. }) if rank == failing => {
            passed();
            Ok(())
        }
        Err(e) if kind(&e) => {
            passed(); // a check every rank makes alike
            Ok(())
        }
        Err(e) => Err(format!("{what}: unexpected error {e}").into()),
    }
}

/// Streams of `a` as rows `(n_streams, stream_size)`.
fn streams<T: Clone>(a: &ArrayD<T>) -> Res<ArrayD<T>> {
    let n = *a.shape().last().ok_or("0-d array")?;
    Ok(a.to_shape(IxDyn(&[a.len() / n, n]))?.to_owned())
}

fn check_roundtrip<T>(
    ctx: &Ctx,
    name: &str,
    global: &ArrayD<T>,
    opts: &CompressOptions,
    dist: &[(usize, usize)],
) -> Res
where
    T: Element + PartialEq + std::fmt::Debug,
{
    let what = format!("{name} {dist:?}");
    let serial = FlacArray::from_array(global, opts)?;
    let decoded = serial.to_array_typed::<T>()?;
    let per: usize = global.shape()[1..global.ndim() - 1].iter().product();
    let n = *global.shape().last().ok_or("0-d")?;
    let (a, b) = dist[ctx.rank];

    // Compression on each rank's rows.
    let local = slab(global, (a, b));
    let d = DistFlacArray::from_array(&ctx.world, local.as_ref(), opts)?;
    ensure!(d.mpi_dist() == dist, "{what}: mpi_dist {:?}", d.mpi_dist());
    ensure!(
        d.global_shape() == global.shape(),
        "{what}: global shape {:?}",
        d.global_shape()
    );
    ensure!(
        d.global_nbytes() == serial.nbytes() as u64,
        "{what}: global bytes {} != {}",
        d.global_nbytes(),
        serial.nbytes()
    );
    ensure!(
        d.global_stream_starts() == serial.stream_starts()[a * per..b * per],
        "{what}: global starts {:?}",
        d.global_stream_starts()
    );
    ensure!(
        d.local().is_some() == (a < b),
        "{what}: local present {}",
        d.local().is_some()
    );
    if let Some(fa) = d.local() {
        let off = usize::try_from(d.byte_offset())?;
        ensure!(
            fa.compressed() == &serial.compressed()[off..off + fa.nbytes()],
            "{what}: local bytes differ from the serial ones"
        );
        ensure!(
            fa.to_array_typed::<T>()? == decoded.slice_axis(Axis(0), Slice::from(a..b)),
            "{what}: local decode"
        );
    }

    // Write from the ranks; rank 0 compares with a serial write of the whole array.
    let dist_path = ctx.path(&format!("{name}-dist.h5"));
    let serial_path = ctx.path(&format!("{name}-serial.h5"));
    d.write_hdf5(&ctx.world, &dist_path, "/obs/sig", true)?;
    if ctx.rank == 0 {
        Hdf5Store::create(&serial_path, "/obs/sig", true)?.write(&serial)?;
        let got = read_file(&dist_path, "/obs/sig", None)?;
        let want = read_file(&serial_path, "/obs/sig", None)?;
        ensure!(got == want, "{what}: datasets differ from the serial file");
        ensure!(
            got.stream_starts() == serial.stream_starts(),
            "{what}: stream_starts"
        );
        ensure!(
            got.stream_nbytes() == serial.stream_nbytes(),
            "{what}: stream_bytes"
        );
        ensure!(
            got.compressed() == serial.compressed(),
            "{what}: compressed"
        );
        ensure!(
            got.leading_shape() == serial.leading_shape(),
            "{what}: leading shape"
        );
        ensure!(got.stream_size() as u64 == n as u64, "{what}: stream_size");
    }

    // The same through a Zarr store (v3, or v2 for the custom distributions).
    let zpath = ctx.path(&format!("{name}-dist.zarr"));
    let format = if name.ends_with("custom") {
        ZarrFormat::V2
    } else {
        ZarrFormat::V3
    };
    d.write_zarr(&ctx.world, &zpath, "/obs/sig", true, format)?;
    if ctx.rank == 0 {
        let back = read_flacarray(&ZarrStore::open(&zpath, "/obs/sig")?, None, true)?;
        ensure!(
            back.compressed() == serial.compressed()
                && back.stream_starts() == serial.stream_starts()
                && back.stream_nbytes() == serial.stream_nbytes()
                && back.scaling() == serial.scaling()
                && back.leading_shape() == serial.leading_shape(),
            "{what}: Zarr {format:?} store differs from the serial array"
        );
    }
    let zread = if ctx.rank == 0 {
        zpath.clone()
    } else {
        PathBuf::new()
    };
    let keep: Vec<bool> = (0..global.len() / n).map(|g| g % 2 == 0).collect();
    let r = read_zarr(
        &ctx.world,
        &zread,
        "/obs/sig",
        Some(&keep),
        Some(dist),
        true,
    )?;
    let mine: Vec<usize> = (a * per..b * per).filter(|&g| keep[g]).collect();
    let all = streams(&decoded)?;
    let want: Vec<T> = mine
        .iter()
        .flat_map(|&g| {
            all.index_axis(Axis(0), g)
                .iter()
                .cloned()
                .collect::<Vec<T>>()
        })
        .collect();
    match r.local() {
        None => ensure!(mine.is_empty(), "{what}: Zarr keep read lost {mine:?}"),
        Some(fa) => ensure!(
            fa.to_array_typed::<T>()?.iter().eq(want.iter()) && fa.shape() == [mine.len(), n],
            "{what}: Zarr keep read of streams {mine:?}"
        ),
    }

    // Distributed reads equal the serial decode.
    let read_path = if ctx.rank == 0 {
        dist_path.clone()
    } else {
        PathBuf::new()
    };
    for given in [Some(dist), None] {
        let r = read_hdf5(&ctx.world, &read_path, "/obs/sig", None, given, false)?;
        let used = given.map_or_else(|| split_rows(global.shape()[0], ctx.size), <[_]>::to_vec);
        ensure!(
            r.mpi_dist() == used,
            "{what}: read mpi_dist {:?}",
            r.mpi_dist()
        );
        ensure!(
            r.global_shape() == global.shape(),
            "{what}: read global shape"
        );
        let (a, b) = used[ctx.rank];
        match r.local() {
            None => ensure!(a == b, "{what}: rank without rows after read"),
            Some(fa) => {
                let v = fa.to_array_typed::<T>()?;
                let want = decoded.slice_axis(Axis(0), Slice::from(a..b));
                ensure!(
                    v.iter().eq(want.iter()),
                    "{what}: read values (given dist {given:?})"
                );
                let mut shape = want.shape().to_vec();
                if shape.len() == 2 && shape[0] == 1 {
                    shape.remove(0);
                }
                ensure!(v.shape() == shape, "{what}: read shape {:?}", v.shape());
            }
        }
    }

    // Keep masks over the global leading shape.
    let n_streams = global.len() / n;
    let masks: Vec<Vec<bool>> = vec![
        (0..n_streams).map(|g| g % 3 != 1).collect(),
        (0..n_streams).map(|g| g == n_streams / 2).collect(),
        (0..n_streams)
            .map(|g| g + 1 == n_streams || g == 0)
            .collect(),
    ];
    for keep in &masks {
        let r = read_hdf5(
            &ctx.world,
            &read_path,
            "/obs/sig",
            Some(keep),
            Some(dist),
            false,
        )?;
        let mine: Vec<usize> = (a * per..b * per).filter(|&g| keep[g]).collect();
        let total = keep.iter().filter(|&&k| k).count();
        ensure!(
            r.global_leading_shape() == [total],
            "{what}: keep read global leading shape {:?}",
            r.global_leading_shape()
        );
        match r.local() {
            None => ensure!(mine.is_empty(), "{what}: keep read lost {mine:?}"),
            Some(fa) => {
                let v = fa.to_array_typed::<T>()?;
                let want: Vec<T> = mine
                    .iter()
                    .flat_map(|&g| {
                        all.index_axis(Axis(0), g)
                            .iter()
                            .cloned()
                            .collect::<Vec<T>>()
                    })
                    .collect();
                ensure!(
                    v.iter().eq(want.iter()),
                    "{what}: keep read values for streams {mine:?}"
                );
                let shape = if mine.len() == 1 {
                    vec![n]
                } else {
                    vec![mine.len(), n]
                };
                ensure!(
                    v.shape() == shape,
                    "{what}: keep read shape {:?}",
                    v.shape()
                );
            }
        }
    }
    // no_flatten keeps a single kept stream 2-d.
    let r = read_hdf5(
        &ctx.world,
        &read_path,
        "/obs/sig",
        Some(&masks[1]),
        Some(dist),
        true,
    )?;
    if let Some(fa) = r.local() {
        ensure!(
            fa.shape() == [1, n],
            "{what}: no_flatten shape {:?}",
            fa.shape()
        );
    }
    Ok(())
}

/// Runs the round trip of `global` with the even split and with a custom distribution
/// where rank 0 has no rows.
fn check_dtype<T>(ctx: &Ctx, name: &str, global: &ArrayD<T>, opts: &CompressOptions) -> Res
where
    T: Element + PartialEq + std::fmt::Debug,
{
    let rows = global.shape()[0];
    check_roundtrip(ctx, name, global, opts, &split_rows(rows, ctx.size))?;
    let custom: Vec<(usize, usize)> = if ctx.size == 1 {
        vec![(0, rows)]
    } else {
        let mut d = vec![(0, 0)];
        d.extend(split_rows(rows, ctx.size - 1));
        d
    };
    check_roundtrip(ctx, &format!("{name}-custom"), global, opts, &custom)
}

fn lead3(shape: [usize; 3]) -> IxDyn {
    IxDyn(&shape)
}

fn check_errors(ctx: &Ctx) -> Res {
    let opts = CompressOptions::default();
    let last = ctx.size - 1;
    let ok = ArrayD::from_shape_fn(lead3([2, 3, 64]), |i| {
        (i[0] * 1000 + i[1] * 100 + i[2]) as i32
    });

    if ctx.size >= 2 {
        // Trailing dimensions differ on the last rank.
        let other = ArrayD::from_shape_fn(lead3([2, 4, 64]), |i| i[2] as i32);
        let mine = if ctx.rank == last { &other } else { &ok };
        let res = DistFlacArray::from_array(&ctx.world, Some(mine), &opts);
        expect_err(ctx, "trailing mismatch", res, last, |e| {
            matches!(e, Error::Mismatch(_))
        })?;
        // dtype differs on the last rank.
        let fa = if ctx.rank == last {
            FlacArray::from_array(&ok.mapv(i64::from), &opts)?
        } else {
            FlacArray::from_array(&ok, &opts)?
        };
        let res = DistFlacArray::from_local(&ctx.world, Some(fa));
        expect_err(ctx, "dtype mismatch", res, last, |e| {
            matches!(e, Error::Mismatch(_))
        })?;
    }
    // No rank holds data.
    let res = DistFlacArray::from_local(&ctx.world, None);
    expect_err(ctx, "no data", res, 0, |e| matches!(e, Error::Mismatch(_)))?;
    // NaN on the last rank: a compression error there, OtherRank elsewhere.
    let mut f = ArrayD::from_shape_fn(lead3([1, 2, 64]), |i| i[2] as f32 * 0.5);
    if ctx.rank == last {
        f[[0, 1, 7]] = f32::NAN;
    }
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(0.01)),
        ..Default::default()
    };
    let res = DistFlacArray::from_array(&ctx.world, Some(&f), &q);
    expect_err(ctx, "NaN", res, last, |e| {
        matches!(
            e,
            Error::Core(flacarray_core::Error::Quantize {
                source: flacarray_core::quant::Error::NonFinite { .. },
                ..
            })
        )
    })?;

    // File errors happen on rank 0; the other ranks hear about them.
    let d = DistFlacArray::from_array(&ctx.world, Some(&ok), &opts)?;
    let path = ctx.path("errors.h5");
    d.write_hdf5(&ctx.world, &path, "/a", false)?;
    let res = d.write_hdf5(&ctx.world, &path, "/a", false);
    expect_err(ctx, "write without replace", res, 0, |e| {
        matches!(e, Error::Hdf5(_))
    })?;
    d.write_hdf5(&ctx.world, &path, "/a", true)?;
    let res = read_hdf5(&ctx.world, &path, "/missing", None, None, false);
    expect_err(ctx, "missing group", res, 0, |e| {
        matches!(e, Error::Hdf5(_))
    })?;
    let rows = 2 * ctx.size;
    let bad = vec![(0, 1); ctx.size];
    let res = read_hdf5(&ctx.world, &path, "/a", None, Some(&bad), false);
    expect_err(ctx, "overlapping mpi_dist", res, 0, |e| {
        matches!(e, Error::InvalidArgument(_))
    })?;
    let short = vec![(0, rows); ctx.size + 1];
    let res = read_hdf5(&ctx.world, &path, "/a", None, Some(&short), false);
    expect_err(ctx, "mpi_dist length", res, 0, |e| {
        matches!(e, Error::InvalidArgument(_))
    })?;
    let keep = vec![true; 5];
    let res = read_hdf5(&ctx.world, &path, "/a", Some(&keep), None, false);
    expect_err(ctx, "keep length", res, 0, |e| {
        matches!(e, Error::InvalidArgument(_))
    })?;
    // After all those errors the communicator still works.
    let r = read_hdf5(&ctx.world, &path, "/a", None, None, false)?;
    ensure!(
        r.global_leading_shape() == [rows, 3],
        "after errors: {:?}",
        r.global_leading_shape()
    );
    Ok(())
}

/// Each rank holds a 1-d array: one row each.
fn check_one_d(ctx: &Ctx) -> Res {
    let n = 777;
    let global = ArrayD::from_shape_fn(IxDyn(&[ctx.size, n]), |i| {
        (i[0] as i64 - 1) * 3_000_000_000 + (i[1] as i64 * 7919) % 1013
    });
    let mine = global.index_axis(Axis(0), ctx.rank).to_owned();
    let d = DistFlacArray::from_array(&ctx.world, Some(&mine), &CompressOptions::default())?;
    ensure!(d.global_shape() == [ctx.size, n], "1-d global shape");
    let path = ctx.path("one_d.h5");
    write_hdf5(&ctx.world, d.local(), &path, "/", true)?;
    if ctx.rank == 0 {
        let serial = FlacArray::from_array(&global, &CompressOptions::default())?;
        let got = read_file(&path, "/", None)?;
        ensure!(got.compressed() == serial.compressed(), "1-d compressed");
        ensure!(got.leading_shape() == [ctx.size], "1-d leading shape");
    }
    let r = read_hdf5(&ctx.world, &path, "/", None, None, false)?;
    let fa = r.local().ok_or("1-d read: no rows")?;
    let v = fa.to_array_typed::<i64>()?;
    ensure!(v.shape() == [n], "1-d read shape {:?}", v.shape());
    ensure!(v == mine, "1-d read values");
    Ok(())
}

/// Messages split into pieces, point to point and broadcast.
fn check_transfer(ctx: &Ctx) -> Res {
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    if ctx.size >= 2 {
        if ctx.rank == 1 {
            send_bytes(&ctx.world.process_at_rank(0), &data, 7)?;
        } else if ctx.rank == 0 {
            let got = receive_bytes(&ctx.world.process_at_rank(1), 7)?;
            ensure!(got == data, "pieces of 7 bytes");
        }
    }
    let root = ctx.size - 1;
    let mine = if ctx.rank == root {
        data.clone()
    } else {
        Vec::new()
    };
    let got = broadcast_bytes(&ctx.world, root, mine, 3)?;
    ensure!(got == data, "broadcast in pieces of 3 bytes");
    let empty = broadcast_bytes(&ctx.world, 0, Vec::new(), 3)?;
    ensure!(empty.is_empty(), "empty broadcast");
    ensure!(
        send_bytes(&ctx.world.process_at_rank(0), &data, 0).is_err(),
        "piece size 0 accepted"
    );
    Ok(())
}

/// A sample's bit pattern, so that NaN compares equal to itself (and payloads count).
trait Bits: Value {
    fn bits(self) -> u64;
}

macro_rules! int_bits {
    ($($t:ty),*) => {$(
        impl Bits for $t {
            fn bits(self) -> u64 {
                // Two's complement reinterpretation, for comparison only.
                self as u64
            }
        }
    )*};
}
int_bits!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Bits for bool {
    fn bits(self) -> u64 {
        u64::from(self)
    }
}

impl Bits for f16 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Bits for f32 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Bits for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

fn bits_of<'a, T: Bits>(v: impl IntoIterator<Item = &'a T>) -> Vec<u64> {
    v.into_iter().map(|&x| x.bits()).collect()
}

/// The rows `(a, b)` of axis 0, empty ones included.
fn rows<T: Clone>(global: &ArrayD<T>, (a, b): (usize, usize)) -> ArrayD<T> {
    global.slice_axis(Axis(0), Slice::from(a..b)).to_owned()
}

/// `global` written by the ranks (HDF5 and Zarr) equals the serial writer's group, and
/// distributed reads of the serial group give each rank its rows bit for bit.
fn check_ext_roundtrip<T: Bits>(
    ctx: &Ctx,
    name: &str,
    global: &ArrayD<T>,
    opts: &CompressOptions,
    dist: &[(usize, usize)],
) -> Res {
    let what = format!("{name} {dist:?}");
    let serial = FlacArray::from_array(global, opts)?;
    let decoded = serial.to_values_typed::<T>()?;
    ensure!(
        bits_of(&decoded) == bits_of(global) || T::LOGICAL.stored().is_float(),
        "{what}: the serial round trip of integers is not exact"
    );
    let per: usize = global.shape()[1..global.ndim() - 1].iter().product();
    let n = *global.shape().last().ok_or("0-d")?;
    let (a, b) = dist[ctx.rank];

    // Every rank passes its rows, an empty (0, ...) array when it has none.
    let d = DistFlacArray::from_array(&ctx.world, Some(&rows(global, (a, b))), opts)?;
    ensure!(d.mpi_dist() == dist, "{what}: mpi_dist {:?}", d.mpi_dist());
    ensure!(
        d.global_shape() == global.shape(),
        "{what}: global shape {:?}",
        d.global_shape()
    );
    ensure!(
        d.logical_dtype() == T::LOGICAL && d.dtype() == T::LOGICAL.stored(),
        "{what}: dtypes {} / {}",
        d.logical_dtype(),
        d.dtype()
    );
    ensure!(
        d.format_version() == serial.format_version(),
        "{what}: format {} but the serial array is format {}",
        d.format_version(),
        serial.format_version()
    );
    ensure!(
        d.local().is_some() == (a < b),
        "{what}: local present {}",
        d.local().is_some()
    );
    if let Some(fa) = d.local() {
        let want = rows(&decoded, (a, b));
        ensure!(
            bits_of(&fa.to_values_typed::<T>()?) == bits_of(&want),
            "{what}: local decode"
        );
    }

    // Written by the ranks: the serial writer's group.
    let dist_path = ctx.path(&format!("{name}-dist.h5"));
    let serial_path = ctx.path(&format!("{name}-serial.h5"));
    d.write_hdf5(&ctx.world, &dist_path, "/x", true)?;
    let zpath = ctx.path(&format!("{name}-dist.zarr"));
    let format = if name.ends_with("custom") {
        ZarrFormat::V2
    } else {
        ZarrFormat::V3
    };
    d.write_zarr(&ctx.world, &zpath, "/x", true, format)?;
    if ctx.rank == 0 {
        Hdf5Store::create(&serial_path, "/x", true)?.write(&serial)?;
        // Format 2 is read through Hdf5Store only.
        if serial.format_version() == 1 {
            let got = read_file(&dist_path, "/x", None)?;
            let want = read_file(&serial_path, "/x", None)?;
            ensure!(
                got == want,
                "{what}: HDF5 datasets differ from the serial file"
            );
        }
        let (gs, ws) = (
            Hdf5Store::open(&dist_path, "/x")?,
            Hdf5Store::open(&serial_path, "/x")?,
        );
        let (gm, wm) = (gs.metadata()?, ws.metadata()?);
        ensure!(
            gm == wm && gm.format_version == serial.format_version(),
            "{what}: HDF5 metadata {gm:?}, serial {wm:?}"
        );
        ensure!(
            gs.checksums()? == ws.checksums()?,
            "{what}: HDF5 checksum attributes differ"
        );
        let (ge, we) = (gs.extension(&gm)?, ws.extension(&wm)?);
        ensure!(ge == we, "{what}: HDF5 extension {ge:?}, serial {we:?}");
        let recorded = (!T::LOGICAL.is_stored()).then(|| T::LOGICAL.name().to_owned());
        ensure!(
            ge.dtype == recorded,
            "{what}: flacarray_dtype {:?}",
            ge.dtype
        );
        ensure!(
            ge.nonfinite.is_some() == serial.nonfinite().is_some(),
            "{what}: non-finite tables written: {}",
            ge.nonfinite.is_some()
        );
        let back = read_flacarray(&gs, None, true)?;
        ensure!(
            back == serial,
            "{what}: HDF5 read differs from the serial array"
        );
        let zback = read_flacarray(&ZarrStore::open(&zpath, "/x")?, None, true)?;
        ensure!(
            zback == serial,
            "{what}: Zarr {format:?} read differs from the serial array"
        );
        ensure!(
            bits_of(&zback.to_values_typed::<T>()?) == bits_of(&decoded),
            "{what}: Zarr {format:?} values"
        );
    }

    // Distributed reads of the serial file restore the type and the NaN/inf bits.
    let read_path = if ctx.rank == 0 {
        serial_path.clone()
    } else {
        PathBuf::new()
    };
    for given in [Some(dist), None] {
        let r = read_hdf5(&ctx.world, &read_path, "/x", None, given, true)?;
        let used = given.map_or_else(|| split_rows(global.shape()[0], ctx.size), <[_]>::to_vec);
        ensure!(
            r.mpi_dist() == used && r.global_shape() == global.shape(),
            "{what}: read mpi_dist {:?}, shape {:?}",
            r.mpi_dist(),
            r.global_shape()
        );
        ensure!(
            r.logical_dtype() == T::LOGICAL && r.format_version() == serial.format_version(),
            "{what}: read dtype {} format {}",
            r.logical_dtype(),
            r.format_version()
        );
        let (a, b) = used[ctx.rank];
        match r.local() {
            None => ensure!(a == b, "{what}: rank without rows after read"),
            Some(fa) => {
                let v = fa.to_values_typed::<T>()?;
                let want = rows(&decoded, (a, b));
                ensure!(
                    v.shape() == want.shape() && bits_of(&v) == bits_of(&want),
                    "{what}: read values (given dist {given:?})"
                );
            }
        }
    }
    // A keep mask over the serial Zarr store's streams.
    let n_streams = global.len().checked_div(n).unwrap_or(0);
    if n_streams > 1 && global.shape()[0] > 0 {
        let zs = ctx.path(&format!("{name}-serial.zarr"));
        if ctx.rank == 0 {
            ZarrStore::create(&zs, "/x", true, format)?.write(&serial)?;
        }
        let keep: Vec<bool> = (0..n_streams).map(|g| g % 3 != 1).collect();
        let r = read_zarr(&ctx.world, &zs, "/x", Some(&keep), Some(dist), true)?;
        let mine: Vec<usize> = (a * per..b * per).filter(|&g| keep[g]).collect();
        let all = streams(&decoded)?;
        let want: Vec<u64> = mine
            .iter()
            .flat_map(|&g| bits_of(all.index_axis(Axis(0), g)))
            .collect();
        match r.local() {
            None => ensure!(mine.is_empty(), "{what}: Zarr keep read lost {mine:?}"),
            Some(fa) => ensure!(
                bits_of(&fa.to_values_typed::<T>()?) == want && fa.shape() == [mine.len(), n],
                "{what}: Zarr keep read of streams {mine:?}"
            ),
        }
    }
    Ok(())
}

/// [`check_ext_roundtrip`] with the even split, an empty rank 0 and (for more than one
/// row) every row on the last rank.
fn check_ext<T: Bits>(ctx: &Ctx, name: &str, global: &ArrayD<T>, opts: &CompressOptions) -> Res {
    let n = global.shape()[0];
    check_ext_roundtrip(ctx, name, global, opts, &split_rows(n, ctx.size))?;
    if ctx.size > 1 {
        let mut custom = vec![(0, 0)];
        custom.extend(split_rows(n, ctx.size - 1));
        check_ext_roundtrip(ctx, &format!("{name}-custom"), global, opts, &custom)?;
        let mut last = vec![(0, 0); ctx.size - 1];
        last.push((0, n));
        check_ext_roundtrip(ctx, &format!("{name}-last"), global, opts, &last)?;
    }
    Ok(())
}

/// A `(rows, 3, n)` array of `T` from `f(row, stream, sample)`.
fn make<T>(rows: usize, n: usize, f: impl Fn(usize, usize, usize) -> T) -> ArrayD<T> {
    ArrayD::from_shape_fn(lead3([rows, 3, n]), |i| f(i[0], i[1], i[2]))
}

/// Extreme values (min, max, 0, all equal, a ramp) of an integer type by stream.
fn extremes<T: Copy>(
    rows: usize,
    n: usize,
    lo: T,
    hi: T,
    mid: T,
    ramp: impl Fn(usize) -> T,
) -> ArrayD<T> {
    make(rows, n, |r, j, k| match (r + j) % 4 {
        0 => {
            if k % 2 == 0 {
                lo
            } else {
                hi
            }
        }
        1 => mid,
        2 => ramp(r * 7919 + k * 31 + j),
        _ => {
            if k < n / 2 {
                hi
            } else {
                lo
            }
        }
    })
}

/// A float from a stream's position and a NaN/inf pattern chosen by the stream: runs
/// at the start and end, all NaN, alternating NaN/-inf, +inf in the middle, a NaN with
/// a payload, none. `nan_rows` limits the patterns to the rows below it.
fn nonfinite_pattern(r: usize, j: usize, k: usize, n: usize, nan_rows: usize) -> f64 {
    let x = (r * 3 + j) as f64 * 0.5 + (k as f64 * 0.05).sin() * 20.0;
    if r >= nan_rows {
        return x;
    }
    match (r * 3 + j) % 7 {
        0 if k < 5 || k + 3 >= n => f64::NAN,
        1 => f64::NAN,
        2 if k.is_multiple_of(2) => f64::NAN,
        2 => f64::NEG_INFINITY,
        3 if k == n / 2 => f64::INFINITY,
        4 if (10..14).contains(&k) => -f64::NAN,
        5 if k + 1 == n => f64::NEG_INFINITY,
        _ => x,
    }
}

fn check_extension(ctx: &Ctx) -> Res {
    let ints = CompressOptions::default();
    let n = 96;
    let rows = ctx.size + 2;
    check_ext(
        ctx,
        "bool",
        &make(rows, n, |r, j, k| (r + j + k / 5) % 3 == 0),
        &ints,
    )?;
    check_ext(
        ctx,
        "int8",
        &extremes(rows, n, i8::MIN, i8::MAX, -1, |v| (v % 256) as u8 as i8),
        &ints,
    )?;
    check_ext(
        ctx,
        "int16",
        &extremes(rows, n, i16::MIN, i16::MAX, 7, |v| (v * 131) as u16 as i16),
        &ints,
    )?;
    check_ext(
        ctx,
        "uint8",
        &extremes(rows, n, 0, u8::MAX, 128, |v| (v % 256) as u8),
        &ints,
    )?;
    check_ext(
        ctx,
        "uint16",
        &extremes(rows, n, 0, u16::MAX, 1, |v| (v * 257) as u16),
        &ints,
    )?;
    check_ext(
        ctx,
        "uint32",
        &extremes(rows, n, 0, u32::MAX, 1 << 31, |v| {
            (v as u32).wrapping_mul(2_654_435_761)
        }),
        &ints,
    )?;
    // uint64 below 2^63 (format 1), and beyond it only in the last row (the ranks'
    // rows mix formats 1 and 2).
    check_ext(
        ctx,
        "uint64-low",
        &extremes(rows, n, 0, (1 << 63) - 1, 1 << 40, |v| (v as u64) << 20),
        &ints,
    )?;
    let u64s = make(rows, n, |r, j, k| {
        if r + 1 == rows {
            u64::MAX - (j * n + k) as u64 * 977
        } else {
            (r * 1000 + j * 100 + k) as u64
        }
    });
    check_ext(ctx, "uint64-high", &u64s, &ints)?;

    let keep = |q: f64| CompressOptions {
        quanta: Some(QuantaOption::Scalar(q)),
        keep_nonfinite: true,
        ..Default::default()
    };
    let f64s = make(rows, n, |r, j, k| nonfinite_pattern(r, j, k, n, rows));
    check_ext(ctx, "float64-nan", &f64s, &keep(1e-6))?;
    // NaN/inf on the first row only: the other ranks' rows are format 1.
    let f32s = make(rows, n, |r, j, k| nonfinite_pattern(r, j, k, n, 1) as f32);
    check_ext(ctx, "float32-nan-row0", &f32s, &keep(1e-3))?;
    let f16s = make(rows, n, |r, j, k| {
        f16::from_f64(nonfinite_pattern(r, j, k, n, rows))
    });
    check_ext(ctx, "float16-nan", &f16s, &keep(1e-2))?;
    let f16x = make(rows, n, |r, j, k| match (r + j + k) % 3 {
        0 => f16::MAX,
        1 => f16::MIN,
        _ => f16::from_f32(0.0),
    });
    check_ext(ctx, "float16-extremes", &f16x, &keep(1.0))?;
    // Every sample non-finite, on every rank.
    let all_nan = make(rows, 8, |r, _, k| {
        if (r + k) % 2 == 0 {
            f32::NAN
        } else {
            f32::INFINITY
        }
    });
    check_ext(ctx, "float32-all-nan", &all_nan, &keep(1e-3))?;

    // More ranks than rows: 2 rows (ranks 2.. have none).
    let few = make(2, n, |r, j, k| nonfinite_pattern(r, j, k, n, 2) as f32);
    check_ext_roundtrip(
        ctx,
        "float32-two-rows",
        &few,
        &keep(1e-3),
        &split_rows(2, ctx.size),
    )?;

    // Empty axes.
    let empty_rows = ArrayD::<u16>::zeros(IxDyn(&[0, 10]));
    check_ext_roundtrip(
        ctx,
        "uint16-0x10",
        &empty_rows,
        &ints,
        &split_rows(0, ctx.size),
    )?;
    let empty_rows = ArrayD::<f32>::zeros(IxDyn(&[0, 3, 10]));
    check_ext_roundtrip(
        ctx,
        "float32-0x3x10",
        &empty_rows,
        &keep(1e-3),
        &split_rows(0, ctx.size),
    )?;
    let empty_streams = ArrayD::<f64>::zeros(IxDyn(&[10, 0]));
    check_ext(ctx, "float64-10x0", &empty_streams, &keep(1e-3))?;
    let empty_mid = ArrayD::<i8>::zeros(IxDyn(&[4, 0, 10]));
    check_ext(ctx, "int8-4x0x10", &empty_mid, &ints)?;
    let one_row = ArrayD::from_shape_fn(IxDyn(&[1, 50]), |i| (i[1] as f32).sqrt());
    check_ext(ctx, "float32-1x50", &one_row, &keep(1e-3))?;
    ensure!(
        LogicalDType::ALL.len() == 12,
        "a logical dtype was added: test it here"
    );
    Ok(())
}

fn run(ctx: &Ctx) -> Res {
    let shape = [7, 3, 500];
    let i32s = ArrayD::from_shape_fn(lead3(shape), |i| {
        ((i[0] * 31 + i[1] * 7) as i32 - 100) * 1000 + ((i[2] * 37) % 211) as i32
    });
    check_dtype(ctx, "int32", &i32s, &CompressOptions::default())?;
    let i64s = ArrayD::from_shape_fn(lead3(shape), |i| {
        (i[0] as i64 * 3 + i[1] as i64 - 10) * 4_000_000_000 + ((i[2] * 37) % 1009) as i64
    });
    check_dtype(ctx, "int64", &i64s, &CompressOptions::default())?;
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..Default::default()
    };
    let f32s = ArrayD::from_shape_fn(lead3(shape), |i| {
        (i[0] * 3 + i[1]) as f32 * 0.37 + (i[2] as f32 * 0.01).sin() * 10.0
    });
    check_dtype(ctx, "float32", &f32s, &q)?;
    let f64s = ArrayD::from_shape_fn(lead3([3, 2, 300]), |i| {
        (i[0] * 2 + i[1]) as f64 * 1e3 + (i[2] as f64 * 0.003).cos()
    });
    check_dtype(ctx, "float64", &f64s, &q)?;
    check_one_d(ctx)?;
    check_extension(ctx)?;
    check_errors(ctx)?;
    check_transfer(ctx)?;
    Ok(())
}

fn main() {
    let Some(universe) = flacarray_mpi::mpi::initialize() else {
        eprintln!("MPI was already initialised");
        std::process::exit(2);
    };
    let world = universe.world();
    let rank = usize::try_from(world.rank()).unwrap_or(0);
    let size = usize::try_from(world.size()).unwrap_or(1);
    let tmp = if rank == 0 {
        match tempfile::tempdir() {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("rank 0: no temporary directory: {e}");
                world.abort(1)
            }
        }
    } else {
        None
    };
    let dir = tmp
        .as_ref()
        .map_or_else(PathBuf::new, |t| Path::to_path_buf(t.path()));
    let ctx = Ctx {
        world,
        rank,
        size,
        dir,
    };
    if let Err(e) = run(&ctx) {
        eprintln!("mpi_tests: rank {rank} of {size}: FAILED: {e}");
        ctx.world.abort(1);
    }
    let mine = CHECKS.load(Ordering::Relaxed) as u64;
    let mut total = 0u64;
    ctx.world
        .all_reduce_into(&mine, &mut total, SystemOperation::sum());
    if rank == 0 {
        let io = if flacarray_mpi::HDF5_MPIO {
            "HDF5 through MPI-IO on every rank"
        } else {
            "HDF5 through rank 0"
        };
        println!("mpi_tests: all {total} checks passed on {size} ranks ({io})");
    }
}
