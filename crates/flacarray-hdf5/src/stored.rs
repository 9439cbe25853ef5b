//! The storage-level content of a flacarray group, independent of HDF5.

use flacarray_core::{DType, StreamScaling};

use crate::error::{Error, Result};

pub use flacarray_core::layout::{FORMAT_VERSION, SOFTWARE_VERSION};

/// Exactly what a flacarray group holds (format 1, or format 0 when read from an old
/// file), without the HDF5 wrapping.
///
/// Per-stream vectors (`starts`, `nbytes`, the scaling) are in C order over
/// [`leading_shape`](Self::leading_shape), the shape of the array without its last
/// axis (`[1]` for a 1-d array).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArray {
    /// `flacarray_format_version`: 1, or 0 for files written by flacarray 0.2.x.
    pub format_version: u32,
    /// `flacarray_software_version`: the version of the writer (`None` when the
    /// attribute is absent). [`write_group`](crate::write_group) writes
    /// [`SOFTWARE_VERSION`] when this is `None`.
    pub software_version: Option<String>,
    /// `flac_channels`: 1 (32-bit data) or 2 (64-bit data). Always 1 in format 0,
    /// where the attribute does not exist.
    pub flac_channels: u32,
    /// Shape of `stream_starts`: the array shape without its last axis.
    pub leading_shape: Vec<usize>,
    /// Samples per stream (attribute `stream_size` of `stream_starts`), at least 1.
    pub stream_size: u64,
    /// Byte offset of each stream inside [`compressed`](Self::compressed).
    pub starts: Vec<i64>,
    /// Byte length of each stream.
    pub nbytes: Vec<i64>,
    /// `stream_offsets` and `stream_gains`: [`StreamScaling::None`] when both are
    /// absent (integer data), [`StreamScaling::I64Offsets`] for format-0 int64 data.
    pub scaling: StreamScaling,
    /// FLAC bytes of the streams. After a selective read
    /// ([`read_group`](crate::read_group) with a keep mask) only the kept streams'
    /// bytes, back to back, with `starts` rebased into this buffer.
    pub compressed: Vec<u8>,
}

impl StoredArray {
    /// A format-1 array stamped with [`SOFTWARE_VERSION`]; `flac_channels` follows
    /// from `dtype`. The parts are checked by [`validate`](Self::validate).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the parts disagree (see [`validate`](Self::validate)).
    pub fn new(
        dtype: DType,
        leading_shape: Vec<usize>,
        stream_size: u64,
        starts: Vec<i64>,
        nbytes: Vec<i64>,
        scaling: StreamScaling,
        compressed: Vec<u8>,
    ) -> Result<Self> {
        let arr = Self {
            format_version: FORMAT_VERSION,
            software_version: Some(SOFTWARE_VERSION.to_owned()),
            flac_channels: dtype.channels(FORMAT_VERSION),
            leading_shape,
            stream_size,
            starts,
            nbytes,
            scaling,
            compressed,
        };
        let got = arr.validate()?;
        if got != dtype {
            return Err(Error::InvalidArgument(format!(
                "dtype {dtype} asked for, but the scaling given makes it {got}"
            )));
        }
        Ok(arr)
    }

    /// Number of streams: the product of the leading shape.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the product overflows `usize`.
    pub fn n_streams(&self) -> Result<usize> {
        n_streams(&self.leading_shape)
            .ok_or_else(|| Error::InvalidArgument("leading shape product overflows".to_owned()))
    }

    /// The element type, inferred as flacarray does.
    ///
    /// Format 1 (`compressed_dtype` in flacarray 0.4.1): 1 channel without offsets and
    /// gains → int32, with float32 ones → float32; 2 channels without → int64, with
    /// float64 ones → float64. Format 0 (always 1 channel): nothing → int32, int64
    /// offsets only → int64, float32 offsets and gains → float32, float64 → float64.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other combination, naming what was found.
    pub fn dtype(&self) -> Result<DType> {
        let (offsets, gains) = self.scaling.stored_types();
        flacarray_core::layout::infer_dtype(self.format_version, self.flac_channels, offsets, gains)
            .map_err(Error::InvalidArgument)
    }

    /// Checks that the parts agree and returns the dtype: known format version,
    /// channels and dtype (see [`dtype`](Self::dtype)), a non-empty leading shape,
    /// `stream_size` ≥ 1, one start, length, offset and gain per stream, and every
    /// stream's bytes inside `compressed`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first problem found.
    pub fn validate(&self) -> Result<DType> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if self.format_version > 2 {
            return bad(format!(
                "format version {} (known: 0, 1 and 2)",
                self.format_version
            ));
        }
        let dtype = self.dtype()?;
        if self.leading_shape.is_empty() {
            return bad("the leading shape has no axes (a 1-d array is stored as [1])".into());
        }
        // Format 2 stores arrays whose last axis has length 0, without bytes.
        if self.stream_size == 0 && (self.format_version < 2 || !self.compressed.is_empty()) {
            return bad("stream_size is 0".into());
        }
        let n = self.n_streams()?;
        for (name, len) in [("starts", self.starts.len()), ("nbytes", self.nbytes.len())] {
            if len != n {
                return bad(format!(
                    "{name} has {len} entries for {n} streams (leading shape {:?})",
                    self.leading_shape
                ));
            }
        }
        // Offsets and gains: one of each per stream.
        if let Err(e) = self.scaling.check(dtype, self.format_version, n) {
            let msg = match e {
                flacarray_core::Error::InvalidArgument(m) => m,
                other => other.to_string(),
            };
            return bad(format!("{msg} (leading shape {:?})", self.leading_shape));
        }
        let total = self.compressed.len();
        for (i, (&s, &b)) in self.starts.iter().zip(&self.nbytes).enumerate() {
            if let Err(reason) = check_range(s, b, total) {
                return bad(format!("stream {i}: {reason}"));
            }
        }
        Ok(dtype)
    }
}

/// Product of a shape, `None` on overflow.
pub(crate) fn n_streams(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Checks one stream's byte range against the length of `compressed`; returns the
/// range as `usize`s.
pub(crate) fn check_range(
    start: i64,
    nbytes: i64,
    total: usize,
) -> std::result::Result<(usize, usize), String> {
    let s = usize::try_from(start).map_err(|_| format!("negative start {start}"))?;
    let b = usize::try_from(nbytes).map_err(|_| format!("negative byte count {nbytes}"))?;
    match s.checked_add(b) {
        Some(end) if end <= total => Ok((s, end)),
        _ => Err(format!(
            "bytes {start}..{start}+{nbytes} lie outside compressed ({total} bytes)"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_without_overflow() {
        assert_eq!(check_range(0, 10, 10), Ok((0, 10)));
        assert_eq!(check_range(10, 0, 10), Ok((10, 10)));
        assert!(
            check_range(5, 6, 10)
                .unwrap_err()
                .contains("outside compressed (10 bytes)")
        );
        assert!(
            check_range(-1, 1, 10)
                .unwrap_err()
                .contains("negative start -1")
        );
        assert!(
            check_range(1, -1, 10)
                .unwrap_err()
                .contains("negative byte count -1")
        );
        assert!(check_range(i64::MAX, i64::MAX, 1000).is_err());
        assert!(check_range(i64::MAX, 1, 1000).is_err());
    }

    #[test]
    fn stream_counts() {
        assert!(SOFTWARE_VERSION.starts_with("flacarray-rs "));
        assert_eq!(n_streams(&[2, 3, 4]), Some(24));
        assert_eq!(n_streams(&[usize::MAX, 2]), None);
    }
}
