//! FLAC stream decoding: whole streams and sample ranges, into a caller's buffer or a
//! new one.

use std::ops::Range;

use crate::bitread::BitReader;
use crate::crc::{crc16, crc16_update};
use crate::error::{Error, Result};
use crate::frame::{ChannelMode, FrameHeader, parse_frame_header};
use crate::metadata::{StreamInfo, parse_header};
use crate::{MAX_BITS_PER_SAMPLE, MAX_CHANNELS};

/// A decoded stream: its STREAMINFO and the interleaved samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The stream's STREAMINFO block.
    pub info: StreamInfo,
    /// Interleaved samples (`[l0, r0, l1, r1, ..]` for two channels).
    pub samples: Vec<i32>,
}

/// Reusable decoding state. Keeping one decoder per thread means its buffers grow to
/// the largest block once and are then reused for every frame of every stream.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Per-channel samples of the frames decoded but not yet handed out (i32
    /// channels): slot `k` holds the `k`-th frame of [`Decoder::pend`].
    slots: Vec<[Vec<i32>; 2]>,
    /// Frames whose bits are read but whose LPC subframes are not restored yet; they
    /// are restored together, four subframes at a time (see [`restore_lpc_x4_impl`]).
    pend: Vec<Pending>,
    /// The side channel of a decorrelated 32-bit stereo frame needs 33 bits.
    wide: Vec<i64>,
    /// Residual scratch for the 33-bit path.
    residual: Vec<i32>,
    /// Whether the current frame's side channel was decoded into `wide`.
    side_is_wide: bool,
    /// Four buffers for the lanes of a four-subframe restore that have no subframe
    /// (or whose subframe is already complete); what is restored there is discarded.
    spare: Vec<i32>,
}

/// Deferred LPC subframes collected before they are restored and their frames handed
/// out: four independent predictor recurrences, whose latency chains then overlap
/// (see [`restore_lpc_x4_impl`]). Frames without LPC subframes (constant, verbatim,
/// fixed predictors) do not count, so that the groups of a mono stream stay full;
/// stereo frames are collected until their LPC subframes make whole groups.
const LANES: usize = 4;

/// Most frames pending at once, whatever their LPC subframes: bounds the buffers.
const MAX_PENDING: usize = 8;

/// The parameters of an LPC subframe whose restore is deferred.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lpc {
    pub order: usize,
    pub coefs: [i32; 32],
    pub shift: u32,
    pub wasted: u32,
}

/// A frame read but not yet restored and handed out.
#[derive(Debug)]
struct Pending {
    hdr: FrameHeader,
    /// Byte offset of the frame (for errors).
    pos: usize,
    /// Number of its first sample.
    sample: u64,
    /// Deferred LPC subframes, per channel.
    lpc: [Option<Lpc>; 2],
    /// The error that ended reading this frame, reported after the restore errors of
    /// the subframes read before it, as decoding frame by frame would.
    err: Option<Error>,
    /// Where the frame's samples were decoded in the caller's output slice, when the
    /// frame is mono and lies wholly inside the requested range (no copy is then
    /// needed); `None` when they are in the frame's slot.
    direct: Option<usize>,
}

/// Where decoded samples go: a caller's exact-size slice, a vector that grows frame by
/// frame (so its size follows what the bytes really hold, not a header), or a sink
/// that receives each frame's samples from a one-frame scratch buffer.
enum Out<'o> {
    Slice(&'o mut [i32]),
    Grow(&'o mut Vec<i32>),
    Sink {
        scratch: Vec<i32>,
        sink: &'o mut dyn FnMut(&[i32]) -> std::io::Result<()>,
    },
}

impl Out<'_> {
    /// The destination of `len` values that start at output value `start`. Calls come
    /// in increasing `start` order, one per frame, each followed by [`Out::done`].
    fn dest(&mut self, start: usize, len: usize) -> &mut [i32] {
        match self {
            Out::Slice(s) => &mut s[start..start + len],
            Out::Grow(v) => {
                if v.len() < start + len {
                    v.resize(start + len, 0);
                }
                &mut v[start..start + len]
            }
            // `len` is at most one frame: 65535 samples times 2 channels.
            Out::Sink { scratch, .. } => {
                scratch.resize(len, 0);
                &mut scratch[..]
            }
        }
    }

    /// Hands the values written through the last [`Out::dest`] to a sink.
    fn done(&mut self) -> Result<()> {
        match self {
            Out::Sink { scratch, sink } => sink(scratch).map_err(|e| Error::Sink(e.to_string())),
            _ => Ok(()),
        }
    }
}

/// Decodes a whole stream that must hold exactly `stream_size` samples per channel.
///
/// ```
/// let bytes = flacarray_flac::encode(&[5, -3, 7, 7], &Default::default())?;
/// assert_eq!(flacarray_flac::decode(&bytes, 4)?.samples, vec![5, -3, 7, 7]);
/// assert!(flacarray_flac::decode(&bytes, 5).is_err());
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn decode(stream: &[u8], stream_size: u64) -> Result<Decoded> {
    decode_range(stream, stream_size, 0..stream_size)
}

/// Decodes samples `range` (per channel) of a stream of `stream_size` samples per
/// channel, reading only the frames that hold them.
///
/// ```
/// let x: Vec<i32> = (0..10_000).collect();
/// let bytes = flacarray_flac::encode(&x, &Default::default())?;
/// let part = flacarray_flac::decode_range(&bytes, 10_000, 4095..4097)?;
/// assert_eq!(part.samples, vec![4095, 4096]);
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn decode_range(stream: &[u8], stream_size: u64, range: Range<u64>) -> Result<Decoded> {
    let mut samples = Vec::new();
    let info = Decoder::new().run(
        stream,
        Some(stream_size),
        Some(range),
        Out::Grow(&mut samples),
    )?;
    Ok(Decoded { info, samples })
}

/// Decodes a whole stream to its last frame, whether or not its STREAMINFO records
/// its length. RFC 9639 lets `total_samples` be 0 for "unknown", and every stream
/// flacarray 0.4.1 writes is like that; when the length is recorded, the stream must
/// hold exactly that many samples.
///
/// Memory follows the bytes present, never a header: the output grows one frame at a
/// time, after the frame has been decoded and its CRC-16 checked. The smallest valid
/// frame (a header of at least 6 bytes, a 1-byte CONSTANT subframe header plus its
/// value per channel, a 2-byte CRC-16) takes about a dozen bytes and yields at most
/// 65535 samples per channel, so the output holds at most about 5,500 samples per
/// channel per input byte. A stream of constant frames can legitimately expand that
/// much; to decode such a stream without holding its output, use
/// [`Decoder::decode_with`], which hands over one frame at a time.
///
/// ```
/// let bytes = flacarray_flac::encode(&[1, 2, 3], &Default::default())?;
/// assert_eq!(flacarray_flac::decode_to_end(&bytes)?.samples, vec![1, 2, 3]);
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn decode_to_end(stream: &[u8]) -> Result<Decoded> {
    let mut samples = Vec::new();
    let info = Decoder::new().run(stream, None, None, Out::Grow(&mut samples))?;
    Ok(Decoded { info, samples })
}

/// Counts the samples per channel of a stream by walking its frames without decoding
/// them: each frame header is parsed and checked against the frames before it, and
/// each frame's extent is confirmed by its CRC-16. Allocates nothing. When STREAMINFO
/// records a length, the frames must agree with it.
///
/// ```
/// let bytes = flacarray_flac::encode(&vec![7; 10_000], &Default::default())?;
/// assert_eq!(flacarray_flac::count_samples(&bytes)?, 10_000);
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn count_samples(stream: &[u8]) -> Result<u64> {
    let (info, mut pos) = parse_header(stream)?;
    check_info(&info)?;
    let mut sample: u64 = 0;
    let mut frame: u64 = 0;
    let mut fixed_bs: Option<u32> = None;
    let mut ended_short = false;
    while pos < stream.len() {
        let hdr = parse_frame_header(&stream[pos..], pos, info.bits_per_sample, frame)?;
        check_header(
            &hdr,
            &info,
            pos,
            frame,
            sample,
            &mut fixed_bs,
            &mut ended_short,
        )?;
        pos = skip_frame(stream, pos, &hdr, frame)?;
        sample += u64::from(hdr.block_size);
        frame += 1;
    }
    if info.total_samples != 0 && info.total_samples != sample {
        return Err(Error::SampleCount {
            expected: info.total_samples,
            found: sample,
        });
    }
    Ok(sample)
}

/// STREAMINFO fields this decoder cannot go on without.
fn check_info(info: &StreamInfo) -> Result<()> {
    if info.channels > MAX_CHANNELS {
        return Err(Error::Unsupported("more than two channels"));
    }
    if info.bits_per_sample > MAX_BITS_PER_SAMPLE {
        return Err(Error::Corrupt {
            what: "STREAMINFO bits per sample above 32",
            offset: 8,
        });
    }
    Ok(())
}

impl Decoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes a whole stream into `out`, which must hold exactly
    /// `stream_size * channels` samples; the stream must hold `stream_size` samples per
    /// channel. Returns the stream's STREAMINFO. On an error the contents of `out` are
    /// unspecified: mono frames are decoded in place, so `out` may hold partly
    /// restored samples as well as the frames before the fault.
    pub fn decode_into(
        &mut self,
        stream: &[u8],
        stream_size: u64,
        out: &mut [i32],
    ) -> Result<StreamInfo> {
        self.decode_range_into(stream, stream_size, 0..stream_size, out)
    }

    /// Decodes samples `range` (per channel) into `out`, which must hold exactly
    /// `(range.end - range.start) * channels` samples. On an error the contents of
    /// `out` are unspecified, as for [`Decoder::decode_into`].
    pub fn decode_range_into(
        &mut self,
        stream: &[u8],
        stream_size: u64,
        range: Range<u64>,
        out: &mut [i32],
    ) -> Result<StreamInfo> {
        self.run(stream, Some(stream_size), Some(range), Out::Slice(out))
    }

    /// Decodes a stream frame by frame, handing each frame's interleaved samples (or
    /// the part inside `range`) to `sink` in order; nothing but one frame is held, so
    /// memory stays below 65535 samples x 2 channels whatever the stream expands to.
    ///
    /// `stream_size` is the number of samples per channel the stream must hold; `None`
    /// takes STREAMINFO's `total_samples` when recorded and otherwise decodes to the
    /// last frame. `range` (per channel, default: everything) needs a known length.
    /// An error from `sink` stops decoding and is returned as [`Error::Sink`]. When
    /// decoding fails part-way, `sink` has already received the frames before the
    /// fault: a caller that must not keep partial output discards what it wrote.
    ///
    /// ```
    /// let x: Vec<i32> = (0..10_000).collect();
    /// let bytes = flacarray_flac::encode(&x, &Default::default())?;
    /// let mut got = Vec::new();
    /// flacarray_flac::Decoder::new().decode_with(&bytes, None, None, |s| {
    ///     got.extend_from_slice(s);
    ///     Ok(())
    /// })?;
    /// assert_eq!(got, x);
    /// # Ok::<(), flacarray_flac::Error>(())
    /// ```
    pub fn decode_with<F>(
        &mut self,
        stream: &[u8],
        stream_size: Option<u64>,
        range: Option<Range<u64>>,
        mut sink: F,
    ) -> Result<StreamInfo>
    where
        F: FnMut(&[i32]) -> std::io::Result<()>,
    {
        let out = Out::Sink {
            scratch: Vec::new(),
            sink: &mut sink,
        };
        self.run(stream, stream_size, range, out)
    }

    /// Decodes `range` (default: all) of a stream that must hold `stream_size`
    /// samples per channel (default: STREAMINFO's count when recorded, else whatever
    /// the frames hold).
    fn run(
        &mut self,
        stream: &[u8],
        stream_size: Option<u64>,
        range: Option<Range<u64>>,
        out: Out<'_>,
    ) -> Result<StreamInfo> {
        let (info, pos) = parse_header(stream)?;
        check_info(&info)?;
        let recorded = (info.total_samples != 0).then_some(info.total_samples);
        if let (Some(want), Some(found)) = (stream_size, recorded)
            && want != found
        {
            return Err(Error::SampleCount {
                expected: want,
                found,
            });
        }
        let known = stream_size.or(recorded);
        let range = match (range, known) {
            (Some(r), Some(n)) => {
                if r.start > r.end || r.end > n {
                    return Err(Error::InvalidArgument(format!(
                        "sample range {}..{} is outside a stream of {n} samples",
                        r.start, r.end
                    )));
                }
                r
            }
            (Some(_), None) => {
                return Err(Error::InvalidArgument(
                    "a sample range needs the stream's length, which it does not record".into(),
                ));
            }
            (None, Some(n)) => 0..n,
            (None, None) => 0..u64::MAX,
        };
        // Without a known length the frames decide it; the checks against it below
        // are then vacuous.
        let stream_size = known.unwrap_or(u64::MAX);
        if let Out::Slice(s) = &out {
            let want = (range.end - range.start).checked_mul(info.channels.into());
            if want != Some(s.len() as u64) {
                return Err(Error::InvalidArgument(format!(
                    "output holds {} values, the range needs {} samples x {} channels",
                    s.len(),
                    range.end - range.start,
                    info.channels
                )));
            }
        }
        self.frames(
            stream,
            &info,
            pos,
            (0, None),
            stream_size,
            known,
            range,
            out,
        )?;
        Ok(info)
    }

    /// Decodes a run of frames of a fixed-block-size stream: the frames from frame
    /// `first_frame`, which starts at byte `at` (see [`locate_frame`]), into `out`,
    /// which receives the `out.len() / channels` samples per channel from sample
    /// `first_frame * block_size` on. The stream must hold `stream_size` samples per
    /// channel. Returns the byte offset just past the last frame decoded; every
    /// frame's number, block size and CRC-16 are checked. On an error the contents of
    /// `out` are unspecified, as for [`Decoder::decode_into`].
    ///
    /// Parts of a stream decoded this way (on several threads, say) are the whole
    /// stream exactly when each part ends where the next one starts and the last one
    /// ends at the end of the stream; a caller that located the starts by scanning
    /// must check that, since a sync pattern can occur inside frame data.
    ///
    /// ```
    /// use flacarray_flac::{Decoder, locate_frame};
    /// let x: Vec<i32> = (0..10_000).map(|i| i % 77).collect();
    /// let bytes = flacarray_flac::encode(&x, &Default::default())?; // blocks of 4096
    /// let at = locate_frame(&bytes, 2)?.expect("frame 2 exists");
    /// let mut tail = vec![0; 10_000 - 2 * 4096];
    /// let end = Decoder::new().decode_frames_into(&bytes, 10_000, at, 2, &mut tail)?;
    /// assert_eq!((end, &tail[..]), (bytes.len(), &x[2 * 4096..]));
    /// # Ok::<(), flacarray_flac::Error>(())
    /// ```
    pub fn decode_frames_into(
        &mut self,
        stream: &[u8],
        stream_size: u64,
        at: usize,
        first_frame: u64,
        out: &mut [i32],
    ) -> Result<usize> {
        let (info, first_at) = parse_header(stream)?;
        check_info(&info)?;
        let bs = fixed_block_size(&info).ok_or_else(|| {
            Error::InvalidArgument("frame runs need a fixed-block-size stream".into())
        })?;
        if info.total_samples != 0 && info.total_samples != stream_size {
            return Err(Error::SampleCount {
                expected: stream_size,
                found: info.total_samples,
            });
        }
        let channels = u64::from(info.channels);
        let start = first_frame.checked_mul(u64::from(bs));
        let end = start.and_then(|s| s.checked_add(out.len() as u64 / channels));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(Error::InvalidArgument("frame run out of range".into()));
        };
        if end > stream_size || !(out.len() as u64).is_multiple_of(channels) || at < first_at {
            return Err(Error::InvalidArgument(format!(
                "frame run from frame {first_frame} ({} values at byte {at}) does not fit \
                 a stream of {stream_size} samples x {channels} channels",
                out.len()
            )));
        }
        self.frames(
            stream,
            &info,
            at,
            (first_frame, Some(bs)),
            stream_size,
            Some(stream_size),
            start..end,
            Out::Slice(out),
        )
    }

    /// Decodes the frames from byte `pos`, the first numbered `frame0.0` (with block
    /// size `frame0.1` already known for a part that starts mid-stream); returns the
    /// offset past the last frame read.
    #[allow(clippy::too_many_arguments)]
    fn frames(
        &mut self,
        stream: &[u8],
        info: &StreamInfo,
        mut pos: usize,
        frame0: (u64, Option<u32>),
        stream_size: u64,
        known: Option<u64>,
        range: Range<u64>,
        mut out: Out<'_>,
    ) -> Result<usize> {
        let info = *info;
        let channels = info.channels as usize;
        let whole_tail = range.end == stream_size;
        let mut frame: u64 = frame0.0;
        let mut sample: u64 = frame0.1.map_or(0, |bs| frame * u64::from(bs));
        // Block size of the frames of a fixed-strategy stream; only the last may differ.
        let mut fixed_bs: Option<u32> = frame0.1;
        let mut ended_short = false;
        self.pend.clear();
        // On an error, frames read before it are restored and handed out first, so
        // that errors and output are those of decoding frame by frame.
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        self.flush(&range, channels, &mut out)?;
                        return Err(e);
                    }
                }
            };
        }
        while pos < stream.len() && (sample < range.end || whole_tail) {
            let hdr = tri!(parse_frame_header(
                &stream[pos..],
                pos,
                info.bits_per_sample,
                frame
            ));
            tri!(check_header(
                &hdr,
                &info,
                pos,
                frame,
                sample,
                &mut fixed_bs,
                &mut ended_short,
            ));
            let bs = u64::from(hdr.block_size);
            if sample + bs > stream_size {
                tri!(Err(Error::SampleCount {
                    expected: stream_size,
                    found: sample + bs,
                }));
            }
            let next = if sample + bs <= range.start {
                tri!(skip_frame(stream, pos, &hdr, frame))
            } else {
                // A 33-bit side channel is decoded into the one `wide` buffer, so such
                // a frame is restored and handed out at once.
                let wide = (0..hdr.channel_mode.channels())
                    .any(|ch| hdr.bits_per_sample + u32::from(hdr.channel_mode.is_side(ch)) > 32);
                if wide {
                    self.flush(&range, channels, &mut out)?;
                }
                let slot = self.pend.len();
                if self.slots.len() <= slot {
                    self.slots.resize_with(slot + 1, Default::default);
                }
                let mut lpc = [None, None];
                // A mono frame wholly inside the range of a caller's slice is decoded
                // in place there.
                let direct = match &mut out {
                    Out::Slice(s)
                        if channels == 1 && sample >= range.start && sample + bs <= range.end =>
                    {
                        let at = (sample - range.start) as usize;
                        s.get_mut(at..at + bs as usize).map(|d| (at, d))
                    }
                    _ => None,
                };
                let at = direct.as_ref().map(|d| d.0);
                let read = self.decode_frame(
                    stream,
                    pos,
                    &hdr,
                    frame,
                    slot,
                    !wide,
                    &mut lpc,
                    direct.map(|d| d.1),
                );
                let (end, err) = match read {
                    Ok(end) => (end, None),
                    Err(e) => (pos, Some(e)),
                };
                let stop = err.is_some();
                self.pend.push(Pending {
                    hdr,
                    pos,
                    sample,
                    lpc,
                    err,
                    direct: at,
                });
                let lanes: usize = self
                    .pend
                    .iter()
                    .map(|p| p.lpc.iter().flatten().count())
                    .sum();
                if stop
                    || wide
                    || lanes.is_multiple_of(LANES) && lanes > 0
                    || self.pend.len() == MAX_PENDING
                {
                    self.flush(&range, channels, &mut out)?;
                }
                end
            };
            pos = next;
            sample += bs;
            frame += 1;
        }
        self.flush(&range, channels, &mut out)?;
        if known.is_some() && (sample < range.end || (whole_tail && sample < stream_size)) {
            return Err(Error::SampleCount {
                expected: stream_size,
                found: sample,
            });
        }
        if whole_tail && pos < stream.len() {
            return Err(Error::Corrupt {
                what: "data after the last frame",
                offset: pos,
            });
        }
        Ok(pos)
    }

    /// Decodes the frame at `pos` into the channel buffers; returns the offset just
    /// past the frame after checking its CRC-16.
    #[allow(clippy::too_many_arguments)]
    fn decode_frame(
        &mut self,
        stream: &[u8],
        pos: usize,
        hdr: &FrameHeader,
        frame: u64,
        slot: usize,
        defer: bool,
        lpc: &mut [Option<Lpc>; 2],
        mut direct: Option<&mut [i32]>,
    ) -> Result<usize> {
        let data = &stream[pos..];
        let mut r = BitReader::new(data);
        // Skip the header (already parsed and checked).
        r.read(8, "frame header")?;
        for _ in 1..hdr.len {
            r.read(8, "frame header")?;
        }
        let n = hdr.block_size as usize;
        self.side_is_wide = false;
        for ch in 0..hdr.channel_mode.channels() {
            let side = hdr.channel_mode.is_side(ch);
            let bps = hdr.bits_per_sample + u32::from(side);
            let c = ch as usize;
            if bps > 32 {
                if self.wide.len() < n {
                    self.wide.resize(n, 0);
                }
                if self.residual.len() < n {
                    self.residual.resize(n, 0);
                }
                crate::simd::decode_subframe_wide(
                    &mut r,
                    bps,
                    &mut self.wide[..n],
                    &mut self.residual[..n],
                    pos,
                )?;
                self.side_is_wide = true;
            } else {
                let buf = match direct.as_deref_mut() {
                    Some(d) if c == 0 => d,
                    _ => {
                        let buf = &mut self.slots[slot][c];
                        if buf.len() < n {
                            buf.resize(n, 0);
                        }
                        &mut buf[..n]
                    }
                };
                lpc[c] = crate::simd::decode_subframe(&mut r, bps, buf, pos, defer)?;
            }
        }
        r.align();
        let end = r.byte_pos();
        let crc_end = end + 2;
        if crc_end > data.len() {
            return Err(Error::Truncated {
                what: "frame CRC-16",
                offset: pos + end,
            });
        }
        if crc16(&data[..crc_end]) != 0 {
            return Err(Error::Crc {
                kind: "CRC-16 (frame)",
                frame,
                offset: pos,
            });
        }
        Ok(pos + crc_end)
    }

    /// Restores two to four deferred LPC subframes (`group`, as (frame, channel))
    /// together, with lanes of no subframe filled by dummy work in [`Decoder::spare`].
    /// Subframes of different lengths (the short last frame of a stream) are restored
    /// in segments: all lanes up to the shortest length, then the longer ones from
    /// there, each segment starting with the last `order` samples already restored
    /// as its history. `None` when the predictors have no common form (see
    /// [`joint_coefs`]), an order above [`MAX_JOINT_ORDER`], or a subframe not longer
    /// than the common order: the caller then restores them one by one. Returns
    /// whether each lane's samples stayed within 32 bits.
    fn restore_group(
        &mut self,
        group: &[(usize, usize)],
        pend: &[Pending],
        out: Option<&mut [i32]>,
    ) -> Option<[bool; 4]> {
        const DUMMY: Lpc = Lpc {
            order: 1,
            coefs: [0; 32],
            shift: 0,
            wasted: 0,
        };
        if group.len() < 2 || group.len() > 4 {
            return None;
        }
        let mut params = [DUMMY; 4];
        let mut lens = [0usize; 4];
        for (k, &(f, ch)) in group.iter().enumerate() {
            params[k] = pend[f].lpc[ch]?;
            lens[k] = pend[f].hdr.block_size as usize;
        }
        let (mut coefs, shift, order) = joint_coefs(&params)?;
        let longest = lens.iter().copied().max().unwrap_or(0);
        if lens[..group.len()].iter().any(|&n| n <= order) {
            return None;
        }
        if self.spare.len() < 4 * longest {
            self.spare.resize(4 * longest, 0);
        }
        // The subframes are distinct (frame, channel) buffers: borrow each, from the
        // frame's slot or from its place in the output (at increasing offsets, since
        // the group is in frame order).
        let mut real: [Option<&mut [i32]>; 4] = [None, None, None, None];
        for (f, slot) in self.slots.iter_mut().enumerate() {
            for (ch, buf) in slot.iter_mut().enumerate() {
                if let Some(k) = group.iter().position(|&g| g == (f, ch))
                    && pend[f].direct.is_none()
                {
                    real[k] = Some(buf.get_mut(..lens[k])?);
                }
            }
        }
        let mut rest = out.unwrap_or_default();
        let mut base = 0;
        for (k, &(f, _)) in group.iter().enumerate() {
            if let Some(at) = pend[f].direct {
                let (_, tail) =
                    std::mem::take(&mut rest).split_at_mut_checked(at.checked_sub(base)?)?;
                let (mine, tail) = tail.split_at_mut_checked(lens[k])?;
                real[k] = Some(mine);
                rest = tail;
                base = at + lens[k];
            }
        }
        if real[..group.len()].iter().any(Option::is_none) {
            return None;
        }
        let mut spare = self.spare.chunks_exact_mut(longest);
        let mut spare: [&mut [i32]; 4] =
            [spare.next()?, spare.next()?, spare.next()?, spare.next()?];
        let mut ok = [true; 4];
        // Samples before `from` are restored in every lane still active.
        let mut from = 0;
        loop {
            let active = lens.map(|n| n > from);
            let Some(end) = lens.iter().copied().filter(|&n| n > from).min() else {
                break;
            };
            // After the first segment every lane's first `order` samples are
            // restored history: no lane runs its own lower-order start.
            let lo = if from == 0 { 0 } else { from - order };
            let mut p = params;
            if from > 0 {
                for q in &mut p {
                    q.order = order;
                }
            }
            for (k, &on) in active.iter().enumerate() {
                if !on {
                    for row in coefs.iter_mut() {
                        row[k] = 0;
                    }
                }
            }
            let mut it = real
                .iter_mut()
                .zip(spare.iter_mut())
                .zip(active)
                .map(|((r, s), on)| match r {
                    Some(r) if on => &mut r[lo..end],
                    _ => &mut s[lo..end],
                });
            let bufs = [it.next()?, it.next()?, it.next()?, it.next()?];
            let seg = crate::simd::restore_lpc_x4(bufs, &p, &coefs, shift, order);
            for k in 0..4 {
                if active[k] {
                    ok[k] &= seg[k];
                }
            }
            from = end;
        }
        Some(ok)
    }

    /// Writes `n` samples starting at frame sample `skip`, undoing stereo decorrelation.
    /// Restores the deferred LPC subframes of the pending frames and hands their
    /// samples out in frame order; returns the first frame's error, if any.
    fn flush(&mut self, range: &Range<u64>, channels: usize, out: &mut Out<'_>) -> Result<()> {
        if self.pend.is_empty() {
            return Ok(());
        }
        let mut pend = std::mem::take(&mut self.pend);
        let result = self.restore_and_emit(&pend, range, channels, out);
        pend.clear();
        self.pend = pend;
        result
    }

    fn restore_and_emit(
        &mut self,
        pend: &[Pending],
        range: &Range<u64>,
        channels: usize,
        out: &mut Out<'_>,
    ) -> Result<()> {
        // (frame, channel) of every deferred subframe, and whether its restore failed.
        let mut lanes = [(0usize, 0usize); 2 * MAX_PENDING];
        let mut failed = [false; 2 * MAX_PENDING];
        let mut count = 0;
        for (f, p) in pend.iter().enumerate() {
            for (c, l) in p.lpc.iter().enumerate() {
                if l.is_some() {
                    lanes[count] = (f, c);
                    count += 1;
                }
            }
        }
        let mut done = 0;
        while done < count {
            let group = &lanes[done..(done + 4).min(count)];
            let slice = match &mut *out {
                Out::Slice(s) => Some(&mut **s),
                _ => None,
            };
            if let Some(ok) = self.restore_group(group, pend, slice) {
                for (k, good) in ok.iter().take(group.len()).enumerate() {
                    failed[done + k] = !good;
                }
                done += group.len();
                continue;
            }
            let (f, c) = lanes[done];
            if let Some(l) = &pend[f].lpc[c] {
                let buf = lane_buf(&mut self.slots, out, &pend[f], f, c);
                failed[done] = restore_lpc(&l.coefs[..l.order], l.shift, buf).is_err();
            }
            done += 1;
        }
        for (k, &(f, c)) in lanes[..count].iter().enumerate() {
            if let Some(l) = &pend[f].lpc[c]
                && !failed[k]
            {
                restore_wasted(lane_buf(&mut self.slots, out, &pend[f], f, c), l.wasted);
            }
        }
        for (f, p) in pend.iter().enumerate() {
            if lanes[..count]
                .iter()
                .zip(&failed)
                .any(|(&(g, _), &bad)| g == f && bad)
            {
                return Err(Error::Corrupt {
                    what: "predicted sample exceeds 32 bits",
                    offset: p.pos,
                });
            }
            if let Some(e) = &p.err {
                return Err(e.clone());
            }
            let bs = u64::from(p.hdr.block_size);
            let lo = range.start.max(p.sample);
            let hi = range.end.min(p.sample + bs);
            if lo < hi && p.direct.is_none() {
                // Offsets are below `stream_size * channels`, which the output holds.
                let (skip, n, at) = (
                    (lo - p.sample) as usize,
                    (hi - lo) as usize,
                    (lo - range.start) as usize,
                );
                let dst = out.dest(at * channels, n * channels);
                self.emit(f, p.hdr.channel_mode, skip, n, dst)?;
                out.done()?;
            }
        }
        Ok(())
    }

    fn emit(
        &self,
        slot: usize,
        mode: ChannelMode,
        skip: usize,
        n: usize,
        dst: &mut [i32],
    ) -> Result<()> {
        let range = skip..skip + n;
        let chan = &self.slots[slot];
        let out_of_range = || Error::Corrupt {
            what: "decoded stereo sample exceeds 32 bits",
            offset: 0,
        };
        match mode {
            ChannelMode::Independent(1) => dst.copy_from_slice(&chan[0][range]),
            ChannelMode::Independent(_) => {
                for ((d, &a), &b) in dst
                    .chunks_exact_mut(2)
                    .zip(&chan[0][range.clone()])
                    .zip(&chan[1][range])
                {
                    d[0] = a;
                    d[1] = b;
                }
            }
            // Side channels sit in `chan` when the frame has fewer than 32 bits per
            // sample and in `wide` otherwise.
            m => {
                let side_ch = usize::from(m != ChannelMode::RightSide);
                let other = &chan[1 - side_ch][range.clone()];
                let ok = if self.side_is_wide {
                    unside(m, other, &self.wide[range], dst)
                } else {
                    unside(m, other, &chan[side_ch][range], dst)
                };
                if !ok {
                    return Err(out_of_range());
                }
            }
        }
        Ok(())
    }
}

/// Undoes the stereo decorrelation `mode` of one frame into interleaved (left, right)
/// pairs: `other` is the channel beside the side channel (left, right or mid).
/// Returns `false` when a left or right sample leaves 32 bits (the frame is then
/// refused). Side samples have at most 33 bits and the others 32, so every sum and
/// difference below fits i64; the range check is accumulated rather than branched
/// on, which keeps the loop free of early exits.
#[inline(always)]
pub(crate) fn unside<S: Copy + Into<i64>>(
    mode: ChannelMode,
    other: &[i32],
    side: &[S],
    dst: &mut [i32],
) -> bool {
    let fits = |v: i64| i64::from(v as i32) == v;
    let mut ok = true;
    let pairs = dst.chunks_exact_mut(2).zip(other).zip(side);
    match mode {
        ChannelMode::LeftSide => {
            for ((d, &left), &side) in pairs {
                let right = i64::from(left) - side.into();
                ok &= fits(right);
                d[0] = left;
                d[1] = right as i32;
            }
        }
        ChannelMode::RightSide => {
            for ((d, &right), &side) in pairs {
                let left = side.into() + i64::from(right);
                ok &= fits(left);
                d[0] = left as i32;
                d[1] = right;
            }
        }
        ChannelMode::MidSide => {
            for ((d, &mid), &side) in pairs {
                let side: i64 = side.into();
                // mid was stored without its low bit, which equals side's low bit.
                let mid = (i64::from(mid) << 1) | (side & 1);
                let (left, right) = ((mid + side) >> 1, (mid - side) >> 1);
                ok &= fits(left) & fits(right);
                d[0] = left as i32;
                d[1] = right as i32;
            }
        }
        ChannelMode::Independent(_) => return false,
    }
    ok
}

/// The samples of channel `c` of pending frame `f`: in its slot, or in place in the
/// output slice (mono frames wholly inside the range of a slice, see
/// [`Pending::direct`]).
fn lane_buf<'a>(
    slots: &'a mut [[Vec<i32>; 2]],
    out: &'a mut Out<'_>,
    p: &Pending,
    f: usize,
    c: usize,
) -> &'a mut [i32] {
    let n = p.hdr.block_size as usize;
    match (p.direct, out) {
        // The offset was checked against the slice when the frame was decoded there.
        (Some(at), Out::Slice(s)) => &mut s[at..at + n],
        _ => &mut slots[f][c][..n],
    }
}

/// The block size of a stream whose STREAMINFO promises one block size for every
/// frame but the last (minimum equal to maximum), as fixed-strategy encoders write.
fn fixed_block_size(info: &StreamInfo) -> Option<u32> {
    (info.min_block_size == info.max_block_size && info.min_block_size >= 16)
        .then_some(info.max_block_size)
}

/// Bytes scanned forward from one estimated position before giving up; a frame of
/// 4096 32-bit samples holds at most about 16 KiB plus headers, so several frames
/// fit in this window.
const SCAN_WINDOW: usize = 1 << 18;

/// Finds the byte offset of frame `k` of a fixed-block-size stream that records its
/// length: the first offset from an estimate (`k / n_frames` of the way through the
/// frame bytes) that holds a sync code, a frame header with a valid CRC-8 and the
/// frame number `k`. Returns `Ok(None)` when the stream has no such frame within a
/// bounded scan or is not a fixed-block-size stream with a recorded length.
///
/// A sync pattern with a valid header can occur by chance inside frame data, so the
/// answer is a candidate: [`Decoder::decode_frames_into`] then checks that the frames
/// before it end exactly there.
pub fn locate_frame(stream: &[u8], k: u64) -> Result<Option<usize>> {
    let (info, first) = parse_header(stream)?;
    let Some(bs) = fixed_block_size(&info) else {
        return Ok(None);
    };
    let n_frames = info.total_samples.div_ceil(u64::from(bs));
    if k >= n_frames || first >= stream.len() {
        return Ok(None);
    }
    if k == 0 {
        return Ok(Some(first));
    }
    let span = (stream.len() - first) as u64;
    // The estimate is below `span`, which is a `usize`.
    let mut est = first + (u128::from(span) * u128::from(k) / u128::from(n_frames)) as usize;
    let avg = (stream.len() - first) / usize::try_from(n_frames).unwrap_or(usize::MAX).max(1);
    // Each retry starts further back; after a few the estimate is the frame start.
    for back in 0..8u32 {
        let stop = est
            .saturating_add(SCAN_WINDOW)
            .min(stream.len().saturating_sub(1));
        let mut i = est;
        let mut overshoot = None;
        while i < stop {
            if stream[i] == 0xFF
                && stream[i + 1] == 0xF8
                && let Ok(h) = parse_frame_header(&stream[i..], i, info.bits_per_sample, k)
                && !h.variable
            {
                if h.number == k {
                    return Ok(Some(i));
                }
                if h.number > k {
                    overshoot = Some(h.number - k);
                    break;
                }
            }
            i += 1;
        }
        let Some(by) = overshoot else {
            return Ok(None);
        };
        if est == first {
            return Ok(None);
        }
        let by = usize::try_from(by).unwrap_or(usize::MAX);
        let step = by
            .saturating_add(1)
            .saturating_mul(avg)
            .saturating_mul(1 << back);
        est = est.saturating_sub(step).max(first);
    }
    Ok(None)
}

/// Checks a frame header against STREAMINFO and the frames before it.
fn check_header(
    hdr: &FrameHeader,
    info: &StreamInfo,
    pos: usize,
    frame: u64,
    sample: u64,
    fixed_bs: &mut Option<u32>,
    ended_short: &mut bool,
) -> Result<()> {
    let corrupt = |what| Error::Corrupt { what, offset: pos };
    if hdr.channel_mode.channels() != info.channels {
        return Err(corrupt("frame channel count differs from STREAMINFO"));
    }
    if hdr.bits_per_sample != info.bits_per_sample {
        return Err(corrupt("frame bits per sample differ from STREAMINFO"));
    }
    if *ended_short {
        return Err(corrupt("frame follows a short (last) frame"));
    }
    if hdr.variable {
        if hdr.number != sample {
            return Err(corrupt("frame sample number out of sequence"));
        }
    } else {
        if hdr.number != frame {
            return Err(corrupt("frame number out of sequence"));
        }
        match *fixed_bs {
            None => *fixed_bs = Some(hdr.block_size),
            Some(bs) if hdr.block_size == bs => {}
            Some(bs) if hdr.block_size < bs => *ended_short = true,
            Some(_) => return Err(corrupt("block size grows in a fixed-block-size stream")),
        }
    }
    Ok(())
}

/// Finds the end of the frame at `pos` without decoding it: the next frame header
/// whose CRC-8 is valid, such that the bytes in between carry a valid CRC-16 (the
/// CRC-16 of a frame including its checksum is zero). The end of the stream counts as
/// a frame boundary too.
fn skip_frame(stream: &[u8], pos: usize, hdr: &FrameHeader, frame: u64) -> Result<usize> {
    let mut crc = 0u16;
    let mut checked = pos;
    let mut i = pos + hdr.len;
    let sync2 = if hdr.variable { 0xF9 } else { 0xF8 };
    while i + 1 < stream.len() {
        if stream[i] == 0xFF && stream[i + 1] == sync2 {
            crc = crc16_update(crc, &stream[checked..i]);
            checked = i;
            if crc == 0 && parse_frame_header(&stream[i..], i, 0, frame + 1).is_ok() {
                return Ok(i);
            }
        }
        i += 1;
    }
    if crc16_update(crc, &stream[checked..]) == 0 {
        Ok(stream.len())
    } else {
        Err(Error::Crc {
            kind: "CRC-16 (frame)",
            frame,
            offset: pos,
        })
    }
}

/// Maps a bit reader error's offset from frame-relative to stream-relative.
fn at(pos: usize) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::Truncated { what, offset } => Error::Truncated {
            what,
            offset: offset + pos,
        },
        Error::Corrupt { what, offset } => Error::Corrupt {
            what,
            offset: offset + pos,
        },
        other => other,
    }
}

/// Subframe header: returns (type code, wasted bits).
fn subframe_header(r: &mut BitReader<'_>, bps: u32, pos: usize) -> Result<(u32, u32)> {
    let h = r.read_u32(8, "subframe header").map_err(at(pos))?;
    if h & 0x80 != 0 {
        return Err(corrupt_here(r, pos, "subframe padding bit set"));
    }
    let kind = (h >> 1) & 0x3F;
    let wasted = if h & 1 == 1 {
        r.read_unary(bps, "wasted bits").map_err(at(pos))? + 1
    } else {
        0
    };
    if wasted >= bps {
        return Err(corrupt_here(
            r,
            pos,
            "wasted bits not below bits per sample",
        ));
    }
    Ok((kind, wasted))
}

/// Decodes one subframe of at most 32 bits per sample into `out`. Called through
/// [`crate::simd::decode_subframe`], which compiles it once per CPU level.
#[inline(always)]
pub(crate) fn decode_subframe_impl(
    r: &mut BitReader<'_>,
    bps: u32,
    out: &mut [i32],
    pos: usize,
    defer: bool,
) -> Result<Option<Lpc>> {
    let (kind, wasted) = subframe_header(r, bps, pos)?;
    let sbps = bps - wasted;
    let n = out.len();
    match kind {
        0 => {
            let v = narrow(r.read_signed(sbps, "constant subframe").map_err(at(pos))?);
            out.fill(v);
        }
        1 => {
            for o in out.iter_mut() {
                *o = narrow(r.read_signed(sbps, "verbatim subframe").map_err(at(pos))?);
            }
        }
        8..=12 => {
            let order = (kind - 8) as usize;
            if order > n {
                return Err(corrupt_here(r, pos, "predictor order exceeds block size"));
            }
            for o in &mut out[..order] {
                *o = narrow(r.read_signed(sbps, "warm-up sample").map_err(at(pos))?);
            }
            read_residual(r, n, order, &mut out[order..], pos)?;
            restore_fixed(order, out).map_err(|what| Error::Corrupt { what, offset: pos })?;
        }
        32..=63 => {
            let order = (kind - 31) as usize;
            if order > n {
                return Err(corrupt_here(r, pos, "predictor order exceeds block size"));
            }
            for o in &mut out[..order] {
                *o = narrow(r.read_signed(sbps, "warm-up sample").map_err(at(pos))?);
            }
            let (coefs, shift) = read_lpc_params(r, order, pos)?;
            read_residual(r, n, order, &mut out[order..], pos)?;
            if defer {
                return Ok(Some(Lpc {
                    order,
                    coefs,
                    shift,
                    wasted,
                }));
            }
            restore_lpc(&coefs[..order], shift, out)
                .map_err(|what| Error::Corrupt { what, offset: pos })?;
        }
        _ => return Err(corrupt_here(r, pos, "reserved subframe type")),
    }
    // The samples carry `sbps = bps - wasted` bits, so shifting back yields `bps`
    // (<= 32) bits: the shift cannot overflow an i32.
    restore_wasted(out, wasted);
    Ok(None)
}

/// Shifts samples left by the subframe's wasted bits.
fn restore_wasted<T: std::ops::ShlAssign<u32>>(out: &mut [T], wasted: u32) {
    if wasted > 0 {
        for o in out.iter_mut() {
            *o <<= wasted;
        }
    }
}

/// A corrupt-data error at the reader's current position within the frame at `pos`.
fn corrupt_here(r: &BitReader<'_>, pos: usize, what: &'static str) -> Error {
    Error::Corrupt {
        what,
        offset: pos + r.byte_pos(),
    }
}

/// A value read with at most 32 bits always fits in i32.
#[inline(always)]
fn narrow(v: i64) -> i32 {
    // Callers read at most 32 bits, sign-extended: within i32 by construction.
    v as i32
}

/// Decodes one 33-bit side subframe into `out`; `res` is residual scratch. Called
/// through [`crate::simd::decode_subframe_wide`], which compiles it once per CPU level.
#[inline(always)]
pub(crate) fn decode_subframe_wide_impl(
    r: &mut BitReader<'_>,
    bps: u32,
    out: &mut [i64],
    res: &mut [i32],
    pos: usize,
) -> Result<()> {
    let (kind, wasted) = subframe_header(r, bps, pos)?;
    let sbps = bps - wasted;
    let n = out.len();
    match kind {
        0 => {
            let v = r.read_signed(sbps, "constant subframe").map_err(at(pos))?;
            out.fill(v);
        }
        1 => {
            for o in out.iter_mut() {
                *o = r.read_signed(sbps, "verbatim subframe").map_err(at(pos))?;
            }
        }
        8..=12 | 32..=63 => {
            let lpc = kind >= 32;
            let order = if lpc {
                (kind - 31) as usize
            } else {
                (kind - 8) as usize
            };
            if order > n {
                return Err(corrupt_here(r, pos, "predictor order exceeds block size"));
            }
            for o in &mut out[..order] {
                *o = r.read_signed(sbps, "warm-up sample").map_err(at(pos))?;
            }
            let params = if lpc {
                Some(read_lpc_params(r, order, pos)?)
            } else {
                None
            };
            read_residual(r, n, order, &mut res[order..], pos)?;
            for (o, &e) in out[order..].iter_mut().zip(&res[order..]) {
                *o = i64::from(e);
            }
            // Restored samples must stay within 33 bits; the check is accumulated
            // rather than branched on (`LpcSample::beyond`).
            let fits = match (&params, order) {
                (Some((coefs, shift)), _) => restore_lpc_wide(&coefs[..order], *shift, out),
                // The samples are the residuals: i32 values, within 33 bits.
                (None, 0) => true,
                (None, _) => {
                    let mut bad = 0u64;
                    for i in order..n {
                        let v = out[i].wrapping_add(fixed_prediction(order, &out[i - order..i]));
                        bad |= <i64 as LpcSample>::beyond(v);
                        out[i] = v;
                    }
                    bad == 0
                }
            };
            if !fits {
                return Err(corrupt_here(
                    r,
                    pos,
                    "predicted side sample exceeds 33 bits",
                ));
            }
        }
        _ => return Err(corrupt_here(r, pos, "reserved subframe type")),
    }
    // 33-bit side samples shifted back to at most 33 bits: well inside i64.
    restore_wasted(out, wasted);
    Ok(())
}

/// Fixed predictor of order 0..=4 from the `order` samples before the one predicted
/// (`hist` is in time order). Inputs below 2^33 keep every term below 2^36; the
/// arithmetic wraps so that garbage after a sample out of range (which rejects the
/// subframe) cannot overflow.
#[inline(always)]
fn fixed_prediction(order: usize, hist: &[i64]) -> i64 {
    let m = i64::wrapping_mul;
    match order {
        0 => 0,
        1 => hist[0],
        2 => m(2, hist[1]).wrapping_sub(hist[0]),
        3 => m(3, hist[2])
            .wrapping_sub(m(3, hist[1]))
            .wrapping_add(hist[0]),
        _ => m(4, hist[3])
            .wrapping_sub(m(6, hist[2]))
            .wrapping_add(m(4, hist[1]))
            .wrapping_sub(hist[0]),
    }
}

/// LPC precision, shift and coefficients (RFC 9639 section 9.2.6).
#[inline(always)]
fn read_lpc_params(r: &mut BitReader<'_>, order: usize, pos: usize) -> Result<([i32; 32], u32)> {
    let precision = r.read_u32(4, "LPC precision").map_err(at(pos))? + 1;
    if precision == 16 {
        return Err(corrupt_here(r, pos, "invalid LPC precision"));
    }
    let shift = r.read_signed(5, "LPC shift").map_err(at(pos))?;
    let shift = u32::try_from(shift).map_err(|_| corrupt_here(r, pos, "negative LPC shift"))?;
    let mut coefs = [0i32; 32];
    for c in &mut coefs[..order] {
        *c = narrow(
            r.read_signed(precision, "LPC coefficient")
                .map_err(at(pos))?,
        );
    }
    Ok((coefs, shift))
}

/// Reads the residual of a subframe with `n` samples and predictor `order` into
/// `out` (`n - order` values).
#[inline(always)]
fn read_residual(
    r: &mut BitReader<'_>,
    n: usize,
    order: usize,
    out: &mut [i32],
    pos: usize,
) -> Result<()> {
    let method = r.read_u32(2, "residual coding method").map_err(at(pos))?;
    let (param_bits, escape) = match method {
        0 => (4, 15),
        1 => (5, 31),
        _ => {
            return Err(corrupt_here(r, pos, "reserved residual coding method"));
        }
    };
    let porder = r.read_u32(4, "partition order").map_err(at(pos))?;
    let parts = 1usize << porder;
    if !n.is_multiple_of(parts) || (n >> porder) < order {
        return Err(corrupt_here(
            r,
            pos,
            "partition order does not fit the block",
        ));
    }
    let per = n >> porder;
    let mut start = 0usize;
    for p in 0..parts {
        let len = if p == 0 { per - order } else { per };
        let dst = &mut out[start..start + len];
        let k = r.read_u32(param_bits, "rice parameter").map_err(at(pos))?;
        if k == escape {
            let bits = r.read_u32(5, "escape bit count").map_err(at(pos))?;
            if bits == 0 {
                dst.fill(0);
            } else {
                for d in dst.iter_mut() {
                    *d = narrow(r.read_signed(bits, "escaped residual").map_err(at(pos))?);
                }
            }
        } else {
            r.read_rice(k, dst).map_err(at(pos))?;
        }
        start += len;
    }
    Ok(())
}

/// Undoes a fixed predictor in place: `buf[..order]` are warm-up samples and the
/// rest residuals. Samples and residuals are i32 and the order-4 predictor sums
/// terms of at most 6 * 2^31, so i64 arithmetic cannot overflow; a result outside
/// i32 is corrupt data.
#[inline(always)]
fn restore_fixed(order: usize, buf: &mut [i32]) -> std::result::Result<(), &'static str> {
    // Out-of-range results are recorded in `ok` instead of returning from inside the
    // loop, which keeps the loop branch-free; the subframe is rejected afterwards.
    let mut ok = true;
    let mut put = |slot: &mut i32, v: i64| {
        ok &= i64::from(v as i32) == v;
        // Wrapped values are discarded with the whole subframe when `ok` is false.
        {
            *slot = v as i32;
        }
    };
    match order {
        0 => {}
        1 => {
            let mut prev = i64::from(buf[0]);
            for x in &mut buf[1..] {
                prev += i64::from(*x);
                put(x, prev);
            }
        }
        2 => {
            for i in 2..buf.len() {
                let p = 2 * i64::from(buf[i - 1]) - i64::from(buf[i - 2]);
                let v = i64::from(buf[i]) + p;
                put(&mut buf[i], v);
            }
        }
        3 => {
            for i in 3..buf.len() {
                let p = 3 * (i64::from(buf[i - 1]) - i64::from(buf[i - 2])) + i64::from(buf[i - 3]);
                let v = i64::from(buf[i]) + p;
                put(&mut buf[i], v);
            }
        }
        _ => {
            for i in 4..buf.len() {
                let p = 4 * (i64::from(buf[i - 1]) + i64::from(buf[i - 3]))
                    - 6 * i64::from(buf[i - 2])
                    - i64::from(buf[i - 4]);
                let v = i64::from(buf[i]) + p;
                put(&mut buf[i], v);
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err("predicted sample exceeds 32 bits")
    }
}

/// Highest order restored four subframes at a time; higher orders (level 8 and
/// above use up to 12, the format allows 32) are restored one by one.
pub(crate) const MAX_JOINT_ORDER: usize = 12;

/// The common form of four LPC predictors for [`restore_lpc_x4_impl`]: coefficients
/// `c[j][lane]` multiplying `x[i - order + j]` (zero where a lane's own order is
/// lower), all scaled to the largest shift `s` of the four, and the common order.
///
/// Scaling lane `l`'s coefficients by `2^(s - s_l)` makes the sum `2^(s - s_l)`
/// times larger, so `sum >> s` equals the lane's own `sum_l >> s_l` exactly (an
/// arithmetic shift is a floor division, and floor(a * 2^d / 2^(s_l + d)) =
/// floor(a / 2^s_l)). The scaled coefficients must fit in i32 and their absolute
/// sum stay below 2^31, so that with samples below 2^31 every sum is below 2^62:
/// otherwise `None`.
pub(crate) fn joint_coefs(l: &[Lpc; 4]) -> Option<([[i32; 4]; MAX_JOINT_ORDER], u32, usize)> {
    let order = l.iter().map(|p| p.order).max().unwrap_or(0);
    let shift = l.iter().map(|p| p.shift).max().unwrap_or(0);
    if order == 0 || order > MAX_JOINT_ORDER || shift > 31 {
        return None;
    }
    let mut c = [[0i32; 4]; MAX_JOINT_ORDER];
    for (lane, p) in l.iter().enumerate() {
        let scale = shift - p.shift;
        let mut abs_sum = 0i64;
        for (j, &q) in p.coefs[..p.order].iter().enumerate() {
            // Coefficient q[j] multiplies x[i - 1 - j] = x[i - order + (order - 1 - j)].
            let v = i64::from(q) << scale;
            abs_sum += v.abs();
            c[order - 1 - j][lane] = i32::try_from(v).ok()?;
        }
        if abs_sum >= 1 << 31 {
            return None;
        }
    }
    Some((c, shift, order))
}

/// Undoes four LPC predictors at once: `bufs[lane]` holds subframe `lane` (warm-up
/// samples, then residuals, all four of the same length), restored in place.
/// `params` are the four predictors and `c`, `shift`, `order` their common form from
/// [`joint_coefs`]. Returns, per lane, whether every sample fits 32 bits (a lane
/// that does not is corrupt; its values are then meaningless). Buffers of unequal
/// lengths are refused (every lane reported bad).
///
/// Each lane is its own recurrence, but the four run in step: one sample of each
/// per iteration, as 4-lane vectors where the CPU has them, so that the latency of
/// one product-sum-shift chain is shared by four samples and the products of the
/// four lanes are formed together. The four residuals of a step are gathered from
/// the four buffers and the four samples scattered back in the same loop; that work
/// is off the recurrence's dependency chain, so it costs less than transposing the
/// buffers into one interleaved array and back.
#[inline(always)]
pub(crate) fn restore_lpc_x4_impl(
    mut bufs: [&mut [i32]; 4],
    params: &[Lpc; 4],
    c: &[[i32; 4]; MAX_JOINT_ORDER],
    shift: u32,
    order: usize,
) -> [bool; 4] {
    let n = bufs[0].len();
    if bufs.iter().any(|b| b.len() != n) {
        return [false; 4];
    }
    let mut ok = [true; 4];
    // Samples between a lane's own order and the common one: the lane's own formula.
    for ((lane, p), buf) in params.iter().enumerate().zip(bufs.iter_mut()) {
        for i in p.order..order.min(n) {
            let mut acc = 0i64;
            for (j, &q) in p.coefs[..p.order].iter().enumerate() {
                acc += i64::from(q) * i64::from(buf[i - 1 - j]);
            }
            let v = i64::from(buf[i]) + (acc >> p.shift);
            ok[lane] &= i64::from(v as i32) == v;
            {
                buf[i] = v as i32;
            }
        }
    }
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match order {
                $($n => joint_n::<$n>(bufs, c, shift, ok),)*
                _ => [false; 4],
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12)
}

#[inline(always)]
fn joint_n<const N: usize>(
    bufs: [&mut [i32]; 4],
    c: &[[i32; 4]; MAX_JOINT_ORDER],
    shift: u32,
    ok: [bool; 4],
) -> [bool; 4] {
    let [b0, b1, b2, b3] = bufs;
    let n = b0.len();
    if n <= N || b1.len() != n || b2.len() != n || b3.len() != n {
        return ok;
    }
    let mut coef = [[0i64; 4]; N];
    for (dst, src) in coef.iter_mut().zip(c) {
        *dst = src.map(i64::from);
    }
    // The last N samples of each lane, oldest first.
    let mut h = [[0i64; 4]; N];
    for (i, dst) in h.iter_mut().enumerate() {
        *dst = [b0[i], b1[i], b2[i], b3[i]].map(i64::from);
    }
    // Nonzero in a lane once one of its samples has left the i32 range.
    let mut bad = [0i64; 4];
    let rows = b0[N..]
        .iter_mut()
        .zip(b1[N..].iter_mut())
        .zip(b2[N..].iter_mut())
        .zip(b3[N..].iter_mut());
    // The prediction sum `a` lies in (-2^62, 2^62) (see below), so `a + 2^62` is
    // not negative and its logical shift equals the arithmetic shift of `a` plus
    // `2^62 >> shift` exactly (2^62 is a multiple of 2^shift, shift <= 31). The bias
    // starts the sum and its shifted value is taken off the residual, both off the
    // sample-to-sample chain, which is left with a logical shift: one instruction
    // on 64-bit vector lanes, where an arithmetic one needs several without AVX-512.
    const BIAS: i64 = 1 << 62;
    let unbias = BIAS >> shift;
    for (((s0, s1), s2), s3) in rows {
        let row = [*s0, *s1, *s2, *s3];
        // The older products first: only the newest one waits for the sample just
        // restored. Samples and coefficients are i32 values (a sample outside that
        // range has already marked its lane bad), so each product is an i32 x i32
        // multiply and the sums stay below 2^62 in magnitude (see `joint_coefs`).
        let mut acc = [BIAS; 4];
        for j in 0..N - 1 {
            for l in 0..4 {
                acc[l] += i64::from(h[j][l] as i32) * coef[j][l];
            }
        }
        let mut v = [0i64; 4];
        for l in 0..4 {
            let base = i64::from(row[l]) - unbias;
            let a = acc[l] + i64::from(h[N - 1][l] as i32) * coef[N - 1][l];
            // `a` is at least 0 here; the cast keeps its value.
            v[l] = base + ((a as u64) >> shift) as i64;
            bad[l] |= v[l] ^ i64::from(v[l] as i32);
        }
        // Wrapped values are discarded with their lane when `bad` is nonzero.
        *s0 = v[0] as i32;
        *s1 = v[1] as i32;
        *s2 = v[2] as i32;
        *s3 = v[3] as i32;
        for j in 0..N - 1 {
            h[j] = h[j + 1];
        }
        h[N - 1] = v;
    }
    let mut ok = ok;
    for l in 0..4 {
        ok[l] &= bad[l] == 0;
    }
    ok
}

/// A sample type the LPC restore works on: 32-bit samples, or 33-bit side samples
/// of 64-bit data held in i64.
///
/// Coefficients have at most 15 bits, so with samples of at most 33 bits each
/// product is below 2^48 and a sum of 32 of them below 2^53: i64 holds the
/// prediction exactly while the samples stay in range. Once one does not (and the
/// subframe will be rejected), the arithmetic wraps rather than overflows: the
/// garbage that follows is never returned.
trait LpcSample: Copy {
    fn widen(self) -> i64;
    /// `v` stored back; wraps when `v` is out of range (see `beyond`).
    fn narrow(v: i64) -> Self;
    /// Nonzero when `v` is out of this type's sample range. Or-ed over a subframe
    /// rather than branched on per sample.
    fn beyond(v: i64) -> u64;
}

impl LpcSample for i32 {
    #[inline(always)]
    fn widen(self) -> i64 {
        i64::from(self)
    }
    #[inline(always)]
    fn narrow(v: i64) -> Self {
        v as i32
    }
    #[inline(always)]
    fn beyond(v: i64) -> u64 {
        (v ^ i64::from(v as i32)) as u64
    }
}

impl LpcSample for i64 {
    #[inline(always)]
    fn widen(self) -> i64 {
        self
    }
    #[inline(always)]
    fn narrow(v: i64) -> Self {
        v
    }
    /// Within 33 signed bits `v + 2^32` lies in [0, 2^33), so its bits from 33 up
    /// (as u64) are all zero.
    #[inline(always)]
    fn beyond(v: i64) -> u64 {
        (v.wrapping_add(1 << 32) as u64) >> 33
    }
}

/// Undoes an LPC predictor in place; `false` when the order is not 1-32 or a
/// restored sample leaves the sample range. The order is dispatched to a
/// const-generic loop so that the coefficient loop unrolls (a loop over a run-time
/// order took four times as long per sample on the 33-bit side channel of 64-bit
/// data).
#[inline(always)]
fn restore_lpc_any<S: LpcSample>(coefs: &[i32], shift: u32, buf: &mut [S]) -> bool {
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match coefs.len() {
                $($n => restore_lpc_n::<S, $n>(coefs, shift, buf),)*
                _ => false,
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
}

#[inline(always)]
fn restore_lpc_n<S: LpcSample, const N: usize>(coefs: &[i32], shift: u32, buf: &mut [S]) -> bool {
    let mut c = [0i64; N];
    // Coefficients reversed so that c[j] multiplies buf[i - N + j].
    for (j, &v) in coefs.iter().rev().enumerate() {
        c[j] = i64::from(v);
    }
    let mut bad = 0u64;
    for i in N..buf.len() {
        let win: &[S; N] = match buf[i - N..i].try_into() {
            Ok(w) => w,
            Err(_) => return false,
        };
        // The sum over the older samples does not depend on the sample decoded just
        // before; forming it first leaves only the newest product, the shift and
        // the residual's addition on the sample-to-sample dependency chain.
        let mut older = 0i64;
        for j in 0..N - 1 {
            older = older.wrapping_add(c[j].wrapping_mul(win[j].widen()));
        }
        let acc = older.wrapping_add(c[N - 1].wrapping_mul(win[N - 1].widen()));
        let v = buf[i].widen().wrapping_add(acc >> shift);
        bad |= S::beyond(v);
        buf[i] = S::narrow(v);
    }
    bad == 0
}

/// Undoes an LPC predictor in place on 33-bit side samples; `false` when a restored
/// sample leaves 33 bits.
#[inline(always)]
fn restore_lpc_wide(coefs: &[i32], shift: u32, buf: &mut [i64]) -> bool {
    restore_lpc_any(coefs, shift, buf)
}

/// Undoes an LPC predictor in place on 32-bit samples.
#[inline(always)]
pub(crate) fn restore_lpc(
    coefs: &[i32],
    shift: u32,
    buf: &mut [i32],
) -> std::result::Result<(), &'static str> {
    if !(1..=32).contains(&coefs.len()) {
        return Err("invalid LPC order");
    }
    if restore_lpc_any(coefs, shift, buf) {
        Ok(())
    } else {
        Err("predicted sample exceeds 32 bits")
    }
}
