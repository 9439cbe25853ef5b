//! Moving bytes between ranks: messages of any size (split into pieces that MPI's
//! `int` element count can express) and agreement on errors.
//!
//! MPI counts elements with a C `int`, so one message holds at most 2³¹ − 1 bytes
//! (rsmpi panics beyond that). [`send_bytes`] and [`receive_bytes`] send the length
//! first and then pieces of at most `piece` bytes ([`MAX_MESSAGE_BYTES`] by default in
//! this crate); [`broadcast_bytes`] does the same for a broadcast.

use mpi::topology::{Communicator, Process};
use mpi::traits::{CommunicatorCollectives, Destination, Root, Source};

use crate::error::{Error, Result};

/// Largest piece, in bytes, of one MPI message sent by this crate (1 GiB, below MPI's
/// 2³¹ − 1 element limit).
pub const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// The tag of every point-to-point message this crate sends.
pub const TAG: mpi::Tag = 0x4641; // "FA"; MPI guarantees tags up to 32767

fn check_piece(piece: usize) -> Result<usize> {
    if piece == 0 || piece > i32::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "message piece size {piece} must be in 1..=2147483647"
        )));
    }
    Ok(piece)
}

/// Sends `data` to `dest` as its length followed by pieces of at most `piece` bytes.
/// The receiver must call [`receive_bytes`] with the same `piece`.
///
/// # Errors
/// [`Error::InvalidArgument`] for a piece size of 0 or above 2³¹ − 1 (nothing is sent).
pub fn send_bytes(dest: &Process<'_>, data: &[u8], piece: usize) -> Result<()> {
    let piece = check_piece(piece)?;
    dest.send_with_tag(&(data.len() as u64), TAG);
    for chunk in data.chunks(piece) {
        dest.send_with_tag(chunk, TAG);
    }
    Ok(())
}

/// Receives what [`send_bytes`] sent from `source` with the same `piece`.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad piece size; [`Error::Protocol`] when the length
/// does not fit in memory or a piece has an unexpected size.
pub fn receive_bytes(source: &Process<'_>, piece: usize) -> Result<Vec<u8>> {
    let piece = check_piece(piece)?;
    let mut len = 0u64;
    source.receive_into_with_tag(&mut len, TAG);
    let len = usize::try_from(len)
        .map_err(|_| Error::Protocol(format!("a message of {len} bytes does not fit in memory")))?;
    let mut out = vec![0u8; len];
    for chunk in out.chunks_mut(piece) {
        let status = source.receive_into_with_tag(chunk, TAG);
        let got = status.count(<u8 as mpi::datatype::Equivalence>::equivalent_datatype());
        if usize::try_from(got).ok() != Some(chunk.len()) {
            return Err(Error::Protocol(format!(
                "expected a piece of {} bytes, got {got}",
                chunk.len()
            )));
        }
    }
    Ok(out)
}

/// Broadcasts `data` from `root` to every rank of `comm` (pieces of at most `piece`
/// bytes). On the root `data` is sent and returned; elsewhere its content is ignored.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad piece size (checked on every rank alike);
/// [`Error::Protocol`] when the length does not fit in memory.
pub fn broadcast_bytes<C: Communicator>(
    comm: &C,
    root: usize,
    data: Vec<u8>,
    piece: usize,
) -> Result<Vec<u8>> {
    let piece = check_piece(piece)?;
    let root_proc = comm.process_at_rank(rank_of(root)?);
    let mut len = data.len() as u64;
    root_proc.broadcast_into(&mut len);
    let mut buf = if comm.rank() == root_proc.rank() {
        data
    } else {
        let n = usize::try_from(len).map_err(|_| {
            Error::Protocol(format!("a message of {len} bytes does not fit in memory"))
        })?;
        vec![0u8; n]
    };
    for chunk in buf.chunks_mut(piece) {
        root_proc.broadcast_into(chunk);
    }
    Ok(buf)
}

/// Converts a rank index to MPI's `int` rank.
pub(crate) fn rank_of(r: usize) -> Result<mpi::Rank> {
    mpi::Rank::try_from(r).map_err(|_| Error::InvalidArgument(format!("rank {r} out of range")))
}

/// This process's rank and the communicator size, as `usize`.
pub(crate) fn rank_size<C: Communicator>(comm: &C) -> (usize, usize) {
    // MPI ranks and sizes are never negative.
    (
        usize::try_from(comm.rank()).unwrap_or(0),
        usize::try_from(comm.size()).unwrap_or(1),
    )
}

/// Longest error message passed to other ranks.
const MAX_ERROR_MESSAGE: usize = 64 * 1024;

/// Collective: makes every rank fail when any rank failed.
///
/// When every rank holds `Ok`, each returns its value. Otherwise the lowest failing
/// rank broadcasts its message: it returns its own error, every other rank
/// [`Error::OtherRank`].
///
/// # Errors
/// As described.
pub fn agree<C: Communicator, T>(comm: &C, res: Result<T>) -> Result<T> {
    let (rank, size) = rank_size(comm);
    let mine = if res.is_err() {
        rank as u64
    } else {
        size as u64
    };
    let mut lowest = 0u64;
    comm.all_reduce_into(&mine, &mut lowest, mpi::collective::SystemOperation::min());
    if lowest >= size as u64 {
        return res;
    }
    let lowest = usize::try_from(lowest).unwrap_or(0);
    let msg = match &res {
        Err(e) if rank == lowest => {
            let mut m = e.to_string();
            if m.len() > MAX_ERROR_MESSAGE {
                let mut cut = MAX_ERROR_MESSAGE;
                while !m.is_char_boundary(cut) {
                    cut -= 1;
                }
                m.truncate(cut);
            }
            m.into_bytes()
        }
        _ => Vec::new(),
    };
    let msg = broadcast_bytes(comm, lowest, msg, MAX_MESSAGE_BYTES)?;
    match res {
        Err(e) if rank == lowest => Err(e),
        _ => Err(Error::OtherRank {
            rank: lowest,
            message: String::from_utf8_lossy(&msg).into_owned(),
        }),
    }
}
