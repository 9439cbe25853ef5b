//! Distributed reads and writes through rank 0 (the serial-HDF5 mode of flacarray
//! 0.4.1: only rank 0 touches the file).

use std::path::Path;

use flacarray_core::{
    Concat, FlacArray, FlacArrayParts, FlacArrayReader, FlacArrayWriter, read_flacarray_rows,
};
// Only the rank-0 paths open files themselves; with `mpio` every rank does.
#[cfg_attr(feature = "mpio", allow(unused_imports))]
use flacarray_hdf5::Hdf5Store;
use flacarray_zarr::{ZarrFormat, ZarrStore};
use mpi::ffi::MPI_Comm;
use mpi::raw::AsRaw;
use mpi::topology::Communicator;

use crate::array::{DistFlacArray, GlobalProps, writable_props};
use crate::error::{Error, Result};
use crate::plan::{nonempty, plan_read, rows_of};
use crate::protocol::{Header, decode_dist, decode_header, encode_dist, encode_header};
use crate::transfer::{
    MAX_MESSAGE_BYTES, agree, broadcast_bytes, rank_of, rank_size, receive_bytes, send_bytes,
};

/// Collective: writes the distributed array made of every rank's `local` rows (`None`
/// on ranks without rows) with a writer that only rank 0 opens.
///
/// The ranks first agree on the global shape (as [`DistFlacArray::from_local`]); then
/// every rank with rows sends its stream table and bytes to rank 0 (messages above
/// [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES) are sent in pieces), which
/// assembles the global array — the rank-ordered concatenation, with each rank's
/// starts shifted by the byte total of the lower ranks — calls `open` and writes it.
/// Rank 0 holds the whole compressed array in memory (twice, briefly, while the
/// backend copies it).
///
/// `open` is called on rank 0 only; the other ranks never call it.
///
/// # Errors
/// On every rank: the errors of [`DistFlacArray::from_local`]; [`Error::InvalidArgument`]
/// for format-0 data; the backend's errors on rank 0 ([`Error::OtherRank`] elsewhere).
pub fn write_store<C, W, F>(comm: &C, local: Option<&FlacArray>, open: F) -> Result<()>
where
    C: Communicator,
    W: FlacArrayWriter,
    Error: From<W::Error>,
    F: FnOnce() -> Result<W, W::Error>,
{
    let (rank, _) = rank_size(comm);
    let props = writable_props(comm, local)?;
    let local = nonempty(local);
    if rank != 0 {
        let res = match local {
            Some(fa) => {
                let root = comm.process_at_rank(0);
                send_bytes(&root, &encode_header(&Ok(Some(fa))), MAX_MESSAGE_BYTES)
                    .and_then(|()| send_bytes(&root, fa.compressed(), MAX_MESSAGE_BYTES))
            }
            None => Ok(()),
        };
        return agree(comm, res);
    }

    let res = assemble(comm, &props, local).and_then(|global| {
        let mut w = open()?;
        w.write(&global)?;
        Ok(())
    });
    agree(comm, res)
}

/// The global array assembled on rank 0 from its own rows and every other rank's.
/// Every message is received even after an error, so none is left pending.
fn assemble<C: Communicator>(
    comm: &C,
    props: &GlobalProps,
    local: Option<&FlacArray>,
) -> Result<FlacArray> {
    let (_, size) = rank_size(comm);
    let total = props.total_bytes();
    let n_streams: usize = props.global_leading_shape().iter().product();
    let mut err: Option<Error> = None;
    let capacity = usize::try_from(total).unwrap_or_else(|_| {
        err = Some(Error::InvalidArgument(format!(
            "{total} compressed bytes do not fit in memory"
        )));
        0
    });
    let mut global = Concat::with_capacity(n_streams, capacity);
    for r in 0..size {
        if props.rows[r] == 0 {
            continue;
        }
        let res = if r == 0 {
            match local {
                Some(fa) => global.push(fa).map_err(Error::from),
                None => Err(Error::Protocol("rank 0 has no rows to write".into())),
            }
        } else {
            match receive_rows(comm, r) {
                Ok((p, b)) if err.is_none() => {
                    FlacArray::from_parts(FlacArrayParts { compressed: b, ..p })
                        .and_then(|fa| global.push(&fa))
                        .map_err(Error::from)
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = res {
            err.get_or_insert(e);
        }
    }
    if let Some(e) = err {
        return Err(e);
    }
    let global = global.finish()?;
    // The parts agree with each other (checked by `Concat`); they must also make the
    // array the ranks announced.
    let want = props.global_leading_shape();
    if global.leading_shape() != want.as_slice()
        || global.dtype() != props.dtype
        || global.stream_size() != props.stream_size
        || global.format_version() != props.format_version
    {
        return Err(Error::Mismatch(format!(
            "the ranks' rows make {global}, not the announced leading shape {want:?} of \
             {} streams of {} samples",
            props.dtype, props.stream_size
        )));
    }
    Ok(global)
}

/// Rank 0 receives the rows rank `r` sends in [`write_store`]: a header, then the bytes
/// (both always received).
fn receive_rows<C: Communicator>(comm: &C, r: usize) -> Result<(FlacArrayParts, Vec<u8>)> {
    let src = comm.process_at_rank(rank_of(r)?);
    let header = receive_bytes(&src, MAX_MESSAGE_BYTES);
    let bytes = receive_bytes(&src, MAX_MESSAGE_BYTES)?;
    match decode_header(&header?)? {
        Header::Array(p, n) if n == bytes.len() => Ok((p, bytes)),
        Header::Array(_, n) => Err(Error::Protocol(format!(
            "rank {r} announced {n} bytes and sent {}",
            bytes.len()
        ))),
        Header::Error(message) => Err(Error::OtherRank { rank: r, message }),
        Header::None => Err(Error::Protocol(format!("rank {r} sent no rows"))),
    }
}

/// What rank 0 holds after opening a store: the reader and the rows of every rank.
type Plan<R> = (R, Vec<(usize, usize)>);

/// Collective: reads a stored array distributed over the ranks of `comm` with a
/// reader that only rank 0 opens.
///
/// Rank 0 opens the store (`open`), checks `keep` and `mpi_dist` against it and tells
/// every rank its rows; then, rank after rank, it reads that rank's slab with
/// [`read_flacarray_rows`] — its stream table and only its (kept) streams' bytes — and
/// sends it (in pieces above [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES)). Rank 0
/// holds at most its own slab and one other rank's at a time.
///
/// * `mpi_dist`: one `(first, last)` range of axis-0 rows per rank, contiguous and
///   covering the stored rows ([`check_dist`](crate::check_dist)); ranks may have none, `(k, k)`. Without
///   it the rows are split as numpy's `array_split` does ([`split_rows`](crate::split_rows)); unlike
///   flacarray 0.4.1, ranks left without rows are allowed.
/// * `keep`: a mask over the **global** leading shape (C order); each rank gets the kept
///   streams of its slab, as a `(n_kept_local, stream_size)` array, flattened to 1-d
///   when it keeps exactly one (unless `no_flatten`). The result's global leading shape
///   is then `(n_kept,)` and its `mpi_dist` counts kept streams.
/// * Without `keep`, a rank's local array has the stored trailing dimensions; a single
///   row is flattened to 1-d unless `no_flatten`.
///
/// `keep`, `mpi_dist` and `no_flatten` are taken from rank 0; the other ranks' values
/// are ignored (as in 0.4.1's serial mode). `open` is called on rank 0 only.
///
/// # Errors
/// On every rank: the backend's errors on rank 0 ([`Error::OtherRank`] elsewhere);
/// [`Error::InvalidArgument`] for a bad `mpi_dist` or a `keep` of the wrong length;
/// [`Error::Mismatch`] when no stream is kept at all.
pub fn read_store<C, R, F>(
    comm: &C,
    open: F,
    keep: Option<&[bool]>,
    mpi_dist: Option<&[(usize, usize)]>,
    no_flatten: bool,
) -> Result<DistFlacArray>
where
    C: Communicator,
    R: FlacArrayReader,
    Error: From<R::Error>,
    F: FnOnce() -> Result<R, R::Error>,
{
    let (rank, size) = rank_size(comm);

    // 1. Rank 0 opens the store and decides the distribution; everybody learns it.
    let mut plan: Option<Result<Plan<R>>> = None;
    let mut msg = Vec::new();
    if rank == 0 {
        let p = (|| -> Result<Plan<R>> {
            let reader = open()?;
            let dist = plan_read(&reader.metadata()?, keep, mpi_dist, size)?;
            Ok((reader, dist))
        })();
        msg = encode_dist(p.as_ref().map(|(_, dist)| dist.as_slice()));
        plan = Some(p);
    }
    let got = broadcast_bytes(comm, 0, msg, MAX_MESSAGE_BYTES)?;
    let dist = match decode_dist(&got)? {
        Ok(dist) => dist,
        Err(message) => {
            return match plan {
                Some(Err(e)) => Err(e),
                _ => Err(Error::OtherRank { rank: 0, message }),
            };
        }
    };
    if dist.len() != size {
        return Err(Error::Protocol(format!(
            "rank 0 sent {} ranges for {size} ranks",
            dist.len()
        )));
    }

    // 2. Rank 0 reads every rank's slab and sends it; the others receive theirs.
    let local: Result<Option<FlacArray>> = match plan {
        Some(Ok((reader, _))) => {
            let mut own: Result<Option<FlacArray>> = Ok(None);
            let mut first_err: Option<Error> = None;
            for (r, &(a, b)) in dist.iter().enumerate() {
                let slab: Result<Option<FlacArray>> = if a == b {
                    Ok(None)
                } else {
                    read_flacarray_rows(&reader, a..b, keep, no_flatten)
                        .map(|fa| (rows_of(&fa) > 0).then_some(fa))
                        .map_err(Error::from)
                };
                if r == 0 {
                    own = slab;
                    continue;
                }
                let dest = comm.process_at_rank(rank_of(r)?);
                let header = encode_header(&slab.as_ref().map(Option::as_ref).map_err(|e| {
                    Error::OtherRank {
                        rank: 0,
                        message: e.to_string(),
                    }
                }));
                send_bytes(&dest, &header, MAX_MESSAGE_BYTES)?;
                match slab {
                    Ok(Some(fa)) => send_bytes(&dest, fa.compressed(), MAX_MESSAGE_BYTES)?,
                    Ok(None) => {}
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            match (own, first_err) {
                (Err(e), _) | (Ok(_), Some(e)) => Err(e),
                (Ok(o), None) => Ok(o),
            }
        }
        _ => {
            let root = comm.process_at_rank(0);
            receive_bytes(&root, MAX_MESSAGE_BYTES)
                .and_then(|h| decode_header(&h))
                .and_then(|h| match h {
                    Header::Error(message) => Err(Error::OtherRank { rank: 0, message }),
                    Header::None => Ok(None),
                    Header::Array(mut parts, n) => {
                        let bytes = receive_bytes(&root, MAX_MESSAGE_BYTES)?;
                        if bytes.len() != n {
                            return Err(Error::Protocol(format!(
                                "expected {n} compressed bytes, got {}",
                                bytes.len()
                            )));
                        }
                        parts.compressed = bytes;
                        Ok(Some(FlacArray::from_parts(parts)?))
                    }
                })
        }
    };
    let local = agree(comm, local)?;
    DistFlacArray::from_local(comm, local)
}

/// Collective: writes the distributed array made of every rank's `local` rows (`None`
/// on ranks without rows) to the group `group` of the HDF5 file at `path`; `path`,
/// `group` and `replace` are taken from rank 0. With the serial HDF5 library only rank
/// 0 opens the file ([`Hdf5Store::create`]; see [`write_store`] for how the rows reach
/// it); with the cargo feature `mpio` every rank writes its own part through MPI-IO
/// (`write_hdf5_mpio`).
///
/// The datasets written are byte for byte those of the whole array compressed and
/// written by one process, whatever the number of ranks and the distribution.
///
/// # Errors
/// On every rank: as [`write_store`]; [`Error::Hdf5`] on rank 0 (for example a group
/// that already holds a FlacArray without `replace`).
pub fn write_hdf5<C>(
    comm: &C,
    local: Option<&FlacArray>,
    path: &Path,
    group: &str,
    replace: bool,
) -> Result<()>
where
    C: Communicator + AsRaw<Raw = MPI_Comm>,
{
    #[cfg(feature = "mpio")]
    {
        let (path, group, replace) = crate::mpio::target_from_rank_0(comm, path, group, replace)?;
        crate::mpio::write_hdf5_mpio(comm, local, &path, &group, replace)
    }
    #[cfg(not(feature = "mpio"))]
    write_store(comm, local, || Hdf5Store::create(path, group, replace))
}

/// Collective: reads the group `group` of the HDF5 file at `path` distributed over the
/// ranks of `comm`; see [`read_store`] for `keep`, `mpi_dist` and `no_flatten`, all
/// taken from rank 0 (as `path` and `group`). With the serial HDF5 library only rank 0
/// opens the file ([`Hdf5Store::open`]) and sends each rank its rows; with the cargo
/// feature `mpio` every rank reads its own rows through MPI-IO (`read_hdf5_mpio`).
///
/// # Errors
/// On every rank: as [`read_store`]; [`Error::Hdf5`] on rank 0.
pub fn read_hdf5<C>(
    comm: &C,
    path: &Path,
    group: &str,
    keep: Option<&[bool]>,
    mpi_dist: Option<&[(usize, usize)]>,
    no_flatten: bool,
) -> Result<DistFlacArray>
where
    C: Communicator + AsRaw<Raw = MPI_Comm>,
{
    #[cfg(feature = "mpio")]
    {
        let (path, group, _) = crate::mpio::target_from_rank_0(comm, path, group, false)?;
        crate::mpio::read_hdf5_mpio(comm, &path, &group, keep, mpi_dist, no_flatten)
    }
    #[cfg(not(feature = "mpio"))]
    read_store(
        comm,
        || Hdf5Store::open(path, group),
        keep,
        mpi_dist,
        no_flatten,
    )
}

/// Collective: writes the distributed array made of every rank's `local` rows (`None`
/// on ranks without rows) to the group `group` of the Zarr directory store at `path`,
/// in Zarr `format`. Only rank 0 opens the store ([`ZarrStore::create`]; `path`,
/// `group`, `replace` and `format` matter on rank 0 only); see [`write_store`].
///
/// The arrays written are those of the whole array compressed and written by one
/// process, whatever the number of ranks and the distribution.
///
/// # Errors
/// On every rank: as [`write_store`]; [`Error::Zarr`] on rank 0.
pub fn write_zarr<C: Communicator>(
    comm: &C,
    local: Option<&FlacArray>,
    path: &Path,
    group: &str,
    replace: bool,
    format: ZarrFormat,
) -> Result<()> {
    write_store(comm, local, || {
        ZarrStore::create(path, group, replace, format)
    })
}

/// Collective: reads the group `group` of the Zarr directory store at `path`
/// distributed over the ranks of `comm`. Only rank 0 opens the store
/// ([`ZarrStore::open`]); see [`read_store`] for `keep`, `mpi_dist` and `no_flatten`.
///
/// # Errors
/// On every rank: as [`read_store`]; [`Error::Zarr`] on rank 0.
pub fn read_zarr<C: Communicator>(
    comm: &C,
    path: &Path,
    group: &str,
    keep: Option<&[bool]>,
    mpi_dist: Option<&[(usize, usize)]>,
    no_flatten: bool,
) -> Result<DistFlacArray> {
    read_store(
        comm,
        || ZarrStore::open(path, group),
        keep,
        mpi_dist,
        no_flatten,
    )
}

/// The writers as methods (here rather than in `array`, so that `array` does not
/// depend on the I/O).
impl DistFlacArray {
    /// Collective: writes the whole array to `group` of the HDF5 file at `path`
    /// through rank 0 (see [`crate::write_hdf5`]).
    ///
    /// # Errors
    /// As [`crate::write_hdf5`].
    pub fn write_hdf5<C: Communicator + mpi::raw::AsRaw<Raw = mpi::ffi::MPI_Comm>>(
        &self,
        comm: &C,
        path: &std::path::Path,
        group: &str,
        replace: bool,
    ) -> Result<()> {
        write_hdf5(comm, self.local(), path, group, replace)
    }

    /// Collective: writes the whole array to `group` of the Zarr directory store at
    /// `path`, in Zarr `format`, through rank 0 (see [`crate::write_zarr`]).
    ///
    /// # Errors
    /// As [`crate::write_zarr`].
    pub fn write_zarr<C: Communicator>(
        &self,
        comm: &C,
        path: &std::path::Path,
        group: &str,
        replace: bool,
        format: flacarray_zarr::ZarrFormat,
    ) -> Result<()> {
        write_zarr(comm, self.local(), path, group, replace, format)
    }
}
