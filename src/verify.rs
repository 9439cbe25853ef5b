//! Checking that every stream of an array decodes, without keeping the values.
//!
//! ```
//! use flacarray::{CompressOptions, FlacArray, verify::verify};
//! let a = ndarray::Array2::from_shape_fn((3, 100), |(i, j)| (i * j) as i64);
//! let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
//! let r = verify(&fa, None, &|_| {})?;
//! assert_eq!((r.streams, r.samples), (3, 300));
//! # Ok::<(), flacarray::Error>(())
//! ```

use crate::{FlacArray, LogicalArray, SampleSlice};

/// What [`verify`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// Streams decoded.
    pub streams: usize,
    /// Samples decoded (per channel), all streams.
    pub samples: u64,
    /// Compressed bytes of those streams.
    pub bytes: u64,
}

/// Decodes every stream of `fa` on `threads` workers (`None`: rayon's global pool), a
/// block of streams at a time, calling `progress` with the number of streams of each
/// block done.
///
/// # Errors
/// The first stream that does not decode (to exactly `stream_size` samples), named by
/// its index; a value that does not fit the array's logical type.
pub fn verify(
    fa: &FlacArray,
    threads: Option<usize>,
    progress: &dyn Fn(usize),
) -> Result<VerifyReport, crate::Error> {
    let n = fa.n_streams();
    // 1% of the streams at a time: progress moves, and the decoded values held at once
    // stay a hundredth of the array.
    let block = n.div_ceil(100).max(1);
    for lo in (0..n).step_by(block) {
        let hi = (lo + block).min(n);
        let block = fa.decompress_streams(lo..hi, SampleSlice::FULL, threads)?;
        // A value outside the recorded type (a `uint8` array holding 300) is corrupt.
        LogicalArray::from_decoded(block, fa.logical_dtype())?;
        progress(hi - lo);
    }
    Ok(VerifyReport {
        streams: n,
        samples: (n * fa.stream_size()) as u64,
        bytes: fa.stream_nbytes().iter().sum(),
    })
}
