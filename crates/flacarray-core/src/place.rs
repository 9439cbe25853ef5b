//! Where a stored FlacArray lives, and the errors every storage backend reports
//! about the group there in the same words.
//!
//! A backend builds one [`Place`] per group it opens and makes its layout errors
//! with it ([`Place::corrupt`], [`Place::not_found`], ...), so each message names
//! the file (or store directory), the group and the object concerned:
//! `data.h5: group /flac: dataset stream_starts: stream 3 starts at byte 900 ...`.

use std::fmt;
use std::ops::Range;

use crate::layout::{
    ARR_NONFINITE_FLAGS, ARR_NONFINITE_RUNS, ARR_STARTS, ATTR_FLAC_CHANNELS, ATTR_FORMAT_VERSION,
    ATTR_STREAM_SIZE,
};
use crate::validate::Invalid;
use crate::{Error, StoredMeta};

/// The file (or store directory) and the group inside it that an error concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// File name (HDF5) or store directory (Zarr), as the backend reports it.
    pub file: String,
    /// Absolute path of the group inside the file (`/` for the root).
    pub group: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: group {}", self.file, self.group)
    }
}

impl Place {
    /// The place of `group` in `file`; an empty group path means the root, `/`.
    pub fn new(file: impl Into<String>, group: impl Into<String>) -> Self {
        let group = group.into();
        Self {
            file: file.into(),
            group: if group.is_empty() {
                "/".to_owned()
            } else {
                group
            },
        }
    }

    /// [`Error::CorruptGroup`]: `object` (e.g. `dataset stream_starts`) is invalid.
    #[must_use]
    pub fn corrupt(&self, object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::CorruptGroup {
            place: Box::new(self.clone()),
            object: object.into(),
            reason: reason.into(),
        }
    }

    /// [`Error::UnsupportedGroup`]: `object` holds a layout this project does not know.
    #[must_use]
    pub fn unsupported(&self, object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::UnsupportedGroup {
            place: Box::new(self.clone()),
            object: object.into(),
            reason: reason.into(),
        }
    }

    /// [`Error::GroupNotFound`]: the group cannot be opened, for `reason`.
    #[must_use]
    pub fn not_found(&self, reason: impl Into<String>) -> Error {
        Error::GroupNotFound {
            place: Box::new(self.clone()),
            reason: reason.into(),
        }
    }

    /// [`Error::NotFlacArray`]: the group has no format version attribute.
    #[must_use]
    pub fn not_flacarray(&self) -> Error {
        Error::NotFlacArray {
            place: Box::new(self.clone()),
        }
    }

    /// [`Error::AlreadyExists`]: writing would overwrite `object`; `hint` says how the
    /// backend's caller allows it.
    #[must_use]
    pub fn already_exists(&self, object: impl Into<String>, hint: &'static str) -> Error {
        Error::AlreadyExists {
            place: Box::new(self.clone()),
            object: object.into(),
            hint,
        }
    }

    /// A refusal of the core's validator ([`crate::validate`]) as
    /// [`Error::CorruptGroup`] naming the stored object: `kind` is the backend's word
    /// for an array (`dataset` in HDF5, `array` in Zarr); `stream_size`, an attribute
    /// of `stream_starts`, is named as such.
    #[must_use]
    pub fn invalid(&self, kind: &str, e: Invalid) -> Error {
        let object = if e.object == ATTR_STREAM_SIZE {
            format!("{kind} {ARR_STARTS}: attribute {ATTR_STREAM_SIZE}")
        } else {
            format!("{kind} {}", e.object)
        };
        self.corrupt(object, e.reason)
    }

    /// The arrays [`ARR_NONFINITE_FLAGS`] and [`ARR_NONFINITE_RUNS`] of a group as the
    /// backend opened them (`None` when absent): a group stores both or neither. `kind`
    /// is the backend's word for arrays (`datasets`, `arrays`).
    ///
    /// # Errors
    /// [`Error::CorruptGroup`] when only one of them is present.
    pub fn nonfinite_arrays<T>(
        &self,
        kind: &str,
        flags: Option<T>,
        runs: Option<T>,
    ) -> Result<Option<(T, T)>, Error> {
        match (flags, runs) {
            (None, None) => Ok(None),
            (Some(f), Some(r)) => Ok(Some((f, r))),
            _ => Err(self.corrupt(
                format!("{kind} {ARR_NONFINITE_FLAGS}/{ARR_NONFINITE_RUNS}"),
                "one is present without the other",
            )),
        }
    }

    /// The length of a 1-d array of shape `shape`, or [`Error::CorruptGroup`] naming
    /// `object` when the array has another number of dimensions.
    ///
    /// # Errors
    /// As described.
    pub fn one_dim<T: Copy + fmt::Debug>(&self, object: &str, shape: &[T]) -> Result<T, Error> {
        match shape {
            [len] => Ok(*len),
            _ => Err(self.corrupt(object, format!("must be 1-d, found shape {shape:?}"))),
        }
    }

    /// The format version of the group from its `flacarray_format_version` attribute:
    /// `shown` is the value as stored (for the message), `int` its integer reading
    /// (`None` when it is not an integer).
    ///
    /// # Errors
    /// [`Error::UnsupportedGroup`] for any version other than 0 and 1.
    pub fn format_version(&self, shown: &dyn fmt::Display, int: Option<i64>) -> Result<u32, Error> {
        match int {
            Some(0) => Ok(0),
            Some(1) => Ok(1),
            Some(2) => Ok(2),
            _ => Err(self.unsupported(
                format!("attribute {ATTR_FORMAT_VERSION}"),
                format!("format version {shown} (this reader knows 0, 1 and 2)"),
            )),
        }
    }

    /// FLAC channels per stream of a group of format `version` from its
    /// `flac_channels` attribute: `None` when absent, else the value as stored (for
    /// the message) and its integer reading. Format 0 has no attribute and means 1.
    ///
    /// # Errors
    /// [`Error::CorruptGroup`] when format 1 lacks the attribute or the value is not
    /// one the format allows.
    pub fn flac_channels(
        &self,
        version: u32,
        found: Option<(&dyn fmt::Display, Option<i64>)>,
    ) -> Result<u32, Error> {
        let label = format!("attribute {ATTR_FLAC_CHANNELS}");
        match (version, found) {
            (0, None) => Ok(1),
            (_, None) => Err(self.corrupt(label, "missing (format 1 requires it)")),
            (0..=2, Some((_, Some(1)))) => Ok(1),
            (1 | 2, Some((_, Some(2)))) => Ok(2),
            (v, Some((shown, _))) => Err(self.corrupt(
                label,
                format!(
                    "value {shown} (format {v} allows {})",
                    if v == 0 { "1" } else { "1 or 2" }
                ),
            )),
        }
    }

    /// The flat stream numbers of leading rows `rows` of a group described by `meta`
    /// whose stream table holds `n_streams` entries.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the rows are reversed or outside the table.
    pub fn row_streams(
        &self,
        meta: &StoredMeta,
        rows: Range<usize>,
        n_streams: usize,
    ) -> Result<Range<usize>, Error> {
        let per_row = meta.streams_per_row();
        let lo = rows.start.saturating_mul(per_row);
        let hi = rows.end.saturating_mul(per_row);
        if rows.start > rows.end || hi > n_streams {
            return Err(Error::InvalidArgument(format!(
                "{self}: rows {}..{} outside the leading shape {:?}",
                rows.start, rows.end, meta.leading_shape
            )));
        }
        Ok(lo..hi)
    }
}
