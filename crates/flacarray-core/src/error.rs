//! The error type of this crate.

use flacarray_quant::Error as QuantError;

use crate::place::Place;

/// Why building, decoding, selecting from or storing a [`crate::FlacArray`] failed.
///
/// Variants are grouped by cause: the caller's mistake ([`Error::InvalidArgument`],
/// [`Error::Index`]), data that cannot be compressed ([`Error::Quantize`]), stored bytes or tables that
/// are inconsistent ([`Error::Corrupt`], [`Error::Flac`]) and storage
/// failures reported by a backend ([`Error::Store`]).
///
/// Every per-stream error names the stream by its index over the leading shape, as
/// Python prints a tuple: `stream (1, 2)` in a `(3, 4, N)` array, `stream (0,)` for a
/// one-dimensional array.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument is out of range or arguments do not fit together.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// An index or slice does not address the array (numpy's `IndexError`).
    #[error("index error: {0}")]
    Index(String),

    /// The element type is not one flacarray stores.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A stream's samples cannot be quantized: a NaN or infinite sample, a value that
    /// does not fit the integer type, or an unusable quanta. The cause is the
    /// quantizer's error; the message names the stream by its leading index.
    #[error("stream {stream}: {}", quant_detail(.source))]
    Quantize {
        /// Leading index of the stream, formatted as a tuple.
        stream: String,
        /// The quantizer's error (its `stream` field is the flat stream number).
        #[source]
        source: QuantError,
    },

    /// A stream's FLAC bytes could not be encoded or decoded.
    #[error("stream {stream}: {source}")]
    Flac {
        /// Leading index of the stream, formatted as a tuple.
        stream: String,
        /// The codec's error.
        source: flacarray_flac::Error,
    },

    /// The stream table (starts, byte counts, offsets, gains) or the metadata is
    /// inconsistent with the compressed bytes.
    #[error("corrupt flacarray data: {0}")]
    Corrupt(String),

    /// A quantization error not tied to one stream (argument checks).
    #[error("quantization: {0}")]
    Quant(QuantError),

    /// A stored group holds something that is not a valid flacarray layout: a missing
    /// or mistyped array or attribute, byte ranges outside `compressed`, and so on.
    #[error("{place}: {object}: {reason}")]
    CorruptGroup {
        /// The file and group (boxed: it keeps every [`Error`] small).
        place: Box<Place>,
        /// The array or attribute concerned, e.g. `dataset stream_starts`.
        object: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A stored group holds a layout this project does not know (for example an
    /// unknown format version).
    #[error("{place}: {object}: unsupported: {reason}")]
    UnsupportedGroup {
        /// The file and group (boxed: it keeps every [`Error`] small).
        place: Box<Place>,
        /// The array or attribute concerned.
        object: String,
        /// What is not supported.
        reason: String,
    },

    /// The group has no `flacarray_format_version` attribute, so holds no FlacArray.
    #[error(
        "{place}: attribute flacarray_format_version: missing, \
         the group does not contain a FlacArray"
    )]
    NotFlacArray {
        /// The file and group (boxed: it keeps every [`Error`] small).
        place: Box<Place>,
    },

    /// The file or the requested group does not exist, or is not a group.
    #[error("{place}: {reason}")]
    GroupNotFound {
        /// The file and the group path that was asked for (boxed: it keeps every
        /// [`Error`] small).
        place: Box<Place>,
        /// Why it could not be opened.
        reason: String,
    },

    /// Writing would overwrite a FlacArray (or one of its arrays) already in the group.
    #[error("{place}: {object}: already exists (a FlacArray is stored here); {hint}")]
    AlreadyExists {
        /// The file and group (boxed: it keeps every [`Error`] small).
        place: Box<Place>,
        /// The object found in the way.
        object: String,
        /// How the backend's caller allows overwriting.
        hint: &'static str,
    },

    /// A storage backend failed; the cause is the backend's own error.
    #[error("storage: {0}")]
    Store(#[source] StoreError),
}

/// A storage backend's error, shared so that [`Error`] stays `Clone`.
pub type StoreError = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// The file and group a stored-layout error names, if it is one.
    #[must_use]
    pub fn place(&self) -> Option<&Place> {
        match self {
            Error::CorruptGroup { place, .. }
            | Error::UnsupportedGroup { place, .. }
            | Error::NotFlacArray { place }
            | Error::GroupNotFound { place, .. }
            | Error::AlreadyExists { place, .. } => Some(place.as_ref()),
            _ => None,
        }
    }

    /// A storage failure with the backend's typed error as its cause.
    pub fn store(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Store(std::sync::Arc::new(e))
    }

    /// A storage failure described only by a message (in-memory stores).
    pub fn store_msg(msg: impl Into<String>) -> Self {
        let msg: Box<dyn std::error::Error + Send + Sync> = msg.into().into();
        Error::Store(std::sync::Arc::from(msg))
    }
}

/// The quantizer's message without its flat stream number, which [`Error::Quantize`]
/// replaces by the leading index.
fn quant_detail(e: &QuantError) -> String {
    match e {
        QuantError::NonFinite { index, value, .. } => {
            format!("sample {index} is {value}; NaN and infinity cannot be compressed")
        }
        QuantError::Overflow {
            value,
            quanta,
            min_quanta,
            bits,
            ..
        } => format!(
            "value {value} does not fit in a {bits}-bit integer with quanta {quanta}; \
             the smallest quanta that fits this stream is {min_quanta}"
        ),
        QuantError::InvalidQuanta { quanta, reason, .. } => {
            format!("quanta {quanta} cannot be used: {reason}")
        }
        other => other.to_string(),
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Formats a leading index the way Python prints a tuple: `(3,)`, `(1, 2)`.
pub(crate) fn fmt_index(idx: &[usize]) -> String {
    match idx {
        [one] => format!("({one},)"),
        _ => {
            let parts: Vec<String> = idx.iter().map(ToString::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// The leading index (C order) of flat stream number `flat`.
pub(crate) fn unravel(flat: usize, leading: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; leading.len()];
    let mut rest = flat;
    for (i, &n) in leading.iter().enumerate().rev() {
        if n > 0 {
            idx[i] = rest % n;
            rest /= n;
        }
    }
    idx
}

/// Formats flat stream number `flat` (C order over `leading`) as its leading index
/// tuple, the way every message of this project names a stream.
///
/// ```
/// assert_eq!(flacarray_core::stream_name(5, &[2, 3]), "(1, 2)");
/// assert_eq!(flacarray_core::stream_name(4, &[7]), "(4,)");
/// ```
#[must_use]
pub fn stream_name(flat: usize, leading: &[usize]) -> String {
    fmt_index(&unravel(flat, leading))
}

/// An error about a stream of part of an array (a block of rows, leading shape
/// `part`) renamed to the stream's index in the whole array (leading shape `whole`);
/// `global` maps the part's flat stream index to the whole array's.
pub(crate) fn in_whole(
    e: Error,
    part: &[usize],
    whole: &[usize],
    global: impl Fn(usize) -> Option<usize>,
) -> Error {
    let rename = |stream: String| {
        let n: usize = part.iter().product();
        (0..n)
            .find(|&i| stream_name(i, part) == stream)
            .and_then(&global)
            .map_or(stream, |g| stream_name(g, whole))
    };
    match e {
        Error::Flac { stream, source } => Error::Flac {
            stream: rename(stream),
            source,
        },
        Error::Quantize { stream, source } => Error::Quantize {
            stream: rename(stream),
            source,
        },
        e => e,
    }
}

/// Re-labels a quantization error of flat stream `flat` with its leading index.
pub(crate) fn from_quant(e: QuantError, flat: usize, leading: &[usize]) -> Error {
    match e {
        QuantError::NonFinite { .. }
        | QuantError::Overflow { .. }
        | QuantError::InvalidQuanta { .. } => Error::Quantize {
            stream: stream_name(flat, leading),
            source: e,
        },
        other => Error::Quant(other),
    }
}
