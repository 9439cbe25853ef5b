//! Reading and writing numpy `.npy` files of the twelve element types flacarray
//! carries ([`LogicalDType`]: `bool`, `int8`..`int64`, `uint8`..`uint64`, `float16`,
//! `float32`, `float64`), as [`LogicalArray`]s, or of the four stored types as
//! [`DecodedArray`]s, and boolean masks, through [`npyz`].
//!
//! Any byte order and Fortran order are read (and laid out in C order); files are
//! written little-endian in C order. Before npyz sees a header, `prescan` checks the
//! header's length and shape against the file size: npyz allocates the header text
//! from its length field and multiplies the dimensions unchecked.
//!
//! npyz reads and writes one element at a time; for the common case, numbers in the
//! machine's byte order, the data section is instead read with one `read_exact` into
//! the typed buffer and written with one `write_all` of it (npyz still writes the
//! header; `bool` and `float16` always go through npyz). Measured on a 64 MiB int32
//! array, element by element made `flacarray decompress` about 2x and `flacarray
//! compress --level 0` about 1.35x slower.
//!
//! ```
//! use flacarray::{DecodedArray, npy};
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("a.npy");
//! let a = DecodedArray::Int32(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[2, 3]), 7));
//! npy::create_file(&path, &a)?;
//! assert_eq!(npy::peek(&path)?, (flacarray::LogicalDType::Int32, vec![2, 3]));
//! assert_eq!(npy::read_rows(&path, 1..2)?.shape(), &[1, 3]);
//! assert_eq!(npy::read_array(&path)?, a);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;

use crate::{DecodedArray, LogicalArray, LogicalDType, Value, f16};
use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder, Slice};
use npyz::{Deserialize, NpyFile, NpyHeader, Order, Serialize, TypeChar, TypeWrite, WriterBuilder};

/// What went wrong reading or writing an `.npy` file. Errors of the functions that take
/// a path are [`Error::File`], naming the file, around the cause.
///
/// Each message is whole (`FILE: cannot open: No such file or directory`): it includes
/// the text of its cause, which `source()` still returns so that callers can find the
/// underlying [`std::io::Error`] (a closed pipe, for example).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation failed (`what`: `cannot open`, `cannot read`, ...).
    #[error("{what}: {source}")]
    Io {
        /// The operation, or what a failed read means (`not a valid .npy file`).
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file's content is not a supported `.npy` array, or the request does not fit it.
    #[error("{0}")]
    Invalid(String),
    /// An error about one file.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong with it.
        #[source]
        source: Box<Error>,
    },
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Result::context` for I/O results, as in the command line tool's error chains.
trait IoContext<T> {
    fn context(self, what: &'static str) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: &'static str) -> Result<T> {
        self.map_err(|source| Error::Io { what, source })
    }
}

/// Wraps an error with the file it concerns.
fn in_file<T>(path: &Path, r: Result<T>) -> Result<T> {
    r.map_err(|e| Error::File {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

macro_rules! bail {
    ($($t:tt)*) => { return Err(Error::Invalid(format!($($t)*))) };
}

/// An `.npy` file opened past its header.
struct Opened {
    header: NpyHeader,
    /// At the first data byte.
    reader: BufReader<File>,
    shape: Vec<usize>,
}

/// An element type of `.npy` files: one of the twelve [`Value`] types.
pub trait NpyElement: Value + Deserialize + Serialize {
    /// numpy's little-endian type string (`|b1`, `<u8`, `<f2`, ...).
    const DESCR: &'static str;
    /// The elements as bytes in the machine's order, for types that are plain numbers.
    #[doc(hidden)]
    fn native_bytes(s: &[Self]) -> Option<&[u8]>;
    /// `n` elements read in the machine's byte order straight into the typed buffer,
    /// for types that are plain numbers.
    #[doc(hidden)]
    fn read_native(
        r: &mut BufReader<File>,
        n: usize,
        reuse: Vec<Self>,
    ) -> Option<Result<Vec<Self>>>;
}

macro_rules! npy_element {
    (pod: $($t:ty => $d:literal),*) => {$(
        impl NpyElement for $t {
            const DESCR: &'static str = $d;
            fn native_bytes(s: &[Self]) -> Option<&[u8]> {
                Some(bytemuck::cast_slice(s))
            }
            fn read_native(
                r: &mut BufReader<File>,
                n: usize,
                reuse: Vec<Self>,
            ) -> Option<Result<Vec<Self>>> {
                Some(read_native(r, n, reuse))
            }
        }
    )*};
    (npyz: $($t:ty => $d:literal),*) => {$(
        impl NpyElement for $t {
            const DESCR: &'static str = $d;
            fn native_bytes(_: &[Self]) -> Option<&[u8]> {
                None
            }
            fn read_native(
                _: &mut BufReader<File>,
                _: usize,
                _: Vec<Self>,
            ) -> Option<Result<Vec<Self>>> {
                None
            }
        }
    )*};
}

npy_element!(pod: i8 => "|i1", i16 => "<i2", i32 => "<i4", i64 => "<i8", u8 => "|u1",
    u16 => "<u2", u32 => "<u4", u64 => "<u8", f32 => "<f4", f64 => "<f8");
npy_element!(npyz: bool => "|b1", f16 => "<f2");

/// `$f::<T>($args)` for the element type `T` of the [`LogicalDType`] `$d`.
macro_rules! dispatch {
    ($d:expr, $f:ident($($a:expr),*)) => {
        match $d {
            LogicalDType::Bool => $f::<bool>($($a),*),
            LogicalDType::Int8 => $f::<i8>($($a),*),
            LogicalDType::Int16 => $f::<i16>($($a),*),
            LogicalDType::Int32 => $f::<i32>($($a),*),
            LogicalDType::Int64 => $f::<i64>($($a),*),
            LogicalDType::Uint8 => $f::<u8>($($a),*),
            LogicalDType::Uint16 => $f::<u16>($($a),*),
            LogicalDType::Uint32 => $f::<u32>($($a),*),
            LogicalDType::Uint64 => $f::<u64>($($a),*),
            LogicalDType::Float16 => $f::<f16>($($a),*),
            LogicalDType::Float32 => $f::<f32>($($a),*),
            LogicalDType::Float64 => $f::<f64>($($a),*),
        }
    };
}

/// An array that can be written as an `.npy` file: a [`DecodedArray`] or a
/// [`LogicalArray`].
pub trait NpyData {
    /// The element type written.
    fn npy_dtype(&self) -> LogicalDType;
    /// The shape.
    fn npy_shape(&self) -> &[usize];
    /// Writes the elements, little-endian in C order (an `.npy` data section).
    ///
    /// # Errors
    /// The writer's.
    fn write_npy_data(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

impl NpyData for DecodedArray {
    fn npy_dtype(&self) -> LogicalDType {
        self.dtype().into()
    }
    fn npy_shape(&self) -> &[usize] {
        self.shape()
    }
    fn write_npy_data(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            DecodedArray::Int32(a) => data(out, a),
            DecodedArray::Int64(a) => data(out, a),
            DecodedArray::Float32(a) => data(out, a),
            DecodedArray::Float64(a) => data(out, a),
        }
    }
}

impl NpyData for LogicalArray {
    fn npy_dtype(&self) -> LogicalDType {
        self.dtype()
    }
    fn npy_shape(&self) -> &[usize] {
        self.shape()
    }
    fn write_npy_data(&self, out: &mut dyn Write) -> std::io::Result<()> {
        fn one<T: NpyElement>(a: &LogicalArray, out: &mut dyn Write) -> std::io::Result<()> {
            a.as_array::<T>().map_or(Ok(()), |a| data(out, a))
        }
        dispatch!(self.dtype(), one(self, out))
    }
}

/// numpy's size in bytes of one element of `dtype` (`itemsize`).
#[must_use]
pub fn itemsize(dtype: LogicalDType) -> usize {
    fn size<T: NpyElement>() -> usize {
        std::mem::size_of::<T>()
    }
    dispatch!(dtype, size())
}

/// The element type and shape of an `.npy` file, from its header only.
///
/// # Errors
/// As [`read_values`].
pub fn peek(path: &Path) -> Result<(LogicalDType, Vec<usize>)> {
    let (o, dtype) = in_file(path, open(path))?;
    Ok((dtype, o.shape))
}

/// Reads an `.npy` file of any of the twelve element types ([`LogicalDType`]).
///
/// # Errors
/// The file cannot be read, is not a valid `.npy` file, or holds another dtype; the
/// message names the file.
pub fn read_values(path: &Path) -> Result<LogicalArray> {
    read(path, None, None)
}

/// Reads rows `rows` of the first axis of an `.npy` array (a 1-d array is one row:
/// `0..1` reads it whole). In a C-order file only those rows' bytes are read,
/// after one seek; a Fortran-order file is read whole and sliced. Each MPI rank of
/// `flacarray compress` reads its own rows this way.
///
/// # Errors
/// As [`read_values`]; also when `rows` is not inside the first axis.
pub fn read_values_rows(path: &Path, rows: Range<usize>) -> Result<LogicalArray> {
    read(path, Some(rows), None)
}

/// [`read_values_rows`] into the memory of `spare` (an array read before, of any
/// shape; used when its element type is the file's), so that reading block after
/// block writes into pages already mapped rather than fresh ones.
///
/// # Errors
/// As [`read_values_rows`].
pub fn read_values_rows_into(
    path: &Path,
    rows: Range<usize>,
    spare: Option<LogicalArray>,
) -> Result<LogicalArray> {
    read(path, Some(rows), spare)
}

/// About how many bytes of values [`compress_file`] reads per block: large enough
/// that a block's streams keep every core busy to its end (blocks of a few streams
/// leave a thread idle while the last one is encoded: 2 MiB blocks made a 2-thread
/// compress 7-11% slower), small enough to stay in the range of sizes the allocator
/// recycles instead of returning to the system (so a block does not pay for fresh
/// pages).
pub const BLOCK_BYTES: usize = 8 << 20;

/// About how many bytes of values `store::Store::decompress_npy` decodes per block.
/// Smaller than [`BLOCK_BYTES`]: a stream decodes in well under half the time it
/// takes to encode, so the idle end of a small block is short, while the first
/// blocks' outputs are memory touched for the first time (about two blocks' worth
/// of page faults per run before the allocator recycles them).
/// Against 8 MiB blocks, a 64 MB int32 decode took 2,270 page faults instead of
/// 6,100, peak RSS 21 MiB instead of 30, and 12-15% less time on one thread, 5-8% on
/// two (`farm-bench`, 21-31 alternating pairs).
pub const DECODE_BLOCK_BYTES: usize = 2 << 20;

/// Why [`compress_file`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompressError {
    /// The file could not be read (the message names it).
    #[error(transparent)]
    Read(#[from] Error),
    /// The data could not be compressed.
    #[error(transparent)]
    Compress(#[from] crate::Error),
}

/// Compresses the `.npy` file `path` with [`crate::FlacArray::from_row_blocks`]: rows
/// of the first axis are read (one seek each, [`read_values_rows`]) about
/// [`BLOCK_BYTES`] at a time, the next block while the current one is compressed
/// when there are two threads, so the whole input is never in memory. The result
/// equals [`crate::FlacArray::from_values`] of [`read_values`].
///
/// ```
/// use flacarray::{CompressOptions, FlacArray, LogicalArray};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.npy");
/// let a = ndarray::Array2::from_shape_fn((3, 100), |(i, j)| (i * 100 + j) as u16).into_dyn();
/// let mut f = std::fs::File::create(&path)?;
/// flacarray::npy::write_to(&mut f, &LogicalArray::Uint16(a.clone()))?;
/// let opts = CompressOptions::default();
/// let fa = flacarray::npy::compress_file(&path, &opts, None)?;
/// assert_eq!(fa, FlacArray::from_values(&LogicalArray::Uint16(a), &opts, None)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`CompressError::Read`] as [`read_values_rows`], [`CompressError::Compress`] as
/// [`crate::FlacArray::from_values`] (a stream is named by its index in the whole
/// array).
pub fn compress_file(
    path: &Path,
    opts: &crate::CompressOptions,
    progress: Option<flacarray_core::Progress<'_>>,
) -> Result<crate::FlacArray, CompressError> {
    let (dtype, shape) = peek(path)?;
    let row_bytes = shape
        .iter()
        .skip(1)
        .product::<usize>()
        .saturating_mul(itemsize(dtype))
        .max(1);
    let rows = (BLOCK_BYTES / row_bytes).max(1);
    crate::FlacArray::from_row_blocks(&shape, rows, opts, progress, |r, spare| {
        read_values_rows_into(path, r, spare).map_err(CompressError::Read)
    })
}

/// Reads an `.npy` file of `int32`, `int64`, `float32` or `float64` values.
///
/// # Errors
/// As [`read_values`]; also for the other element types.
pub fn read_array(path: &Path) -> Result<DecodedArray> {
    in_file(path, stored(read(path, None, None)))
}

/// [`read_values_rows`] of an `.npy` file of one of the four stored types.
///
/// # Errors
/// As [`read_values_rows`]; also for the other element types.
pub fn read_rows(path: &Path, rows: Range<usize>) -> Result<DecodedArray> {
    in_file(path, stored(read(path, Some(rows), None)))
}

/// The array as its stored type, if it is one of the four.
fn stored(a: Result<LogicalArray>) -> Result<DecodedArray> {
    Ok(match a? {
        LogicalArray::Int32(a) => DecodedArray::Int32(a),
        LogicalArray::Int64(a) => DecodedArray::Int64(a),
        LogicalArray::Float32(a) => DecodedArray::Float32(a),
        LogicalArray::Float64(a) => DecodedArray::Float64(a),
        other => bail!(
            "dtype {} is not supported here (int32, int64, float32 and float64 are)",
            other.dtype()
        ),
    })
}

/// Rows `rows` (all without) of an `.npy` file of one of the twelve types.
fn read(
    path: &Path,
    rows: Option<Range<usize>>,
    spare: Option<LogicalArray>,
) -> Result<LogicalArray> {
    fn typed_any<T: NpyElement>(
        o: Opened,
        rows: Option<Range<usize>>,
        spare: Option<LogicalArray>,
    ) -> Result<LogicalArray> {
        let reuse = spare
            .and_then(|s| T::from_logical(s).ok())
            .map(|a| a.into_raw_vec_and_offset().0)
            .unwrap_or_default();
        Ok(T::into_logical(typed(o, rows, reuse)?))
    }
    in_file(
        path,
        open(path).and_then(|(o, dtype)| dispatch!(dtype, typed_any(o, rows, spare))),
    )
}

/// Opens an `.npy` file of one of the twelve types past its header.
fn open(path: &Path) -> Result<(Opened, LogicalDType)> {
    let o = open_any(path)?;
    let npyz::DType::Plain(ts) = o.header.dtype() else {
        bail!("structured or array dtypes are not supported");
    };
    let dtype = match (ts.type_char(), ts.num_bytes()) {
        (TypeChar::Bool, Some(1)) => LogicalDType::Bool,
        (TypeChar::Int, Some(1)) => LogicalDType::Int8,
        (TypeChar::Int, Some(2)) => LogicalDType::Int16,
        (TypeChar::Int, Some(4)) => LogicalDType::Int32,
        (TypeChar::Int, Some(8)) => LogicalDType::Int64,
        (TypeChar::Uint, Some(1)) => LogicalDType::Uint8,
        (TypeChar::Uint, Some(2)) => LogicalDType::Uint16,
        (TypeChar::Uint, Some(4)) => LogicalDType::Uint32,
        (TypeChar::Uint, Some(8)) => LogicalDType::Uint64,
        (TypeChar::Float, Some(2)) => LogicalDType::Float16,
        (TypeChar::Float, Some(4)) => LogicalDType::Float32,
        (TypeChar::Float, Some(8)) => LogicalDType::Float64,
        _ => bail!(
            "dtype {ts} is not supported (flacarray stores bool, int8/16/32/64, \
             uint8/16/32/64 and float16/32/64)"
        ),
    };
    Ok((o, dtype))
}

/// Opens an `.npy` file of any dtype past its header, once [`prescan`] and the
/// element size have shown that the data section fits in the file.
fn open_any(path: &Path) -> Result<Opened> {
    let mut file = File::open(path).context("cannot open")?;
    let file_len = file.metadata().context("cannot read its size")?.len();
    prescan(&mut file, file_len)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let header = NpyHeader::from_reader(&mut reader).context("not a valid .npy file")?;
    let data_start = reader.stream_position().context("cannot seek")?;
    let bytes = header.dtype().num_bytes().unwrap_or(usize::MAX);
    check_data_size(header.shape(), bytes, data_start, file_len)?;
    let shape = header
        .shape()
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| Error::Invalid(format!("dimension {d} too large")))
        })
        .collect::<Result<_>>()?;
    Ok(Opened {
        header,
        reader,
        shape,
    })
}

/// Reads the header's length and `shape` before npyz parses them and checks that the
/// header, and the elements at one byte each at least, fit in the file: afterwards no
/// product of dimensions can overflow `u64`. A header this cannot parse is left to
/// npyz, which reports it. Leaves the file at its start.
fn prescan(file: &mut File, file_len: u64) -> Result<()> {
    let mut pre = [0u8; 12];
    let n = file.read(&mut pre).context("cannot read")?;
    let (len, start) = match (&pre[..n.min(6)], pre.get(6)) {
        (b"\x93NUMPY", Some(1)) if n >= 10 => (u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10),
        (b"\x93NUMPY", Some(2 | 3)) if n >= 12 => (
            u64::from(u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]])),
            12,
        ),
        _ => return file.rewind().context("cannot seek"),
    };
    if start + len > file_len {
        bail!("not a valid .npy file: the header is longer than the file");
    }
    file.seek(SeekFrom::Start(start)).context("cannot seek")?;
    // Bounded by the file size, checked above.
    let len_usize =
        usize::try_from(len).map_err(|_| Error::Invalid("header too large".to_owned()))?;
    let mut text = vec![0u8; len_usize];
    file.read_exact(&mut text).context("cannot read")?;
    file.rewind().context("cannot seek")?;
    match shape_of_header(&String::from_utf8_lossy(&text)) {
        Some(shape) => check_data_size(&shape, 1, start + len, file_len),
        None => Ok(()),
    }
}

/// The integers of the `'shape': (...)` tuple of a header dictionary.
fn shape_of_header(text: &str) -> Option<Vec<u64>> {
    let at = text.find("'shape'").or_else(|| text.find("\"shape\""))?;
    let rest = &text[at..];
    let open = rest.find('(')?;
    let close = rest[open..].find(')')? + open;
    rest[open + 1..close]
        .split(',')
        .map(|t| t.trim().trim_end_matches('L'))
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<u64>().ok())
        .collect()
}

/// Checks, before anything is allocated, that the data section the header describes
/// (`shape` elements of `elem_bytes` bytes from byte `data_start`) fits in the file's
/// `file_len` bytes. The element count is computed in `u128` with checked products, so
/// a hostile header such as shape `(2^64-1, 2)` is an error, not an overflow.
fn check_data_size(shape: &[u64], elem_bytes: usize, data_start: u64, file_len: u64) -> Result<()> {
    let elems = shape
        .iter()
        .try_fold(1u128, |acc, &d| acc.checked_mul(u128::from(d)));
    let need = elems.and_then(|n| n.checked_mul(elem_bytes as u128));
    let have = u128::from(file_len.saturating_sub(data_start));
    match need {
        Some(n) if n <= have => Ok(()),
        _ => bail!(
            "file is shorter than its header says: shape {} of {elem_bytes}-byte elements \
             needs {} data bytes, the file has {have}",
            crate::fmt_shape(shape),
            need.map_or_else(|| "more than 2^128".to_owned(), |n| n.to_string()),
        ),
    }
}

/// Rows `rows` of the first axis (all without, or of a 0-d or 1-d array) as `T`, in
/// C order: straight into the buffer when `T` is a plain number and the file is in
/// the machine's byte order, else through npyz's element reader.
fn typed<T: NpyElement>(o: Opened, rows: Option<Range<usize>>, reuse: Vec<T>) -> Result<ArrayD<T>> {
    let Opened {
        header,
        mut reader,
        mut shape,
    } = o;
    let n_rows = if shape.len() < 2 { 1 } else { shape[0] };
    let rows = rows.unwrap_or(0..n_rows);
    if rows.start > rows.end || rows.end > n_rows {
        bail!(
            "rows {}..{} are outside the {n_rows} rows",
            rows.start,
            rows.end
        );
    }
    // `open_any` checked the whole data section against the file size: no product of
    // dimensions below overflows, and the rows' bytes lie inside the file.
    let order = header.order();
    let whole = shape.len() < 2 || order == Order::Fortran;
    let row_elems: usize = shape.iter().skip(usize::from(!whole)).product();
    let (skip, n) = if whole {
        (0, row_elems)
    } else {
        (rows.start * row_elems, rows.len() * row_elems)
    };
    let item = header.dtype().num_bytes().unwrap_or(0);
    reader
        .seek_relative((skip * item) as i64)
        .context("cannot seek")?;
    let native = matches!(header.dtype(), npyz::DType::Plain(ts)
        if ts.endianness() == npyz::Endianness::of_machine());
    let fast = if native {
        T::read_native(&mut reader, n, reuse)
    } else {
        None
    };
    let v = match fast {
        Some(v) => v?,
        None => {
            let descr = header.dtype().descr();
            NpyFile::with_header(header, reader)
                .data::<T>()
                .map_err(|e| Error::Invalid(format!("cannot read dtype {descr}: {e}")))?
                .take(n)
                .collect::<std::io::Result<Vec<T>>>()
                .context("file is shorter than its header says")?
        }
    };
    if !whole {
        shape[0] = rows.len();
        return ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(misfit);
    }
    let a = match order {
        Order::C => ArrayD::from_shape_vec(IxDyn(&shape), v),
        Order::Fortran => ArrayD::from_shape_vec(IxDyn(&shape).f(), v),
    }
    .map_err(misfit)?;
    // One copy at most, and none for a C-order 1-d array (one long stream): that copy
    // alone would add the whole input to the peak memory of `compress`.
    if shape.len() >= 2 && rows != (0..shape[0]) {
        return Ok(a
            .slice_axis(Axis(0), Slice::from(rows))
            .as_standard_layout()
            .into_owned());
    }
    if a.is_standard_layout() {
        return Ok(a);
    }
    Ok(a.as_standard_layout().into_owned())
}

fn misfit(e: ndarray::ShapeError) -> Error {
    Error::Invalid(format!("data does not fit the shape: {e}"))
}

/// `n` elements in the machine's byte order, read straight into the typed buffer.
fn read_native<T: bytemuck::Pod>(
    reader: &mut BufReader<File>,
    n: usize,
    reuse: Vec<T>,
) -> Result<Vec<T>> {
    let mut v = reuse;
    // Cut or grown to `n` (only the growth is zeroed): the read overwrites all of it,
    // so the values of the block it held before do not survive.
    v.resize(n, T::zeroed());
    reader
        .read_exact(bytemuck::cast_slice_mut(&mut v))
        .context("file is shorter than its header says")?;
    Ok(v)
}

/// Reads an `.npy` file of booleans (a keep mask).
///
/// # Errors
/// As [`read_values`]; also when the dtype is not `bool`.
pub fn read_bool(path: &Path) -> Result<ArrayD<bool>> {
    in_file(
        path,
        open_any(path).and_then(|o| typed(o, None, Vec::new())),
    )
}

/// Reads an `.npy` file of numbers of any of the four stored types as `f64` (for
/// per-stream quanta).
///
/// # Errors
/// As [`read_array`].
pub fn read_f64(path: &Path) -> Result<ArrayD<f64>> {
    Ok(match read_array(path)? {
        // Integer quanta or precisions are small; the conversion is exact below 2^53.
        DecodedArray::Int32(a) => a.mapv(f64::from),
        DecodedArray::Int64(a) => a.mapv(|v| v as f64),
        DecodedArray::Float32(a) => a.mapv(f64::from),
        DecodedArray::Float64(a) => a,
    })
}

/// The numpy little-endian type string of an element type (`<i4`, `|u1`, `<f2`, ...).
#[must_use]
pub fn descr(dtype: impl Into<LogicalDType>) -> &'static str {
    fn d<T: NpyElement>() -> &'static str {
        T::DESCR
    }
    dispatch!(dtype.into(), d())
}

/// The most dimensions written: numpy's own limit (`NPY_MAXDIMS`). npyz 0.8 panics on
/// a header longer than 65535 bytes (thousands of dimensions): it keeps version 1.0,
/// whose length field is 16-bit.
const MAX_DIMS: usize = 64;

/// The `.npy` header of a little-endian C-order array of `dtype` and `shape`.
///
/// # Errors
/// More than 64 dimensions.
pub fn header(dtype: impl Into<LogicalDType>, shape: &[usize]) -> Result<Vec<u8>> {
    dispatch!(dtype.into(), header_of(shape))
}

fn header_of<T: NpyElement>(shape: &[usize]) -> Result<Vec<u8>> {
    if shape.len() > MAX_DIMS {
        bail!(
            "{} dimensions: an .npy file holds at most {MAX_DIMS}",
            shape.len()
        );
    }
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let dtype = npyz::DType::Plain(
        T::DESCR
            .parse()
            .map_err(|e| Error::Invalid(format!("type string: {e}")))?,
    );
    let mut out = Vec::new();
    // npyz writes the header when the writer begins; dropped before any element, the
    // writer reports the missing ones only from `finish`, which is not called.
    drop(
        npyz::WriteOptions::<T>::new()
            .dtype(dtype)
            .shape(&shape)
            .writer(&mut out)
            .begin_nd()
            .context("cannot write")?,
    );
    Ok(out)
}

/// Writes `arr` as a little-endian C-order `.npy` file to `out`.
///
/// # Errors
/// Any I/O error; more than 64 dimensions.
pub fn write_to(out: &mut dyn Write, arr: &(impl NpyData + ?Sized)) -> Result<()> {
    out.write_all(&header(arr.npy_dtype(), arr.npy_shape())?)
        .context("cannot write")?;
    arr.write_npy_data(out).context("cannot write")
}

fn data<T: NpyElement>(out: &mut dyn Write, a: &ArrayD<T>) -> std::io::Result<()> {
    if cfg!(target_endian = "little")
        && let Some(b) = a.as_slice().and_then(T::native_bytes)
    {
        return out.write_all(b);
    }
    let dtype = npyz::DType::Plain(T::DESCR.parse().map_err(std::io::Error::other)?);
    let w = T::writer(&dtype).map_err(std::io::Error::other)?;
    let mut out = BufWriter::new(out);
    a.iter().try_for_each(|v| w.write_one(&mut out, v))?;
    out.flush()
}

/// Writes the elements of `arr` (C order, little-endian, no header) at byte `offset`
/// of the existing file `path`: one MPI rank's slab of a `.npy` file whose header and
/// size another rank has set. Returns the file, flushed, for the caller to sync if it
/// wants durability.
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write_slab_at(path: &Path, offset: u64, arr: &(impl NpyData + ?Sized)) -> Result<File> {
    in_file(
        path,
        (|| -> Result<File> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .context("cannot open for writing")?;
            file.seek(SeekFrom::Start(offset)).context("cannot seek")?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            arr.write_npy_data(&mut w).context("cannot write")?;
            into_file(w)
        })(),
    )
}

/// Writes `arr` as an `.npy` file to the new file `path` (an existing one is an
/// error). Returns the file, flushed, for the caller to sync if it wants durability.
/// Writing to a temporary name and renaming it is the caller's part.
///
/// # Errors
/// Any I/O error (not naming the file: the caller knows its final name).
pub fn create_file(path: &Path, arr: &(impl NpyData + ?Sized)) -> Result<File> {
    let file = File::create_new(path).context("cannot create")?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    write_to(&mut w, arr)?;
    into_file(w)
}

/// Flushes `w` and returns its file.
fn into_file(w: BufWriter<File>) -> Result<File> {
    w.into_inner()
        .map_err(|e| e.into_error())
        .context("cannot write")
}
