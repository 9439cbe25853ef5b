//! The error type of this crate.

/// Everything that can go wrong while reading or writing a flacarray group.
///
/// Every variant that concerns a file names the file, the HDF5 group and the object
/// (dataset or attribute) involved, so a message like
/// `data.h5: group /flac: dataset stream_starts: stream 3 starts at byte 900 ...`
/// says where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The group holds something that is not a valid flacarray layout: a missing or
    /// mistyped dataset or attribute, byte ranges outside `compressed`, and so on.
    #[error("{file}: group {group}: {object}: {reason}")]
    Corrupt {
        /// File name as HDF5 reports it.
        file: String,
        /// Absolute path of the group inside the file.
        group: String,
        /// The dataset or attribute concerned, e.g. `dataset stream_starts`.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The group holds a layout this crate does not know (for example an unknown
    /// format version).
    #[error("{file}: group {group}: {object}: unsupported: {reason}")]
    Unsupported {
        /// File name as HDF5 reports it.
        file: String,
        /// Absolute path of the group inside the file.
        group: String,
        /// The dataset or attribute concerned.
        object: String,
        /// What is not supported.
        reason: String,
    },
    /// The group has no `flacarray_format_version` attribute, so holds no FlacArray.
    #[error(
        "{file}: group {group}: attribute flacarray_format_version: missing, \
         the group does not contain a FlacArray"
    )]
    NotFlacArray {
        /// File name as HDF5 reports it.
        file: String,
        /// Absolute path of the group inside the file.
        group: String,
    },
    /// The requested group does not exist (reading) or a non-group object has its name.
    #[error("{file}: group {group}: {reason}")]
    GroupNotFound {
        /// File name.
        file: String,
        /// The group path that was asked for.
        group: String,
        /// Why it could not be opened.
        reason: String,
    },
    /// Writing would overwrite a FlacArray (or one of its datasets) that is already in
    /// the group, and [`WriteOptions::replace`](crate::WriteOptions::replace) is false.
    #[error(
        "{file}: group {group}: {object}: already exists (a FlacArray is stored here); \
         set WriteOptions::replace to overwrite it"
    )]
    AlreadyExists {
        /// File name as HDF5 reports it.
        file: String,
        /// Absolute path of the group inside the file.
        group: String,
        /// The object found in the way.
        object: String,
    },
    /// The HDF5 library reported an error.
    #[error("{file}: group {group}: {object}: {action} failed: {source}")]
    Hdf5 {
        /// File name.
        file: String,
        /// Absolute path of the group inside the file (`/` for file-level errors).
        group: String,
        /// The dataset or attribute concerned (`file` for file-level errors).
        object: String,
        /// What was being done, e.g. `read`.
        action: &'static str,
        /// The error from hdf5-metno.
        #[source]
        source: hdf5::Error,
    },
    /// The caller passed something inconsistent (a [`StoredArray`](crate::StoredArray)
    /// whose parts disagree, a keep mask of the wrong length, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An error of the array layer (decoding, selection, ...) while reading or
    /// writing through [`Hdf5Store`](crate::Hdf5Store).
    #[error(transparent)]
    Core(flacarray_core::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where an object lives: the file and group every error names.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) file: String,
    pub(crate) group: String,
}

impl Ctx {
    /// The context of an open group.
    pub(crate) fn of(group: &hdf5::Group) -> Self {
        let name = group.name();
        Self {
            file: group.filename(),
            group: if name.is_empty() {
                "/".to_owned()
            } else {
                name
            },
        }
    }

    pub(crate) fn corrupt(&self, object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            file: self.file.clone(),
            group: self.group.clone(),
            object: object.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(
        &self,
        object: impl Into<String>,
        reason: impl Into<String>,
    ) -> Error {
        Error::Unsupported {
            file: self.file.clone(),
            group: self.group.clone(),
            object: object.into(),
            reason: reason.into(),
        }
    }

    /// A closure turning an hdf5 error into [`Error::Hdf5`], for `map_err`.
    pub(crate) fn h5<'a>(
        &'a self,
        object: &'a str,
        action: &'static str,
    ) -> impl FnOnce(hdf5::Error) -> Error + 'a {
        move |source| Error::Hdf5 {
            file: self.file.clone(),
            group: self.group.clone(),
            object: object.to_owned(),
            action,
            source,
        }
    }
}
