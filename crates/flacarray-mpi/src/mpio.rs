//! Parallel HDF5 (cargo feature `mpio`, with an HDF5 library built for MPI): every
//! rank opens the one file through MPI-IO and reads or writes its own part.
//!
//! Writing, all ranks create the group's datasets together (HDF5 creates objects
//! collectively, with the global shapes the ranks agreed on) and then each rank
//! writes its rows of the per-stream tables and its bytes of `compressed` at the
//! global offsets ([`GroupWriter`]); nothing passes through rank 0. Reading, each
//! rank loads the stream table and reads only its (kept) streams' bytes. The data
//! transfers are MPI-IO's independent mode: the hdf5 crate's high-level API takes no
//! transfer property list, so collective buffering is not requested.

use std::path::{Path, PathBuf};

use flacarray_core::integrity::{Checksums, header_hash};
use flacarray_core::{FlacArray, FlacArrayReader, StoredExtension, StoredMeta};
use flacarray_hdf5::{GroupLayout, GroupWriter, Hdf5Store, WriteOptions, create_layout, hdf5};
use mpi::ffi::MPI_Comm;
use mpi::raw::AsRaw;
use mpi::topology::Communicator;
use mpi::traits::CommunicatorCollectives;

use crate::array::{DistFlacArray, GlobalProps, writable_props};
use crate::error::{Error, MpioAction, Result};
use crate::io::read_slab;
use crate::plan::{nonempty, plan_read, rows_of};
use crate::protocol::{
    Dec, Enc, decode_read_options, decode_target, encode_read_options, encode_target,
};
use crate::transfer::{MAX_MESSAGE_BYTES, agree, broadcast_bytes, rank_size};

/// Opens `path` on every rank through MPI-IO, for writing (created if missing, other
/// content kept) or for reading.
fn open_file<C>(comm: &C, path: &Path, write: bool) -> Result<hdf5::File>
where
    C: Communicator + AsRaw<Raw = MPI_Comm>,
{
    let raw = comm.as_raw();
    let mut builder = hdf5::File::with_options();
    builder.with_fapl(|p| p.mpio(raw, None));
    let opened = if write {
        builder.append(path)
    } else {
        builder.open(path)
    };
    opened.map_err(|source| Error::Mpio {
        path: path.to_owned(),
        action: if write {
            MpioAction::OpenForWriting
        } else {
            MpioAction::Open
        },
        source,
    })
}

fn to_i64(v: impl Iterator<Item = u64>) -> Result<Vec<i64>> {
    v.map(|x| i64::try_from(x).map_err(|_| Error::InvalidArgument(format!("{x} exceeds int64"))))
        .collect()
}

/// Collective: rank 0's `path`, `group` and `replace` on every rank (the rank-0
/// semantics of [`write_hdf5`](crate::write_hdf5) and [`read_hdf5`](crate::read_hdf5)).
/// A path that is not UTF-8 is sent in its lossy UTF-8 form.
pub(crate) fn target_from_rank_0<C: Communicator>(
    comm: &C,
    path: &Path,
    group: &str,
    replace: bool,
) -> Result<(PathBuf, String, bool)> {
    let got = broadcast_bytes(
        comm,
        0,
        encode_target(path, group, replace),
        MAX_MESSAGE_BYTES,
    )?;
    decode_target(&got)
}

/// This rank's part: its rows of the tables (starts shifted to global offsets) and
/// its bytes.
fn write_part(w: &GroupWriter, fa: &FlacArray, first_row: usize, byte_offset: u64) -> Result<()> {
    let rows = rows_of(fa);
    let starts = to_i64(fa.stream_starts().iter().map(|&s| s + byte_offset))?;
    let nbytes = to_i64(fa.stream_nbytes().iter().copied())?;
    w.write_rows(first_row..first_row + rows, &starts, &nbytes, fa.scaling())?;
    let at = usize::try_from(byte_offset)
        .map_err(|_| Error::InvalidArgument(format!("byte offset {byte_offset} too large")))?;
    w.write_bytes(at, fa.compressed())?;
    Ok(())
}

/// Collective: the checksum attribute of the whole array from every rank's rows. Each
/// rank sums its rows' hashes; the sums are added modulo 2^64 (MPI's sum of unsigned
/// 64-bit integers wraps), so the value does not depend on the number of ranks.
fn global_checksums<C: Communicator>(
    comm: &C,
    props: &GlobalProps,
    local: Option<&FlacArray>,
    first_row: usize,
    byte_offset: u64,
) -> String {
    let per_row: usize = props.trailing.iter().product();
    let mine = local.map_or([0u64; 2], |fa| {
        let (t, s) = Checksums::parts(fa, first_row * per_row, byte_offset);
        [t, s]
    });
    let mut sum = [0u64; 2];
    comm.all_reduce_into(
        &mine[..],
        &mut sum[..],
        mpi::collective::SystemOperation::sum(),
    );
    let meta = StoredMeta {
        format_version: props.format_version,
        dtype: props.dtype,
        leading_shape: props.global_leading_shape(),
        stream_size: props.stream_size,
        total_bytes: props.total_bytes(),
    };
    Checksums {
        dtype: props.dtype,
        writer: flacarray_hdf5::SOFTWARE_VERSION.to_owned(),
        table: header_hash(&meta).wrapping_add(sum[0]),
        streams: sum[1],
    }
    .to_attr()
}

/// Collective: what the group stores beyond flacarray 0.4.1's layout, the same on
/// every rank: the recorded logical type and, when some rank's rows hold kept NaN/inf,
/// the flags and runs of every stream. The stored runs are per stream in C order, so
/// the whole arrays are the ranks' own flags and runs concatenated in rank order;
/// each rank broadcasts its part in turn.
fn global_extension<C: Communicator>(
    comm: &C,
    props: &GlobalProps,
    local: Option<&FlacArray>,
) -> Result<StoredExtension> {
    let (rank, size) = rank_size(comm);
    let dtype = (!props.logical.is_stored()).then(|| props.logical.name().to_owned());
    if !props.nonfinite {
        return Ok(StoredExtension {
            dtype,
            nonfinite: None,
        });
    }
    let mut mine = Enc::default();
    if let Some(fa) = local {
        match fa.nonfinite() {
            Some(nf) => {
                mine.bytes(&nf.flags(fa.stream_size()));
                mine.bytes(&nf.encode());
            }
            None => {
                mine.bytes(&vec![0u8; fa.n_streams()]);
                mine.bytes(&[]);
            }
        }
    }
    // Every broadcast happens before any part is decoded, so no rank leaves the loop
    // early while the others still broadcast.
    let parts: Vec<Result<Vec<u8>>> = (0..size)
        .filter(|&r| props.rows[r] > 0)
        .map(|r| {
            let part = if r == rank {
                mine.0.clone()
            } else {
                Vec::new()
            };
            broadcast_bytes(comm, r, part, MAX_MESSAGE_BYTES)
        })
        .collect();
    let (mut flags, mut runs) = (Vec::new(), Vec::new());
    for part in parts {
        let part = part?;
        let mut d = Dec::new(&part);
        flags.extend(d.bytes()?);
        runs.extend(d.bytes()?);
    }
    Ok(StoredExtension {
        dtype,
        nonfinite: Some((flags, runs)),
    })
}

/// Collective: writes every rank's `local` rows (`None` on ranks without rows) to the
/// group `group` of the HDF5 file at `path`, every rank writing its own part through
/// MPI-IO. `path`, `group` and `replace` must be the same on every rank. The file is
/// the one [`write_store`](crate::write_store) writes through rank 0, format 2 and
/// its additions included: the recorded logical type, and the kept NaN/inf of every
/// rank's rows (gathered on every rank, which all write the same tables).
///
/// # Errors
/// On every rank: as [`DistFlacArray::from_local`]; [`Error::InvalidArgument`] for
/// format-0 data; the HDF5 errors of any rank.
pub fn write_hdf5_mpio<C>(
    comm: &C,
    local: Option<&FlacArray>,
    path: &Path,
    group: &str,
    replace: bool,
) -> Result<()>
where
    C: Communicator + AsRaw<Raw = MPI_Comm>,
{
    let (rank, _) = rank_size(comm);
    let props = writable_props(comm, local)?;
    let (first_row, byte_offset) = props.start_of(rank);
    let total = props.total_bytes();
    let compressed_len = usize::try_from(total)
        .map_err(|_| Error::InvalidArgument(format!("{total} compressed bytes")))?;
    let file = open_file(comm, path, true);
    let file = agree(comm, file)?;
    let layout = GroupLayout {
        dtype: props.dtype,
        leading_shape: props.global_leading_shape(),
        stream_size: props.stream_size as u64,
        compressed_len,
        software_version: None,
    };
    let writer =
        create_layout(&file, group, &layout, WriteOptions { replace }).map_err(Error::from);
    let mut writer = agree(comm, writer)?;
    let local = nonempty(local);
    writer.set_checksums(global_checksums(
        comm,
        &props,
        local,
        first_row,
        byte_offset,
    ));
    let part = match local {
        Some(fa) => write_part(&writer, fa, first_row, byte_offset),
        None => Ok(()),
    };
    agree(comm, part)?;
    // The extension's datasets are created collectively, so every rank passes the
    // same global tables (as the serial writer does, even when there are none).
    let ext = global_extension(comm, &props, local);
    let ext = agree(comm, ext)?;
    let set = writer
        .set_extension(props.format_version, &ext)
        .map_err(Error::from);
    agree(comm, set)?;
    // The group attributes last (written by every rank with the same values, as HDF5
    // requires of metadata in parallel).
    agree(comm, writer.finish().map_err(Error::from))?;
    let flushed = file.flush().map_err(|source| Error::Mpio {
        path: path.to_owned(),
        action: MpioAction::Flush,
        source,
    });
    agree(comm, flushed)
}

/// Collective: reads the group `group` of the HDF5 file at `path`, every rank opening
/// it through MPI-IO and reading its own rows (only the kept streams' bytes with
/// `keep`). `keep`, `mpi_dist` and `no_flatten` are taken from rank 0, as in
/// [`read_store`](crate::read_store), whose result this equals.
///
/// # Errors
/// On every rank: the HDF5 errors of any rank; [`Error::InvalidArgument`] for a bad
/// `mpi_dist` or a `keep` of the wrong length; [`Error::Mismatch`] when no stream is
/// kept.
pub fn read_hdf5_mpio<C>(
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
    let (rank, size) = rank_size(comm);
    // Rank 0's options for everybody.
    let got = broadcast_bytes(
        comm,
        0,
        encode_read_options(keep, mpi_dist, no_flatten),
        MAX_MESSAGE_BYTES,
    )?;
    let opts = decode_read_options(&got)?;
    let (keep, mpi_dist) = (opts.keep.as_deref(), opts.mpi_dist.as_deref());

    let file = open_file(comm, path, false);
    let file = agree(comm, file)?;
    let store = Hdf5Store::open_in(file, path, group).map_err(Error::from);
    let store = agree(comm, store)?;
    let plan = store
        .metadata()
        .map_err(Error::from)
        .and_then(|meta| plan_read(&meta, keep, mpi_dist, size))
        .map(|dist| dist[rank]);
    let (a, b) = agree(comm, plan)?;
    let local = read_slab(&store, (a, b), keep, opts.no_flatten);
    let local = agree(comm, local)?;
    DistFlacArray::from_local(comm, local)
}
