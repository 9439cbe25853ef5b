//! The error type of this crate.

use flacarray_core::{Error as CoreError, Place};

/// A boxed error from zarrs (its error types differ per operation).
pub type ZarrsError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while reading or writing a flacarray group in a Zarr
/// store.
///
/// Layout problems (a missing or corrupt array, an unknown format, a group in the
/// way) are the core's [`Error::Core`] variants that name a
/// [`Place`](flacarray_core::Place) (see [`flacarray_core::Error::place`]), the
/// store's directory standing for the file; this crate adds zarrs' failures.
/// Messages name the store, the group and the object, like
/// `data.zarr: group /flac: array stream_starts: stream 3 (index [1, 0]) ...`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layout error naming the store and group, or an error of the array layer
    /// (decoding, selection, ...) while reading or writing through
    /// [`ZarrStore`](crate::ZarrStore).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The caller passed something inconsistent (a row range outside the array, a
    /// format-0 array to write, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// zarrs (metadata, codecs or the filesystem store) reported an error.
    #[error("{place}: {object}: {action} failed: {source}")]
    Zarr {
        /// The store's directory and the group inside it.
        place: Place,
        /// The array, attribute or metadata document concerned.
        object: String,
        /// What was being done, e.g. `reading`.
        action: &'static str,
        /// The error from zarrs.
        #[source]
        source: ZarrsError,
    },
}

/// Where an object lives: the store and group every error names.
pub(crate) type Ctx = Place;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The hint of [`flacarray_core::Error::AlreadyExists`] for this crate's writers.
pub(crate) const REPLACE_HINT: &str = "create the store with replace = true to overwrite it";

/// zarrs failures at a [`Place`].
pub(crate) trait ZarrAt {
    /// A closure turning a zarrs error into [`Error::Zarr`], for `map_err`.
    fn zarr<'a, E>(&'a self, object: &'a str, action: &'static str) -> impl FnOnce(E) -> Error + 'a
    where
        E: std::error::Error + Send + Sync + 'static;
}

impl ZarrAt for Place {
    fn zarr<'a, E>(&'a self, object: &'a str, action: &'static str) -> impl FnOnce(E) -> Error + 'a
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| Error::Zarr {
            place: self.clone(),
            object: object.to_owned(),
            action,
            source: Box::new(source),
        }
    }
}
