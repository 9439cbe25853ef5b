//! Building per-stream compression options from arrays of values (files of quanta or
//! precisions, one value per stream) and splitting them between workers.
//!
//! ```
//! use flacarray::options::{leading_of, per_stream, precisions};
//! let values = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[2, 3]), 5.0);
//! let leading = leading_of(&[2, 3, 1000]);
//! assert_eq!(leading, vec![2, 3]);
//! assert_eq!(precisions(&per_stream(&values, &leading)?)?, vec![5; 6]);
//! assert!(per_stream(&values, &[6]).is_err());
//! # Ok::<(), flacarray::options::Error>(())
//! ```

use ndarray::ArrayD;

use crate::fmt_shape;

/// A per-stream option that does not fit the data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The values' shape is not the data's leading shape.
    #[error(
        "shape {} does not match the input's leading shape {}",
        fmt_shape(got),
        fmt_shape(leading)
    )]
    Shape {
        /// The values' shape.
        got: Vec<usize>,
        /// The data's leading shape.
        leading: Vec<usize>,
    },
    /// A precision that is not an integer in the `i32` range.
    #[error("precision {0} is not an integer")]
    Precision(f64),
}

/// The leading shape flacarray uses for an array of `shape`: all but the last axis,
/// `(1,)` for one-dimensional data.
#[must_use]
pub fn leading_of(shape: &[usize]) -> Vec<usize> {
    match shape.split_last() {
        Some((_, [])) | None => vec![1],
        Some((_, lead)) => lead.to_vec(),
    }
}

/// Checks that per-stream values have the leading shape (data with one stream also
/// accepts a scalar or a single value) and returns them in C order.
///
/// # Errors
/// [`Error::Shape`].
pub fn per_stream<T: Clone>(arr: &ArrayD<T>, leading: &[usize]) -> Result<Vec<T>, Error> {
    if arr.shape() == leading || (leading == [1] && arr.len() == 1) {
        Ok(arr.iter().cloned().collect())
    } else {
        Err(Error::Shape {
            got: arr.shape().to_vec(),
            leading: leading.to_vec(),
        })
    }
}

/// Per-stream precisions from numbers (as read from a file of any numeric type).
///
/// # Errors
/// [`Error::Precision`] for the first value that is not an integer in the `i32` range.
pub fn precisions(values: &[f64]) -> Result<Vec<i32>, Error> {
    values
        .iter()
        .map(|&v| {
            if v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
                // Checked above: an integer inside the i32 range.
                Ok(v as i32)
            } else {
                Err(Error::Precision(v))
            }
        })
        .collect()
}
