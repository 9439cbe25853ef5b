//! Reading and writing numpy `.npy` files of the four element types flacarray stores
//! (`int32`, `int64`, `float32`, `float64`) and boolean masks, through [`npyz`].
//!
//! Any byte order and Fortran order are read (and laid out in C order); files are
//! written little-endian in C order. Before npyz sees a header, `prescan` checks the
//! header's length and shape against the file size: npyz allocates the header text
//! from its length field and multiplies the dimensions unchecked.
//!
//! npyz reads and writes one element at a time; for the common case, data in the
//! machine's byte order, the data section is instead read with one `read_exact` into
//! the typed buffer and written with one `write_all` of it (npyz still writes the
//! header). Measured on a 64 MiB int32 array, element by element made `flacarray
//! decompress` about 2x and `flacarray compress --level 0` about 1.35x slower.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use flacarray::{DType, DecodedArray, Element};
use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder, Slice};
use npyz::{Deserialize, NpyFile, NpyHeader, Order, Serialize, TypeChar, TypeWrite, WriterBuilder};

/// An `.npy` file opened past its header.
struct Opened {
    header: NpyHeader,
    /// At the first data byte.
    reader: BufReader<File>,
    shape: Vec<usize>,
}

/// Reads `n` elements in the machine's byte order straight into the typed buffer.
type FastRead<T> = fn(&mut BufReader<File>, usize) -> Result<Vec<T>>;

/// The dtype and shape of an `.npy` file, from its header only.
///
/// # Errors
/// As [`read_array`].
pub fn peek(path: &Path) -> Result<(DType, Vec<usize>)> {
    let (o, dtype) = open(path).with_context(|| path.display().to_string())?;
    Ok((dtype, o.shape))
}

/// Reads an `.npy` file of `int32`, `int64`, `float32` or `float64` values.
///
/// # Errors
/// The file cannot be read, is not a valid `.npy` file, or holds another dtype; the
/// message names the file.
pub fn read_array(path: &Path) -> Result<DecodedArray> {
    read(path, None)
}

/// Reads rows `rows` of the first axis of an `.npy` array (a 1-d array is one row:
/// `0..1` reads it whole). In a C-order file only those rows' bytes are read,
/// after one seek; a Fortran-order file is read whole and sliced. Each MPI rank of
/// `flacarray compress` reads its own rows this way.
///
/// # Errors
/// As [`read_array`]; also when `rows` is not inside the first axis.
pub fn read_rows(path: &Path, rows: Range<usize>) -> Result<DecodedArray> {
    read(path, Some(rows))
}

/// Rows `rows` (all without) of an `.npy` file of one of the four stored types.
fn read(path: &Path, rows: Option<Range<usize>>) -> Result<DecodedArray> {
    (|| -> Result<DecodedArray> {
        let (o, dtype) = open(path)?;
        Ok(match dtype {
            DType::Int32 => DecodedArray::Int32(typed(o, rows, Some(read_native))?),
            DType::Int64 => DecodedArray::Int64(typed(o, rows, Some(read_native))?),
            DType::Float32 => DecodedArray::Float32(typed(o, rows, Some(read_native))?),
            DType::Float64 => DecodedArray::Float64(typed(o, rows, Some(read_native))?),
        })
    })()
    .with_context(|| path.display().to_string())
}

/// Opens an `.npy` file of one of the four stored types past its header.
fn open(path: &Path) -> Result<(Opened, DType)> {
    let o = open_any(path)?;
    let npyz::DType::Plain(ts) = o.header.dtype() else {
        bail!("structured or array dtypes are not supported");
    };
    let dtype = match (ts.type_char(), ts.num_bytes()) {
        (TypeChar::Int, Some(4)) => DType::Int32,
        (TypeChar::Int, Some(8)) => DType::Int64,
        (TypeChar::Float, Some(4)) => DType::Float32,
        (TypeChar::Float, Some(8)) => DType::Float64,
        _ => bail!(
            "dtype {ts} is not supported (flacarray stores int32, int64, float32 and float64)"
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
        .map(|&d| usize::try_from(d).map_err(|_| anyhow!("dimension {d} too large")))
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
    let mut text = vec![0u8; usize::try_from(len).context("header too large")?];
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
            flacarray::fmt_shape(shape),
            need.map_or_else(|| "more than 2^128".to_owned(), |n| n.to_string()),
        ),
    }
}

/// Rows `rows` of the first axis (all without, or of a 0-d or 1-d array) as `T`, in
/// C order: through `fast` when given and the file is in the machine's byte order,
/// else through npyz's element reader.
fn typed<T: Deserialize + Clone>(
    o: Opened,
    rows: Option<Range<usize>>,
    fast: Option<FastRead<T>>,
) -> Result<ArrayD<T>> {
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
    let v = match fast {
        Some(read) if native => read(&mut reader, n)?,
        _ => {
            let descr = header.dtype().descr();
            NpyFile::with_header(header, reader)
                .data::<T>()
                .map_err(|e| anyhow!("cannot read dtype {descr}: {e}"))?
                .take(n)
                .collect::<std::io::Result<Vec<T>>>()
                .context("file is shorter than its header says")?
        }
    };
    if !whole {
        shape[0] = rows.len();
        return ArrayD::from_shape_vec(IxDyn(&shape), v).context("data does not fit the shape");
    }
    let a = match order {
        Order::C => ArrayD::from_shape_vec(IxDyn(&shape), v),
        Order::Fortran => ArrayD::from_shape_vec(IxDyn(&shape).f(), v),
    }
    .context("data does not fit the shape")?;
    let a = if shape.len() < 2 {
        a
    } else {
        a.slice_axis(Axis(0), Slice::from(rows)).to_owned()
    };
    Ok(a.as_standard_layout().into_owned())
}

/// `n` elements in the machine's byte order, read straight into the typed buffer.
fn read_native<T: bytemuck::Pod>(reader: &mut BufReader<File>, n: usize) -> Result<Vec<T>> {
    let mut v = vec![T::zeroed(); n];
    reader
        .read_exact(bytemuck::cast_slice_mut(&mut v))
        .context("file is shorter than its header says")?;
    Ok(v)
}

/// Reads an `.npy` file of booleans (a keep mask).
///
/// # Errors
/// As [`read_array`]; also when the dtype is not `bool`.
pub fn read_bool(path: &Path) -> Result<ArrayD<bool>> {
    open_any(path)
        .and_then(|o| typed(o, None, None))
        .with_context(|| path.display().to_string())
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

/// The numpy little-endian type string of a dtype (`<i4`, `<i8`, `<f4`, `<f8`).
#[must_use]
pub fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::Int32 => "<i4",
        DType::Int64 => "<i8",
        DType::Float32 => "<f4",
        DType::Float64 => "<f8",
    }
}

/// The most dimensions written: numpy's own limit (`NPY_MAXDIMS`). npyz 0.8 panics on
/// a header longer than 65535 bytes (thousands of dimensions): it keeps version 1.0,
/// whose length field is 16-bit.
const MAX_DIMS: usize = 64;

/// The `.npy` header of a little-endian C-order array of `dtype` and `shape`.
///
/// # Errors
/// More than 64 dimensions.
pub fn header(dtype: DType, shape: &[usize]) -> Result<Vec<u8>> {
    match dtype {
        DType::Int32 => header_of::<i32>(shape),
        DType::Int64 => header_of::<i64>(shape),
        DType::Float32 => header_of::<f32>(shape),
        DType::Float64 => header_of::<f64>(shape),
    }
}

fn header_of<T: Serialize + Element>(shape: &[usize]) -> Result<Vec<u8>> {
    if shape.len() > MAX_DIMS {
        bail!(
            "{} dimensions: an .npy file holds at most {MAX_DIMS}",
            shape.len()
        );
    }
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let dtype = npyz::DType::Plain(descr(T::DTYPE).parse().context("type string")?);
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
pub fn write_to(out: &mut dyn Write, arr: &DecodedArray) -> Result<()> {
    out.write_all(&header(arr.dtype(), arr.shape())?)
        .context("cannot write")?;
    write_data(out, arr).context("cannot write")
}

/// The elements of `arr`, little-endian in C order (an `.npy` data section).
fn write_data(out: &mut dyn Write, arr: &DecodedArray) -> std::io::Result<()> {
    match arr {
        DecodedArray::Int32(a) => data(out, a),
        DecodedArray::Int64(a) => data(out, a),
        DecodedArray::Float32(a) => data(out, a),
        DecodedArray::Float64(a) => data(out, a),
    }
}

fn data<T>(out: &mut dyn Write, a: &ArrayD<T>) -> std::io::Result<()>
where
    T: Serialize + Element + bytemuck::Pod,
{
    if cfg!(target_endian = "little")
        && let Some(s) = a.as_slice()
    {
        return out.write_all(bytemuck::cast_slice(s));
    }
    let dtype = npyz::DType::Plain(descr(T::DTYPE).parse().map_err(std::io::Error::other)?);
    let w = T::writer(&dtype).map_err(std::io::Error::other)?;
    let mut out = BufWriter::new(out);
    a.iter().try_for_each(|v| w.write_one(&mut out, v))?;
    out.flush()
}

/// Writes the elements of `arr` (C order, little-endian, no header) at byte `offset`
/// of the existing file `path`: one MPI rank's slab of a `.npy` file whose header and
/// size another rank has set.
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write_slab_at(path: &Path, offset: u64, arr: &DecodedArray) -> Result<()> {
    (|| -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .context("cannot open for writing")?;
        file.seek(SeekFrom::Start(offset)).context("cannot seek")?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write_data(&mut w, arr).context("cannot write")?;
        finish(w)
    })()
    .with_context(|| path.display().to_string())
}

/// Writes `arr` as an `.npy` file at `path` through a temporary file and a rename.
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write_file(path: &Path, arr: &DecodedArray) -> Result<()> {
    crate::output::with_temp_path(path, |tmp| {
        let file = File::create_new(tmp).context("cannot create")?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write_to(&mut w, arr)?;
        finish(w)
    })
}

/// Flushes `w` and, when asked, syncs the file to the storage device.
fn finish(w: BufWriter<File>) -> Result<()> {
    let file = w
        .into_inner()
        .map_err(|e| e.into_error())
        .context("cannot write")?;
    crate::output::sync_if_asked(&file).context("cannot write")
}
