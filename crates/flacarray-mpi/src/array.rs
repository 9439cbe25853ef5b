//! [`DistFlacArray`]: a FlacArray whose axis 0 is split over the ranks of a
//! communicator.

use std::borrow::Cow;

use flacarray_core::{CompressOptions, DType, FlacArray, LogicalDType, Value};
use mpi::topology::Communicator;
use mpi::traits::CommunicatorCollectives;
use ndarray::{ArrayBase, Data, Dimension};

use crate::error::{Error, Result};
#[cfg(feature = "mpio")]
use crate::plan::start_of;
use crate::plan::{from_counts, rows_of};
use crate::protocol::{dtype_code, dtype_of, logical_code, logical_of};
use crate::transfer::{agree, rank_size};

/// A compressed array distributed over the ranks of a communicator along axis 0.
///
/// Each rank holds a [`FlacArray`] of its own rows (its *slab*), or nothing when it has
/// no rows. The global array is the rank-ordered concatenation of the slabs, and so are
/// its stream table and its `compressed` bytes: the byte offset of a local stream in the
/// global array is its local start plus the byte total of all lower ranks
/// ([`DistFlacArray::global_stream_starts`]). A file written from it is therefore
/// identical whatever the number of ranks.
///
/// The communicator is not stored: the collective methods take it as an argument and
/// must be called by every rank of it, in the same order.
///
/// ```no_run
/// use flacarray_core::CompressOptions;
/// use flacarray_mpi::DistFlacArray;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let universe = mpi::initialize().ok_or("MPI is already initialised")?;
/// let world = universe.world();
/// // Every rank holds 2 rows of 3 streams of 1000 samples.
/// let rank = mpi::traits::Communicator::rank(&world) as i32;
/// let local = ndarray::Array3::from_shape_fn((2, 3, 1000), |(i, j, k)| rank * 100 + (i * 10 + j + k) as i32);
/// let dist = DistFlacArray::from_array(&world, Some(&local), &CompressOptions::default())?;
/// dist.write_hdf5(&world, "data.h5".as_ref(), "/signal", true)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DistFlacArray {
    local: Option<FlacArray>,
    rank: usize,
    dtype: DType,
    logical_dtype: LogicalDType,
    stream_size: usize,
    format_version: u32,
    global_leading_shape: Vec<usize>,
    mpi_dist: Vec<(usize, usize)>,
    rank_nbytes: Vec<u64>,
}

/// What the ranks tell each other about their local arrays.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GlobalProps {
    pub(crate) dtype: DType,
    pub(crate) logical: LogicalDType,
    pub(crate) stream_size: usize,
    pub(crate) format_version: u32,
    pub(crate) trailing: Vec<usize>,
    pub(crate) rows: Vec<usize>,
    pub(crate) nbytes: Vec<u64>,
    /// Whether some rank's rows hold kept NaN/inf.
    pub(crate) nonfinite: bool,
}

impl GlobalProps {
    pub(crate) fn global_leading_shape(&self) -> Vec<usize> {
        let mut s = vec![self.rows.iter().sum()];
        s.extend_from_slice(&self.trailing);
        s
    }

    /// Where `rank`'s rows and bytes start in the global array.
    #[cfg(feature = "mpio")]
    pub(crate) fn start_of(&self, rank: usize) -> (usize, u64) {
        start_of(&self.rows, &self.nbytes, rank)
    }

    /// Compressed bytes of the whole array.
    pub(crate) fn total_bytes(&self) -> u64 {
        self.nbytes.iter().sum()
    }
}

fn fmt_shape(s: &[usize]) -> String {
    let parts: Vec<String> = s.iter().map(ToString::to_string).collect();
    format!("({})", parts.join(", "))
}

const DESC: usize = 9;

/// What a rank tells the others about its local array (`desc[0]`): nothing, an array
/// without rows (it describes the type and trailing shape only), or rows.
const HOLDS_NOTHING: u64 = 0;
const HOLDS_NO_ROWS: u64 = 1;
const HOLDS_ROWS: u64 = 2;

/// Collective: gathers every rank's dtypes, format, stream size, trailing dimensions,
/// row count and byte total, and checks that the ranks holding rows agree (format 1
/// and 2 rows mix: the array is format 2 when any rank's rows are). When no rank holds
/// rows, the ranks holding an array without rows (leading shape `(0, ...)`) must agree
/// on it, and the global array is empty.
pub(crate) fn gather_props<C: Communicator>(
    comm: &C,
    local: Option<&FlacArray>,
) -> Result<GlobalProps> {
    let (_, size) = rank_size(comm);
    let trailing: Vec<u64> = local
        .map(|fa| fa.leading_shape()[1..].iter().map(|&d| d as u64).collect())
        .unwrap_or_default();
    let desc: [u64; DESC] = match local {
        Some(fa) => [
            if rows_of(fa) > 0 {
                HOLDS_ROWS
            } else {
                HOLDS_NO_ROWS
            },
            dtype_code(fa.dtype()),
            logical_code(fa.logical_dtype()),
            u64::from(fa.format_version()),
            fa.stream_size() as u64,
            rows_of(fa) as u64,
            fa.nbytes() as u64,
            trailing.len() as u64,
            u64::from(fa.nonfinite().is_some()),
        ],
        None => [HOLDS_NOTHING, 0, 0, 0, 0, 0, 0, 0, 0],
    };
    let mut all = vec![0u64; DESC * size];
    comm.all_gather_into(&desc[..], &mut all[..]);
    let max_trail = all.chunks_exact(DESC).map(|d| d[7]).max().unwrap_or(0);
    let max_trail = usize::try_from(max_trail)
        .map_err(|_| Error::Protocol(format!("{max_trail} trailing dimensions")))?;
    let mut all_trail = vec![0u64; max_trail * size];
    if max_trail > 0 {
        let mut mine = trailing.clone();
        mine.resize(max_trail, 0);
        comm.all_gather_into(&mine[..], &mut all_trail[..]);
    }
    let to_usize = |v: u64| {
        usize::try_from(v).map_err(|_| Error::Protocol(format!("{v} does not fit in usize")))
    };
    // The ranks with rows describe the array; without any, the ranks with an empty one.
    let holds = if all.chunks_exact(DESC).any(|d| d[0] == HOLDS_ROWS) {
        HOLDS_ROWS
    } else {
        HOLDS_NO_ROWS
    };
    let mut first: Option<(usize, GlobalProps)> = None;
    let mut rows = Vec::with_capacity(size);
    let mut nbytes = Vec::with_capacity(size);
    let mut nonfinite = false;
    for (r, d) in all.chunks_exact(DESC).enumerate() {
        rows.push(to_usize(d[5])?);
        nbytes.push(d[6]);
        if d[0] != holds {
            continue;
        }
        nonfinite |= d[8] != 0;
        let ntrail = to_usize(d[7])?;
        let trail = all_trail[r * max_trail..r * max_trail + ntrail]
            .iter()
            .map(|&v| to_usize(v))
            .collect::<Result<Vec<usize>>>()?;
        let p = GlobalProps {
            dtype: dtype_of(d[1])?,
            logical: logical_of(d[2])?,
            format_version: u32::try_from(d[3])
                .map_err(|_| Error::Protocol(format!("format version {}", d[3])))?,
            stream_size: to_usize(d[4])?,
            trailing: trail,
            rows: Vec::new(),
            nbytes: Vec::new(),
            nonfinite: false,
        };
        match &mut first {
            None => first = Some((r, p)),
            Some((r0, p0)) => {
                let describe = |p: &GlobalProps| {
                    let mut s = p.trailing.clone();
                    s.push(p.stream_size);
                    let logical = if p.logical.is_stored() {
                        String::new()
                    } else {
                        format!(" carrying {}", p.logical)
                    };
                    format!(
                        "{}{logical} (format {}) with trailing shape {}",
                        p.dtype,
                        p.format_version,
                        fmt_shape(&s)
                    )
                };
                // Formats 1 and 2 hold the same streams; format 0's differ.
                let same_format = (p.format_version == 0) == (p0.format_version == 0)
                    && (holds == HOLDS_ROWS || p.format_version == p0.format_version);
                if p.dtype != p0.dtype
                    || p.logical != p0.logical
                    || p.stream_size != p0.stream_size
                    || p.trailing != p0.trailing
                    || !same_format
                {
                    return Err(Error::Mismatch(format!(
                        "rank {r} holds {} but rank {r0} holds {}",
                        describe(&p),
                        describe(p0)
                    )));
                }
                p0.format_version = p0.format_version.max(p.format_version);
            }
        }
    }
    let Some((_, mut props)) = first else {
        return Err(Error::Mismatch("no rank holds any data".into()));
    };
    props.rows = rows;
    props.nbytes = nbytes;
    props.nonfinite = nonfinite;
    Ok(props)
}

/// Collective: the ranks' global properties ([`gather_props`]), refused for format-0
/// data (formats 1 and 2 are written).
pub(crate) fn writable_props<C: Communicator>(
    comm: &C,
    local: Option<&FlacArray>,
) -> Result<GlobalProps> {
    let props = gather_props(comm, local)?;
    if props.format_version == 0 {
        return Err(Error::InvalidArgument(
            "only formats 1 and 2 are written; the data is format 0 (decode and recompress it)"
                .into(),
        ));
    }
    Ok(props)
}

/// An array of `leading_shape` (with a 0 in it) holding no streams' bytes, as
/// [`FlacArray::from_array`] builds it from an empty array: format 2, offsets 0 and
/// gains 1 for float data, the logical type kept.
pub(crate) fn empty_array(
    dtype: DType,
    logical: LogicalDType,
    leading_shape: Vec<usize>,
    stream_size: usize,
) -> Result<FlacArray> {
    if logical.stored() != dtype {
        return Err(Error::InvalidArgument(format!(
            "logical dtype {} is not stored as {}",
            logical.name(),
            dtype.name()
        )));
    }
    Ok(FlacArray::empty(leading_shape, stream_size, false, logical))
}

impl DistFlacArray {
    /// Collective: compresses each rank's local rows (`None`, or an array with a leading
    /// 0, on ranks without rows) with [`FlacArray::from_array`] and assembles the
    /// distributed array. A 1-d local array counts as one row (an empty 1-d one as no
    /// rows). Any element type [`FlacArray::from_array`] takes is accepted (`bool`,
    /// `u64`, `f16`, ...; every rank the same), and with
    /// [`CompressOptions::keep_nonfinite`] NaN and infinities are kept.
    ///
    /// An array with an axis of length 0 is allowed: `(0, n)` on every rank gives an
    /// empty global array (each rank's local array describes its type and trailing
    /// shape), `(k, 0)` rows hold streams of no samples.
    ///
    /// With a scalar quanta (or integer data) the compressed streams, and so a file
    /// written from the result, are identical to those of the whole array compressed
    /// by one process. (`precision` is per stream too, so it gives the same result.)
    ///
    /// # Errors
    /// On every rank: as [`FlacArray::from_array`] on any rank; [`Error::Mismatch`]
    /// when the ranks' dtypes or trailing dimensions differ, or no rank has rows.
    pub fn from_array<C, T, S, D>(
        comm: &C,
        local: Option<&ArrayBase<S, D>>,
        opts: &CompressOptions,
    ) -> Result<Self>
    where
        C: Communicator,
        T: Value,
        S: Data<Elem = T>,
        D: Dimension,
    {
        // An empty 1-d array is no rows (a 1-d array otherwise counts as one row).
        let local = local.filter(|a| a.ndim() > 1 || !a.is_empty());
        let fa = local
            .map(|a| FlacArray::from_array(a, opts))
            .transpose()
            .map_err(Error::from);
        let fa = agree(comm, fa)?;
        Self::from_local(comm, fa)
    }

    /// Collective: the distributed array made of every rank's local [`FlacArray`]
    /// (`None`, or leading shape `(0, ...)`, on ranks without rows). The ranks'
    /// `mpi_dist` follows from their row counts, in rank order. Local arrays of format
    /// 1 and 2 mix (the global array is format 2 when any rank's is); when no rank has
    /// rows, the ranks' `(0, ...)` arrays give the (empty) global array its type and
    /// shape.
    ///
    /// # Errors
    /// On every rank: [`Error::Mismatch`] when the ranks holding data differ in dtype,
    /// logical dtype, stream size, trailing dimensions or format (0 against 1 or 2),
    /// or no rank holds data.
    pub fn from_local<C: Communicator>(comm: &C, local: Option<FlacArray>) -> Result<Self> {
        let (rank, _) = rank_size(comm);
        let props = gather_props(comm, local.as_ref())?;
        let local = local.filter(|fa| rows_of(fa) > 0);
        Ok(Self {
            local,
            rank,
            dtype: props.dtype,
            logical_dtype: props.logical,
            stream_size: props.stream_size,
            format_version: props.format_version,
            global_leading_shape: props.global_leading_shape(),
            mpi_dist: from_counts(&props.rows),
            rank_nbytes: props.nbytes,
        })
    }

    /// This rank's rows; on a rank without rows, an array with none (leading shape
    /// `(0, ...)`) that tells the writers the type and trailing shape (which they need
    /// when no rank has rows).
    pub(crate) fn local_or_empty(&self) -> Result<Option<Cow<'_, FlacArray>>> {
        if let Some(fa) = &self.local {
            return Ok(Some(Cow::Borrowed(fa)));
        }
        let mut lead = self.global_leading_shape.clone();
        lead[0] = 0;
        empty_array(self.dtype, self.logical_dtype, lead, self.stream_size)
            .map(|fa| Some(Cow::Owned(fa)))
    }

    /// This rank's rows, or `None` when it has none.
    #[must_use]
    pub fn local(&self) -> Option<&FlacArray> {
        self.local.as_ref()
    }

    /// Gives this rank's rows away.
    #[must_use]
    pub fn into_local(self) -> Option<FlacArray> {
        self.local
    }

    /// This process's rank in the communicator the array was built with.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of ranks the array is distributed over.
    #[must_use]
    pub fn n_ranks(&self) -> usize {
        self.mpi_dist.len()
    }

    /// Stored element type (the same on every rank).
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The caller's element type: [`DistFlacArray::dtype`] or a type it carries (the
    /// same on every rank; see [`FlacArray::logical_dtype`]).
    #[must_use]
    pub fn logical_dtype(&self) -> LogicalDType {
        self.logical_dtype
    }

    /// Samples per stream.
    #[must_use]
    pub fn stream_size(&self) -> usize {
        self.stream_size
    }

    /// Format version of the whole array: 1, 2 when any rank's rows hold what format 1
    /// cannot (kept NaN/inf, a `uint64` value ≥ 2^63, an empty axis), or 0 for legacy
    /// data read from a file.
    #[must_use]
    pub fn format_version(&self) -> u32 {
        self.format_version
    }

    /// The global leading shape: total rows along axis 0, then the trailing leading
    /// dimensions.
    #[must_use]
    pub fn global_leading_shape(&self) -> &[usize] {
        &self.global_leading_shape
    }

    /// The global shape: [`DistFlacArray::global_leading_shape`] + `(stream_size,)`.
    #[must_use]
    pub fn global_shape(&self) -> Vec<usize> {
        let mut s = self.global_leading_shape.clone();
        s.push(self.stream_size);
        s
    }

    /// Rows of axis 0 held by each rank, `(first, last)` with `last` exclusive; `(k, k)`
    /// for a rank without rows.
    #[must_use]
    pub fn mpi_dist(&self) -> &[(usize, usize)] {
        &self.mpi_dist
    }

    /// Compressed bytes held by each rank.
    #[must_use]
    pub fn rank_nbytes(&self) -> &[u64] {
        &self.rank_nbytes
    }

    /// Compressed bytes of the whole array.
    #[must_use]
    pub fn global_nbytes(&self) -> u64 {
        self.rank_nbytes.iter().sum()
    }

    /// Where this rank's bytes start in the global byte array: the byte total of all
    /// lower ranks.
    #[must_use]
    pub fn byte_offset(&self) -> u64 {
        self.rank_nbytes[..self.rank.min(self.rank_nbytes.len())]
            .iter()
            .sum()
    }

    /// The global byte offsets of this rank's streams (local starts + byte offset);
    /// empty on a rank without rows.
    #[must_use]
    pub fn global_stream_starts(&self) -> Vec<u64> {
        let off = self.byte_offset();
        self.local
            .as_ref()
            .map(|fa| fa.stream_starts().iter().map(|s| s + off).collect())
            .unwrap_or_default()
    }
}
