//! The codec's single error type.

/// Everything that can go wrong while encoding or decoding a FLAC stream.
///
/// Variants are grouped by cause, so a caller can tell bad arguments from hostile
/// bytes: [`Error::InvalidArgument`] is the caller's mistake, [`Error::Truncated`],
/// [`Error::Corrupt`], [`Error::Crc`] and [`Error::SampleCount`] are faults in the
/// stored bytes, and [`Error::Unsupported`] is a valid FLAC feature this codec does
/// not handle (more than two channels, for example).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or configuration value is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The stream ends before a complete structure could be read.
    #[error("truncated FLAC stream: {what} at byte {offset}")]
    Truncated {
        /// What was being read when the bytes ran out.
        what: &'static str,
        /// Byte offset (within the stream) where reading stopped.
        offset: usize,
    },
    /// The stream violates the FLAC format.
    #[error("corrupt FLAC stream: {what} at byte {offset}")]
    Corrupt {
        /// What is wrong.
        what: &'static str,
        /// Byte offset (within the stream) of the offending structure.
        offset: usize,
    },
    /// A frame header or frame checksum does not match its bytes.
    #[error("corrupt FLAC stream: {kind} mismatch in frame {frame} at byte {offset}")]
    Crc {
        /// `"CRC-8 (frame header)"` or `"CRC-16 (frame)"`.
        kind: &'static str,
        /// Index of the frame in the stream.
        frame: u64,
        /// Byte offset of the frame.
        offset: usize,
    },
    /// The stream holds a different number of samples than the caller said it must.
    #[error("FLAC stream holds {found} samples per channel, expected {expected}")]
    SampleCount {
        /// Samples per channel the caller required.
        expected: u64,
        /// Samples per channel actually present (or a lower bound when too many).
        found: u64,
    },
    /// The caller's sink refused decoded samples (for example, writing them to a full
    /// disk failed); the message is the sink's.
    #[error("cannot write decoded samples: {0}")]
    Sink(String),
    /// A valid FLAC feature that this codec does not support.
    #[error("unsupported FLAC stream: {0}")]
    Unsupported(&'static str),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
