//! Backend-neutral storage traits, the read/write logic built on them, and an
//! in-memory store.
//!
//! A backend (HDF5, Zarr, MPI) implements [`FlacArrayWriter`] and
//! [`FlacArrayReader`] over its own objects; [`read_flacarray`], [`read_array`] and
//! [`write_array`] do the rest. The reader is shaped so that a backend reads only
//! what a selection needs: the metadata, the stream table (starts, byte counts,
//! offsets, gains) for rows of the leading shape, and then only the byte ranges of
//! the kept streams (consecutive kept streams are merged into one read).

use std::cell::Cell;
use std::ops::Range;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use crate::array::{FlacArray, FlacArrayParts, ReadOptions, Selection, check_extension};
use crate::codec::{self, CompressOptions, Source, with_threads};
use crate::dtype::{DType, DecodedArray, Element, StreamScaling};
use crate::error::{Error, Result, in_whole, stream_name};
use crate::integrity::{self, ATTR_CHECKSUMS, Checksums, StoredChecksums};
use crate::layout::{ARR_NONFINITE_FLAGS, ATTR_DTYPE};
use crate::logical::{LogicalArray, LogicalDType};
use crate::nonfinite::NonFinite;
use crate::ranged;
use crate::select::{index_tuples, kept_streams};
use crate::validate;

/// What a stored flacarray group says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMeta {
    /// `flacarray_format_version`: 1, or 0 for flacarray ≤ 0.2.x data.
    pub format_version: u32,
    /// Element type (inferred from `flac_channels` and the presence of offsets in
    /// format 1; see [`DType::from_channels`]).
    pub dtype: DType,
    /// Shape of `stream_starts` (`(1,)` for a single stream).
    pub leading_shape: Vec<usize>,
    /// `stream_size`: samples per stream.
    pub stream_size: usize,
    /// Length of the `compressed` byte array.
    pub total_bytes: u64,
}

impl StoredMeta {
    /// Number of streams.
    #[must_use]
    pub fn n_streams(&self) -> usize {
        self.leading_shape.iter().product()
    }

    /// Streams per row of axis 0 of the leading shape.
    #[must_use]
    pub fn streams_per_row(&self) -> usize {
        self.leading_shape.iter().skip(1).product()
    }
}

/// The per-stream table of (a slab of rows of) a stored array, C order.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTable {
    /// Byte offset of each stream inside the stored `compressed` array.
    pub starts: Vec<u64>,
    /// Byte length of each stream.
    pub nbytes: Vec<u64>,
    /// Offsets and gains (or format-0 `int64` offsets).
    pub scaling: StreamScaling,
}

/// Writes a compressed array to storage.
pub trait FlacArrayWriter {
    /// The backend's error; it must be able to carry a [`Error`].
    type Error: From<Error>;

    /// Stores `arr` (format 1): its leading shape, stream size, dtype, the stream
    /// table and the compressed bytes. A 1-d array is stored with leading shape `(1,)`.
    ///
    /// # Errors
    /// Whatever the backend reports.
    fn write(&mut self, arr: &FlacArray) -> Result<(), Self::Error>;
}

/// Reads a compressed array from storage, piece by piece.
pub trait FlacArrayReader {
    /// The backend's error; it must be able to carry a [`Error`].
    type Error: From<Error>;

    /// The group's metadata.
    ///
    /// # Errors
    /// Whatever the backend reports (for example: no flacarray in this group).
    fn metadata(&self) -> Result<StoredMeta, Self::Error>;

    /// The stream table for `rows` of axis 0 of the leading shape (the whole table for
    /// `0..leading_shape[0]`), with starts relative to the stored byte array.
    ///
    /// # Errors
    /// Whatever the backend reports.
    fn read_stream_table(
        &self,
        meta: &StoredMeta,
        rows: Range<usize>,
    ) -> Result<StreamTable, Self::Error>;

    /// Reads `out.len()` bytes of the stored `compressed` array from byte `start`.
    ///
    /// # Errors
    /// Whatever the backend reports.
    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<(), Self::Error>;

    /// The group's checksum attribute and software version, when the backend has
    /// them ([`crate::integrity`]); the default has neither, and nothing is checked.
    ///
    /// # Errors
    /// Whatever the backend reports.
    fn checksums(&self) -> Result<StoredChecksums, Self::Error> {
        Ok(StoredChecksums::default())
    }

    /// What the group stores beyond flacarray 0.4.1's layout
    /// ([`crate::layout::ATTR_DTYPE`], [`crate::layout::ARR_NONFINITE_FLAGS`] and
    /// [`crate::layout::ARR_NONFINITE_RUNS`]); the default has none of it. A backend
    /// that does not implement this must refuse format 2 in [`Self::metadata`].
    ///
    /// # Errors
    /// Whatever the backend reports.
    fn extension(&self, meta: &StoredMeta) -> Result<StoredExtension, Self::Error> {
        let _ = meta;
        Ok(StoredExtension::default())
    }
}

/// The stored form of what a group holds beyond flacarray 0.4.1's layout, as a
/// backend reads it (checked by the reader, see [`FlacArray::with_extension`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredExtension {
    /// The group attribute [`crate::layout::ATTR_DTYPE`], when present.
    pub dtype: Option<String>,
    /// The arrays [`crate::layout::ARR_NONFINITE_FLAGS`] (one flag per stream of the
    /// whole stored leading shape, C order) and [`crate::layout::ARR_NONFINITE_RUNS`],
    /// when present.
    pub nonfinite: Option<(Vec<u8>, Vec<u8>)>,
}

impl StoredExtension {
    /// What `arr` stores beyond flacarray 0.4.1's layout, for a writer: the recorded
    /// type (only when it is not the stored type) and the non-finite flags and runs.
    #[must_use]
    pub fn of(arr: &FlacArray) -> Self {
        let logical = arr.logical_dtype();
        Self {
            dtype: (!logical.is_stored()).then(|| logical.name().to_string()),
            nonfinite: arr
                .nonfinite()
                .map(|nf| (nf.flags(arr.stream_size()), nf.encode())),
        }
    }

    /// Applies it to `fa`, whose streams are the flat streams `streams` of the stored
    /// leading shape in `meta`.
    fn apply(self, fa: FlacArray, meta: &StoredMeta, streams: &[usize]) -> Result<FlacArray> {
        match self.resolve(meta, streams)? {
            None => Ok(fa),
            Some((logical, nonfinite)) => fa.with_extension(logical, nonfinite),
        }
    }

    /// The logical type and the non-finite samples of the flat streams `streams` of the
    /// stored leading shape in `meta` (`None` when nothing is stored), parsed but not
    /// yet checked against the streams.
    fn resolve(
        self,
        meta: &StoredMeta,
        streams: &[usize],
    ) -> Result<Option<(LogicalDType, Option<NonFinite>)>> {
        if self == Self::default() {
            return Ok(None);
        }
        let logical = match &self.dtype {
            None => LogicalDType::from(meta.dtype),
            Some(name) => LogicalDType::from_name(name).map_err(|_| {
                Error::Corrupt(format!("attribute {ATTR_DTYPE}: unknown type {name:?}"))
            })?,
        };
        let nonfinite = match self.nonfinite {
            None => None,
            Some((flags, runs)) => {
                if flags.len() != meta.n_streams() {
                    return Err(Error::Corrupt(format!(
                        "{ARR_NONFINITE_FLAGS}: {} flags for {} streams",
                        flags.len(),
                        meta.n_streams()
                    )));
                }
                let all = NonFinite::decode(
                    &flags,
                    &runs,
                    meta.stream_size,
                    &meta.leading_shape,
                    meta.dtype == DType::Float64,
                )?;
                Some(all.select(streams))
            }
        };
        Ok(Some((logical, nonfinite)))
    }
}

/// The recorded checksums that apply to this group: `None` without the attribute or
/// when a later writer replaced `flacarray_software_version` (the record is stale).
fn applicable_checksums(meta: &StoredMeta, s: &StoredChecksums) -> Result<Option<Checksums>> {
    let Some(attr) = &s.attr else {
        return Ok(None);
    };
    let c = Checksums::parse(attr)
        .map_err(|e| Error::Corrupt(format!("attribute {ATTR_CHECKSUMS}: {e}")))?;
    if s.software_version.as_deref() != Some(c.writer.as_str()) {
        return Ok(None);
    }
    if c.dtype != meta.dtype {
        return Err(Error::Corrupt(format!(
            "attribute {ATTR_CHECKSUMS}: the array was written as {} but its tables now \
             make it {} (stream_offsets or stream_gains deleted or changed)",
            c.dtype, meta.dtype
        )));
    }
    Ok(Some(c))
}

/// What a group stores beyond flacarray 0.4.1's layout, as far as it applies to the
/// data: [`FlacArrayReader::extension`], or nothing in a format-1 group whose checksum
/// record is absent or stale. flacarray 0.4.1 rewriting a group of ours replaces the
/// software version and the format version but leaves the attributes and arrays it
/// does not know, which then no longer describe the data (a `uint16` type recorded
/// beside int32 values 0.4.1 wrote, say). In format 2 the additions always apply
/// (0.4.1 cannot read, so cannot have rewritten, such a group). Every read applies
/// this rule; a caller asking only for the element type a read gives uses this too.
///
/// # Errors
/// The backend's; [`Error::Corrupt`] when the checksum record cannot be parsed or
/// contradicts the metadata (as a read reports it).
pub fn current_extension<R>(reader: &R, meta: &StoredMeta) -> Result<StoredExtension, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    let recorded = applicable_checksums(meta, &reader.checksums()?)?;
    current_given(reader, meta, recorded.as_ref())
}

/// [`current_extension`] with the applicable checksums already known.
fn current_given<R>(
    reader: &R,
    meta: &StoredMeta,
    recorded: Option<&Checksums>,
) -> Result<StoredExtension, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    if meta.format_version < 2 && recorded.is_none() {
        Ok(StoredExtension::default())
    } else {
        reader.extension(meta)
    }
}

fn table_mismatch() -> Error {
    Error::Corrupt(format!(
        "attribute {ATTR_CHECKSUMS}: the stream table (starts, byte counts, offsets, gains, \
         shape, stream size) does not match the checksum written with it"
    ))
}

/// Compresses `arr` and writes it with `writer`.
///
/// # Errors
/// As [`FlacArray::from_array`] and the writer.
pub fn write_array<W, T, S, D>(
    writer: &mut W,
    arr: &ArrayBase<S, D>,
    opts: &CompressOptions,
) -> Result<(), W::Error>
where
    W: FlacArrayWriter + ?Sized,
    T: crate::logical::Value,
    S: Data<Elem = T>,
    D: Dimension,
{
    let fa = FlacArray::from_array(arr, opts)?;
    writer.write(&fa)
}

fn usize_of(v: u64) -> Result<usize> {
    usize::try_from(v)
        .map_err(|_| Error::Corrupt(format!("byte offset {v} does not fit in memory")))
}

/// Reads a stored array, or only its kept streams, without decoding anything.
///
/// Without `keep` the whole byte array is read in one call and the result has the
/// stored leading shape; a single stream (leading shape `(1,)`) reports shape `(N,)`
/// unless `no_flatten` (as 0.4.1 does). With `keep` (C order over the stored
/// leading shape) only the kept streams' bytes are read, consecutive streams in one
/// call, and the result has leading shape `(n_kept,)`, reported 1-d when exactly one
/// stream is kept unless `no_flatten`. A mask that keeps nothing gives an array of
/// leading shape `(0,)` (0.4.1 raises there without MPI).
///
/// # Errors
/// [`Error::InvalidArgument`] when `keep` has the wrong length;
/// [`Error::Corrupt`] for a table inconsistent with the bytes; backend errors.
pub fn read_flacarray<R>(
    reader: &R,
    keep: Option<&[bool]>,
    no_flatten: bool,
) -> Result<FlacArray, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    let meta = reader.metadata()?;
    let rows = meta.leading_shape.first().copied().unwrap_or(1);
    read_rows(reader, &meta, 0..rows, keep, no_flatten)
}

/// [`read_flacarray`] for the rows `rows` of axis 0 of the leading shape only (an MPI
/// rank's slab): reads that slab's stream table and only its (kept) streams' bytes.
/// `keep`, when given, covers the **whole** stored leading shape (as 0.4.1's MPI
/// readers apply `keep[slab]`). Without `keep` the result's leading shape is
/// `(rows.len(), ...)`, its starts rebased to its own buffer; an empty row range gives
/// an empty array.
///
/// # Errors
/// As [`read_flacarray`]; [`Error::Index`] for rows outside the leading shape.
pub fn read_flacarray_rows<R>(
    reader: &R,
    rows: Range<usize>,
    keep: Option<&[bool]>,
    no_flatten: bool,
) -> Result<FlacArray, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    let meta = reader.metadata()?;
    read_rows(reader, &meta, rows, keep, no_flatten)
}

fn read_rows<R>(
    reader: &R,
    meta: &StoredMeta,
    rows: Range<usize>,
    keep: Option<&[bool]>,
    no_flatten: bool,
) -> Result<FlacArray, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    let Prepared {
        table,
        streams,
        leading,
        one_d,
        recorded,
        whole,
        first,
    } = prepare(reader, meta, rows, keep, no_flatten)?;
    // Bytes: one read per run of selected streams that are adjacent in storage.
    let total: u64 = streams.iter().map(|&i| table.nbytes[i]).sum();
    let mut compressed = vec![0u8; usize_of(total)?];
    let mut starts = Vec::with_capacity(streams.len());
    let mut nbytes = Vec::with_capacity(streams.len());
    let mut pos = 0usize;
    let mut i = 0;
    while i < streams.len() {
        let s0 = streams[i];
        let mut end = table.starts[s0] + table.nbytes[s0];
        let mut j = i + 1;
        while j < streams.len() && table.starts[streams[j]] == end {
            end += table.nbytes[streams[j]];
            j += 1;
        }
        let len = usize_of(end - table.starts[s0])?;
        if len > 0 {
            reader.read_bytes(table.starts[s0], &mut compressed[pos..pos + len])?;
        }
        for &g in &streams[i..j] {
            starts.push(pos as u64);
            nbytes.push(table.nbytes[g]);
            pos += usize_of(table.nbytes[g])?;
        }
        i = j;
    }
    if let Some(c) = &recorded
        && whole
        && keep.is_none()
    {
        check_streams(meta, c, &compressed, &starts, &nbytes)?;
    }
    let scaling = if keep.is_none() {
        table.scaling
    } else {
        table.scaling.select(&streams)
    };
    let flat: Vec<usize> = streams.iter().map(|&i| first + i).collect();
    let fa = FlacArray::from_parts(FlacArrayParts {
        leading_shape: leading,
        stream_size: meta.stream_size,
        one_d,
        dtype: meta.dtype,
        compressed,
        starts,
        nbytes,
        scaling,
        format_version: meta.format_version,
    })?;
    Ok(current_given(reader, meta, recorded.as_ref())?.apply(fa, meta, &flat)?)
}

/// A stored array read a block of rows of axis 0 at a time, for work whose memory
/// must not grow with the array (decompressing a large file to another file).
///
/// Each item is a [`FlacArray`] of the next `rows_per_block` rows (fewer at the end),
/// read as [`read_flacarray_rows`] reads them with `no_flatten` (a block's leading
/// shape is `(rows, ...)`, or `(n_kept,)` with a keep mask; blocks without kept
/// streams are skipped). The recorded checksum of the streams' bytes, which a whole
/// read checks before anything is decoded, is a sum over the streams, so it is summed
/// block by block and checked after the last block: that error comes last, after
/// every block was handed out, and whatever was made of the blocks must then be
/// discarded. A damaged stream usually fails its frame CRC-16 first, while it is
/// decoded. After an error the iterator ends.
///
/// ```
/// use flacarray_core::{CompressOptions, FlacArray, FlacArrayWriter, MemoryStore, RowBlocks};
/// let a = ndarray::Array2::from_shape_fn((5, 300), |(i, j)| (i * 1000 + j) as i32);
/// let mut store = MemoryStore::new();
/// store.write(&FlacArray::from_array(&a, &CompressOptions::default())?)?;
/// let mut rows = Vec::new();
/// for block in RowBlocks::new(store, None, 2)? {
///     let block = block?;
///     rows.push(block.leading_shape()[0]);
///     assert_eq!(block.to_array_typed::<i32>()?.shape()[1], 300);
/// }
/// assert_eq!(rows, [2, 2, 1]);
/// # Ok::<(), flacarray_core::Error>(())
/// ```
#[derive(Debug)]
pub struct RowBlocks<R: FlacArrayReader> {
    reader: R,
    meta: StoredMeta,
    keep: Option<Vec<bool>>,
    rows_per_block: usize,
    next_row: usize,
    n_rows: usize,
    /// The recorded checksums, when every stream's bytes will pass through here.
    recorded: Option<Checksums>,
    sum: u64,
    finished: bool,
    /// Flat index (in the whole array) of the first stream of the rows last read.
    block_first: usize,
}

impl<R: FlacArrayReader> RowBlocks<R> {
    /// Starts reading `reader`'s array `rows_per_block` rows at a time (at least one);
    /// `keep` as in [`read_flacarray`] (over the whole stored leading shape).
    ///
    /// # Errors
    /// The metadata cannot be read or is invalid; the recorded checksums cannot be
    /// read or parsed.
    pub fn new(reader: R, keep: Option<&[bool]>, rows_per_block: usize) -> Result<Self, R::Error> {
        let meta = reader.metadata()?;
        validate::check_meta(&meta).map_err(Error::from)?;
        let n_rows = meta.leading_shape.first().copied().unwrap_or(0);
        let rows_per_block = rows_per_block.max(1);
        // A single block is a whole read, which checks the bytes itself.
        let recorded = if keep.is_none() && rows_per_block < n_rows {
            applicable_checksums(&meta, &reader.checksums()?)?
        } else {
            None
        };
        Ok(Self {
            reader,
            meta,
            keep: keep.map(<[bool]>::to_vec),
            rows_per_block,
            next_row: 0,
            n_rows,
            recorded,
            sum: 0,
            finished: false,
            block_first: 0,
        })
    }

    /// The stored array's metadata.
    #[must_use]
    pub fn meta(&self) -> &StoredMeta {
        &self.meta
    }

    /// The reader the blocks come from.
    #[must_use]
    pub fn reader(&self) -> &R {
        &self.reader
    }

    fn block(&mut self) -> Result<Option<FlacArray>, R::Error> {
        while self.next_row < self.n_rows {
            let rows = self.next_row..(self.next_row + self.rows_per_block).min(self.n_rows);
            self.next_row = rows.end;
            self.block_first = rows.start * self.meta.streams_per_row();
            let fa = read_rows(
                &self.reader,
                &self.meta,
                rows.clone(),
                self.keep.as_deref(),
                true,
            )?;
            if self.recorded.is_some() {
                let first = rows.start * self.meta.streams_per_row();
                for (i, (&s, &n)) in fa
                    .stream_starts()
                    .iter()
                    .zip(fa.stream_nbytes())
                    .enumerate()
                {
                    let lo = usize_of(s)?;
                    let bytes = fa
                        .compressed()
                        .get(lo..lo.saturating_add(usize_of(n)?))
                        .ok_or_else(|| Error::Corrupt("stream bytes outside the buffer".into()))?;
                    self.sum = self
                        .sum
                        .wrapping_add(integrity::stream_hash(first + i, bytes));
                }
            }
            if fa.n_streams() > 0 {
                return Ok(Some(fa));
            }
        }
        if let Some(c) = self.recorded.take()
            && self.sum != c.streams
        {
            return Err(Error::Corrupt(format!(
                "attribute {ATTR_CHECKSUMS}: the bytes of the {} streams do not match the \
                 checksum written with them (a stream was changed, or streams were swapped \
                 or moved)",
                self.meta.n_streams()
            ))
            .into());
        }
        Ok(None)
    }
}

impl<R: FlacArrayReader> RowBlocks<R> {
    /// Decodes every block, in order, to the caller's element type
    /// ([`FlacArray::to_values`]) and hands it to `sink`. In a rayon pool of more than
    /// one thread, `sink` works on block `k` (writing it to a file, say) while block
    /// `k + 1` is decoded; with one thread the two take turns. At most two decoded
    /// blocks and one compressed block are held at a time.
    ///
    /// # Errors
    /// The first error of reading, decoding or `sink`, in block order; a checksum
    /// mismatch after every block went to `sink` (see [`RowBlocks`]).
    pub fn decode_each<E>(
        mut self,
        mut sink: impl FnMut(LogicalArray) -> Result<(), E> + Send,
    ) -> Result<(), E>
    where
        E: From<R::Error> + Send,
    {
        let mut pending: Option<LogicalArray> = None;
        while let Some(block) = self.next() {
            let block = block?;
            let ready = pending.take();
            let sink = &mut sink;
            let (written, decoded) =
                rayon::join(move || ready.map_or(Ok(()), sink), || block.to_values());
            written?;
            let decoded = decoded.map_err(|e| self.relabel(e, block.leading_shape()));
            pending = Some(decoded.map_err(R::Error::from)?);
        }
        pending.map_or(Ok(()), sink)
    }

    /// An error of decoding the last block read, naming its stream by its index in
    /// the whole array rather than in the block (`leading`: the block's shape).
    fn relabel(&self, e: Error, leading: &[usize]) -> Error {
        let first = self.block_first;
        in_whole(e, leading, &self.meta.leading_shape, |local| {
            match &self.keep {
                None => Some(first + local),
                Some(keep) => keep
                    .iter()
                    .enumerate()
                    .skip(first)
                    .filter(|&(_, &k)| k)
                    .nth(local)
                    .map(|(g, _)| g),
            }
        })
    }
}

impl<R: FlacArrayReader> Iterator for RowBlocks<R> {
    type Item = Result<FlacArray, R::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let r = self.block();
        if !matches!(r, Ok(Some(_))) {
            self.finished = true;
        }
        r.transpose()
    }
}

/// What a read of rows (and kept streams) knows before it reads any stream's bytes.
struct Prepared {
    /// The stream table of the rows read.
    table: StreamTable,
    /// The streams read, as indices into `table`.
    streams: Vec<usize>,
    /// The result's leading shape.
    leading: Vec<usize>,
    /// Whether the result is reported 1-d.
    one_d: bool,
    /// The recorded checksums that apply.
    recorded: Option<Checksums>,
    /// Whether every row is read.
    whole: bool,
    /// The flat index of the first stream of the rows read.
    first: usize,
}

/// Checks the metadata and the stream table of `rows` (and the table against its
/// recorded checksum) and decides which streams a read takes.
fn prepare<R>(
    reader: &R,
    meta: &StoredMeta,
    rows: Range<usize>,
    keep: Option<&[bool]>,
    no_flatten: bool,
) -> Result<Prepared, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    validate::check_meta(meta).map_err(Error::from)?;
    let n_rows = meta.leading_shape.first().copied().unwrap_or(0);
    if rows.start > rows.end || rows.end > n_rows {
        return Err(Error::Index(format!("rows {rows:?} outside 0..{n_rows}")).into());
    }
    let per = meta.streams_per_row();
    let first = rows.start * per;
    let table = reader.read_stream_table(meta, rows.clone())?;
    check_table(meta, &table, first, rows.len() * per)?;
    let recorded = applicable_checksums(meta, &reader.checksums()?)?;
    let whole = rows.start == 0 && rows.end == n_rows;
    if let Some(c) = &recorded {
        let part = if whole {
            integrity::table_part(&table, 0)
        } else {
            let all = reader.read_stream_table(meta, 0..n_rows)?;
            check_table(meta, &all, 0, n_rows * per)?;
            integrity::table_part(&all, 0)
        };
        if integrity::header_hash(meta).wrapping_add(part) != c.table {
            return Err(table_mismatch().into());
        }
    }
    let (streams, leading, one_d): (Vec<usize>, Vec<usize>, bool) = match keep {
        None => {
            let mut lead = meta.leading_shape.clone();
            lead[0] = rows.len();
            let one_d = lead == [1] && !no_flatten;
            ((0..table.starts.len()).collect(), lead, one_d)
        }
        Some(keep) => {
            let all = kept_streams(keep, &meta.leading_shape)?;
            let mine: Vec<usize> = all
                .into_iter()
                .filter(|&g| g >= first && g < first + table.starts.len())
                .map(|g| g - first)
                .collect();
            let n = mine.len();
            (mine, vec![n], n == 1 && !no_flatten)
        }
    };
    Ok(Prepared {
        table,
        streams,
        leading,
        one_d,
        recorded,
        whole,
        first,
    })
}

/// Checks every stream's bytes (all streams read, in stream order) against the
/// recorded streams checksum.
fn check_streams(
    meta: &StoredMeta,
    c: &Checksums,
    compressed: &[u8],
    starts: &[u64],
    nbytes: &[u64],
) -> Result<()> {
    let mut sum = 0u64;
    for (i, (&s, &b)) in starts.iter().zip(nbytes).enumerate() {
        let lo = usize_of(s)?;
        let bytes = usize_of(b)?
            .checked_add(lo)
            .and_then(|hi| compressed.get(lo..hi))
            .ok_or_else(|| Error::Corrupt("stream bytes outside the buffer".into()))?;
        sum = sum.wrapping_add(integrity::stream_hash(i, bytes));
    }
    if sum != c.streams {
        // The sum cannot say which stream changed. A changed byte almost always breaks
        // a frame's CRC-16 too, so walk each stream's frames (no decoding, nothing
        // allocated) to name the damaged stream; only a change that keeps every CRC
        // valid (streams swapped or moved) is reported as the checksum mismatch.
        for (i, (&s, &b)) in starts.iter().zip(nbytes).enumerate() {
            let lo = usize_of(s)?;
            let hi = usize_of(b)?.saturating_add(lo);
            let Some(bytes) = compressed.get(lo..hi) else {
                continue;
            };
            let stream = stream_name(i, &meta.leading_shape);
            match flacarray_flac::count_samples(bytes) {
                Err(source) => return Err(Error::Flac { stream, source }),
                Ok(n) if n != meta.stream_size as u64 => {
                    return Err(Error::Corrupt(format!(
                        "stream {stream}: holds {n} samples, the array says {}",
                        meta.stream_size
                    )));
                }
                Ok(_) => {}
            }
        }
        return Err(Error::Corrupt(format!(
            "attribute {ATTR_CHECKSUMS}: the bytes of the {} streams do not match the \
             checksum written with them (a stream was changed, or streams were swapped \
             or moved)",
            meta.n_streams()
        )));
    }
    Ok(())
}

/// Checks a table of `n` streams starting at flat stream `first` against the metadata
/// ([`crate::validate`]).
fn check_table(meta: &StoredMeta, t: &StreamTable, first: usize, n: usize) -> Result<()> {
    if t.starts.len() != n {
        return Err(Error::Corrupt(format!(
            "stream table has {} starts and {} byte counts for {n} streams",
            t.starts.len(),
            t.nbytes.len()
        )));
    }
    validate::check_table(meta, t, first)?;
    Ok(())
}

/// Reads and decodes a stored array (0.4.1's `read_array`): keep mask, sample slice,
/// kept indices and `no_flatten` as in [`ReadOptions`]. Only the kept streams' bytes
/// are read and only the frames covering the slice are decoded; a slice of at most a
/// quarter of the stream reads only each kept stream's header and the frames holding
/// the slice, found by a few small reads (the recorded stream checksum is then not
/// checked, each frame's CRC-16 is). An all-false mask
/// returns an empty `(0, n_samples)` array without reading any bytes.
///
/// # Errors
/// As [`read_flacarray`] and [`FlacArray::decompress`].
pub fn read_array<R>(reader: &R, opts: &ReadOptions<'_>) -> Result<Selection, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    let meta = reader.metadata()?;
    validate::check_meta(&meta).map_err(Error::from)?;
    let range = opts.stream_slice.resolve(meta.stream_size)?;
    if !range.is_empty()
        && (range.len() as u64).saturating_mul(ranged::MAX_FRACTION) <= meta.stream_size as u64
    {
        let kept_any = opts.keep.is_none_or(|k| k.iter().any(|&b| b));
        if kept_any {
            return read_range(reader, &meta, opts, range);
        }
    }
    let sub = ReadOptions {
        keep: None,
        keep_indices: false,
        ..*opts
    };
    match opts.keep {
        None => Ok(read_flacarray(reader, None, opts.no_flatten)?.decompress(&sub)?),
        Some(keep) => {
            let meta = reader.metadata()?;
            let streams = kept_streams(keep, &meta.leading_shape)?;
            let indices = opts
                .keep_indices
                .then(|| index_tuples(&streams, &meta.leading_shape));
            if streams.is_empty() {
                let n = opts.stream_slice.resolve(meta.stream_size)?.len();
                let array = empty(meta.dtype, &[0, n])?;
                return Ok(Selection { array, indices });
            }
            let fa = read_flacarray(reader, Some(keep), opts.no_flatten)?;
            let mut sel = fa.decompress(&sub)?;
            sel.indices = indices;
            Ok(sel)
        }
    }
}

/// [`read_array`] of a sample range of at most a quarter of each stream: for each
/// kept stream only its header and the frames holding the range are read
/// ([`ranged::read_piece`]); a stream whose piece cannot be found, or does not decode
/// exactly, is read and decoded whole.
fn read_range<R>(
    reader: &R,
    meta: &StoredMeta,
    opts: &ReadOptions<'_>,
    range: Range<usize>,
) -> Result<Selection, R::Error>
where
    R: FlacArrayReader + ?Sized,
{
    let rows = meta.leading_shape.first().copied().unwrap_or(1);
    let p = prepare(reader, meta, 0..rows, opts.keep, opts.no_flatten)?;
    let indices = match opts.keep {
        Some(keep) if opts.keep_indices => Some(index_tuples(
            &kept_streams(keep, &meta.leading_shape)?,
            &meta.leading_shape,
        )),
        _ => None,
    };
    let ss = meta.stream_size as u64;
    let r64 = range.start as u64..range.end as u64;
    let mut compressed = Vec::new();
    let mut starts = Vec::with_capacity(p.streams.len());
    let mut nbytes = Vec::with_capacity(p.streams.len());
    let mut pieces = Vec::with_capacity(p.streams.len());
    for &g in &p.streams {
        let (s, n) = (p.table.starts[g], p.table.nbytes[g]);
        starts.push(compressed.len() as u64);
        if let Some(piece) = ranged::read_piece(reader, s, n, ss, &r64)? {
            nbytes.push(piece.bytes.len() as u64);
            compressed.extend_from_slice(&piece.bytes);
            pieces.push(Some(piece.first_frame));
        } else {
            let at = compressed.len();
            compressed.resize(at + usize_of(n)?, 0);
            if n > 0 {
                reader.read_bytes(s, &mut compressed[at..])?;
            }
            nbytes.push(n);
            pieces.push(None);
        }
    }
    let scaling = p.table.scaling.select(&p.streams);
    // The kept non-finite samples, under the same conditions as in `read_rows`.
    let nonfinite =
        match current_given(reader, meta, p.recorded.as_ref())?.resolve(meta, &p.streams)? {
            None => None,
            Some((logical, nf)) => {
                check_extension(
                    meta.dtype,
                    meta.format_version,
                    p.streams.len(),
                    meta.stream_size,
                    logical,
                    nf.as_ref(),
                )?;
                nf
            }
        };
    let src = Source {
        bytes: &compressed,
        starts: &starts,
        nbytes: &nbytes,
        stream_size: meta.stream_size,
        leading: &p.leading,
        dtype: meta.dtype,
        scaling: &scaling,
        version: meta.format_version,
        nonfinite: nonfinite.as_ref(),
    };
    src.check()?;
    let mut shape = if p.one_d {
        Vec::new()
    } else {
        p.leading.clone()
    };
    shape.push(range.len());
    let whole = |i: usize| -> Result<Vec<u8>, R::Error> {
        let g = p.streams[i];
        let mut b = vec![0u8; usize_of(p.table.nbytes[g])?];
        if !b.is_empty() {
            reader.read_bytes(p.table.starts[g], &mut b)?;
        }
        Ok(b)
    };
    let ctx = RangeCtx {
        src: &src,
        pieces: &pieces,
        range,
        threads: opts.threads,
    };
    let array = match meta.dtype {
        DType::Int32 => DecodedArray::Int32(ctx.decode(&shape, whole)?),
        DType::Int64 => DecodedArray::Int64(ctx.decode(&shape, whole)?),
        DType::Float32 => DecodedArray::Float32(ctx.decode(&shape, whole)?),
        DType::Float64 => DecodedArray::Float64(ctx.decode(&shape, whole)?),
    };
    Ok(Selection { array, indices })
}

/// The streams (pieces and whole ones) of a range read, and how to decode them.
struct RangeCtx<'a> {
    src: &'a Source<'a>,
    pieces: &'a [Option<u64>],
    range: Range<usize>,
    threads: Option<usize>,
}

impl RangeCtx<'_> {
    /// Decodes every stream; rows whose piece did not decode exactly are decoded
    /// again from the whole stream, which `whole(row)` reads.
    fn decode<T: Element, E: From<Error>>(
        &self,
        shape: &[usize],
        whole: impl Fn(usize) -> Result<Vec<u8>, E>,
    ) -> Result<ArrayD<T>, E> {
        let len = self.range.len();
        let n = self.src.starts.len();
        let sel: Vec<usize> = (0..n).collect();
        let mut out = vec![T::default(); n * len];
        let done = with_threads(self.threads, || {
            codec::decode_pieces(
                self.src,
                Some(self.pieces),
                &sel,
                self.range.clone(),
                T::output(&mut out),
                None,
            )
        })
        .and_then(|r| r)?;
        for (i, ok) in done.into_iter().enumerate() {
            if ok {
                continue;
            }
            let bytes = whole(i)?;
            let mut starts = vec![0u64; n];
            let mut nbytes = vec![0u64; n];
            nbytes[i] = bytes.len() as u64;
            starts[i] = 0;
            let src = Source {
                bytes: &bytes,
                starts: &starts,
                nbytes: &nbytes,
                ..*self.src
            };
            src.check()?;
            let row = &mut out[i * len..(i + 1) * len];
            with_threads(self.threads, || {
                codec::decode(&src, &[i], self.range.clone(), T::output(row))
            })
            .and_then(|r| r)?;
        }
        Ok(ArrayD::from_shape_vec(IxDyn(shape), out)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?)
    }
}

fn empty(dtype: DType, shape: &[usize]) -> Result<DecodedArray> {
    let e = |e: ndarray::ShapeError| Error::InvalidArgument(e.to_string());
    Ok(match dtype {
        DType::Int32 => {
            DecodedArray::Int32(ArrayD::from_shape_vec(IxDyn(shape), Vec::new()).map_err(e)?)
        }
        DType::Int64 => {
            DecodedArray::Int64(ArrayD::from_shape_vec(IxDyn(shape), Vec::new()).map_err(e)?)
        }
        DType::Float32 => {
            DecodedArray::Float32(ArrayD::from_shape_vec(IxDyn(shape), Vec::new()).map_err(e)?)
        }
        DType::Float64 => {
            DecodedArray::Float64(ArrayD::from_shape_vec(IxDyn(shape), Vec::new()).map_err(e)?)
        }
    })
}

/// An in-memory store: what a file would hold, plus counters of the byte reads so
/// tests can check that selections read only what they need.
///
/// ```
/// use flacarray_core::{read_array, write_array, CompressOptions, MemoryStore, ReadOptions};
/// let a = ndarray::Array::from_shape_fn((4, 100), |(i, j)| (i * 100 + j) as i64);
/// let mut store = MemoryStore::new();
/// write_array(&mut store, &a, &CompressOptions::default())?;
/// let keep = [false, true, true, false];
/// let sel = read_array(&store, &ReadOptions { keep: Some(&keep), ..Default::default() })?;
/// assert_eq!(sel.array.as_array::<i64>().unwrap()[[1, 5]], 205);
/// // Streams 1 and 2 are adjacent: one read of just their bytes.
/// assert_eq!(store.read_calls(), 1);
/// assert!(store.bytes_read() < store.stored_bytes());
/// # Ok::<(), flacarray_core::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    content: Option<(StoredMeta, StreamTable, Vec<u8>)>,
    ext: StoredExtension,
    checksums: StoredChecksums,
    bytes_read: Cell<u64>,
    read_calls: Cell<usize>,
}

impl MemoryStore {
    /// An empty store (reading it is an error until something is written).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding the given pieces as they are (for example format-0 data).
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the table does not fit the metadata and bytes.
    pub fn from_parts(meta: StoredMeta, table: StreamTable, bytes: Vec<u8>) -> Result<Self> {
        if meta.total_bytes != bytes.len() as u64 {
            return Err(Error::Corrupt(format!(
                "metadata says {} bytes, {} given",
                meta.total_bytes,
                bytes.len()
            )));
        }
        validate::check_meta(&meta)?;
        check_table(&meta, &table, 0, meta.n_streams())?;
        Ok(Self {
            content: Some((meta, table, bytes)),
            ..Self::default()
        })
    }

    /// The store with `ext` as what it holds beyond 0.4.1's layout (as written, not
    /// checked until read).
    #[must_use]
    pub fn with_extension(mut self, ext: StoredExtension) -> Self {
        self.ext = ext;
        self
    }

    /// Total bytes read by [`FlacArrayReader::read_bytes`] so far.
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.get()
    }

    /// Number of [`FlacArrayReader::read_bytes`] calls so far.
    #[must_use]
    pub fn read_calls(&self) -> usize {
        self.read_calls.get()
    }

    /// Size of the stored byte array (0 when empty).
    #[must_use]
    pub fn stored_bytes(&self) -> u64 {
        self.content.as_ref().map_or(0, |c| c.2.len() as u64)
    }

    /// Resets the read counters.
    pub fn reset_counters(&self) {
        self.bytes_read.set(0);
        self.read_calls.set(0);
    }

    fn content(&self) -> Result<&(StoredMeta, StreamTable, Vec<u8>)> {
        self.content
            .as_ref()
            .ok_or_else(|| Error::store_msg("the memory store does not contain a FlacArray"))
    }
}

/// The writer name [`MemoryStore`] records with its checksums.
const MEMORY_WRITER: &str = "flacarray-rs-memory";

impl FlacArrayWriter for MemoryStore {
    type Error = Error;

    fn write(&mut self, arr: &FlacArray) -> Result<()> {
        let meta = StoredMeta {
            format_version: arr.format_version(),
            dtype: arr.dtype(),
            leading_shape: arr.leading_shape().to_vec(),
            stream_size: arr.stream_size(),
            total_bytes: arr.nbytes() as u64,
        };
        let table = StreamTable {
            starts: arr.stream_starts().to_vec(),
            nbytes: arr.stream_nbytes().to_vec(),
            scaling: arr.scaling().clone(),
        };
        self.content = Some((meta, table, arr.compressed().to_vec()));
        self.ext = StoredExtension::of(arr);
        // Recorded as a file backend does, so that reads check them.
        self.checksums = StoredChecksums {
            attr: Some(Checksums::of(arr, MEMORY_WRITER).to_attr()),
            software_version: Some(MEMORY_WRITER.to_string()),
        };
        self.reset_counters();
        Ok(())
    }
}

impl FlacArrayReader for MemoryStore {
    type Error = Error;

    fn metadata(&self) -> Result<StoredMeta> {
        Ok(self.content()?.0.clone())
    }

    fn extension(&self, _meta: &StoredMeta) -> Result<StoredExtension> {
        Ok(self.ext.clone())
    }

    fn checksums(&self) -> Result<StoredChecksums> {
        Ok(self.checksums.clone())
    }

    fn read_stream_table(&self, meta: &StoredMeta, rows: Range<usize>) -> Result<StreamTable> {
        let (_, t, _) = self.content()?;
        let per = meta.streams_per_row();
        let n_rows = meta.leading_shape.first().copied().unwrap_or(0);
        if rows.start > rows.end || rows.end > n_rows {
            return Err(Error::Index(format!("rows {rows:?} outside 0..{n_rows}")));
        }
        let sel: Vec<usize> = (rows.start * per..rows.end * per).collect();
        Ok(StreamTable {
            starts: sel.iter().map(|&g| t.starts[g]).collect(),
            nbytes: sel.iter().map(|&g| t.nbytes[g]).collect(),
            scaling: t.scaling.select(&sel),
        })
    }

    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<()> {
        let (_, _, bytes) = self.content()?;
        let s = usize_of(start)?;
        let src = s
            .checked_add(out.len())
            .and_then(|e| bytes.get(s..e))
            .ok_or_else(|| {
                Error::store_msg(format!("bytes {s}+{} outside {}", out.len(), bytes.len()))
            })?;
        out.copy_from_slice(src);
        self.bytes_read
            .set(self.bytes_read.get() + out.len() as u64);
        self.read_calls.set(self.read_calls.get() + 1);
        Ok(())
    }
}
