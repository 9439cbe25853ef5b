//! Test oracle: small safe wrappers around the reference libFLAC encoder and decoder.
//!
//! This crate is **dev-only** (`publish = false`). The codec crate's tests and the
//! benchmarks use it to check `flacarray-flac` against libFLAC in both directions. It
//! links the libFLAC that `libflac-sys` builds from its bundled sources (1.5.0, the
//! version flacarray 0.4.1's wheels ship), so the results do not depend on the system.
//!
//! * [`encode`] writes one FLAC stream the way flacarray 0.4.1 does: a fresh stream
//!   encoder, `set_compression_level(level)`, `set_blocksize(0)` unless a block size is
//!   given, one `process_interleaved` call, `finish`, and **no seek callback**. libFLAC
//!   therefore cannot go back to finalise STREAMINFO: `total_samples`, the MD5 and the
//!   min/max frame sizes stay zero, exactly as in flacarray's files. [`encode_with`] with
//!   [`EncodeConfig::finalize_streaminfo`] set adds seek and tell callbacks, so libFLAC
//!   rewrites STREAMINFO with the true values (what a file written by the `flac` CLI
//!   looks like).
//! * [`decode`] / [`decode_full`] run a stream decoder over a byte slice. Any decoder
//!   error (lost sync, bad header, CRC mismatch, ...) or an MD5 mismatch (checked when
//!   STREAMINFO carries a non-zero MD5) makes them return `Err`.
//!
//! Errors are plain `String`s: this is test code, and the message is all a failing test
//! needs.
//!
//! ```
//! let samples: Vec<i32> = (0..5000).map(|i| (i * 7919) % 100_003 - 50_000).collect();
//! let bytes = libflac_oracle::encode(&samples, 1, 32, 5, None).unwrap();
//! let (channels, bps, back) = libflac_oracle::decode(&bytes).unwrap();
//! assert_eq!((channels, bps), (1, 32));
//! assert_eq!(back, samples);
//! ```

use core::ffi::{CStr, c_void};
use libflac_sys as sys;

/// Options for [`encode_with`]. [`Default`] gives flacarray 0.4.1's settings for int32
/// data: 1 channel, 32 bits, level 5, libFLAC's default block size, 44100 Hz, no
/// finalised STREAMINFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeConfig {
    /// Number of channels, 1 to 8 (flacarray uses 1 or 2).
    pub channels: u32,
    /// Bits per sample, 4 to 32.
    pub bits_per_sample: u32,
    /// libFLAC compression preset, 0 to 8.
    pub level: u32,
    /// Fixed block size; `None` calls `set_blocksize(0)`, so libFLAC picks 1152 for
    /// levels 0-2 and 4096 for levels 3-8 (what flacarray does).
    pub block_size: Option<u32>,
    /// Sample rate written to STREAMINFO and frame headers.
    pub sample_rate: u32,
    /// `false` (flacarray's way): no seek callback, STREAMINFO keeps zero total samples,
    /// MD5 and frame sizes. `true`: seek and tell callbacks, so libFLAC rewrites
    /// STREAMINFO at `finish` with the true values and the MD5 of the samples.
    pub finalize_streaminfo: bool,
}

impl Default for EncodeConfig {
    fn default() -> Self {
        EncodeConfig {
            channels: 1,
            bits_per_sample: 32,
            level: 5,
            block_size: None,
            sample_rate: 44100,
            finalize_streaminfo: false,
        }
    }
}

/// STREAMINFO as libFLAC's decoder reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamInfo {
    /// Minimum block size in samples.
    pub min_block_size: u32,
    /// Maximum block size in samples.
    pub max_block_size: u32,
    /// Minimum frame size in bytes (0 = unknown).
    pub min_frame_size: u32,
    /// Maximum frame size in bytes (0 = unknown).
    pub max_frame_size: u32,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u32,
    /// Bits per sample.
    pub bits_per_sample: u32,
    /// Samples per channel (0 = unknown).
    pub total_samples: u64,
    /// MD5 of the decoded samples (all zero = unknown).
    pub md5: [u8; 16],
}

/// Channel assignment of a frame, as coded in its header (RFC 9639 section 9.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChannelAssignment {
    /// Channels coded independently.
    Independent,
    /// Left and side (left - right, 33 bits at 32 bits per sample).
    LeftSide,
    /// Side and right.
    RightSide,
    /// Mid and side.
    MidSide,
}

/// Subframe type, as libFLAC's decoder reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubframeType {
    /// One value repeated.
    Constant,
    /// Samples stored as is.
    Verbatim,
    /// Fixed polynomial predictor.
    Fixed,
    /// Linear predictive coding.
    Lpc,
}

/// What libFLAC's decoder saw in one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Samples per channel in the frame.
    pub block_size: u32,
    /// Bits per sample from the frame header.
    pub bits_per_sample: u32,
    /// Stereo decorrelation mode.
    pub channel_assignment: ChannelAssignment,
    /// Type of each channel's subframe, in channel order.
    pub subframe_types: Vec<SubframeType>,
    /// Wasted-bits count of each channel's subframe.
    pub wasted_bits: Vec<u32>,
    /// Predictor order of each channel's subframe (0 for CONSTANT and VERBATIM).
    pub orders: Vec<u32>,
    /// Residual coding of each channel's subframe (`None` for CONSTANT and VERBATIM).
    pub residuals: Vec<Option<Residual>>,
}

/// How a FIXED or LPC subframe's residual was coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Residual {
    /// `true` for RICE2 (5-bit parameters), `false` for RICE (4-bit).
    pub rice2: bool,
    /// Partition order (the residual has `2^order` partitions).
    pub partition_order: u32,
    /// Partitions stored with the escape code (unencoded binary).
    pub escaped_partitions: u32,
}

/// The result of [`decode_full`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// STREAMINFO of the stream.
    pub stream_info: StreamInfo,
    /// Decoded samples, interleaved (`[l0, r0, l1, r1, ...]` for two channels).
    pub samples: Vec<i32>,
    /// One entry per decoded frame, in stream order.
    pub frames: Vec<FrameInfo>,
}

/// The vendor string of the linked libFLAC, e.g. `"reference libFLAC 1.5.0 20250211"`.
pub fn vendor_string() -> String {
    // SAFETY: `FLAC__VENDOR_STRING` is a pointer that libFLAC initialises statically to a
    // NUL-terminated string literal and never changes; it is read by value (no
    // reference to the `static mut` is created) and the literal lives forever.
    unsafe { c_string(sys::FLAC__VENDOR_STRING) }
}

/// The version of the linked libFLAC, e.g. `"1.5.0"`.
pub fn version_string() -> String {
    // SAFETY: as in `vendor_string`: a static pointer to a NUL-terminated literal.
    unsafe { c_string(sys::FLAC__VERSION_STRING) }
}

/// Copies a C string; a null pointer gives `"(null)"`.
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated string valid for the call.
unsafe fn c_string(ptr: *const core::ffi::c_char) -> String {
    if ptr.is_null() {
        return "(null)".to_owned();
    }
    // SAFETY: non-null, and the caller guarantees a valid NUL-terminated string.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// Encodes interleaved samples into one complete FLAC stream with libFLAC, the way
/// flacarray 0.4.1 does (see the crate docs): no seek callback, so STREAMINFO is not
/// finalised. `block_size = None` lets libFLAC pick (1152 for levels 0-2, else 4096).
///
/// For `bits_per_sample > 24` (or a block size above the subset limit of 4608) the
/// encoder is told `set_streamable_subset(false)`, which libFLAC 1.5 needs for 32-bit
/// input.
pub fn encode(
    interleaved: &[i32],
    channels: u32,
    bits_per_sample: u32,
    level: u32,
    block_size: Option<u32>,
) -> Result<Vec<u8>, String> {
    encode_with(
        interleaved,
        &EncodeConfig {
            channels,
            bits_per_sample,
            level,
            block_size,
            ..EncodeConfig::default()
        },
    )
}

/// Owns a libFLAC stream encoder and deletes it on drop (deleting also finishes an
/// initialised encoder, so no path leaks it).
struct EncoderHandle(*mut sys::FLAC__StreamEncoder);

impl Drop for EncoderHandle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `FLAC__stream_encoder_new`, is non-null, and is
        // deleted exactly once, here. Any client data it may still call back into
        // outlives this handle (see `encode_with`).
        unsafe { sys::FLAC__stream_encoder_delete(self.0) }
    }
}

/// Where the encoder's write callback puts bytes; `pos` is the write cursor, which
/// the seek callback moves when STREAMINFO is rewritten.
#[derive(Default)]
struct EncodeSink {
    bytes: Vec<u8>,
    pos: usize,
}

impl EncodeSink {
    fn write(&mut self, data: &[u8]) {
        let end = self.pos + data.len();
        if end > self.bytes.len() {
            self.bytes.resize(end, 0);
        }
        self.bytes[self.pos..end].copy_from_slice(data);
        self.pos = end;
    }
}

unsafe extern "C" fn encoder_write_cb(
    _encoder: *const sys::FLAC__StreamEncoder,
    buffer: *const sys::FLAC__byte,
    bytes: usize,
    _samples: u32,
    _current_frame: u32,
    client_data: *mut c_void,
) -> sys::FLAC__StreamEncoderWriteStatus {
    // SAFETY: `client_data` is the `*mut EncodeSink` that `encode_with` registered; the
    // sink outlives the encoder and nothing else touches it while libFLAC runs.
    let sink = unsafe { &mut *client_data.cast::<EncodeSink>() };
    if bytes > 0 {
        // SAFETY: libFLAC passes a buffer of `bytes` readable bytes, valid for the call.
        let data = unsafe { core::slice::from_raw_parts(buffer, bytes) };
        sink.write(data);
    }
    sys::FLAC__STREAM_ENCODER_WRITE_STATUS_OK
}

unsafe extern "C" fn encoder_seek_cb(
    _encoder: *const sys::FLAC__StreamEncoder,
    absolute_byte_offset: sys::FLAC__uint64,
    client_data: *mut c_void,
) -> sys::FLAC__StreamEncoderSeekStatus {
    // SAFETY: see `encoder_write_cb`.
    let sink = unsafe { &mut *client_data.cast::<EncodeSink>() };
    match usize::try_from(absolute_byte_offset) {
        Ok(pos) if pos <= sink.bytes.len() => {
            sink.pos = pos;
            sys::FLAC__STREAM_ENCODER_SEEK_STATUS_OK
        }
        _ => sys::FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR,
    }
}

unsafe extern "C" fn encoder_tell_cb(
    _encoder: *const sys::FLAC__StreamEncoder,
    absolute_byte_offset: *mut sys::FLAC__uint64,
    client_data: *mut c_void,
) -> sys::FLAC__StreamEncoderTellStatus {
    // SAFETY: see `encoder_write_cb`.
    let sink = unsafe { &mut *client_data.cast::<EncodeSink>() };
    // SAFETY: libFLAC passes a valid pointer to write the position into.
    unsafe { *absolute_byte_offset = sink.pos as u64 };
    sys::FLAC__STREAM_ENCODER_TELL_STATUS_OK
}

/// The encoder's state as text, for error messages.
///
/// # Safety
/// `encoder` must be a live encoder.
unsafe fn encoder_state(encoder: *mut sys::FLAC__StreamEncoder) -> String {
    // SAFETY: the caller guarantees a live encoder; the returned pointer is a static
    // NUL-terminated string owned by libFLAC.
    unsafe { c_string(sys::FLAC__stream_encoder_get_resolved_state_string(encoder)) }
}

/// Encodes interleaved samples into one complete FLAC stream with libFLAC, with the
/// options in `config` (see [`EncodeConfig`]).
pub fn encode_with(interleaved: &[i32], config: &EncodeConfig) -> Result<Vec<u8>, String> {
    if config.channels == 0 || !interleaved.len().is_multiple_of(config.channels as usize) {
        return Err(format!(
            "{} samples are not a multiple of {} channels",
            interleaved.len(),
            config.channels
        ));
    }
    if config.level > 8 {
        return Err(format!(
            "compression level {} is not in 0..=8",
            config.level
        ));
    }
    let frames = u32::try_from(interleaved.len() / config.channels as usize)
        .map_err(|_| "too many samples for one process_interleaved call".to_owned())?;
    let subset = config.bits_per_sample <= 24 && config.block_size.is_none_or(|size| size <= 4608);

    // Declared before the handle, so it is dropped after it: libFLAC may call back into
    // the sink while the handle's drop finishes the encoder.
    let mut sink = EncodeSink::default();
    let sink_ptr: *mut EncodeSink = &mut sink;

    // SAFETY: plain constructor call; a null result is handled below.
    let raw = unsafe { sys::FLAC__stream_encoder_new() };
    if raw.is_null() {
        return Err("FLAC__stream_encoder_new failed".to_owned());
    }
    let encoder = EncoderHandle(raw);
    let enc = encoder.0;

    // SAFETY: `enc` is a live, uninitialised encoder; the setters only store values.
    let settings_ok = unsafe {
        sys::FLAC__stream_encoder_set_channels(enc, config.channels) != 0
            && sys::FLAC__stream_encoder_set_bits_per_sample(enc, config.bits_per_sample) != 0
            && sys::FLAC__stream_encoder_set_sample_rate(enc, config.sample_rate) != 0
            && sys::FLAC__stream_encoder_set_compression_level(enc, config.level) != 0
            && sys::FLAC__stream_encoder_set_blocksize(enc, config.block_size.unwrap_or(0)) != 0
            && sys::FLAC__stream_encoder_set_streamable_subset(enc, i32::from(subset)) != 0
    };
    if !settings_ok {
        return Err("a libFLAC encoder setter refused its value".to_owned());
    }

    let (seek_cb, tell_cb): (
        sys::FLAC__StreamEncoderSeekCallback,
        sys::FLAC__StreamEncoderTellCallback,
    ) = if config.finalize_streaminfo {
        (Some(encoder_seek_cb), Some(encoder_tell_cb))
    } else {
        (None, None)
    };
    // SAFETY: `enc` is live; the callbacks match libFLAC's signatures; `sink_ptr` points
    // to a sink that outlives the encoder and is only used through this pointer until
    // the encoder is dropped.
    let init = unsafe {
        sys::FLAC__stream_encoder_init_stream(
            enc,
            Some(encoder_write_cb),
            seek_cb,
            tell_cb,
            None,
            sink_ptr.cast::<c_void>(),
        )
    };
    if init != sys::FLAC__STREAM_ENCODER_INIT_STATUS_OK {
        // SAFETY: `enc` is live.
        let state = unsafe { encoder_state(enc) };
        return Err(format!(
            "FLAC__stream_encoder_init_stream failed ({init}): {state}"
        ));
    }
    if frames > 0 {
        // SAFETY: `enc` is initialised; `interleaved` holds `frames * channels` samples,
        // which libFLAC only reads during the call.
        let ok = unsafe {
            sys::FLAC__stream_encoder_process_interleaved(enc, interleaved.as_ptr(), frames)
        };
        if ok == 0 {
            // SAFETY: `enc` is live.
            let state = unsafe { encoder_state(enc) };
            return Err(format!(
                "FLAC__stream_encoder_process_interleaved failed: {state}"
            ));
        }
    }
    // SAFETY: `enc` is initialised; `finish` flushes the last frame through the callbacks.
    let ok = unsafe { sys::FLAC__stream_encoder_finish(enc) };
    if ok == 0 {
        // SAFETY: `enc` is live (finish does not delete it).
        let state = unsafe { encoder_state(enc) };
        return Err(format!("FLAC__stream_encoder_finish failed: {state}"));
    }
    drop(encoder);
    // The encoder is gone, so `sink_ptr` is no longer used and `sink` is ours again.
    Ok(sink.bytes)
}

/// Owns a libFLAC stream decoder and deletes it on drop.
struct DecoderHandle(*mut sys::FLAC__StreamDecoder);

impl Drop for DecoderHandle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `FLAC__stream_decoder_new`, is non-null, and is
        // deleted exactly once, here. The client data outlives this handle.
        unsafe { sys::FLAC__stream_decoder_delete(self.0) }
    }
}

/// Client data of the decoder callbacks.
struct DecodeState<'a> {
    input: &'a [u8],
    pos: usize,
    stream_info: Option<StreamInfo>,
    samples: Vec<i32>,
    frames: Vec<FrameInfo>,
    errors: Vec<String>,
}

unsafe extern "C" fn decoder_read_cb(
    _decoder: *const sys::FLAC__StreamDecoder,
    buffer: *mut sys::FLAC__byte,
    bytes: *mut usize,
    client_data: *mut c_void,
) -> sys::FLAC__StreamDecoderReadStatus {
    // SAFETY: `client_data` is the `*mut DecodeState` registered by `decode_full`, alive
    // for the decoder's whole life and not otherwise touched while libFLAC runs.
    let state = unsafe { &mut *client_data.cast::<DecodeState<'_>>() };
    // SAFETY: libFLAC passes a valid pointer holding the buffer's capacity.
    let capacity = unsafe { *bytes };
    let remaining = &state.input[state.pos..];
    let n = capacity.min(remaining.len());
    if n > 0 {
        // SAFETY: `buffer` is writable for `capacity >= n` bytes and does not overlap
        // the caller's input slice.
        unsafe { core::ptr::copy_nonoverlapping(remaining.as_ptr(), buffer, n) };
    }
    state.pos += n;
    // SAFETY: as above, `bytes` is valid for writing.
    unsafe { *bytes = n };
    if n == 0 {
        sys::FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM
    } else {
        sys::FLAC__STREAM_DECODER_READ_STATUS_CONTINUE
    }
}

unsafe extern "C" fn decoder_write_cb(
    _decoder: *const sys::FLAC__StreamDecoder,
    frame: *const sys::FLAC__Frame,
    buffer: *const *const sys::FLAC__int32,
    client_data: *mut c_void,
) -> sys::FLAC__StreamDecoderWriteStatus {
    // SAFETY: see `decoder_read_cb`.
    let state = unsafe { &mut *client_data.cast::<DecodeState<'_>>() };
    // SAFETY: libFLAC passes a valid frame for the duration of the call.
    let frame = unsafe { &*frame };
    let header = &frame.header;
    let channels = header.channels as usize;
    let block_size = header.blocksize as usize;
    if channels == 0 || channels > frame.subframes.len() {
        state.errors.push(format!("frame with {channels} channels"));
        return sys::FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
    }
    let channel_assignment = match header.channel_assignment {
        sys::FLAC__CHANNEL_ASSIGNMENT_INDEPENDENT => ChannelAssignment::Independent,
        sys::FLAC__CHANNEL_ASSIGNMENT_LEFT_SIDE => ChannelAssignment::LeftSide,
        sys::FLAC__CHANNEL_ASSIGNMENT_RIGHT_SIDE => ChannelAssignment::RightSide,
        _ => ChannelAssignment::MidSide,
    };
    let subframes = &frame.subframes[..channels];
    state.frames.push(FrameInfo {
        block_size: header.blocksize,
        bits_per_sample: header.bits_per_sample,
        channel_assignment,
        subframe_types: subframes
            .iter()
            .map(|s| match s.type_ {
                sys::FLAC__SUBFRAME_TYPE_CONSTANT => SubframeType::Constant,
                sys::FLAC__SUBFRAME_TYPE_VERBATIM => SubframeType::Verbatim,
                sys::FLAC__SUBFRAME_TYPE_FIXED => SubframeType::Fixed,
                _ => SubframeType::Lpc,
            })
            .collect(),
        wasted_bits: subframes.iter().map(|s| s.wasted_bits).collect(),
        orders: subframes
            .iter()
            .map(|s| match s.type_ {
                // SAFETY: the union member read matches the subframe type libFLAC set.
                sys::FLAC__SUBFRAME_TYPE_FIXED => unsafe { s.data.fixed.order },
                // SAFETY: as above.
                sys::FLAC__SUBFRAME_TYPE_LPC => unsafe { s.data.lpc.order },
                _ => 0,
            })
            .collect(),
        residuals: subframes
            .iter()
            .map(|s| {
                let method = match s.type_ {
                    // SAFETY: the union member read matches the subframe type.
                    sys::FLAC__SUBFRAME_TYPE_FIXED => unsafe {
                        &s.data.fixed.entropy_coding_method
                    },
                    // SAFETY: as above.
                    sys::FLAC__SUBFRAME_TYPE_LPC => unsafe { &s.data.lpc.entropy_coding_method },
                    _ => return None,
                };
                // SAFETY: both entropy coding types use the `partitioned_rice` member.
                let rice = unsafe { &method.data.partitioned_rice };
                let rice2 = method.type_ == sys::FLAC__ENTROPY_CODING_METHOD_PARTITIONED_RICE2;
                let escape = if rice2 { 31 } else { 15 };
                let partitions = 1usize << rice.order;
                // SAFETY: libFLAC's decoder keeps `contents` pointing at its per-channel
                // partition tables, sized for at least `2^order` partitions of the frame
                // it just decoded, and valid during the write callback.
                let parameters =
                    unsafe { core::slice::from_raw_parts((*rice.contents).parameters, partitions) };
                Some(Residual {
                    rice2,
                    partition_order: rice.order,
                    escaped_partitions: parameters.iter().filter(|&&p| p == escape).count() as u32,
                })
            })
            .collect(),
    });
    // SAFETY: libFLAC passes one pointer per channel ...
    let planes = unsafe { core::slice::from_raw_parts(buffer, channels) };
    let planes: Vec<&[i32]> = planes
        .iter()
        // SAFETY: ... each to `blocksize` decoded samples, valid for the call.
        .map(|&p| unsafe { core::slice::from_raw_parts(p, block_size) })
        .collect();
    state.samples.reserve(block_size * channels);
    for i in 0..block_size {
        for plane in &planes {
            state.samples.push(plane[i]);
        }
    }
    sys::FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE
}

unsafe extern "C" fn decoder_metadata_cb(
    _decoder: *const sys::FLAC__StreamDecoder,
    metadata: *const sys::FLAC__StreamMetadata,
    client_data: *mut c_void,
) {
    // SAFETY: see `decoder_read_cb`.
    let state = unsafe { &mut *client_data.cast::<DecodeState<'_>>() };
    // SAFETY: libFLAC passes a valid metadata block for the duration of the call.
    let metadata = unsafe { &*metadata };
    if metadata.type_ == sys::FLAC__METADATA_TYPE_STREAMINFO {
        // SAFETY: for a STREAMINFO block the `stream_info` member of the union is the
        // one libFLAC filled in.
        let si = unsafe { &metadata.data.stream_info };
        state.stream_info = Some(StreamInfo {
            min_block_size: si.min_blocksize,
            max_block_size: si.max_blocksize,
            min_frame_size: si.min_framesize,
            max_frame_size: si.max_framesize,
            sample_rate: si.sample_rate,
            channels: si.channels,
            bits_per_sample: si.bits_per_sample,
            total_samples: si.total_samples,
            md5: si.md5sum,
        });
    }
}

unsafe extern "C" fn decoder_error_cb(
    _decoder: *const sys::FLAC__StreamDecoder,
    status: sys::FLAC__StreamDecoderErrorStatus,
    client_data: *mut c_void,
) {
    // SAFETY: see `decoder_read_cb`.
    let state = unsafe { &mut *client_data.cast::<DecodeState<'_>>() };
    let name = match status {
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_LOST_SYNC => "LOST_SYNC",
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_BAD_HEADER => "BAD_HEADER",
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_FRAME_CRC_MISMATCH => "FRAME_CRC_MISMATCH",
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_UNPARSEABLE_STREAM => "UNPARSEABLE_STREAM",
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_BAD_METADATA => "BAD_METADATA",
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_OUT_OF_BOUNDS => "OUT_OF_BOUNDS",
        sys::FLAC__STREAM_DECODER_ERROR_STATUS_MISSING_FRAME => "MISSING_FRAME",
        _ => "unknown error status",
    };
    state.errors.push(format!(
        "decoder error {name} ({status}) after {} frames, input byte {}",
        state.frames.len(),
        state.pos
    ));
}

/// Decodes one complete FLAC stream with libFLAC and returns `(channels,
/// bits_per_sample, interleaved samples)`. Any decoder error is an `Err`.
pub fn decode(bytes: &[u8]) -> Result<(u32, u32, Vec<i32>), String> {
    let decoded = decode_full(bytes)?;
    Ok((
        decoded.stream_info.channels,
        decoded.stream_info.bits_per_sample,
        decoded.samples,
    ))
}

/// Decodes one complete FLAC stream with libFLAC, returning STREAMINFO, the samples and
/// per-frame details. MD5 checking is on, so a non-zero STREAMINFO MD5 that does not
/// match the samples is an `Err`; so is any error the decoder reports, a stream
/// without STREAMINFO, and trailing bytes that are not frames (libFLAC reports those
/// as lost sync).
pub fn decode_full(bytes: &[u8]) -> Result<Decoded, String> {
    // Declared before the handle, so it is dropped after it.
    let mut state = DecodeState {
        input: bytes,
        pos: 0,
        stream_info: None,
        samples: Vec::new(),
        frames: Vec::new(),
        errors: Vec::new(),
    };
    let state_ptr: *mut DecodeState<'_> = &mut state;

    // SAFETY: plain constructor call; a null result is handled below.
    let raw = unsafe { sys::FLAC__stream_decoder_new() };
    if raw.is_null() {
        return Err("FLAC__stream_decoder_new failed".to_owned());
    }
    let decoder = DecoderHandle(raw);
    let dec = decoder.0;

    // SAFETY: `dec` is a live, uninitialised decoder; the setter only stores a flag.
    if unsafe { sys::FLAC__stream_decoder_set_md5_checking(dec, 1) } == 0 {
        return Err("FLAC__stream_decoder_set_md5_checking failed".to_owned());
    }
    // SAFETY: `dec` is live; the callbacks match libFLAC's signatures; `state_ptr` points
    // to state that outlives the decoder and is only used through this pointer until
    // the decoder is dropped. No seek/tell/length/eof callbacks: the read callback
    // reports the end of the stream.
    let init = unsafe {
        sys::FLAC__stream_decoder_init_stream(
            dec,
            Some(decoder_read_cb),
            None,
            None,
            None,
            None,
            Some(decoder_write_cb),
            Some(decoder_metadata_cb),
            Some(decoder_error_cb),
            state_ptr.cast::<c_void>(),
        )
    };
    if init != sys::FLAC__STREAM_DECODER_INIT_STATUS_OK {
        return Err(format!("FLAC__stream_decoder_init_stream failed ({init})"));
    }
    // SAFETY: `dec` is initialised; callbacks run only during this call.
    let processed = unsafe { sys::FLAC__stream_decoder_process_until_end_of_stream(dec) };
    // SAFETY: `dec` is live; the state string is static.
    let end_state = unsafe { sys::FLAC__stream_decoder_get_state(dec) };
    let state_text =
        // SAFETY: `dec` is live; the returned string is a static literal.
        unsafe { c_string(sys::FLAC__stream_decoder_get_resolved_state_string(dec)) };
    // SAFETY: `dec` is initialised; finish checks the MD5 (if any) and resets it.
    let md5_ok = unsafe { sys::FLAC__stream_decoder_finish(dec) } != 0;
    drop(decoder);
    // The decoder is gone, so `state_ptr` is no longer used and `state` is ours again.

    if processed == 0 || end_state != sys::FLAC__STREAM_DECODER_END_OF_STREAM {
        return Err(format!(
            "libFLAC decoding stopped in state {state_text}; errors: {:?}",
            state.errors
        ));
    }
    if !state.errors.is_empty() {
        return Err(format!("libFLAC reported errors: {:?}", state.errors));
    }
    let Some(stream_info) = state.stream_info else {
        return Err("libFLAC saw no STREAMINFO block".to_owned());
    };
    if !md5_ok {
        return Err("libFLAC: MD5 of the decoded samples does not match STREAMINFO".to_owned());
    }
    Ok(Decoded {
        stream_info,
        samples: state.samples,
        frames: state.frames,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<i32> {
        let mut x = seed;
        let mut acc = 0i64;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                acc += ((x >> 33) % 2001) as i64 - 1000;
                acc as i32
            })
            .collect()
    }

    #[test]
    fn vendor_and_version() {
        assert_eq!(version_string(), "1.5.0");
        assert!(vendor_string().starts_with("reference libFLAC 1.5.0"));
    }

    #[test]
    fn flacarray_layout_without_finalised_streaminfo() {
        let samples = noise(5000, 1);
        let bytes = encode(&samples, 1, 32, 5, None).unwrap();
        assert_eq!(&bytes[..4], b"fLaC");
        let decoded = decode_full(&bytes).unwrap();
        assert_eq!(decoded.samples, samples);
        let si = decoded.stream_info;
        assert_eq!((si.min_block_size, si.max_block_size), (4096, 4096));
        assert_eq!(
            (si.total_samples, si.md5, si.max_frame_size),
            (0, [0; 16], 0)
        );
        assert_eq!(
            (si.channels, si.bits_per_sample, si.sample_rate),
            (1, 32, 44100)
        );
        let sizes: Vec<u32> = decoded.frames.iter().map(|f| f.block_size).collect();
        assert_eq!(sizes, [4096, 904]);
        // First frame header as flacarray 0.4.1 writes it, after the
        // 4 + 38 byte STREAMINFO and the 4 + 40 byte VORBIS_COMMENT.
        assert_eq!(&bytes[86..91], &[0xFF, 0xF8, 0xC9, 0x0E, 0x00]);
    }

    #[test]
    fn level0_block_size_and_stereo() {
        let lo = noise(3000, 2);
        let interleaved: Vec<i32> = lo.iter().flat_map(|&v| [v, v >> 3]).collect();
        let bytes = encode(&interleaved, 2, 32, 0, None).unwrap();
        let decoded = decode_full(&bytes).unwrap();
        assert_eq!(decoded.stream_info.max_block_size, 1152);
        assert_eq!(decoded.samples, interleaved);
    }

    #[test]
    fn finalised_streaminfo_has_totals_and_md5() {
        let samples = noise(10_000, 3);
        let config = EncodeConfig {
            level: 8,
            finalize_streaminfo: true,
            ..EncodeConfig::default()
        };
        let bytes = encode_with(&samples, &config).unwrap();
        let decoded = decode_full(&bytes).unwrap();
        assert_eq!(decoded.samples, samples);
        assert_eq!(decoded.stream_info.total_samples, 10_000);
        assert_ne!(decoded.stream_info.md5, [0; 16]);
        assert!(decoded.stream_info.max_frame_size > 0);
        // Corrupt one sample bit inside the last frame's residual: CRC or MD5 must catch it.
        let mut bad = bytes.clone();
        let i = bad.len() - 20;
        bad[i] ^= 0x10;
        assert!(decode_full(&bad).is_err());
    }

    #[test]
    fn sixteen_bit_subset_and_custom_block_size() {
        let samples: Vec<i32> = noise(9000, 4)
            .into_iter()
            .map(|v| v.clamp(-32768, 32767))
            .collect();
        let bytes = encode(&samples, 1, 16, 5, Some(1000)).unwrap();
        let decoded = decode_full(&bytes).unwrap();
        assert_eq!(decoded.samples, samples);
        assert_eq!(decoded.stream_info.max_block_size, 1000);
        assert_eq!(decoded.frames.len(), 9);
    }

    #[test]
    fn errors_are_reported() {
        assert!(encode(&[1, 2, 3], 2, 32, 5, None).is_err());
        assert!(encode(&[1, 2], 1, 32, 9, None).is_err());
        assert!(decode(b"not flac").is_err());
        assert!(decode(&[]).is_err());
        let bytes = encode(&noise(5000, 5), 1, 32, 5, None).unwrap();
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(&[0x55; 7]);
        assert!(decode(&trailing).is_err());
        let mut flipped = bytes;
        flipped[200] ^= 1;
        assert!(decode(&flipped).is_err());
    }

    #[test]
    fn empty_input_encodes_to_a_stream_without_frames() {
        let bytes = encode(&[], 1, 32, 5, None).unwrap();
        let decoded = decode_full(&bytes).unwrap();
        assert!(decoded.samples.is_empty());
        assert!(decoded.frames.is_empty());
    }
}
