//! Where a stored FlacArray lives, and the errors every storage backend reports
//! about the group there in the same words.
//!
//! A backend builds one [`Place`] per group it opens and makes its layout errors
//! with it ([`Place::corrupt`], [`Place::not_found`], ...), so each message names
//! the file (or store directory), the group and the object concerned:
//! `data.h5: group /flac: dataset stream_starts: stream 3 starts at byte 900 ...`.

use std::fmt;

use crate::Error;

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
            place: self.clone(),
            object: object.into(),
            reason: reason.into(),
        }
    }

    /// [`Error::UnsupportedGroup`]: `object` holds a layout this project does not know.
    #[must_use]
    pub fn unsupported(&self, object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::UnsupportedGroup {
            place: self.clone(),
            object: object.into(),
            reason: reason.into(),
        }
    }

    /// [`Error::GroupNotFound`]: the group cannot be opened, for `reason`.
    #[must_use]
    pub fn not_found(&self, reason: impl Into<String>) -> Error {
        Error::GroupNotFound {
            place: self.clone(),
            reason: reason.into(),
        }
    }

    /// [`Error::NotFlacArray`]: the group has no format version attribute.
    #[must_use]
    pub fn not_flacarray(&self) -> Error {
        Error::NotFlacArray {
            place: self.clone(),
        }
    }

    /// [`Error::AlreadyExists`]: writing would overwrite `object`; `hint` says how the
    /// backend's caller allows it.
    #[must_use]
    pub fn already_exists(&self, object: impl Into<String>, hint: &'static str) -> Error {
        Error::AlreadyExists {
            place: self.clone(),
            object: object.into(),
            hint,
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
}
