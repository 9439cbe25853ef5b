//! A FLAC stream codec (RFC 9639) for the sample formats flacarray uses: 1 or 2
//! channels of 4 to 32 bits per sample, with 33-bit side channels in stereo.
//!
//! Every call works on one complete FLAC stream (`fLaC` marker, STREAMINFO, frames).
//! The crate is single-threaded and works on slices; buffers are owned by an
//! [`Encoder`] or [`Decoder`] and reused across streams, so a caller that keeps one
//! per thread allocates nothing per stream once the buffers have grown.
//!
//! Samples are exchanged as interleaved `i32`: for two channels `[l0, r0, l1, r1, ..]`.
//!
//! ```
//! use flacarray_flac::{encode, decode, EncoderConfig};
//!
//! let signal: Vec<i32> = (0..10_000).map(|i| ((i as f64 * 0.01).sin() * 1e6) as i32).collect();
//! let bytes = encode(&signal, &EncoderConfig::default())?;
//! let back = decode(&bytes, signal.len() as u64)?;
//! assert_eq!(back.samples, signal);
//! assert!(bytes.len() < signal.len() * 4);
//! # Ok::<(), flacarray_flac::Error>(())
//! ```
#![deny(unsafe_code)]

mod bitread;
mod bitwrite;
mod crc;
mod decode;
mod encode;
mod error;
mod frame;
mod lpc;
mod metadata;
mod rice;
#[allow(unsafe_code)]
mod simd;

pub use decode::{
    Decoded, Decoder, count_samples, decode, decode_range, decode_to_end, locate_frame,
};
pub use encode::{
    Apodization, Encoder, EncoderConfig, FrameSizes, LevelPreset, StereoMode, encode,
    max_encoded_len,
};
pub use error::{Error, Result};
pub use frame::{FrameStart, find_frame_header};
pub use metadata::read_stream_header;
pub use metadata::{StreamInfo, read_stream_info};
pub use simd::{accelerated, force_scalar};

/// Smallest bits per sample this codec accepts (RFC 9639 allows 4 to 32).
pub const MIN_BITS_PER_SAMPLE: u32 = 4;
/// Largest bits per sample this codec accepts.
pub const MAX_BITS_PER_SAMPLE: u32 = 32;
/// Largest number of channels this codec accepts.
pub const MAX_CHANNELS: u32 = 2;

#[cfg(test)]
mod tests;
