//! Concatenation of compressed arrays along axis 0, without decoding: the stream
//! tables appended with each part's starts shifted by the bytes before it, the
//! per-stream offsets and gains appended, the bytes appended.

use std::ops::Range;

use crate::array::{FlacArray, FlacArrayParts, fmt_shape};
use crate::codec::{CompressOptions, Progress, with_threads};
use crate::dtype::{DType, StreamScaling};
use crate::error::{Error, Result, in_whole};
use crate::logical::{LogicalArray, LogicalDType};
use crate::nonfinite::{NonFinite, Run};

/// Builds one array from parts that follow each other along axis 0 (row blocks
/// compressed separately, the slabs of MPI ranks).
///
/// Every part must have the logical and stored dtype, stream size and trailing
/// leading dimensions (all but axis 0) of the first, and its format version (formats 1
/// and 2 mix: their streams are the same, and the result is format 2 when a part with
/// streams is); the result's axis 0 is the sum of the parts'. Kept non-finite samples
/// ([`FlacArray::nonfinite`]) are carried with their streams. A part built from 1-d data counts as one row. Because each stream is
/// compressed on its own, concatenating the compressed row blocks of an array gives
/// exactly the array compressed whole (with per-stream options split to match).
///
/// ```
/// use flacarray_core::{CompressOptions, Concat, FlacArray};
/// use ndarray::{Array3, Axis, Slice};
/// let a = Array3::from_shape_fn((5, 2, 40), |(i, j, k)| (i * 1000 + j * 100 + k) as i64);
/// let opts = CompressOptions::default();
/// let mut c = Concat::new();
/// for rows in [0..2, 2..5] {
///     c.push(&FlacArray::from_array(&a.slice_axis(Axis(0), Slice::from(rows)), &opts)?)?;
/// }
/// assert_eq!(c.finish()?, FlacArray::from_array(&a, &opts)?);
/// # Ok::<(), flacarray_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Concat {
    first: Option<Head>,
    rows: usize,
    compressed: Vec<u8>,
    starts: Vec<u64>,
    nbytes: Vec<u64>,
    scaling: Option<StreamScaling>,
    capacity: (usize, usize),
    /// Format version of the result so far (the largest of the parts with streams).
    version: Option<u32>,
    /// Runs of kept non-finite samples per stream so far, and the runs.
    nf_counts: Vec<usize>,
    nf_runs: Vec<Run>,
    /// Whether some part had kept non-finite samples.
    nf_any: bool,
}

/// What every part must share with the first.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    dtype: DType,
    logical: LogicalDType,
    stream_size: usize,
    format_version: u32,
    trailing: Vec<usize>,
}

impl Concat {
    /// An empty concatenation.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty concatenation with room for `n_streams` streams and `n_bytes`
    /// compressed bytes (known totals avoid reallocating while parts arrive).
    #[must_use]
    pub fn with_capacity(n_streams: usize, n_bytes: usize) -> Self {
        Self {
            compressed: Vec::with_capacity(n_bytes),
            starts: Vec::with_capacity(n_streams),
            nbytes: Vec::with_capacity(n_streams),
            capacity: (n_streams, n_bytes),
            ..Self::default()
        }
    }

    /// Appends the next rows.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming what differs from the first part (dtype,
    /// logical dtype, stream size, format version 0 against 1 or 2, trailing
    /// dimensions); nothing is appended then.
    pub fn push(&mut self, part: &FlacArray) -> Result<()> {
        let lead = part.leading_shape();
        let head = Head {
            dtype: part.dtype(),
            logical: part.logical_dtype(),
            stream_size: part.stream_size(),
            format_version: part.format_version(),
            trailing: lead[1..].to_vec(),
        };
        if let Some(first) = &self.first {
            let differ = |what: &str, a: String, b: String| {
                Err(Error::InvalidArgument(format!(
                    "cannot concatenate along axis 0 a part whose {what} is {b} after one \
                     whose {what} is {a}"
                )))
            };
            if first.dtype != head.dtype {
                return differ("dtype", first.dtype.to_string(), head.dtype.to_string());
            }
            if first.logical != head.logical {
                return differ(
                    "logical dtype",
                    first.logical.to_string(),
                    head.logical.to_string(),
                );
            }
            if first.stream_size != head.stream_size {
                return differ(
                    "stream size",
                    first.stream_size.to_string(),
                    head.stream_size.to_string(),
                );
            }
            // Formats 1 and 2 share their streams; format 0's differ.
            if (first.format_version == 0) != (head.format_version == 0) {
                return differ(
                    "format version",
                    first.format_version.to_string(),
                    head.format_version.to_string(),
                );
            }
            if first.trailing != head.trailing {
                return differ(
                    "shape after axis 0",
                    fmt_shape(&first.trailing),
                    fmt_shape(&head.trailing),
                );
            }
        }
        match &mut self.scaling {
            None => {
                let mut own = part.scaling().clone();
                reserve(&mut own, self.capacity.0);
                self.scaling = Some(own);
            }
            Some(acc) => extend(acc, part.scaling())?,
        }
        let base = self.compressed.len() as u64;
        self.starts
            .extend(part.stream_starts().iter().map(|&s| s + base));
        self.nbytes.extend_from_slice(part.stream_nbytes());
        self.compressed.extend_from_slice(part.compressed());
        match part.nonfinite() {
            Some(nf) => {
                self.nf_any = true;
                for g in 0..part.n_streams() {
                    let r = nf.stream_runs(g);
                    self.nf_counts.push(r.len());
                    self.nf_runs.extend_from_slice(r);
                }
            }
            None => self
                .nf_counts
                .resize(self.nf_counts.len() + part.n_streams(), 0),
        }
        // A part without streams stores nothing that needs its format.
        if part.n_streams() > 0 {
            let v = part.format_version();
            self.version = Some(self.version.map_or(v, |w| w.max(v)));
        }
        self.rows += lead[0];
        self.first.get_or_insert(head);
        Ok(())
    }

    /// The concatenated array, checked by [`FlacArray::from_parts`]. Its leading shape
    /// is `(rows, trailing...)`, never reported 1-d (a single 1-d part of `N` samples
    /// gives `(1, N)`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no part was pushed.
    pub fn finish(self) -> Result<FlacArray> {
        let Some(head) = self.first else {
            return Err(Error::InvalidArgument(
                "nothing to concatenate: no part was given".into(),
            ));
        };
        let mut leading_shape = vec![self.rows];
        leading_shape.extend_from_slice(&head.trailing);
        let nonfinite = self.nf_any.then(|| {
            NonFinite::from_counts(&self.nf_counts, self.nf_runs, head.dtype == DType::Float64)
        });
        FlacArray::from_parts(FlacArrayParts {
            one_d: false,
            leading_shape,
            stream_size: head.stream_size,
            dtype: head.dtype,
            compressed: self.compressed,
            starts: self.starts,
            nbytes: self.nbytes,
            scaling: self.scaling.unwrap_or(StreamScaling::None),
            format_version: self.version.unwrap_or(head.format_version),
        })?
        .with_extension(head.logical, nonfinite)
    }
}

impl FlacArray {
    /// Concatenates arrays along axis 0 (see [`Concat`]).
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray};
    /// let opts = CompressOptions::default();
    /// let a = FlacArray::from_array(&ndarray::arr2(&[[1, 2, 3]]), &opts)?;
    /// let b = FlacArray::from_array(&ndarray::arr2(&[[4, 5, 6], [7, 8, 9]]), &opts)?;
    /// let c = FlacArray::concat(&[a, b])?;
    /// assert_eq!(c.shape(), vec![3, 3]);
    /// assert_eq!(c.to_array_typed::<i32>()?.into_raw_vec_and_offset().0, (1..=9).collect::<Vec<_>>());
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Concat::push`] and [`Concat::finish`].
    pub fn concat(parts: &[FlacArray]) -> Result<FlacArray> {
        let n_streams = parts.iter().map(FlacArray::n_streams).sum();
        let n_bytes = parts.iter().map(FlacArray::nbytes).sum();
        let mut c = Concat::with_capacity(n_streams, n_bytes);
        for p in parts {
            c.push(p)?;
        }
        c.finish()
    }
}

impl FlacArray {
    /// Compresses an array of `shape` that `read` hands over a block of rows of axis 0
    /// at a time (`read(rows, spare)` returns those rows: shape `(rows.len(),
    /// shape[1..])`), `rows_per_block` rows (at least one) per call, so that only a
    /// block or two of the input is in memory at once. `spare` is a block already
    /// compressed, for `read` to reuse its memory (`None` for the first two calls):
    /// memory written again is already mapped, while a fresh block of 8 MiB costs
    /// 2,048 page faults and their zeroing (reusing them took the compression of a
    /// 64 MB file from 0.168 to 0.160 s). In a rayon pool
    /// of two or more threads (the one `opts.threads` asks for) the next block is
    /// read, and the previous one appended to the result, while the current one is
    /// compressed; with one thread they take turns. Each stream is compressed on
    /// its own, so the result equals [`FlacArray::from_values`] of the whole array
    /// (per-stream options are cut to each block, [`CompressOptions::for_streams`]).
    /// A one-dimensional array is one row.
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray, LogicalArray};
    /// use ndarray::{Axis, Slice};
    /// let a = ndarray::Array3::from_shape_fn((5, 2, 300), |(i, j, k)| (i * 1000 + j * 100 + k) as i32)
    ///     .into_dyn();
    /// let opts = CompressOptions::default();
    /// let mut calls = 0;
    /// let fa = FlacArray::from_row_blocks(a.shape(), 2, &opts, None, |rows, _spare| {
    ///     calls += 1;
    ///     let rows = a.slice_axis(Axis(0), Slice::from(rows)).to_owned();
    ///     Ok::<_, flacarray_core::Error>(LogicalArray::Int32(rows))
    /// })?;
    /// assert_eq!(calls, 3);
    /// assert_eq!(fa, FlacArray::from_array(&a, &opts)?);
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// `read`'s first error; a block of another shape than asked for; as
    /// [`FlacArray::from_values`] and [`Concat::push`].
    pub fn from_row_blocks<E>(
        shape: &[usize],
        rows_per_block: usize,
        opts: &CompressOptions,
        progress: Option<Progress<'_>>,
        mut read: impl FnMut(Range<usize>, Option<LogicalArray>) -> std::result::Result<LogicalArray, E>
        + Send,
    ) -> std::result::Result<FlacArray, E>
    where
        E: From<Error> + Send,
    {
        let n_rows = if shape.len() > 1 { shape[0] } else { 1 };
        let per_row: usize = shape.iter().skip(1).rev().skip(1).product();
        let rows_per_block = rows_per_block.max(1);
        let mut read_rows = |rows: Range<usize>,
                             spare: Option<LogicalArray>|
         -> std::result::Result<LogicalArray, E> {
            let block = read(rows.clone(), spare)?;
            let mut want = shape.to_vec();
            if shape.len() > 1 {
                want[0] = rows.len();
            }
            if block.shape() != want.as_slice() {
                return Err(Error::InvalidArgument(format!(
                    "rows {rows:?} read with shape {}, {} expected",
                    fmt_shape(block.shape()),
                    fmt_shape(&want)
                ))
                .into());
            }
            Ok(block)
        };
        if n_rows <= rows_per_block {
            let all = read_rows(0..n_rows, None)?;
            return Ok(FlacArray::from_values(&all, opts, progress)?);
        }
        let work = || -> std::result::Result<FlacArray, E> {
            let mut c = Concat::with_capacity(n_rows * per_row, 0);
            let mut rows = 0..rows_per_block;
            let mut block = Some(read_rows(rows.clone(), None)?);
            let mut spare = None;
            // The block compressed last, appended to `c` while the next one is
            // compressed (the copy is one thread's work).
            let mut done: Option<FlacArray> = None;
            // On one thread the read and the append have nothing to overlap with:
            // each block is compressed, appended, then its memory is read into. The
            // next block read beside the compression needs a second block buffer,
            // whose first touch is 2,048 page faults per 8 MiB block (about a sixth of
            // a 64 MB int32 file compress's faults).
            let overlap = rayon::current_num_threads() > 1;
            while let Some(b) = block.take() {
                let next = rows.end..(rows.end + rows_per_block).min(n_rows);
                let sub = opts.for_streams(rows.start * per_row, rows.end * per_row);
                let in_whole_rows = |e| {
                    let mut part = shape[..shape.len() - 1].to_vec();
                    part[0] = rows.len();
                    in_whole(e, &part, &shape[..shape.len() - 1], |i| {
                        Some(rows.start * per_row + i)
                    })
                };
                if !overlap {
                    let compressed =
                        FlacArray::from_values(&b, &sub, progress).map_err(in_whole_rows)?;
                    c.push(&compressed)?;
                    drop(compressed);
                    block = (!next.is_empty())
                        .then(|| read_rows(next.clone(), Some(b)))
                        .transpose()?;
                    rows = next;
                    continue;
                }
                let reuse = spare.take();
                let ready = done.take();
                let c = &mut c;
                let (compressed, following) = rayon::join(
                    || FlacArray::from_values(&b, &sub, progress),
                    || {
                        let pushed = ready.map_or(Ok(()), |d| c.push(&d));
                        let read = (!next.is_empty()).then(|| read_rows(next.clone(), reuse));
                        (pushed, read)
                    },
                );
                let (pushed, following) = following;
                pushed?;
                spare = Some(b);
                // Errors in block order: the previous block's, this one's, the next.
                done = Some(compressed.map_err(in_whole_rows)?);
                block = following.transpose()?;
                rows = next;
            }
            if let Some(d) = done {
                c.push(&d)?;
            }
            Ok(c.finish()?)
        };
        with_threads(opts.threads, work)?
    }
}

fn reserve(s: &mut StreamScaling, n: usize) {
    match s {
        StreamScaling::None => {}
        StreamScaling::F32 { offsets, gains } => {
            offsets.reserve(n.saturating_sub(offsets.len()));
            gains.reserve(n.saturating_sub(gains.len()));
        }
        StreamScaling::F64 { offsets, gains } => {
            offsets.reserve(n.saturating_sub(offsets.len()));
            gains.reserve(n.saturating_sub(gains.len()));
        }
        StreamScaling::I64Offsets(o) => o.reserve(n.saturating_sub(o.len())),
    }
}

/// Appends `src`'s parameters to `acc`; parameters of another kind are an error
/// (and leave `acc` unchanged).
fn extend(acc: &mut StreamScaling, src: &StreamScaling) -> Result<()> {
    match (&mut *acc, src) {
        (StreamScaling::None, StreamScaling::None) => {}
        (
            StreamScaling::F32 { offsets, gains },
            StreamScaling::F32 {
                offsets: o,
                gains: g,
            },
        ) => {
            offsets.extend_from_slice(o);
            gains.extend_from_slice(g);
        }
        (
            StreamScaling::F64 { offsets, gains },
            StreamScaling::F64 {
                offsets: o,
                gains: g,
            },
        ) => {
            offsets.extend_from_slice(o);
            gains.extend_from_slice(g);
        }
        (StreamScaling::I64Offsets(o), StreamScaling::I64Offsets(s)) => o.extend_from_slice(s),
        (
            a @ (StreamScaling::None
            | StreamScaling::F32 { .. }
            | StreamScaling::F64 { .. }
            | StreamScaling::I64Offsets(_)),
            s,
        ) => {
            let e = Error::InvalidArgument(format!(
                "cannot concatenate {} parameters after {} ones",
                s.kind(),
                a.kind()
            ));
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::{CompressOptions, PrecisionOption, QuantaOption};
    use ndarray::{Array1, Array2, Array3, Axis, Slice};

    fn rows<T: crate::Element>(
        a: &Array3<T>,
        r: std::ops::Range<usize>,
        o: &CompressOptions,
    ) -> FlacArray {
        FlacArray::from_array(&a.slice_axis(Axis(0), Slice::from(r)), o).unwrap()
    }

    #[test]
    fn row_blocks_concatenate_to_the_whole_for_every_dtype() {
        let a = Array3::from_shape_fn((7, 3, 300), |(i, j, k)| {
            (i as f64) * 0.7 + j as f64 + ((k * (i + 1)) as f64 * 0.01).sin()
        });
        let plain = CompressOptions::default();
        let per = CompressOptions {
            precision: Some(PrecisionOption::PerStream(
                (0..21).map(|i| 3 + (i % 4)).collect(),
            )),
            ..CompressOptions::default()
        };
        let q = CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..CompressOptions::default()
        };
        let split = |o: &CompressOptions, lo: usize, hi: usize| {
            let mut o = o.clone();
            if let Some(PrecisionOption::PerStream(v)) = &o.precision {
                o.precision = Some(PrecisionOption::PerStream(v[lo * 3..hi * 3].to_vec()));
            }
            o
        };
        let blocks = [0..2, 2..3, 3..7];
        let check = |whole: FlacArray, parts: Vec<FlacArray>| {
            assert_eq!(FlacArray::concat(&parts).unwrap(), whole);
        };
        let ai = a.mapv(|v| (v * 1e3) as i32);
        check(
            FlacArray::from_array(&ai, &plain).unwrap(),
            blocks
                .iter()
                .map(|r| rows(&ai, r.clone(), &plain))
                .collect(),
        );
        let al = a.mapv(|v| (v * 1e9) as i64);
        check(
            FlacArray::from_array(&al, &plain).unwrap(),
            blocks
                .iter()
                .map(|r| rows(&al, r.clone(), &plain))
                .collect(),
        );
        let af = a.mapv(|v| v as f32);
        check(
            FlacArray::from_array(&af, &q).unwrap(),
            blocks.iter().map(|r| rows(&af, r.clone(), &q)).collect(),
        );
        check(
            FlacArray::from_array(&a, &per).unwrap(),
            blocks
                .iter()
                .map(|r| rows(&a, r.clone(), &split(&per, r.start, r.end)))
                .collect(),
        );
    }

    #[test]
    fn mismatched_parts_are_refused_and_leave_the_concatenation_unchanged() {
        let o = CompressOptions::default();
        let q = CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..CompressOptions::default()
        };
        let base = FlacArray::from_array(&Array2::<i32>::zeros((2, 50)), &o).unwrap();
        let cases = [
            (
                FlacArray::from_array(&Array2::<i64>::zeros((2, 50)), &o).unwrap(),
                "dtype is int64",
            ),
            (
                FlacArray::from_array(&Array2::<f32>::zeros((2, 50)), &q).unwrap(),
                "dtype is float32",
            ),
            (
                FlacArray::from_array(&Array2::<i32>::zeros((2, 51)), &o).unwrap(),
                "stream size is 51",
            ),
            (
                FlacArray::from_array(&Array3::<i32>::zeros((2, 1, 50)), &o).unwrap(),
                "shape after axis 0 is (1,)",
            ),
        ];
        for (other, want) in cases {
            let mut c = Concat::new();
            c.push(&base).unwrap();
            let e = c.push(&other).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
            assert!(e.to_string().contains(want), "{e} lacks {want:?}");
            assert_eq!(c.finish().unwrap(), base, "{want}");
        }
        // Same dtype, other kind of parameters (a format-0 int64 part after format 1
        // is refused by its version before its parameters are looked at).
        let mut v0 = FlacArray::from_array(&Array2::<i64>::zeros((1, 50)), &o)
            .unwrap()
            .into_parts();
        let mut c = Concat::new();
        c.push(&FlacArray::from_parts(v0.clone()).unwrap()).unwrap();
        v0.format_version = 0;
        v0.scaling = StreamScaling::I64Offsets(vec![0]);
        let e = c.push(&FlacArray::from_parts(v0).unwrap()).unwrap_err();
        assert!(e.to_string().contains("format version is 0"), "{e}");
        assert!(Concat::new().finish().is_err());
        // The scaling arm on its own: parameters of another kind are refused.
        let mut back = StreamScaling::F32 {
            offsets: vec![1.0],
            gains: vec![2.0],
        };
        let e = extend(&mut back, &StreamScaling::None).unwrap_err();
        assert!(e.to_string().contains("none"), "{e}");
        assert_eq!(back.len(), Some(1));
    }

    #[test]
    fn one_d_parts_count_as_rows() {
        let o = CompressOptions::default();
        let a = FlacArray::from_array(&Array1::from_iter(0..40i32), &o).unwrap();
        let b = FlacArray::from_array(&Array1::from_iter(40..80i32), &o).unwrap();
        let single = FlacArray::concat(std::slice::from_ref(&a)).unwrap();
        assert_eq!(single.shape(), vec![1, 40]);
        assert_eq!(single.compressed(), a.compressed());
        let c = FlacArray::concat(&[a, b]).unwrap();
        assert_eq!(c.shape(), vec![2, 40]);
        let v = c.to_array_typed::<i32>().unwrap();
        assert_eq!(v.into_raw_vec_and_offset().0, (0..80).collect::<Vec<_>>());
    }
}
