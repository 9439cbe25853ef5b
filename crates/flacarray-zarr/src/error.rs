//! The error type of this crate.

/// A boxed error from zarrs (its error types differ per operation).
pub type ZarrsError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while reading or writing a flacarray group in a Zarr
/// store.
///
/// Every variant that concerns a store names the store (its directory), the group
/// inside it and the array or attribute involved, so a message like
/// `data.zarr: group /flac: array stream_starts: stream 3 (index [1, 0]) ...` says
/// where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The group holds something that is not a valid flacarray layout: a missing or
    /// mistyped array or attribute, byte ranges outside `compressed`, and so on.
    #[error("{store}: group {group}: {object}: {reason}")]
    Corrupt {
        /// The store's directory.
        store: String,
        /// Path of the group inside the store (`/` for the root).
        group: String,
        /// The array or attribute concerned, e.g. `array stream_starts`.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The group holds a layout this crate does not know (for example an unknown
    /// format version).
    #[error("{store}: group {group}: {object}: unsupported: {reason}")]
    Unsupported {
        /// The store's directory.
        store: String,
        /// Path of the group inside the store.
        group: String,
        /// The array or attribute concerned.
        object: String,
        /// What is not supported.
        reason: String,
    },
    /// The group has no `flacarray_format_version` attribute, so holds no FlacArray.
    #[error(
        "{store}: group {group}: attribute flacarray_format_version: missing, \
         the group does not contain a FlacArray"
    )]
    NotFlacArray {
        /// The store's directory.
        store: String,
        /// Path of the group inside the store.
        group: String,
    },
    /// The store or the requested group does not exist (or is not a Zarr group).
    #[error("{store}: group {group}: {reason}")]
    GroupNotFound {
        /// The store's directory.
        store: String,
        /// The group path that was asked for.
        group: String,
        /// Why it could not be opened.
        reason: String,
    },
    /// Writing would overwrite a FlacArray (or one of its arrays) already in the group
    /// and `replace` is false.
    #[error(
        "{store}: group {group}: {object}: already exists (a FlacArray is stored here); \
         create the store with replace = true to overwrite it"
    )]
    AlreadyExists {
        /// The store's directory.
        store: String,
        /// Path of the group inside the store.
        group: String,
        /// The object found in the way.
        object: String,
    },
    /// zarrs (metadata, codecs or the filesystem store) reported an error.
    #[error("{store}: group {group}: {object}: {action} failed: {source}")]
    Zarr {
        /// The store's directory.
        store: String,
        /// Path of the group inside the store.
        group: String,
        /// The array, attribute or metadata document concerned.
        object: String,
        /// What was being done, e.g. `reading`.
        action: &'static str,
        /// The error from zarrs.
        #[source]
        source: ZarrsError,
    },
    /// The caller passed something inconsistent (a row range outside the array, a
    /// format-0 array to write, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An error of the array layer (decoding, selection, ...) while reading or
    /// writing through [`ZarrStore`](crate::ZarrStore).
    #[error(transparent)]
    Core(flacarray_core::Error),
}

impl From<flacarray_core::Error> for Error {
    fn from(e: flacarray_core::Error) -> Self {
        Error::Core(e)
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where an object lives: the store and group every error names.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) store: String,
    pub(crate) group: String,
}

impl Ctx {
    pub(crate) fn corrupt(&self, object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            store: self.store.clone(),
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
            store: self.store.clone(),
            group: self.group.clone(),
            object: object.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(&self, reason: impl Into<String>) -> Error {
        Error::GroupNotFound {
            store: self.store.clone(),
            group: self.group.clone(),
            reason: reason.into(),
        }
    }

    /// A closure turning a zarrs error into [`Error::Zarr`], for `map_err`.
    pub(crate) fn zarr<'a, E>(
        &'a self,
        object: &'a str,
        action: &'static str,
    ) -> impl FnOnce(E) -> Error + 'a
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| Error::Zarr {
            store: self.store.clone(),
            group: self.group.clone(),
            object: object.to_owned(),
            action,
            source: Box::new(source),
        }
    }
}
