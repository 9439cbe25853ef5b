//! The row plan: which rows of axis 0 each rank holds (`mpi_dist`), where its rows
//! and bytes start in the global array, and the checks on a requested distribution
//! and keep mask. Computed here once for every reader and writer of the crate.

use flacarray_core::{FlacArray, StoredMeta};

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

/// Rows of a local array: the first axis of its leading shape (a 1-d array is one row).
pub(crate) fn rows_of(fa: &FlacArray) -> usize {
    fa.leading_shape().first().copied().unwrap_or(0)
}

/// `local` unless it holds no rows (ranks without rows hold nothing).
pub(crate) fn nonempty(local: Option<&FlacArray>) -> Option<&FlacArray> {
    local.filter(|fa| rows_of(fa) > 0)
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

/// Where rank `rank` starts in the global array, from every rank's row count and byte
/// total: the sums over the lower ranks.
#[cfg(any(feature = "mpio", test))]
pub(crate) fn start_of(rows: &[usize], nbytes: &[u64], rank: usize) -> (usize, u64) {
    let r = rank.min(rows.len()).min(nbytes.len());
    (rows[..r].iter().sum(), nbytes[..r].iter().sum())
}

/// The rows of every rank for reading the stored array `meta` describes over `n_ranks`
/// ranks: `mpi_dist` checked against it ([`check_dist`]), or the even split
/// ([`split_rows`]); and a check of the keep mask's length against the stored streams.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad `mpi_dist` or a `keep` of the wrong length.
pub(crate) fn plan_read(
    meta: &StoredMeta,
    keep: Option<&[bool]>,
    mpi_dist: Option<&[(usize, usize)]>,
    n_ranks: usize,
) -> Result<Vec<(usize, usize)>> {
    let n = meta.leading_shape.first().copied().unwrap_or(0);
    let dist = match mpi_dist {
        Some(d) => {
            check_dist(d, n, n_ranks)?;
            d.to_vec()
        }
        None => split_rows(n, n_ranks),
    };
    if let Some(k) = keep
        && k.len() != meta.n_streams()
    {
        return Err(Error::InvalidArgument(format!(
            "keep has {} entries but the array has {} streams (leading shape {:?})",
            k.len(),
            meta.n_streams(),
            meta.leading_shape
        )));
    }
    Ok(dist)
}

#[cfg(test)]
mod tests {
    use flacarray_core::DType;

    use super::*;

    fn meta(leading_shape: Vec<usize>) -> StoredMeta {
        StoredMeta {
            format_version: 1,
            dtype: DType::Int32,
            leading_shape,
            stream_size: 10,
            total_bytes: 0,
        }
    }

    #[test]
    fn the_default_plan_is_the_even_split() {
        let m = meta(vec![7, 2]);
        assert_eq!(
            plan_read(&m, None, None, 3).expect("plan"),
            vec![(0, 3), (3, 5), (5, 7)]
        );
    }

    #[test]
    fn a_given_dist_is_checked_against_the_stored_rows() {
        let m = meta(vec![4]);
        let d = [(0, 0), (0, 4)];
        assert_eq!(plan_read(&m, None, Some(&d), 2).expect("plan"), d.to_vec());
        let short = [(0, 1), (1, 3)];
        let err = plan_read(&m, None, Some(&short), 2).expect_err("accepted");
        assert_eq!(
            err.to_string(),
            "invalid argument: mpi_dist covers rows 0..3, but the array has 4 rows along axis 0"
        );
    }

    #[test]
    fn the_keep_mask_must_cover_every_stream() {
        let m = meta(vec![2, 3]);
        assert!(plan_read(&m, Some(&[true; 6]), None, 2).is_ok());
        let err = plan_read(&m, Some(&[true; 5]), None, 2).expect_err("accepted");
        assert!(err.to_string().contains("keep has 5 entries"), "{err}");
    }

    #[test]
    fn starts_are_the_sums_over_lower_ranks() {
        let rows = [2, 0, 3];
        let nbytes = [100, 0, 50];
        assert_eq!(start_of(&rows, &nbytes, 0), (0, 0));
        assert_eq!(start_of(&rows, &nbytes, 2), (2, 100));
        assert_eq!(start_of(&rows, &nbytes, 3), (5, 150));
        assert_eq!(from_counts(&rows), vec![(0, 2), (2, 2), (2, 5)]);
    }
}
