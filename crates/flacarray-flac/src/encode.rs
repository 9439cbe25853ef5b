//! FLAC stream encoding with libFLAC's compression levels.

use md5::{Digest, Md5};

use crate::bitwrite::BitWriter;
use crate::crc::crc16;
use crate::error::{Error, Result};
use crate::frame::{ChannelMode, write_frame_header};
use crate::lpc::{self, MAX_ORDER};
use crate::metadata::{StreamInfo, streaminfo_bytes, write_header};
use crate::rice::{self, RiceChoice, Stats};
use crate::{MAX_BITS_PER_SAMPLE, MAX_CHANNELS, MIN_BITS_PER_SAMPLE};

/// How a two-channel frame chooses its channel coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StereoMode {
    /// Always code left and right independently.
    Independent,
    /// Pick left/side, right/side, mid/side or independent from a cheap estimate
    /// (first differences), then code only the two chosen channels.
    Loose,
    /// Code all four candidate channels and keep the smallest pair.
    Exhaustive,
}

/// Apodization windows tried by the LPC analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Apodization {
    /// One Tukey window with the given taper fraction.
    Tukey(f64),
    /// A Tukey(0.5) window over the block, plus, for every `m` in `2..=n`, a partial
    /// and a punch-out Tukey window for each of `m` equal segments.
    SubdivideTukey(u32),
}

/// The encoder settings behind a compression level, with libFLAC's meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelPreset {
    /// Samples per frame (the last frame may be shorter).
    pub block_size: u32,
    /// Stereo decorrelation for two-channel streams.
    pub stereo: StereoMode,
    /// Highest LPC order tried; 0 means fixed predictors only.
    pub max_lpc_order: u32,
    /// Lowest residual partition order tried.
    pub min_partition_order: u32,
    /// Highest residual partition order tried.
    pub max_partition_order: u32,
    /// Windows for the LPC analysis.
    pub apodization: Apodization,
}

impl LevelPreset {
    /// The preset of compression level `level` (0..=8), as libFLAC 1.4-1.5 defines
    /// them: block size 1152 for levels 0-2 and 4096 above; max LPC order
    /// 0,0,0,6,8,8,8,12,12; max partition order 3,3,3,4,4,5,6,6,6.
    ///
    /// ```
    /// use flacarray_flac::LevelPreset;
    /// let p = LevelPreset::for_level(5).ok_or("level")?;
    /// assert_eq!((p.block_size, p.max_lpc_order, p.max_partition_order), (4096, 8, 5));
    /// # Ok::<(), &str>(())
    /// ```
    pub fn for_level(level: u8) -> Option<Self> {
        use Apodization::{SubdivideTukey, Tukey};
        use StereoMode::{Exhaustive, Independent, Loose};
        let (block_size, stereo, max_lpc_order, max_partition_order, apodization) = match level {
            0 => (1152, Independent, 0, 3, Tukey(0.5)),
            1 => (1152, Loose, 0, 3, Tukey(0.5)),
            2 => (1152, Exhaustive, 0, 3, Tukey(0.5)),
            3 => (4096, Independent, 6, 4, Tukey(0.5)),
            4 => (4096, Loose, 8, 4, Tukey(0.5)),
            5 => (4096, Exhaustive, 8, 5, Tukey(0.5)),
            6 => (4096, Exhaustive, 8, 6, SubdivideTukey(2)),
            7 => (4096, Exhaustive, 12, 6, SubdivideTukey(2)),
            8 => (4096, Exhaustive, 12, 6, SubdivideTukey(3)),
            _ => return None,
        };
        Some(Self {
            block_size,
            stereo,
            max_lpc_order,
            min_partition_order: 0,
            max_partition_order,
            apodization,
        })
    }
}

/// Encoder settings. Validated once by [`Encoder::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Compression level 0..=8 (libFLAC's presets). Default 5.
    pub level: u8,
    /// Channels, 1 or 2. Default 1.
    pub channels: u32,
    /// Bits per sample, 4..=32. Default 32 (what flacarray writes).
    pub bits_per_sample: u32,
    /// Sample rate written to STREAMINFO (1..2^20). Default 44100, as libFLAC's default.
    pub sample_rate: u32,
    /// Block size override (16..=65535); `None` uses the level's (1152 or 4096).
    pub block_size: Option<u32>,
    /// Compute the MD5 of the samples into STREAMINFO. Default off (zero MD5, as
    /// flacarray 0.4.1's streams have).
    pub md5: bool,
    /// Write a VORBIS_COMMENT block with this vendor string. Default none, which
    /// saves 44 bytes per stream against libFLAC's output.
    pub vendor: Option<String>,
    /// Let residual partitions be stored as raw ("escaped") values when that is
    /// smaller than Rice coding. Valid FLAC, but off by default as in libFLAC's
    /// presets: some decoders (claxon 0.4) do not implement escaped partitions, and
    /// the gain is a few bytes per stream at most.
    pub escape_coding: bool,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            level: 5,
            channels: 1,
            bits_per_sample: 32,
            sample_rate: 44100,
            block_size: None,
            md5: false,
            vendor: None,
            escape_coding: false,
        }
    }
}

impl EncoderConfig {
    /// Checks every field; returns the resolved preset.
    pub fn validate(&self) -> Result<LevelPreset> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        let Some(mut preset) = LevelPreset::for_level(self.level) else {
            return bad(format!("compression level {} is not in 0..=8", self.level));
        };
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return bad(format!(
                "{} channels: only 1 or 2 are supported",
                self.channels
            ));
        }
        if !(MIN_BITS_PER_SAMPLE..=MAX_BITS_PER_SAMPLE).contains(&self.bits_per_sample) {
            return bad(format!(
                "{} bits per sample is not in 4..=32",
                self.bits_per_sample
            ));
        }
        if self.sample_rate == 0 || self.sample_rate >= 1 << 20 {
            return bad(format!(
                "sample rate {} is not in 1..2^20",
                self.sample_rate
            ));
        }
        if let Some(bs) = self.block_size {
            if !(16..=65535).contains(&bs) {
                return bad(format!("block size {bs} is not in 16..=65535"));
            }
            preset.block_size = bs;
        }
        if self
            .vendor
            .as_ref()
            .is_some_and(|v| v.len() > (1 << 24) - 9)
        {
            return bad("vendor string longer than a metadata block can hold".into());
        }
        Ok(preset)
    }
}

/// Upper bound of the bytes [`Encoder::encode_into`] appends for `samples_per_channel`
/// samples under `config` (assuming a valid config), for callers that pre-allocate.
///
/// Every subframe is at most its VERBATIM form, since the encoder falls back to it.
pub fn max_encoded_len(samples_per_channel: u64, config: &EncoderConfig) -> u64 {
    let block = u64::from(config.validate().map(|p| p.block_size).unwrap_or(65535));
    let frames = samples_per_channel.div_ceil(block);
    let vendor = config.vendor.as_ref().map_or(0, |v| 12 + v.len() as u64);
    // Per frame: header <= 16 bytes, CRC-16 2, per channel a subframe header of 1
    // byte plus up to 4 for wasted bits, and samples of at most 33 bits.
    let per_frame_fixed = 18 + u64::from(config.channels) * 6;
    let sample_bits = u64::from(config.bits_per_sample + 1) * u64::from(config.channels);
    42 + vendor
        + frames * per_frame_fixed
        + (samples_per_channel * sample_bits).div_ceil(8)
        + frames
}

/// Encodes `interleaved` samples as one complete FLAC stream.
///
/// ```
/// use flacarray_flac::{encode, EncoderConfig};
/// let cfg = EncoderConfig { level: 8, channels: 2, ..Default::default() };
/// let bytes = encode(&[1, -1, 2, -2, 3, -3], &cfg)?;
/// assert_eq!(&bytes[..4], b"fLaC");
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn encode(interleaved: &[i32], config: &EncoderConfig) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    Encoder::new(config.clone())?.encode_into(interleaved, &mut out)?;
    Ok(out)
}

/// How one subframe is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Constant,
    Verbatim,
    Fixed(usize),
    Lpc {
        order: usize,
        precision: u32,
        shift: u32,
        coefs: [i32; MAX_ORDER],
    },
}

/// One candidate channel of the current frame and its best coding.
#[derive(Default)]
struct Channel {
    /// Samples, right-shifted by `wasted` once analysed.
    x: Vec<i64>,
    /// Residual of the chosen predictor.
    best: Vec<i32>,
    /// Residual under evaluation.
    tmp: Vec<i32>,
    kind: Option<Kind>,
    wasted: u32,
    /// Bits per sample of the subframe before removing wasted bits.
    bps: u32,
    bits: u64,
    rice: RiceChoice,
    trial: RiceChoice,
}

/// Smallest and largest size in bytes of a run of encoded frames, as STREAMINFO
/// records them; see [`Encoder::encode_frames_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSizes {
    /// Size of the smallest frame (`u32::MAX` when there are none).
    pub min: u32,
    /// Size of the largest frame (0 when there are none).
    pub max: u32,
}

impl FrameSizes {
    /// No frames.
    pub const NONE: Self = Self {
        min: u32::MAX,
        max: 0,
    };

    /// The sizes of two runs of frames taken together.
    #[must_use]
    pub fn merge(self, other: Self) -> Self {
        Self {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }
}

/// A reusable encoder. Buffers grow to the block size once and are reused for every
/// frame and every stream encoded with it.
pub struct Encoder {
    config: EncoderConfig,
    preset: LevelPreset,
    /// L, R, M, S candidates (only the first for mono).
    ch: [Channel; 4],
    stats: Stats,
    rice_limits: rice::Limits,
    /// Apodization windows for `window_len`-sample blocks, back to back.
    windows: Vec<f64>,
    /// Sum of squares of each window.
    window_energy: Vec<f64>,
    /// The span outside which each window is zero.
    window_span: Vec<(usize, usize)>,
    window_len: usize,
    windowed: Vec<f64>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("config", &self.config)
            .field("preset", &self.preset)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Validates `config` and creates an encoder.
    pub fn new(config: EncoderConfig) -> Result<Self> {
        let preset = config.validate()?;
        let rice_limits = rice::Limits {
            min_order: preset.min_partition_order,
            max_order: preset.max_partition_order,
            escapes: config.escape_coding,
        };
        Ok(Self {
            config,
            preset,
            ch: Default::default(),
            stats: Stats::default(),
            rice_limits,
            windows: Vec::new(),
            window_energy: Vec::new(),
            window_span: Vec::new(),
            window_len: 0,
            windowed: Vec::new(),
        })
    }

    /// The configuration this encoder was built with.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Samples per channel in every frame but a stream's last (the level's block size
    /// unless the configuration overrides it).
    pub fn block_size(&self) -> u32 {
        self.preset.block_size
    }

    /// Appends one complete FLAC stream holding `interleaved` (length a multiple of
    /// the channel count) to `out`; returns the number of bytes appended.
    pub fn encode_into(&mut self, interleaved: &[i32], out: &mut Vec<u8>) -> Result<usize> {
        let total = self.check_samples(interleaved, 0)?;
        let start = out.len();
        let mut info = self.stream_info(total, FrameSizes::NONE);
        let si_at = write_header(out, &info, self.config.vendor.as_deref());
        let channels = self.config.channels as usize;
        let bps = self.config.bits_per_sample;
        let mut sizes = FrameSizes::NONE;
        let mut md5 = self.config.md5.then(Md5::new);
        for (f, blk) in interleaved
            .chunks(self.preset.block_size as usize * channels)
            .enumerate()
        {
            sizes = sizes.merge(self.encode_frame_sized(blk, f as u64, out));
            if let Some(h) = md5.as_mut() {
                feed_md5(h, blk, bps);
            }
        }
        info = self.stream_info(total, sizes);
        if let Some(h) = md5 {
            info.md5.copy_from_slice(&h.finalize());
        }
        out[si_at..si_at + 34].copy_from_slice(&streaminfo_bytes(&info));
        Ok(out.len() - start)
    }

    /// Appends one complete FLAC stream of `total` samples per channel to `out`, its
    /// samples asked of `fill` a run of `run_blocks` blocks at a time (the last run
    /// shorter): `fill(first, buf)` writes the interleaved samples `first..first + n`
    /// (per channel) into `buf`, which holds `n * channels` values. `buf` is the run's
    /// storage, kept by the caller between streams. Returns the number of bytes
    /// appended.
    ///
    /// The bytes are exactly those of [`Encoder::encode_into`] on all the samples at
    /// once (frames do not depend on each other, and the MD5 is fed in order); only
    /// one run of samples is held, so a caller that computes the samples (from
    /// floats, or from wider integers) needs no copy of the whole stream.
    ///
    /// ```
    /// use flacarray_flac::{Encoder, EncoderConfig};
    /// let x: Vec<i32> = (0..10_000).map(|i| (i % 97) - 48).collect();
    /// let mut enc = Encoder::new(EncoderConfig::default())?;
    /// let (mut buf, mut out) = (Vec::new(), Vec::new());
    /// enc.encode_from(10_000, 1, &mut buf, &mut out, |first, b| {
    ///     let first = first as usize;
    ///     b.copy_from_slice(&x[first..first + b.len()]);
    /// })?;
    /// assert_eq!(out, flacarray_flac::encode(&x, &EncoderConfig::default())?);
    /// # Ok::<(), flacarray_flac::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for more than 2^36 samples per channel, `run_blocks`
    /// of 0, or samples that do not fit the configured bits per sample.
    pub fn encode_from(
        &mut self,
        total: u64,
        run_blocks: usize,
        buf: &mut Vec<i32>,
        out: &mut Vec<u8>,
        mut fill: impl FnMut(u64, &mut [i32]),
    ) -> Result<usize> {
        if total >= 1 << 36 {
            return Err(Error::InvalidArgument(
                "more than 2^36 samples per channel".into(),
            ));
        }
        if run_blocks == 0 {
            return Err(Error::InvalidArgument(
                "a run must hold at least one block".into(),
            ));
        }
        let start = out.len();
        let si_at = write_header(
            out,
            &self.stream_info(total, FrameSizes::NONE),
            self.config.vendor.as_deref(),
        );
        let channels = self.config.channels as usize;
        let block = self.preset.block_size as usize;
        let bps = self.config.bits_per_sample;
        // Samples per channel of a run; `total` < 2^36 fits `usize` on 64-bit targets
        // and the run is at most that.
        let run = u64::try_from(run_blocks.saturating_mul(block)).unwrap_or(u64::MAX);
        let mut sizes = FrameSizes::NONE;
        let mut md5 = self.config.md5.then(Md5::new);
        let mut first = 0_u64;
        let mut frame = 0_u64;
        while first < total {
            let n = run.min(total - first);
            let len = usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_mul(channels))
                .ok_or_else(|| Error::InvalidArgument("run too large".into()))?;
            buf.resize(len, 0);
            fill(first, &mut buf[..len]);
            self.check_samples(&buf[..len], first)?;
            for blk in buf[..len].chunks(block * channels) {
                sizes = sizes.merge(self.encode_frame_sized(blk, frame, out));
                if let Some(h) = md5.as_mut() {
                    feed_md5(h, blk, bps);
                }
                frame += 1;
            }
            first += n;
        }
        let mut info = self.stream_info(total, sizes);
        if let Some(h) = md5 {
            info.md5.copy_from_slice(&h.finalize());
        }
        out[si_at..si_at + 34].copy_from_slice(&streaminfo_bytes(&info));
        Ok(out.len() - start)
    }

    /// Appends the frames of a part of a stream, without the stream header, to `out`:
    /// `interleaved` holds the samples from frame `first_frame` on, and every frame
    /// but the stream's last is a full block, so the part must hold a whole number of
    /// blocks unless it ends the stream. Frames are numbered from `first_frame`.
    ///
    /// Parts encoded independently (on several threads, say) and appended in order
    /// after [`Encoder::write_stream_header`] give exactly the bytes of
    /// [`Encoder::encode_into`] on the whole signal, since frames do not depend on
    /// each other. MD5 needs the samples in order, so a configuration with `md5` is
    /// refused.
    ///
    /// ```
    /// use flacarray_flac::{Encoder, EncoderConfig, FrameSizes};
    /// let x: Vec<i32> = (0..10_000).map(|i| i % 100).collect();
    /// let mut enc = Encoder::new(EncoderConfig::default())?;
    /// let (head, tail) = x.split_at(2 * 4096); // level 5: blocks of 4096
    /// let mut frames = Vec::new();
    /// let a = enc.encode_frames_into(head, 0, &mut frames)?;
    /// let b = enc.encode_frames_into(tail, 2, &mut frames)?;
    /// let mut stream = Vec::new();
    /// enc.write_stream_header(10_000, a.merge(b), &mut stream)?;
    /// stream.extend_from_slice(&frames);
    /// assert_eq!(stream, flacarray_flac::encode(&x, &EncoderConfig::default())?);
    /// # Ok::<(), flacarray_flac::Error>(())
    /// ```
    pub fn encode_frames_into(
        &mut self,
        interleaved: &[i32],
        first_frame: u64,
        out: &mut Vec<u8>,
    ) -> Result<FrameSizes> {
        if self.config.md5 {
            return Err(Error::InvalidArgument(
                "MD5 needs the whole stream in order; encode it with encode_into".into(),
            ));
        }
        let block = u64::from(self.preset.block_size);
        self.check_samples(interleaved, first_frame.saturating_mul(block))?;
        let channels = self.config.channels as usize;
        let mut sizes = FrameSizes::NONE;
        for (f, blk) in interleaved
            .chunks(self.preset.block_size as usize * channels)
            .enumerate()
        {
            sizes = sizes.merge(self.encode_frame_sized(blk, first_frame + f as u64, out));
        }
        Ok(sizes)
    }

    /// Appends the stream header (`fLaC`, STREAMINFO and the optional VORBIS_COMMENT
    /// block) for a stream of `total_samples` samples per channel whose frames have
    /// `sizes` (the merged results of [`Encoder::encode_frames_into`]).
    pub fn write_stream_header(
        &self,
        total_samples: u64,
        sizes: FrameSizes,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if total_samples >= 1 << 36 {
            return Err(Error::InvalidArgument(
                "more than 2^36 samples per channel".into(),
            ));
        }
        let info = self.stream_info(total_samples, sizes);
        write_header(out, &info, self.config.vendor.as_deref());
        Ok(())
    }

    /// Checks the sample count and range of a stream part that starts at sample
    /// `first` (per channel); returns its samples per channel.
    fn check_samples(&self, interleaved: &[i32], first: u64) -> Result<u64> {
        let channels = self.config.channels as usize;
        if !interleaved.len().is_multiple_of(channels) {
            return Err(Error::InvalidArgument(format!(
                "{} interleaved samples is not a multiple of {channels} channels",
                interleaved.len()
            )));
        }
        let total = (interleaved.len() / channels) as u64;
        if total.saturating_add(first) >= 1 << 36 {
            return Err(Error::InvalidArgument(
                "more than 2^36 samples per channel".into(),
            ));
        }
        let bps = self.config.bits_per_sample;
        if bps < 32 {
            let lo = -(1i64 << (bps - 1));
            let hi = (1i64 << (bps - 1)) - 1;
            if let Some(pos) = interleaved
                .iter()
                .position(|&v| !(lo..=hi).contains(&i64::from(v)))
            {
                return Err(Error::InvalidArgument(format!(
                    "sample {} at index {pos} does not fit {bps} bits per sample",
                    interleaved[pos]
                )));
            }
        }
        Ok(total)
    }

    /// STREAMINFO of a stream of `total` samples per channel (MD5 zero).
    fn stream_info(&self, total: u64, sizes: FrameSizes) -> StreamInfo {
        let block = self.preset.block_size;
        // Frame sizes of 2^24 bytes or more do not fit STREAMINFO: 0 means unknown.
        let (min_frame_size, max_frame_size) = if sizes.max > 0 && sizes.max < 1 << 24 {
            (sizes.min, sizes.max)
        } else {
            (0, 0)
        };
        StreamInfo {
            min_block_size: block,
            max_block_size: block,
            min_frame_size,
            max_frame_size,
            sample_rate: self.config.sample_rate,
            channels: self.config.channels,
            bits_per_sample: self.config.bits_per_sample,
            total_samples: total,
            md5: [0; 16],
        }
    }

    /// Encodes one frame and returns its size.
    fn encode_frame_sized(&mut self, blk: &[i32], number: u64, out: &mut Vec<u8>) -> FrameSizes {
        let at = out.len();
        self.encode_frame(blk, number, out);
        // A frame is at most 2 channels x 65535 samples x 33 bits plus headers, far
        // below 2^32 bytes.
        let size = (out.len() - at) as u32;
        FrameSizes {
            min: size,
            max: size,
        }
    }

    fn encode_frame(&mut self, blk: &[i32], number: u64, out: &mut Vec<u8>) {
        crate::simd::encode_frame(self, blk, number, out);
    }

    /// The frame encoder proper, compiled once per CPU level (see [`crate::simd`]):
    /// everything it calls in the hot path is inlined into it.
    #[inline(always)]
    pub(crate) fn encode_frame_body(&mut self, blk: &[i32], number: u64, out: &mut Vec<u8>) {
        let channels = self.config.channels as usize;
        let n = blk.len() / channels;
        let bps = self.config.bits_per_sample;
        for c in &mut self.ch {
            if c.x.len() < n {
                c.x.resize(n, 0);
                c.best.resize(n, 0);
                c.tmp.resize(n, 0);
            }
        }
        if n != self.window_len && self.preset.max_lpc_order > 0 {
            self.build_windows(n);
        }
        let mode = if channels == 1 {
            for (x, &v) in self.ch[0].x.iter_mut().zip(blk) {
                *x = i64::from(v);
            }
            self.analyse(0, n, bps);
            ChannelMode::Independent(1)
        } else {
            self.split_stereo(blk, n);
            self.choose_stereo(n, bps)
        };
        let order: &[usize] = match mode {
            ChannelMode::Independent(1) => &[0],
            ChannelMode::Independent(_) => &[0, 1],
            ChannelMode::LeftSide => &[0, 3],
            ChannelMode::RightSide => &[3, 1],
            ChannelMode::MidSide => &[2, 3],
        };
        let frame_start = out.len();
        // Frame numbers are below 2^36 / 16, within the 31 bits of the coded number.
        write_frame_header(out, n as u32, mode, bps, number);
        {
            let mut w = BitWriter::new(out);
            for &c in order {
                write_subframe(&mut w, &self.ch[c], n);
            }
            w.align();
            w.finish();
        }
        let crc = crc16(&out[frame_start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    #[inline(always)]
    fn split_stereo(&mut self, blk: &[i32], n: usize) {
        let [l, r, m, s] = &mut self.ch;
        for (i, p) in blk.chunks_exact(2).enumerate() {
            let (a, b) = (i64::from(p[0]), i64::from(p[1]));
            l.x[i] = a;
            r.x[i] = b;
            // Mid drops the low bit of the sum; the decoder restores it from side's.
            m.x[i] = (a + b) >> 1;
            s.x[i] = a - b;
        }
        debug_assert_eq!(blk.len(), 2 * n);
    }

    #[inline(always)]
    fn choose_stereo(&mut self, n: usize, bps: u32) -> ChannelMode {
        let pairs = [
            (ChannelMode::Independent(2), 0, 1),
            (ChannelMode::LeftSide, 0, 3),
            (ChannelMode::RightSide, 3, 1),
            (ChannelMode::MidSide, 2, 3),
        ];
        match self.preset.stereo {
            StereoMode::Independent => {
                self.analyse(0, n, bps);
                self.analyse(1, n, bps);
                ChannelMode::Independent(2)
            }
            StereoMode::Exhaustive => {
                for c in 0..4 {
                    self.analyse(c, n, bps + u32::from(c == 3));
                }
                let cost = |c: usize| self.ch[c].bits;
                pairs
                    .iter()
                    .min_by_key(|(_, a, b)| cost(*a) + cost(*b))
                    .map_or(ChannelMode::Independent(2), |p| p.0)
            }
            StereoMode::Loose => {
                // Sum of absolute first differences: a cheap proxy for coded size.
                let est: Vec<u64> = self.ch.iter().map(|c| first_diff_cost(&c.x[..n])).collect();
                let (mode, a, b) = pairs
                    .iter()
                    .min_by_key(|(_, a, b)| est[*a] + est[*b])
                    .copied()
                    .unwrap_or(pairs[0]);
                self.analyse(a, n, bps + u32::from(a == 3));
                self.analyse(b, n, bps + u32::from(b == 3));
                mode
            }
        }
    }

    fn build_windows(&mut self, n: usize) {
        let mut specs: Vec<(u8, usize, usize)> = vec![(0, 0, n)];
        if let Apodization::SubdivideTukey(parts) = self.preset.apodization {
            for m in 2..=parts as usize {
                for j in 0..m {
                    let (a, b) = (j * n / m, (j + 1) * n / m);
                    specs.push((1, a, b));
                    specs.push((2, a, b));
                }
            }
        }
        let p = match self.preset.apodization {
            Apodization::Tukey(p) => p,
            Apodization::SubdivideTukey(_) => 0.5,
        };
        self.windows.clear();
        self.windows.resize(specs.len() * n, 0.0);
        for (w, &(kind, a, b)) in self.windows.chunks_exact_mut(n).zip(&specs) {
            match kind {
                0 => lpc::tukey(w, p),
                1 => lpc::partial_tukey(w, p, a, b),
                _ => lpc::punchout_tukey(w, p, a, b),
            }
        }
        self.window_energy = self
            .windows
            .chunks_exact(n)
            .map(|w| w.iter().map(|v| v * v).sum())
            .collect();
        self.window_span = specs
            .iter()
            .map(|&(kind, a, b)| if kind == 1 { (a, b) } else { (0, n) })
            .collect();
        self.window_len = n;
        self.windowed.resize(n, 0.0);
    }

    /// Finds the cheapest coding of candidate channel `c` (first `n` samples of its
    /// `x`) at `bps` bits per sample.
    #[inline(always)]
    fn analyse(&mut self, c: usize, n: usize, bps: u32) {
        let preset = self.preset;
        let ch = &mut self.ch[c];
        ch.bps = bps;
        ch.wasted = 0;
        let x = &mut ch.x[..n];
        // One vectorizable pass: extremes (constant test, magnitude) and the OR of all
        // samples (wasted bits).
        let (mut lo, mut hi, mut or) = (i64::MAX, i64::MIN, 0i64);
        for &v in x.iter() {
            lo = lo.min(v);
            hi = hi.max(v);
            or |= v;
        }
        if lo == hi {
            ch.kind = Some(Kind::Constant);
            ch.bits = 8 + u64::from(bps);
            return;
        }
        // Wasted bits: trailing zero bits shared by every sample, removed before
        // prediction and restored by the decoder's shift.
        let wasted = or.trailing_zeros().min(bps - 1);
        if wasted > 0 {
            for v in x.iter_mut() {
                *v >>= wasted;
            }
        }
        ch.wasted = wasted;
        let sbps = bps - wasted;
        let head = 8 + u64::from(wasted);
        ch.kind = Some(Kind::Verbatim);
        ch.bits = head + n as u64 * u64::from(sbps);

        // Fixed predictors: pick the order with the smallest absolute residual sum.
        // An order-k residual is a k-th difference, at most 2^k times the largest
        // magnitude, so inputs of `mag_bits` bits cannot overflow 31 bits when
        // mag_bits + 4 <= 31 and the per-sample range test can be skipped.
        let mag_bits = 64
            - (lo >> wasted)
                .unsigned_abs()
                .max((hi >> wasted).unsigned_abs())
                .leading_zeros();
        let max_fixed = 4.min(n - 1);
        // Samples below 2^31 in magnitude are i32 values: the LPC residual can then
        // multiply 32-bit operands (four at a time with AVX2).
        let narrow = mag_bits <= 31;
        if let Some(order) = best_fixed_order(x, max_fixed, mag_bits + 4 > 31)
            && fixed_residual(x, order, &mut ch.tmp[..n - order])
        {
            rice::choose(
                &ch.tmp[..n - order],
                n,
                order,
                &self.rice_limits,
                &mut self.stats,
                &mut ch.trial,
            );
            let bits = head + order as u64 * u64::from(sbps) + ch.trial.bits;
            if bits < ch.bits {
                ch.bits = bits;
                ch.kind = Some(Kind::Fixed(order));
                std::mem::swap(&mut ch.best, &mut ch.tmp);
                std::mem::swap(&mut ch.rice, &mut ch.trial);
            }
        }

        let max_order = (preset.max_lpc_order as usize).min(n.saturating_sub(1));
        if max_order == 0 {
            return;
        }
        let precision = lpc_precision(n);
        let mut r = [0.0f64; MAX_ORDER + 1];
        let mut lp = [[0.0f64; MAX_ORDER]; MAX_ORDER];
        let mut err = [0.0f64; MAX_ORDER];
        // Phase 1: every window proposes a quantized predictor, of the order whose
        // estimated size (from the Levinson residual energy, scaled to the window's
        // own energy so that partial windows compare fairly with whole-block ones) is
        // smallest.
        let mut proposals: [(usize, u32, u32, [i32; MAX_ORDER]); MAX_WINDOWS] =
            [(0, 0, 0, [0; MAX_ORDER]); MAX_WINDOWS];
        let mut count = 0;
        for ((w, &energy), &(a, b)) in self
            .windows
            .chunks_exact(n)
            .zip(&self.window_energy)
            .zip(&self.window_span)
        {
            // Outside `a..b` the window is zero and adds nothing to the autocorrelation.
            for ((d, &v), &wv) in self.windowed[a..b]
                .iter_mut()
                .zip(ch.x[a..b].iter())
                .zip(&w[a..b])
            {
                // Samples are below 2^33, exactly representable in f64.
                {
                    *d = v as f64 * wv;
                }
            }
            lpc::autocorrelation(&self.windowed[a..b], &mut r[..=max_order]);
            let got = lpc::levinson(&r, max_order, &mut lp, &mut err);
            if got == 0 || energy <= 0.0 {
                continue;
            }
            let scale = n as f64 / energy;
            // Order by the expected coded size: residual bits plus per-order overhead.
            let mut best_order = 1;
            let mut best_est = f64::MAX;
            for m in 1..=got {
                let est = lpc::expected_bits(err[m - 1] * scale, n - m) * (n - m) as f64
                    + (m as f64) * f64::from(precision + sbps);
                if est < best_est {
                    best_est = est;
                    best_order = m;
                }
            }
            let m = best_order;
            let precision = coefficient_precision(precision, r[0], err[m - 1]);
            let mut coefs = [0i32; MAX_ORDER];
            if let Some(shift) = lpc::quantize(&lp[m - 1][..m], precision, &mut coefs) {
                proposals[count] = (m, precision, shift, coefs);
                count += 1;
            }
        }
        // Phase 2: code every proposal exactly and keep the smallest, as libFLAC does.
        // The estimates rank the windows of one block poorly against each other:
        // coding only the three best-estimated (of 11 at level 8) left level 8 larger
        // than level 7 and 2.0% larger than libFLAC on speech (0.24% on seismograms),
        // the best five 0.46%; coding all of them, 0.05% and -0.08%, for about 40%
        // more level-8 encode time (still 1.5-1.8x libFLAC's speed there).
        for &(m, precision, shift, coefs) in &proposals[..count] {
            if !lpc::residual(&ch.x[..n], &coefs[..m], shift, narrow, &mut ch.tmp[..n - m]) {
                continue;
            }
            rice::choose(
                &ch.tmp[..n - m],
                n,
                m,
                &self.rice_limits,
                &mut self.stats,
                &mut ch.trial,
            );
            let bits = head
                + m as u64 * u64::from(sbps)
                + 9
                + m as u64 * u64::from(precision)
                + ch.trial.bits;
            if bits < ch.bits {
                ch.bits = bits;
                ch.kind = Some(Kind::Lpc {
                    order: m,
                    precision,
                    shift,
                    coefs,
                });
                std::mem::swap(&mut ch.best, &mut ch.tmp);
                std::mem::swap(&mut ch.rice, &mut ch.trial);
            }
        }
    }
}

/// Most apodization windows of any preset (subdivide_tukey(3): 1 + 2*2 + 2*3).
const MAX_WINDOWS: usize = 16;

/// Coefficient precision of a predictor whose window has energy `r0` and leaves the
/// residual energy `err`: at least `base` (by block size), more when the prediction
/// gain is high. Rounding a coefficient to `p` bits adds an error of about
/// `2^-p` times the signal to the prediction; that stays below the residual when
/// `2^p` exceeds the amplitude ratio `sqrt(r0 / err)`, so the precision is that ratio
/// in bits plus two, up to FLAC's 15. On noisy signals the ratio is small and `base`
/// (libFLAC's choice for 16-bit audio) stands; on smooth high-amplitude signals (a
/// teleseism: ratio ~2^11) `base` would leave the rounding error above the residual,
/// and libFLAC, which declares flacarray's streams 32-bit, uses 15 for them.
fn coefficient_precision(base: u32, r0: f64, err: f64) -> u32 {
    if !(err > 0.0 && r0 > err) {
        return base;
    }
    let ratio_bits = 0.5 * (r0 / err).log2();
    // Finite and in (0, 2048) for any f64 ratio, so the cast is exact after ceil.
    let wanted = ratio_bits.ceil() as u32 + 2;
    wanted.clamp(base, 15)
}

/// Coefficient precision by block size, as libFLAC chooses it when not told.
fn lpc_precision(n: usize) -> u32 {
    match n {
        0..=192 => 7,
        193..=384 => 8,
        385..=576 => 9,
        577..=1152 => 10,
        1153..=2304 => 11,
        2305..=4608 => 12,
        _ => 13,
    }
}

#[inline(always)]
fn first_diff_cost(x: &[i64]) -> u64 {
    x.windows(2).map(|w| (w[1] - w[0]).unsigned_abs()).sum()
}

/// The fixed order (0..=max) with the smallest sum of absolute residuals over the
/// samples from `max` on, ignoring orders whose residual leaves the 32-bit range
/// (tested only when `check` says overflow is possible).
#[inline(always)]
fn best_fixed_order(x: &[i64], max: usize, check: bool) -> Option<usize> {
    if max < 4 {
        return best_fixed_order_short(x, max);
    }
    if check {
        fixed_sums::<true>(x)
    } else {
        fixed_sums::<false>(x)
    }
}

/// Sums (and, with `CHECK`, peaks) of the order 0..=4 residuals from sample 4 on.
/// Running differences: e_k of this sample is e_(k-1) minus e_(k-1) of the previous
/// sample. Inputs below 2^33 keep every difference below 2^37.
#[inline(always)]
fn fixed_sums<const CHECK: bool>(x: &[i64]) -> Option<usize> {
    let mut sums = [0u64; 5];
    let mut peak = [0u64; 5];
    let (d1, d2, d3) = (x[3] - x[2], x[2] - x[1], x[1] - x[0]);
    let (mut prev, mut p1, mut p2, mut p3) = (x[3], d1, d1 - d2, (d1 - d2) - (d2 - d3));
    for &v in &x[4..] {
        let e = [
            v,
            v - prev,
            v - prev - p1,
            v - prev - p1 - p2,
            v - prev - p1 - p2 - p3,
        ];
        for k in 0..5 {
            sums[k] += e[k].unsigned_abs();
            if CHECK {
                peak[k] = peak[k].max(e[k].unsigned_abs());
            }
        }
        prev = v;
        p1 = e[1];
        p2 = e[2];
        p3 = e[3];
    }
    (0..=4)
        .filter(|&k| !CHECK || peak[k] <= i32::MAX.unsigned_abs().into())
        .min_by_key(|&k| sums[k])
}

/// Blocks of at most 4 samples: residuals over the samples from `max` on, checked.
#[inline(always)]
fn best_fixed_order_short(x: &[i64], max: usize) -> Option<usize> {
    let mut res = [0i32; 4];
    let m = x.len() - max;
    let mut best: Option<(u64, usize)> = None;
    for k in 0..=max {
        if fixed_residual(&x[max - k..], k, &mut res[..m]) {
            let sum: u64 = res[..m].iter().map(|r| u64::from(r.unsigned_abs())).sum();
            if best.is_none_or(|(s, _)| sum < s) {
                best = Some((sum, k));
            }
        }
    }
    best.map(|(_, k)| k)
}

/// Fixed-predictor residual of `x[order..]`; `false` if one leaves the 32-bit range.
/// The order is dispatched once to a loop of its own (a match inside the loop
/// would be taken per sample).
#[inline(always)]
fn fixed_residual(x: &[i64], order: usize, res: &mut [i32]) -> bool {
    match order {
        0 => fixed_residual_n::<0>(x, res),
        1 => fixed_residual_n::<1>(x, res),
        2 => fixed_residual_n::<2>(x, res),
        3 => fixed_residual_n::<3>(x, res),
        _ => fixed_residual_n::<4>(x, res),
    }
}

#[inline(always)]
fn fixed_residual_n<const O: usize>(x: &[i64], res: &mut [i32]) -> bool {
    let mut ok = true;
    for (w, r) in x.windows(O + 1).zip(res.iter_mut()) {
        // Inputs below 2^33: every term below 2^36, no overflow in i64.
        let e = match O {
            0 => w[0],
            1 => w[1] - w[0],
            2 => w[2] - 2 * w[1] + w[0],
            3 => w[3] - 3 * w[2] + 3 * w[1] - w[0],
            _ => w[4] - 4 * w[3] + 6 * w[2] - 4 * w[1] + w[0],
        };
        ok &= lpc::fits_residual(e);
        // Only kept when `ok`; the range check makes the cast exact.
        {
            *r = e as i32;
        }
    }
    ok
}

#[inline(always)]
fn write_subframe(w: &mut BitWriter<'_>, ch: &Channel, n: usize) {
    let kind = ch.kind.unwrap_or(Kind::Verbatim);
    let sbps = ch.bps - ch.wasted;
    let code: u64 = match kind {
        Kind::Constant => 0,
        Kind::Verbatim => 1,
        Kind::Fixed(o) => 8 + o as u64,
        Kind::Lpc { order, .. } => 31 + order as u64,
    };
    w.write(8, (code << 1) | u64::from(ch.wasted > 0));
    if ch.wasted > 0 {
        w.write_unary(ch.wasted - 1);
    }
    let x = &ch.x[..n];
    match kind {
        Kind::Constant => w.write_signed(ch.bps, x[0]),
        Kind::Verbatim => {
            for &v in x {
                w.write_signed(sbps, v);
            }
        }
        Kind::Fixed(order) => {
            for &v in &x[..order] {
                w.write_signed(sbps, v);
            }
            rice::write(w, &ch.best[..n - order], n, order, &ch.rice);
        }
        Kind::Lpc {
            order,
            precision,
            shift,
            coefs,
        } => {
            for &v in &x[..order] {
                w.write_signed(sbps, v);
            }
            w.write(4, u64::from(precision - 1));
            w.write_signed(5, i64::from(shift));
            for &c in &coefs[..order] {
                w.write_signed(precision, i64::from(c));
            }
            rice::write(w, &ch.best[..n - order], n, order, &ch.rice);
        }
    }
}

/// MD5 input: each sample little-endian in `ceil(bps / 8)` bytes, interleaved.
fn feed_md5(h: &mut Md5, blk: &[i32], bps: u32) {
    let width = bps.div_ceil(8) as usize;
    let mut buf = [0u8; 4 * 256];
    for chunk in blk.chunks(256) {
        let mut len = 0;
        for &v in chunk {
            buf[len..len + width].copy_from_slice(&v.to_le_bytes()[..width]);
            len += width;
        }
        h.update(&buf[..len]);
    }
}
