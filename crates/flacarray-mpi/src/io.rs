//! Distributed reads and writes through rank 0 (the serial-HDF5 mode of flacarray
//! 0.4.1: only rank 0 touches the file).

use std::path::Path;

use flacarray_core::{Concat, FlacArray, FlacArrayReader, FlacArrayWriter, read_flacarray_rows};
// Only the rank-0 paths open files themselves; with `mpio` every rank does.
#[cfg_attr(feature = "mpio", allow(unused_imports))]
use flacarray_hdf5::Hdf5Store;
use flacarray_zarr::{ZarrFormat, ZarrStore};
use mpi::ffi::MPI_Comm;
use mpi::raw::AsRaw;
use mpi::topology::Communicator;

use crate::array::{DistFlacArray, GlobalProps, empty_array, writable_props};
use crate::error::{Error, Result};
use crate::plan::{nonempty, plan_read, rows_of};
use crate::protocol::{
    ArrayHeader, Header, decode_dist, decode_header, encode_dist, encode_header,
};
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
/// What format 2 adds travels with the rows: the logical element type (recorded as
/// `flacarray_dtype` where it is not a stored type) and each rank's kept NaN/inf
/// (flags and runs of its streams, in rank order). The group is format 2 when any
/// rank's rows are, as when one process writes the whole array. An array whose axis 0
/// is empty on every rank (every rank holding a `(0, ...)` array) is written as the
/// empty array.
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
    if props.rows.iter().all(|&r| r == 0) {
        return empty_array(
            props.dtype,
            props.logical,
            props.global_leading_shape(),
            props.stream_size,
        );
    }
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
                Ok((h, b)) if err.is_none() => h
                    .into_array(b)
                    .and_then(|fa| global.push(&fa).map_err(Error::from)),
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
        || global.logical_dtype() != props.logical
        || global.stream_size() != props.stream_size
        || global.format_version() != props.format_version
    {
        return Err(Error::Mismatch(format!(
            "the ranks' rows make {global} ({}), not the announced leading shape {want:?} \
             of {} ({}) streams of {} samples",
            global.logical_dtype(),
            props.dtype,
            props.logical,
            props.stream_size
        )));
    }
    Ok(global)
}

/// Rank 0 receives the rows rank `r` sends in [`write_store`]: a header, then the bytes
/// (both always received).
fn receive_rows<C: Communicator>(comm: &C, r: usize) -> Result<(ArrayHeader, Vec<u8>)> {
    let src = comm.process_at_rank(rank_of(r)?);
    let header = receive_bytes(&src, MAX_MESSAGE_BYTES);
    let bytes = receive_bytes(&src, MAX_MESSAGE_BYTES)?;
    match decode_header(&header?)? {
        Header::Array(h) if h.nbytes == bytes.len() => Ok((*h, bytes)),
        Header::Array(h) => Err(Error::Protocol(format!(
            "rank {r} announced {} bytes and sent {}",
            h.nbytes,
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
/// Each rank's local array carries the stored logical element type and its streams'
/// kept NaN/inf, so it decodes as a serial read of those rows does. A stored array
/// whose axis 0 is empty reads as an empty distributed array (no rank has rows).
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
                let slab = read_slab(&reader, (a, b), keep, no_flatten);
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
                    Header::Array(h) => {
                        let bytes = receive_bytes(&root, MAX_MESSAGE_BYTES)?;
                        h.into_array(bytes).map(Some)
                    }
                })
        }
    };
    let local = agree(comm, local)?;
    DistFlacArray::from_local(comm, local)
}

/// A rank's slab of rows `(a, b)` of a stored array. Without `keep`, a rank without
/// rows still gets the (empty) rows `a..a`: they carry the stored type and trailing
/// shape, which is how the ranks learn them when the stored axis 0 is empty. With
/// `keep`, a slab without kept streams is `None`.
pub(crate) fn read_slab<R>(
    reader: &R,
    (a, b): (usize, usize),
    keep: Option<&[bool]>,
    no_flatten: bool,
) -> Result<Option<FlacArray>>
where
    R: FlacArrayReader,
    Error: From<R::Error>,
{
    if a == b && keep.is_some() {
        return Ok(None);
    }
    let fa = read_flacarray_rows(reader, a..b, keep, no_flatten)?;
    Ok((rows_of(&fa) > 0 || keep.is_none()).then_some(fa))
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
        let local = self.local_or_empty()?;
        write_hdf5(comm, local.as_deref(), path, group, replace)
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
        let local = self.local_or_empty()?;
        write_zarr(comm, local.as_deref(), path, group, replace, format)
    }
}
