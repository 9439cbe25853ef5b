//! Reading and writing numpy `.npy` files of the four element types flacarray stores
//! (`int32`, `int64`, `float32`, `float64`) and boolean masks.
//!
//! The data section is read with one `read_exact` straight into the typed buffer when
//! the file's byte order is the machine's (the common case), so a large input is read
//! once and not copied; other byte orders go through [`npyz`]'s element reader.
//! Fortran-ordered files are accepted and laid out in C order.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use flacarray_core::{DType, DecodedArray};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use npyz::{Deserialize, Endianness, NpyHeader, Order, TypeChar};

/// The dtype and shape of an `.npy` file, from its header only.
///
/// # Errors
/// As [`read_array`].
pub fn peek(path: &Path) -> Result<(DType, Vec<usize>)> {
    let o = open_npy(path).with_context(|| path.display().to_string())?;
    Ok((o.dtype, o.shape))
}

/// Reads an `.npy` file of `int32`, `int64`, `float32` or `float64` values.
///
/// # Errors
/// The file cannot be read, is not a valid `.npy` file, or holds another dtype; the
/// message names the file.
pub fn read_array(path: &Path) -> Result<DecodedArray> {
    open_npy(path)
        .and_then(read_opened)
        .with_context(|| path.display().to_string())
}

/// An `.npy` file opened past its header: the reader at the first data byte, the
/// header and what follows from it.
struct Opened {
    reader: BufReader<File>,
    header: NpyHeader,
    dtype: DType,
    /// Bytes per element.
    bytes: usize,
    /// Stored in the machine's byte order (the data can be read as is).
    native: bool,
    shape: Vec<usize>,
}

fn open_npy(path: &Path) -> Result<Opened> {
    let mut file = File::open(path).context("cannot open")?;
    let file_len = file.metadata().context("cannot read its size")?.len();
    prescan(&mut file, file_len)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let header = NpyHeader::from_reader(&mut reader).context("not a valid .npy file")?;
    let npyz::DType::Plain(ts) = header.dtype() else {
        bail!("structured or array dtypes are not supported");
    };
    let bytes = ts.num_bytes().unwrap_or(0);
    let dtype = match (ts.type_char(), bytes) {
        (TypeChar::Int, 4) => DType::Int32,
        (TypeChar::Int, 8) => DType::Int64,
        (TypeChar::Float, 4) => DType::Float32,
        (TypeChar::Float, 8) => DType::Float64,
        _ => bail!(
            "dtype {ts} is not supported (flacarray stores int32, int64, float32 and float64)"
        ),
    };
    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| anyhow!("dimension {d} too large")))
        .collect::<Result<_>>()?;
    let data_start = reader.stream_position().context("cannot seek")?;
    check_data_size(header.shape(), bytes, data_start, file_len)?;
    Ok(Opened {
        reader,
        dtype,
        bytes,
        native: ts.endianness() == Endianness::of_machine(),
        header,
        shape,
    })
}

/// Reads the header's `shape` before npyz parses it (npyz multiplies the dimensions
/// without checking for overflow) and checks that the elements, at one byte each at
/// least, fit in the file: afterwards no product of dimensions can overflow `u64`.
/// A header this cannot parse is left to npyz, which reports it. Leaves the file at
/// its start.
fn prescan(file: &mut File, file_len: u64) -> Result<()> {
    let mut pre = [0u8; 12];
    let n = file.read(&mut pre).context("cannot read")?;
    let (len, start) = match (&pre[..n.min(6)], pre.get(6)) {
        (b"\x93NUMPY", Some(1)) if n >= 10 => (u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10),
        (b"\x93NUMPY", Some(2 | 3)) if n >= 12 => (
            u64::from(u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]])),
            12,
        ),
        _ => {
            file.seek(SeekFrom::Start(0)).context("cannot seek")?;
            return Ok(());
        }
    };
    if start + len > file_len {
        bail!("not a valid .npy file: the header is longer than the file");
    }
    file.seek(SeekFrom::Start(start)).context("cannot seek")?;
    // Bounded by the file size, checked above.
    let mut text = vec![0u8; usize::try_from(len).context("header too large")?];
    file.read_exact(&mut text).context("cannot read")?;
    file.seek(SeekFrom::Start(0)).context("cannot seek")?;
    let text = String::from_utf8_lossy(&text);
    let Some(shape) = shape_of_header(&text) else {
        return Ok(());
    };
    check_data_size(&shape, 1, start + len, file_len)
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
            flacarray_core::fmt_shape(shape),
            need.map_or_else(|| "more than 2^128".to_owned(), |n| n.to_string()),
        ),
    }
}

/// The whole data section of an opened file.
fn read_opened(o: Opened) -> Result<DecodedArray> {
    let Opened {
        reader,
        header,
        dtype,
        native,
        shape,
        ..
    } = o;
    let order = header.order();
    Ok(match dtype {
        DType::Int32 => DecodedArray::Int32(typed(header, reader, &shape, order, native)?),
        DType::Int64 => DecodedArray::Int64(typed(header, reader, &shape, order, native)?),
        DType::Float32 => DecodedArray::Float32(typed(header, reader, &shape, order, native)?),
        DType::Float64 => DecodedArray::Float64(typed(header, reader, &shape, order, native)?),
    })
}

/// Reads rows `rows` of the first axis of an `.npy` array (a 1-d array is one row:
/// `0..1` reads it whole). For a C-order file in the machine's byte order only those
/// rows' bytes are read, after one seek; other layouts are read whole and sliced.
/// Each MPI rank of `flacarray compress` reads its own rows this way.
///
/// # Errors
/// As [`read_array`]; also when `rows` is not inside the first axis.
pub fn read_rows(path: &Path, rows: Range<usize>) -> Result<DecodedArray> {
    read_rows_inner(path, rows).with_context(|| path.display().to_string())
}

fn read_rows_inner(path: &Path, rows: Range<usize>) -> Result<DecodedArray> {
    let mut o = open_npy(path)?;
    let n_rows = if o.shape.len() < 2 { 1 } else { o.shape[0] };
    if rows.start > rows.end || rows.end > n_rows {
        bail!(
            "rows {}..{} are outside the {n_rows} rows",
            rows.start,
            rows.end
        );
    }
    if o.shape.len() < 2 {
        return read_opened(o);
    }
    if !o.native || o.header.order() != Order::C {
        return Ok(match read_opened(o)? {
            DecodedArray::Int32(a) => DecodedArray::Int32(take_rows(&a, &rows)),
            DecodedArray::Int64(a) => DecodedArray::Int64(take_rows(&a, &rows)),
            DecodedArray::Float32(a) => DecodedArray::Float32(take_rows(&a, &rows)),
            DecodedArray::Float64(a) => DecodedArray::Float64(take_rows(&a, &rows)),
        });
    }
    let data_start = o.reader.stream_position().context("cannot seek")?;
    // `open_npy` checked that the whole data section fits the file, so no product of
    // dimensions below overflows.
    let row_elems: usize = o.shape[1..].iter().product();
    // Inside the file (checked when opened), so the offset fits u64.
    let skip = (rows.start * row_elems * o.bytes) as u64;
    o.reader
        .seek(SeekFrom::Start(data_start + skip))
        .context("cannot seek")?;
    let mut shape = o.shape.clone();
    shape[0] = rows.len();
    let n = rows.len() * row_elems;
    let r = &mut o.reader;
    Ok(match o.dtype {
        DType::Int32 => DecodedArray::Int32(c_order(read_native(r, n)?, &shape)?),
        DType::Int64 => DecodedArray::Int64(c_order(read_native(r, n)?, &shape)?),
        DType::Float32 => DecodedArray::Float32(c_order(read_native(r, n)?, &shape)?),
        DType::Float64 => DecodedArray::Float64(c_order(read_native(r, n)?, &shape)?),
    })
}

fn c_order<T>(v: Vec<T>, shape: &[usize]) -> Result<ArrayD<T>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).context("data does not fit the shape")
}

fn take_rows<T: Clone>(a: &ArrayD<T>, rows: &Range<usize>) -> ArrayD<T> {
    a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(rows.clone()))
        .to_owned()
}

/// `n` elements in the machine's byte order, read straight into the typed buffer.
fn read_native<T: bytemuck::Pod>(reader: &mut impl Read, n: usize) -> Result<Vec<T>> {
    let mut v = vec![T::zeroed(); n];
    reader
        .read_exact(bytemuck::cast_slice_mut(&mut v))
        .context("file is shorter than its header says")?;
    Ok(v)
}

/// Reads the data section as `T` and shapes it (C order).
fn typed<T>(
    header: NpyHeader,
    mut reader: impl Read,
    shape: &[usize],
    order: Order,
    native: bool,
) -> Result<ArrayD<T>>
where
    T: bytemuck::Pod + Deserialize + Clone,
{
    // `open_npy` checked the element count against the file size.
    let n: usize = shape.iter().product();
    let data: Vec<T> = if native {
        read_native(&mut reader, n)?
    } else {
        npyz::NpyFile::with_header(header, reader)
            .into_vec::<T>()
            .context("cannot read the data")?
    };
    let arr = match order {
        Order::C => ArrayD::from_shape_vec(IxDyn(shape), data),
        Order::Fortran => ArrayD::from_shape_vec(IxDyn(shape).f(), data),
    }
    .context("data does not fit the shape")?;
    Ok(if arr.is_standard_layout() {
        arr
    } else {
        arr.as_standard_layout().into_owned()
    })
}

/// Reads an `.npy` file of booleans (a keep mask).
///
/// # Errors
/// As [`read_array`]; also when the dtype is not `bool`.
pub fn read_bool(path: &Path) -> Result<ArrayD<bool>> {
    (|| -> Result<ArrayD<bool>> {
        let mut file = File::open(path).context("cannot open")?;
        let file_len = file.metadata().context("cannot read its size")?.len();
        prescan(&mut file, file_len)?;
        let mut reader = BufReader::new(file);
        let header = NpyHeader::from_reader(&mut reader).context("not a valid .npy file")?;
        let data_start = reader.stream_position().context("cannot seek")?;
        // Booleans are one byte each; other dtypes are refused below.
        check_data_size(header.shape(), 1, data_start, file_len)?;
        let npy = npyz::NpyFile::with_header(header, reader);
        let shape: Vec<usize> = npy
            .shape()
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| anyhow!("dimension {d} too large")))
            .collect::<Result<_>>()?;
        let order = npy.order();
        let dtype = npy.dtype().descr();
        let data = npy
            .into_vec::<bool>()
            .map_err(|e| anyhow!("expected a bool array, got dtype {dtype}: {e}"))?;
        let arr = match order {
            Order::C => ArrayD::from_shape_vec(IxDyn(&shape), data),
            Order::Fortran => ArrayD::from_shape_vec(IxDyn(&shape).f(), data),
        }
        .context("data does not fit the shape")?;
        Ok(arr.as_standard_layout().into_owned())
    })()
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

/// The `.npy` header of a C-order array: magic, version, header length and the
/// dictionary padded with spaces to a multiple of 64 bytes ending in a newline.
/// Version 1.0 (16-bit length) when the dictionary fits 65535 bytes, version 2.0
/// (32-bit length) otherwise, as numpy writes them.
#[must_use]
pub fn header_bytes(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    let padded = |preamble: usize| {
        // The preamble, the dictionary and a newline, to a multiple of 64.
        let unpadded = preamble + dict.len() + 1;
        let pad = (64 - unpadded % 64) % 64;
        let mut d = dict.clone();
        d.extend(std::iter::repeat_n(' ', pad));
        d.push('\n');
        d
    };
    let v1 = padded(10);
    let mut out = Vec::new();
    if let Ok(len) = u16::try_from(v1.len()) {
        out.extend_from_slice(b"\x93NUMPY\x01\x00");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(v1.as_bytes());
    } else {
        let v2 = padded(12);
        // A dictionary of 4 GiB would need 10^8 axes; numpy allows 64.
        let len = u32::try_from(v2.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(b"\x93NUMPY\x02\x00");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(v2.as_bytes());
    }
    out
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

/// Writes `arr` as a little-endian C-order `.npy` file to `out`.
///
/// # Errors
/// Any I/O error.
pub fn write_to(out: &mut dyn Write, arr: &DecodedArray) -> std::io::Result<()> {
    out.write_all(&header_bytes(descr(arr.dtype()), arr.shape()))?;
    match arr {
        DecodedArray::Int32(a) => write_data(out, a),
        DecodedArray::Int64(a) => write_data(out, a),
        DecodedArray::Float32(a) => write_data(out, a),
        DecodedArray::Float64(a) => write_data(out, a),
    }
}

/// Little-endian byte form of the four element types.
trait LeBytes: bytemuck::Pod {
    /// Appends the little-endian bytes.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! le_bytes {
    ($($t:ty),*) => {$(
        impl LeBytes for $t {
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
le_bytes!(i32, i64, f32, f64);

fn write_data<T: LeBytes>(out: &mut dyn Write, a: &ArrayD<T>) -> std::io::Result<()> {
    if cfg!(target_endian = "little")
        && let Some(s) = a.as_slice()
    {
        return out.write_all(bytemuck::cast_slice(s));
    }
    let mut buf = Vec::with_capacity(1 << 16);
    for &v in a {
        v.put_le(&mut buf);
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
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
        match arr {
            DecodedArray::Int32(a) => write_data(&mut w, a),
            DecodedArray::Int64(a) => write_data(&mut w, a),
            DecodedArray::Float32(a) => write_data(&mut w, a),
            DecodedArray::Float64(a) => write_data(&mut w, a),
        }
        .context("cannot write")?;
        let file = w
            .into_inner()
            .map_err(|e| e.into_error())
            .context("cannot write")?;
        crate::output::sync_if_asked(&file).context("cannot write")
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
        write_to(&mut w, arr).context("cannot write")?;
        let file = w
            .into_inner()
            .map_err(|e| e.into_error())
            .context("cannot write")?;
        crate::output::sync_if_asked(&file).context("cannot write")?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::{header_bytes, read_array, read_bool, read_rows, write_file, write_slab_at};
    use flacarray_core::DecodedArray;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn header_is_aligned_and_parsable() {
        let h = header_bytes("<f4", &[3, 4]);
        assert_eq!(h.len() % 64, 0);
        assert_eq!(h.last(), Some(&b'\n'));
        let parsed = npyz::NpyHeader::from_reader(&h[..]).expect("parses");
        assert_eq!(parsed.shape(), &[3, 4]);
        let h1 = header_bytes("<i8", &[7]);
        let parsed = npyz::NpyHeader::from_reader(&h1[..]).expect("parses");
        assert_eq!(parsed.shape(), &[7]);
    }

    #[test]
    fn long_header_uses_version_2() {
        // 30000 axes of length 1: the dictionary exceeds 65535 bytes.
        let shape = vec![1usize; 30_000];
        let h = header_bytes("<f8", &shape);
        assert_eq!(&h[6..8], &[2, 0]);
        assert_eq!(h.len() % 64, 0);
        let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
        assert_eq!(len + 12, h.len());
        let parsed = npyz::NpyHeader::from_reader(&h[..]).expect("parses");
        assert_eq!(parsed.shape().len(), 30_000);
        // A short one stays version 1.
        assert_eq!(&header_bytes("<f8", &[2, 3])[6..8], &[1, 0]);
    }

    #[test]
    fn hostile_shapes_are_refused_before_allocating() {
        let dir = tempfile::tempdir().expect("dir");
        for (shape, name) in [
            ("(18446744073709551615, 2)", "huge.npy"),
            ("(4, 1099511627776)", "tera.npy"),
        ] {
            let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
            let mut h = b"\x93NUMPY\x01\x00".to_vec();
            let body = format!("{dict:<117}\n");
            h.extend_from_slice(&u16::try_from(body.len()).expect("short").to_le_bytes());
            h.extend_from_slice(body.as_bytes());
            h.extend_from_slice(&[0u8; 64]);
            let p = dir.path().join(name);
            std::fs::write(&p, &h).expect("write");
            let e = read_array(&p).expect_err("refused");
            assert!(
                format!("{e:#}").contains("shorter than its header says"),
                "{e:#}"
            );
            let e = read_rows(&p, 0..1).expect_err("refused");
            assert!(
                format!("{e:#}").contains("shorter than its header says"),
                "{e:#}"
            );
            let e = super::peek(&p).expect_err("refused");
            assert!(format!("{e:#}").contains(name), "{e:#}");
        }
        let dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (4, 1099511627776), }";
        let body = format!("{dict:<117}\n");
        let mut h = b"\x93NUMPY\x01\x00".to_vec();
        h.extend_from_slice(&u16::try_from(body.len()).expect("short").to_le_bytes());
        h.extend_from_slice(body.as_bytes());
        let p = dir.path().join("mask.npy");
        std::fs::write(&p, &h).expect("write");
        let e = read_bool(&p).expect_err("refused");
        assert!(
            format!("{e:#}").contains("shorter than its header says"),
            "{e:#}"
        );
    }

    #[test]
    fn round_trip_all_types() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("a.npy");
        let a = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
            (i[0] * 100 + i[1] * 10 + i[2]) as i64 - 50
        });
        for arr in [
            DecodedArray::Int32(a.mapv(|v| v as i32)),
            DecodedArray::Int64(a.mapv(|v| v * 1_000_000_000_000)),
            DecodedArray::Float32(a.mapv(|v| v as f32 * 0.25)),
            DecodedArray::Float64(a.mapv(|v| v as f64 * 1e-3)),
        ] {
            write_file(&p, &arr).expect("write");
            assert_eq!(read_array(&p).expect("read"), arr);
        }
    }

    #[test]
    fn reads_fortran_order_and_big_endian_and_bools() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("f.npy");
        // A (2, 3) big-endian Fortran-order int32 array [[0,1,2],[3,4,5]].
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let mut dict = "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }".to_string();
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        for v in [0_i32, 3, 1, 4, 2, 5] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        std::fs::write(&p, bytes).expect("write");
        let got = read_array(&p).expect("read");
        assert_eq!(
            super::peek(&p).expect("header"),
            (flacarray_core::DType::Int32, vec![2, 3])
        );
        let want = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0, 1, 2, 3, 4, 5]).expect("shape");
        assert_eq!(got, DecodedArray::Int32(want));

        let q = dir.path().join("b.npy");
        npyz::to_file_1d(&q, [true, false, true]).expect("write bools");
        assert_eq!(
            read_bool(&q).expect("read").into_raw_vec_and_offset().0,
            vec![true, false, true]
        );
        let e = read_array(&q).expect_err("bool is not a data dtype");
        assert!(format!("{e:#}").contains("b.npy"), "{e:#}");
    }

    #[test]
    fn rows_and_slabs() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("r.npy");
        let a = ArrayD::from_shape_fn(IxDyn(&[5, 2, 3]), |i| {
            (i[0] * 100 + i[1] * 10 + i[2]) as f32
        });
        write_file(&p, &DecodedArray::Float32(a.clone())).expect("write");
        for (lo, hi) in [(0, 5), (1, 3), (4, 5), (2, 2)] {
            let got = read_rows(&p, lo..hi).expect("rows");
            let want = a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi));
            assert_eq!(got, DecodedArray::Float32(want.to_owned()), "{lo}..{hi}");
        }
        let e = read_rows(&p, 4..6).expect_err("past the end");
        assert!(format!("{e:#}").contains("outside the 5 rows"), "{e:#}");
        // A truncated file is refused before any row is read.
        let t = dir.path().join("t.npy");
        let bytes = std::fs::read(&p).expect("read");
        std::fs::write(&t, &bytes[..bytes.len() - 1]).expect("write");
        let e = read_rows(&t, 0..1).expect_err("truncated");
        assert!(format!("{e:#}").contains("shorter"), "{e:#}");
        // 1-d: the whole array is the one row.
        let one = DecodedArray::Int64(
            ArrayD::from_shape_vec(IxDyn(&[4]), vec![1, -2, 3, -4]).expect("shape"),
        );
        write_file(&p, &one).expect("write");
        assert_eq!(read_rows(&p, 0..1).expect("row"), one);

        // Slabs written at their offsets make the whole file.
        let h = header_bytes("<f4", &[5, 2, 3]);
        std::fs::write(&t, &h).expect("header");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&t)
            .expect("open")
            .set_len(h.len() as u64 + 5 * 6 * 4)
            .expect("size");
        for (lo, hi) in [(3, 5), (0, 3)] {
            let slab = a
                .slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi))
                .to_owned();
            write_slab_at(
                &t,
                (h.len() + lo * 6 * 4) as u64,
                &DecodedArray::Float32(slab),
            )
            .expect("slab");
        }
        assert_eq!(read_array(&t).expect("read"), DecodedArray::Float32(a));
    }
}
