//! The error type of this crate.

use flacarray_core::{Error as CoreError, Place};

/// Everything that can go wrong while reading or writing a flacarray group.
///
/// Layout problems (a missing or corrupt dataset, an unknown format, a group in the
/// way) are the core's [`Error::Core`] variants that name a
/// [`Place`](flacarray_core::Place) (see
/// [`flacarray_core::Error::place`]); this crate adds the HDF5 library's failures.
/// Messages name the file, the group and the object, like
/// `data.h5: group /flac: dataset stream_starts: stream 3 starts at byte 900 ...`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HDF5 library reported an error.
    #[error("{place}: {object}: {action} failed: {source}")]
    Hdf5 {
        /// The file and group (`/` for file-level errors).
        place: Place,
        /// The dataset or attribute concerned (`file` for file-level errors).
        object: String,
        /// What was being done, e.g. `read`.
        action: &'static str,
        /// The error from hdf5-metno.
        #[source]
        source: hdf5::Error,
    },
    /// The caller passed something this crate cannot write or do (format-0 data,
    /// parts of a group outside its layout, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A layout error naming the file and group, or an error of the array layer
    /// (decoding, selection, ...) while reading or writing through
    /// [`Hdf5Store`](crate::Hdf5Store).
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where an object lives: the file and group every error names.
pub(crate) type Ctx = Place;

/// The place of an open group.
pub(crate) fn ctx_of(group: &hdf5::Group) -> Ctx {
    Place::new(group.filename(), group.name())
}

/// HDF5 failures at a [`Place`].
pub(crate) trait H5At {
    /// A closure turning an hdf5 error into [`Error::Hdf5`], for `map_err`.
    fn h5<'a>(
        &'a self,
        object: &'a str,
        action: &'static str,
    ) -> impl FnOnce(hdf5::Error) -> Error + 'a;
}

impl H5At for Place {
    fn h5<'a>(
        &'a self,
        object: &'a str,
        action: &'static str,
    ) -> impl FnOnce(hdf5::Error) -> Error + 'a {
        move |source| Error::Hdf5 {
            place: self.clone(),
            object: object.to_owned(),
            action,
            source,
        }
    }
}

/// The hint of [`flacarray_core::Error::AlreadyExists`] for this crate's writers.
pub(crate) const REPLACE_HINT: &str = "set WriteOptions::replace to overwrite it";
