//! Concatenation of compressed arrays along axis 0: the stream tables appended with
//! each part's starts shifted by the bytes before it, the per-stream parameters
//! appended, the bytes appended. The one copy of this in the crate (the writers
//! through rank 0 assemble the global array with it).

use flacarray_core::{DType, FlacArray, FlacArrayParts, StreamScaling};

use crate::error::{Error, Result};

/// A global array being assembled from rank-ordered parts.
pub(crate) struct Concat {
    compressed: Vec<u8>,
    starts: Vec<u64>,
    nbytes: Vec<u64>,
    scaling: StreamScaling,
}

impl Concat {
    /// An empty concatenation of `dtype` data with room for `n_streams` streams and
    /// `n_bytes` compressed bytes (the totals the ranks announced, so no reallocation
    /// happens while the parts arrive).
    pub(crate) fn with_capacity(dtype: DType, n_streams: usize, n_bytes: usize) -> Self {
        let scaling = match dtype {
            DType::Float32 => StreamScaling::F32 {
                offsets: Vec::with_capacity(n_streams),
                gains: Vec::with_capacity(n_streams),
            },
            DType::Float64 => StreamScaling::F64 {
                offsets: Vec::with_capacity(n_streams),
                gains: Vec::with_capacity(n_streams),
            },
            DType::Int32 | DType::Int64 => StreamScaling::None,
        };
        Self {
            compressed: Vec::with_capacity(n_bytes),
            starts: Vec::with_capacity(n_streams),
            nbytes: Vec::with_capacity(n_streams),
            scaling,
        }
    }

    /// Appends the next part: its stream starts (relative to its own `bytes`), stream
    /// byte counts, per-stream parameters and bytes.
    ///
    /// # Errors
    /// [`Error::Mismatch`] when the part's parameters are of another kind than the
    /// dtype's (nothing is appended then).
    pub(crate) fn push(
        &mut self,
        starts: &[u64],
        nbytes: &[u64],
        scaling: &StreamScaling,
        bytes: &[u8],
    ) -> Result<()> {
        extend_scaling(&mut self.scaling, scaling)?;
        let off = self.compressed.len() as u64;
        self.starts.extend(starts.iter().map(|&x| x + off));
        self.nbytes.extend_from_slice(nbytes);
        self.compressed.extend_from_slice(bytes);
        Ok(())
    }

    /// Appends a whole local array.
    ///
    /// # Errors
    /// As [`Concat::push`].
    pub(crate) fn push_array(&mut self, fa: &FlacArray) -> Result<()> {
        self.push(
            fa.stream_starts(),
            fa.stream_nbytes(),
            fa.scaling(),
            fa.compressed(),
        )
    }

    /// The assembled array, checked by [`FlacArray::from_parts`].
    ///
    /// # Errors
    /// [`Error::Core`] when the parts do not make the array described.
    pub(crate) fn finish(
        self,
        leading_shape: Vec<usize>,
        stream_size: usize,
        dtype: DType,
        format_version: u32,
    ) -> Result<FlacArray> {
        Ok(FlacArray::from_parts(FlacArrayParts {
            leading_shape,
            stream_size,
            one_d: false,
            dtype,
            compressed: self.compressed,
            starts: self.starts,
            nbytes: self.nbytes,
            scaling: self.scaling,
            format_version,
        })?)
    }
}

/// Appends `src`'s parameters to `dst` (same variant).
fn extend_scaling(dst: &mut StreamScaling, src: &StreamScaling) -> Result<()> {
    match (dst, src) {
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
        _ => {
            return Err(Error::Mismatch(
                "the ranks' stream parameters are of different kinds".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use flacarray_core::{CompressOptions, FlacArray, QuantaOption};
    use ndarray::{Array2, Axis, Slice};

    use super::*;

    fn opts() -> CompressOptions {
        CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..Default::default()
        }
    }

    #[test]
    fn parts_concatenate_to_the_whole() {
        let a = Array2::from_shape_fn((5, 300), |(i, k)| (i as f64) * 3.0 + (k as f64 * 0.1).cos());
        let opts = opts();
        let whole = FlacArray::from_array(&a, &opts).expect("whole");
        let mut c = Concat::with_capacity(DType::Float64, 5, whole.nbytes());
        for rows in [0..2, 2..2, 2..5] {
            let part = a.slice_axis(Axis(0), Slice::from(rows));
            if part.len_of(Axis(0)) == 0 {
                continue;
            }
            let fa = FlacArray::from_array(&part, &opts).expect("part");
            c.push_array(&fa).expect("push");
        }
        let got = c.finish(vec![5], 300, DType::Float64, 1).expect("finish");
        assert_eq!(got, whole);
    }

    #[test]
    fn other_parameters_are_refused() {
        let a = Array2::from_shape_fn((2, 100), |(i, k)| (i * 100 + k) as f32);
        let fa = FlacArray::from_array(&a, &opts()).expect("compress");
        let mut c = Concat::with_capacity(DType::Int32, 2, 0);
        let err = c.push_array(&fa).expect_err("accepted");
        assert!(matches!(err, Error::Mismatch(_)), "{err}");
    }
}
