//! `mpi_dist`: which rows of axis 0 each rank holds.

use crate::error::{Error, Result};

/// Splits `n` rows over `n_ranks` ranks as numpy's `array_split` does: the first
/// `n % n_ranks` ranks get one row more than the others. Ranks beyond `n` get no rows,
/// `(n, n)`.
///
/// flacarray 0.4.1 refuses a default split that leaves a rank without rows; this crate
/// allows it (a custom `mpi_dist` may have empty ranks anyway, and the ranks without
/// rows simply hold no local array).
///
/// ```
/// use flacarray_mpi::split_rows;
/// assert_eq!(split_rows(7, 3), vec![(0, 3), (3, 5), (5, 7)]);
/// assert_eq!(split_rows(2, 3), vec![(0, 1), (1, 2), (2, 2)]);
/// ```
#[must_use]
pub fn split_rows(n: usize, n_ranks: usize) -> Vec<(usize, usize)> {
    let n_ranks = n_ranks.max(1);
    let (base, extra) = (n / n_ranks, n % n_ranks);
    let mut first = 0;
    (0..n_ranks)
        .map(|r| {
            let len = base + usize::from(r < extra);
            let range = (first, first + len);
            first += len;
            range
        })
        .collect()
}

/// Checks a distribution of `n` rows over `n_ranks` ranks: one `(first, last)` range
/// per rank (`last` exclusive), in rank order, contiguous, covering `[0, n)`. Empty
/// ranges `(k, k)` are allowed.
///
/// ```
/// use flacarray_mpi::check_dist;
/// assert!(check_dist(&[(0, 0), (0, 1), (1, 3)], 3, 3).is_ok());
/// assert!(check_dist(&[(0, 1), (2, 3)], 3, 2).is_err()); // a gap
/// assert!(check_dist(&[(0, 3)], 3, 2).is_err()); // one range for two ranks
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] naming the first problem.
pub fn check_dist(dist: &[(usize, usize)], n: usize, n_ranks: usize) -> Result<()> {
    if dist.len() != n_ranks {
        return Err(Error::InvalidArgument(format!(
            "mpi_dist has {} ranges for {n_ranks} ranks",
            dist.len()
        )));
    }
    let mut next = 0;
    for (r, &(first, last)) in dist.iter().enumerate() {
        if first != next {
            return Err(Error::InvalidArgument(format!(
                "mpi_dist: rank {r} starts at row {first}, expected {next} (ranges must be \
                 contiguous from 0)"
            )));
        }
        if last < first {
            return Err(Error::InvalidArgument(format!(
                "mpi_dist: rank {r} has the range ({first}, {last}) with last < first"
            )));
        }
        next = last;
    }
    if next != n {
        return Err(Error::InvalidArgument(format!(
            "mpi_dist covers rows 0..{next}, but the array has {n} rows along axis 0"
        )));
    }
    Ok(())
}

/// The distribution given by per-rank row counts.
pub(crate) fn from_counts(counts: &[usize]) -> Vec<(usize, usize)> {
    let mut first = 0;
    counts
        .iter()
        .map(|&c| {
            let r = (first, first + c);
            first += c;
            r
        })
        .collect()
}
