//! Selections: keep masks, sample slices and numpy basic indexing.

use std::ops::Range;

use crate::error::{Error, Result, fmt_index, unravel};

/// A range of samples along the stream axis, with Python slice semantics (step 1).
///
/// Our decision, unlike 0.4.1 which ignores the slice when a
/// bound is `None` or negative:
/// * `start: None` is 0, `stop: None` is the stream size;
/// * a negative bound counts from the end (`-n` is `stream_size - n`), clamped at 0;
/// * a `start` beyond the stream is clamped to the stream size;
/// * a `stop` beyond the stream size is an **error** (not clamped, as 0.4.1);
/// * `start >= stop` gives an empty sample axis (0.4.1 raises for `start == stop`).
///
/// ```
/// use flacarray_core::SampleSlice;
/// assert_eq!(SampleSlice::new(None, None).resolve(100)?, 0..100);
/// assert_eq!(SampleSlice::new(Some(-10), None).resolve(100)?, 90..100);
/// assert_eq!(SampleSlice::new(Some(5), Some(-5)).resolve(100)?, 5..95);
/// assert_eq!(SampleSlice::new(Some(50), Some(20)).resolve(100)?, 50..50);
/// assert!(SampleSlice::new(Some(0), Some(101)).resolve(100).is_err());
/// # Ok::<(), flacarray_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleSlice {
    /// First sample (inclusive); `None` = 0.
    pub start: Option<i64>,
    /// End sample (exclusive); `None` = the stream size.
    pub stop: Option<i64>,
}

impl SampleSlice {
    /// The whole stream.
    pub const FULL: Self = Self {
        start: None,
        stop: None,
    };

    /// A slice `start:stop`.
    #[must_use]
    pub fn new(start: Option<i64>, stop: Option<i64>) -> Self {
        Self { start, stop }
    }

    /// The sample range this slice selects in a stream of `n` samples.
    ///
    /// # Errors
    /// [`Error::Index`] when `stop` exceeds `n`.
    pub fn resolve(&self, n: usize) -> Result<Range<usize>> {
        let n_i = i64::try_from(n).map_err(|_| Error::Index("stream too long".into()))?;
        let norm = |v: i64| -> i64 { if v < 0 { (v + n_i).max(0) } else { v } };
        let stop = match self.stop {
            None => n_i,
            Some(s) => {
                if s > n_i {
                    return Err(Error::Index(format!(
                        "stream slice stop {s} is beyond the stream size {n}"
                    )));
                }
                norm(s)
            }
        };
        let start = self.start.map_or(0, |s| norm(s).min(n_i));
        // Both bounds are now in 0..=n, so the casts are exact.
        let (start, stop) = (to_usize(start), to_usize(stop));
        Ok(if start >= stop {
            start..start
        } else {
            start..stop
        })
    }
}

impl SampleSlice {
    /// Parses `A:B` as the command line writes a slice: either side may be empty, a
    /// negative value counts from the end, a step (`A:B:C`) is refused.
    ///
    /// ```
    /// use flacarray_core::SampleSlice;
    /// assert_eq!(SampleSlice::parse("-10:")?, SampleSlice::new(Some(-10), None));
    /// assert_eq!("3:7".parse::<SampleSlice>()?.to_string(), "3:7");
    /// assert!(SampleSlice::parse("1:2:1").is_err());
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] saying what is malformed: no colon, a step, or a
    /// side that is not an integer.
    pub fn parse(text: &str) -> Result<Self> {
        let side = |t: &str, which: &str| -> Result<Option<i64>> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<i64>().map(Some).map_err(|e| {
                Error::InvalidArgument(format!("slice {which} {t:?} is not an integer: {e}"))
            })
        };
        match text.split(':').collect::<Vec<_>>().as_slice() {
            [start, stop] => Ok(Self::new(side(start, "start")?, side(stop, "stop")?)),
            [_] => Err(Error::InvalidArgument(format!(
                "expected a slice A:B, got {text:?}"
            ))),
            _ => Err(Error::InvalidArgument(format!(
                "a step is not allowed in a sample slice, got {text:?}"
            ))),
        }
    }

    /// [`SampleSlice::resolve`] where every given bound must lie in `-n..=n`: a bound
    /// outside the stream is an error rather than clamped (the command line's rule,
    /// so a mistyped slice is noticed). Inside those bounds both rules agree.
    ///
    /// ```
    /// use flacarray_core::SampleSlice;
    /// assert_eq!(SampleSlice::new(Some(-3), None).resolve_strict(10)?, 7..10);
    /// assert!(SampleSlice::new(Some(11), None).resolve_strict(10).is_err());
    /// assert_eq!(SampleSlice::new(Some(11), None).resolve(10)?, 10..10);
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Index`] naming the bound that lies outside the stream.
    pub fn resolve_strict(&self, n: usize) -> Result<Range<usize>> {
        let n_i = i64::try_from(n).map_err(|_| Error::Index("stream too long".into()))?;
        for (which, v) in [("start", self.start), ("stop", self.stop)] {
            // `n_i >= 0`, so `-n_i` cannot overflow.
            if let Some(v) = v
                && (v > n_i || v < -n_i)
            {
                return Err(Error::Index(format!(
                    "sample slice {which} {v} is out of range for a stream of {n} samples"
                )));
            }
        }
        self.resolve(n)
    }
}

impl std::str::FromStr for SampleSlice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl std::fmt::Display for SampleSlice {
    /// `A:B`, a missing bound left empty (`:7`, `-3:`, `:`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(a) = self.start {
            write!(f, "{a}")?;
        }
        f.write_str(":")?;
        if let Some(b) = self.stop {
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

/// One item of a numpy basic-indexing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// A single position; negative counts from the end. Drops the axis.
    Int(i64),
    /// `start:stop:step` with Python semantics (`None` bounds, negative bounds count
    /// from the end, out-of-range bounds clamp, any nonzero step).
    Slice {
        /// Start, or `None`.
        start: Option<i64>,
        /// Stop, or `None`.
        stop: Option<i64>,
        /// Step, or `None` (= 1). Zero is an error.
        step: Option<i64>,
    },
    /// `...`: as many full slices as needed (at most one per key).
    Ellipsis,
    /// `None` / `np.newaxis`: inserts an axis of length 1.
    NewAxis,
}

impl Index {
    /// The full slice `:`.
    pub const FULL: Self = Self::Slice {
        start: None,
        stop: None,
        step: None,
    };
}

/// How one array axis is selected: `start + k * step` for `k < len`, dropping the axis
/// when `drop` is set (an integer index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AxisSel {
    pub start: i64,
    pub step: i64,
    pub len: usize,
    pub drop: bool,
}

impl AxisSel {
    pub(crate) fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        // Every position lies in 0..n by construction (slice.indices semantics).
        (0..self.len).map(|k| to_usize(self.start + self.step * k as i64))
    }
}

/// Python's `slice(start, stop, step).indices(n)` followed by the length.
fn slice_indices(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    n: i64,
) -> Result<AxisSel> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::InvalidArgument("slice step cannot be zero".into()));
    }
    let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clamp = |v: Option<i64>, default: i64| -> i64 {
        match v {
            None => default,
            Some(v) if v < 0 => (v + n).max(lower),
            Some(v) => v.min(upper),
        }
    };
    let s = clamp(start, if step > 0 { lower } else { upper });
    let e = clamp(stop, if step > 0 { upper } else { lower });
    let len = if step > 0 {
        if s < e { (e - s - 1) / step + 1 } else { 0 }
    } else if e < s {
        (s - e - 1) / (-step) + 1
    } else {
        0
    };
    Ok(AxisSel {
        start: s,
        step,
        len: to_usize(len),
        drop: false,
    })
}

/// A key resolved against a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// One selection per array axis.
    pub axes: Vec<AxisSel>,
    /// The result's shape (dropped axes removed, new axes inserted).
    pub shape: Vec<usize>,
}

/// Resolves a numpy basic-indexing key against `shape`.
pub(crate) fn resolve_key(key: &[Index], shape: &[usize]) -> Result<Resolved> {
    let ndim = shape.len();
    let n_real = key
        .iter()
        .filter(|k| matches!(k, Index::Int(_) | Index::Slice { .. }))
        .count();
    let n_ell = key.iter().filter(|k| matches!(k, Index::Ellipsis)).count();
    if n_ell > 1 {
        return Err(Error::Index(
            "an index can only have a single ellipsis ('...')".into(),
        ));
    }
    if n_real > ndim {
        return Err(Error::Index(format!(
            "too many indices for array: array is {ndim}-dimensional, but {n_real} were indexed"
        )));
    }
    let mut items: Vec<Index> = Vec::with_capacity(key.len() + ndim);
    for k in key {
        if matches!(k, Index::Ellipsis) {
            items.extend(std::iter::repeat_n(Index::FULL, ndim - n_real));
        } else {
            items.push(*k);
        }
    }
    if n_ell == 0 {
        items.extend(std::iter::repeat_n(Index::FULL, ndim - n_real));
    }
    let mut axes = Vec::with_capacity(ndim);
    let mut out_shape = Vec::new();
    for it in items {
        match it {
            Index::NewAxis => out_shape.push(1),
            Index::Ellipsis => {}
            Index::Int(i) => {
                let ax = axes.len();
                let n = shape[ax];
                let n_i = i64::try_from(n).map_err(|_| Error::Index("axis too long".into()))?;
                let j = if i < 0 { i + n_i } else { i };
                if j < 0 || j >= n_i {
                    return Err(Error::Index(format!(
                        "index {i} is out of bounds for axis {ax} with size {n}"
                    )));
                }
                axes.push(AxisSel {
                    start: j,
                    step: 1,
                    len: 1,
                    drop: true,
                });
            }
            Index::Slice { start, stop, step } => {
                let n = shape[axes.len()];
                let n_i = i64::try_from(n).map_err(|_| Error::Index("axis too long".into()))?;
                let a = slice_indices(start, stop, step, n_i)?;
                out_shape.push(a.len);
                axes.push(a);
            }
        }
    }
    Ok(Resolved {
        axes,
        shape: out_shape,
    })
}

/// Parses a numpy-style key such as `"1, ::-1, 100:200"`, `"[0, ..., 5:]"` or
/// `"None, :3"` (`None` or `newaxis` insert an axis). Surrounding brackets and spaces
/// are ignored.
///
/// ```
/// use flacarray_core::{parse_index, Index};
/// let k = parse_index("1, ::-1, 100:200")?;
/// assert_eq!(k, vec![
///     Index::Int(1),
///     Index::Slice { start: None, stop: None, step: Some(-1) },
///     Index::Slice { start: Some(100), stop: Some(200), step: None },
/// ]);
/// assert_eq!(parse_index("[..., -1]")?, vec![Index::Ellipsis, Index::Int(-1)]);
/// assert!(parse_index("1:2:3:4").is_err());
/// # Ok::<(), flacarray_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for anything that is not basic indexing.
pub fn parse_index(text: &str) -> Result<Vec<Index>> {
    let mut t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        t = inner.trim();
    }
    if t.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts: Vec<&str> = t.split(',').map(str::trim).collect();
    // A trailing comma (`"1,"`) is allowed, as in Python.
    if parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    let bad =
        |p: &str| Error::InvalidArgument(format!("cannot parse index item {p:?} in {text:?}"));
    let num = |p: &str| -> Result<Option<i64>> {
        let p = p.trim();
        if p.is_empty() || p == "None" {
            Ok(None)
        } else {
            p.parse::<i64>().map(Some).map_err(|_| bad(p))
        }
    };
    parts
        .iter()
        .map(|&p| match p {
            "..." | "Ellipsis" => Ok(Index::Ellipsis),
            "None" | "newaxis" | "np.newaxis" => Ok(Index::NewAxis),
            _ if p.contains(':') => {
                let f: Vec<&str> = p.split(':').collect();
                if f.len() > 3 {
                    return Err(bad(p));
                }
                Ok(Index::Slice {
                    start: num(f[0])?,
                    stop: num(f[1])?,
                    step: if f.len() == 3 { num(f[2])? } else { None },
                })
            }
            _ => p.parse::<i64>().map(Index::Int).map_err(|_| bad(p)),
        })
        .collect()
}

/// Flat indices (C order) of the `true` entries of a keep mask over `leading`.
pub(crate) fn kept_streams(keep: &[bool], leading: &[usize]) -> Result<Vec<usize>> {
    let n: usize = leading.iter().product();
    if keep.len() != n {
        return Err(Error::InvalidArgument(format!(
            "keep mask has {} entries, the leading shape {} has {n} streams",
            keep.len(),
            fmt_index(leading)
        )));
    }
    Ok(keep
        .iter()
        .enumerate()
        .filter_map(|(i, &k)| k.then_some(i))
        .collect())
}

/// The leading index tuples of flat stream indices.
pub(crate) fn index_tuples(flat: &[usize], leading: &[usize]) -> Vec<Vec<usize>> {
    flat.iter().map(|&g| unravel(g, leading)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity, reason = "tests")]
mod tests {
    use super::*;

    fn s(text: &str) -> SampleSlice {
        SampleSlice::parse(text).unwrap()
    }

    #[test]
    fn sample_slice_parses_all_forms_and_prints_them_back() {
        assert_eq!(s("3:7"), SampleSlice::new(Some(3), Some(7)));
        assert_eq!(s(":7"), SampleSlice::new(None, Some(7)));
        assert_eq!(s("-3:"), SampleSlice::new(Some(-3), None));
        assert_eq!(s(" : "), SampleSlice::FULL);
        assert_eq!(s("-3:-1").to_string(), "-3:-1");
        assert_eq!(s(":").to_string(), ":");
        for bad in ["5", "1:2:3", "1::", "a:3", "3:b", "1.5:2", ""] {
            assert!(SampleSlice::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        let e = SampleSlice::parse("1:2:1").unwrap_err().to_string();
        assert!(e.contains("step"), "{e}");
    }

    #[test]
    fn strict_resolve_agrees_inside_the_stream_and_refuses_outside() {
        let n = 10;
        for (text, want) in [
            (":", 0..10),
            ("2:5", 2..5),
            ("-3:", 7..10),
            (":-1", 0..9),
            ("-10:-9", 0..1),
            ("10:", 10..10),
            ("5:5", 5..5),
            ("7:3", 7..7),
            ("0:10", 0..10),
        ] {
            assert_eq!(s(text).resolve_strict(n).unwrap(), want, "{text}");
            assert_eq!(s(text).resolve(n).unwrap(), want, "{text}");
        }
        let e = s("0:11").resolve_strict(10).unwrap_err().to_string();
        assert!(e.contains("stop 11") && e.contains("10 samples"), "{e}");
        for bad in ["11:", "-11:", ":-11"] {
            assert!(s(bad).resolve_strict(10).is_err(), "{bad}");
        }
        // The lenient rule clamps the same starts instead.
        assert_eq!(s("11:").resolve(10).unwrap(), 10..10);
        assert_eq!(s("-11:").resolve(10).unwrap(), 0..10);
        assert!(s(&format!("{}:", i64::MIN)).resolve_strict(10).is_err());
        assert!(s(&format!(":{}", i64::MAX)).resolve_strict(10).is_err());
    }

    #[test]
    fn slice_indices_match_python() {
        // Values from Python's slice(...).indices(10) and len(range(...)).
        let cases: &[(Option<i64>, Option<i64>, Option<i64>, (i64, i64, usize))] = &[
            (None, None, None, (0, 1, 10)),
            (None, None, Some(-1), (9, -1, 10)),
            (Some(-3), None, None, (7, 1, 3)),
            (Some(8), Some(2), Some(-2), (8, -2, 3)),
            (Some(20), None, Some(-1), (9, -1, 10)),
            (Some(-20), Some(3), None, (0, 1, 3)),
            (Some(5), Some(5), None, (5, 1, 0)),
            (None, Some(-20), Some(-1), (9, -1, 10)),
        ];
        for &(s, e, st, (ws, wst, wl)) in cases {
            let a = slice_indices(s, e, st, 10).unwrap();
            assert_eq!(
                (a.start, a.step, a.len),
                (ws, wst, wl),
                "{s:?}:{e:?}:{st:?}"
            );
        }
    }
}
