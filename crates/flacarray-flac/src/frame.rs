//! Frame headers (RFC 9639 section 9.1): parsing, writing and the coded frame number.

use crate::bitread::BitReader;
use crate::bitwrite::BitWriter;
use crate::crc::crc8;
use crate::error::{Error, Result};
use crate::metadata::StreamInfo;

/// How the two channels of a stereo frame are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelMode {
    /// `n` channels coded independently.
    Independent(u32),
    /// Channel 0 = left, channel 1 = side (left - right).
    LeftSide,
    /// Channel 0 = side, channel 1 = right.
    RightSide,
    /// Channel 0 = mid ((left + right) >> 1), channel 1 = side.
    MidSide,
}

impl ChannelMode {
    pub(crate) fn channels(self) -> u32 {
        match self {
            ChannelMode::Independent(n) => n,
            _ => 2,
        }
    }

    fn code(self) -> u32 {
        match self {
            ChannelMode::Independent(n) => n - 1,
            ChannelMode::LeftSide => 8,
            ChannelMode::RightSide => 9,
            ChannelMode::MidSide => 10,
        }
    }

    /// Whether channel `ch` is a side channel, which carries one extra bit.
    pub(crate) fn is_side(self, ch: u32) -> bool {
        matches!(
            (self, ch),
            (ChannelMode::LeftSide, 1) | (ChannelMode::RightSide, 0) | (ChannelMode::MidSide, 1)
        )
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// `true` for the variable block size strategy (the coded number is a sample number).
    pub variable: bool,
    pub block_size: u32,
    pub channel_mode: ChannelMode,
    pub bits_per_sample: u32,
    /// Frame number (fixed strategy) or first sample number (variable strategy).
    pub number: u64,
    /// Header length in bytes, CRC-8 included.
    pub len: usize,
}

/// Parses a frame header at the start of `data` (which starts at stream offset
/// `offset`), checking the sync code and CRC-8. `info_bps` is STREAMINFO's.
pub(crate) fn parse_frame_header(
    data: &[u8],
    offset: usize,
    info_bps: u32,
    frame: u64,
) -> Result<FrameHeader> {
    let corrupt = |what| Error::Corrupt { what, offset };
    let mut r = BitReader::new(data);
    let t = |what| {
        move |e: Error| match e {
            Error::Truncated { .. } => Error::Truncated { what, offset },
            other => other,
        }
    };
    let sync = r.read_u32(15, "frame header").map_err(t("frame header"))?;
    if sync != 0b111_1111_1111_1100 {
        return Err(corrupt("frame sync code not found"));
    }
    let variable = r.read_bit("frame header").map_err(t("frame header"))?;
    let bs_code = r.read_u32(4, "frame header").map_err(t("frame header"))?;
    let sr_code = r.read_u32(4, "frame header").map_err(t("frame header"))?;
    let ch_code = r.read_u32(4, "frame header").map_err(t("frame header"))?;
    let ss_code = r.read_u32(3, "frame header").map_err(t("frame header"))?;
    if r.read_bit("frame header").map_err(t("frame header"))? {
        return Err(corrupt("frame header reserved bit set"));
    }
    let number = read_coded_number(&mut r, variable).map_err(|e| match e {
        Error::Truncated { .. } => Error::Truncated {
            what: "frame header",
            offset,
        },
        Error::Corrupt { what, .. } => Error::Corrupt { what, offset },
        other => other,
    })?;
    let block_size = match bs_code {
        0 => return Err(corrupt("reserved block size code")),
        1 => 192,
        2..=5 => 576 << (bs_code - 2),
        6 => r.read_u32(8, "frame header").map_err(t("frame header"))? + 1,
        7 => r.read_u32(16, "frame header").map_err(t("frame header"))? + 1,
        _ => 256 << (bs_code - 8),
    };
    match sr_code {
        12 => drop(r.read(8, "frame header").map_err(t("frame header"))?),
        13 | 14 => drop(r.read(16, "frame header").map_err(t("frame header"))?),
        15 => return Err(corrupt("invalid sample rate code")),
        _ => {}
    }
    let channel_mode = match ch_code {
        0..=7 => ChannelMode::Independent(ch_code + 1),
        8 => ChannelMode::LeftSide,
        9 => ChannelMode::RightSide,
        10 => ChannelMode::MidSide,
        _ => return Err(corrupt("reserved channel assignment")),
    };
    let bits_per_sample = match ss_code {
        0 => info_bps,
        1 => 8,
        2 => 12,
        3 => return Err(corrupt("reserved sample size code")),
        4 => 16,
        5 => 20,
        6 => 24,
        _ => 32,
    };
    debug_assert!(r.is_byte_aligned());
    let len = r.byte_pos();
    let crc = *data.get(len).ok_or(Error::Truncated {
        what: "frame header CRC-8",
        offset,
    })?;
    if crc8(&data[..len]) != crc {
        return Err(Error::Crc {
            kind: "CRC-8 (frame header)",
            frame,
            offset,
        });
    }
    Ok(FrameHeader {
        variable,
        block_size,
        channel_mode,
        bits_per_sample,
        number,
        len: len + 1,
    })
}

/// Reads the UTF-8-like coded number: up to 31 bits (6 bytes) for a frame number and
/// up to 36 bits (7 bytes) for a sample number.
fn read_coded_number(r: &mut BitReader<'_>, variable: bool) -> Result<u64> {
    let first = r.read_u32(8, "coded number")?;
    let ones = (first << 24).leading_ones();
    let (mut value, extra) = match ones {
        0 => (u64::from(first), 0),
        2..=6 => (u64::from(first & (0x7F >> ones)), ones - 1),
        7 if variable => (0, 6),
        _ => {
            return Err(Error::Corrupt {
                what: "invalid coded frame/sample number",
                offset: 0,
            });
        }
    };
    for _ in 0..extra {
        let b = r.read_u32(8, "coded number")?;
        if b & 0xC0 != 0x80 {
            return Err(Error::Corrupt {
                what: "invalid coded frame/sample number",
                offset: 0,
            });
        }
        value = value << 6 | u64::from(b & 0x3F);
    }
    Ok(value)
}

/// Writes the coded number `v` (< 2^36).
fn write_coded_number(w: &mut BitWriter<'_>, v: u64) {
    if v < 0x80 {
        w.write(8, v);
        return;
    }
    // Number of continuation bytes: each carries 6 bits, the lead byte 6 - extra.
    let bits = 64 - v.leading_zeros();
    let mut extra = 1;
    while bits > 6 - extra + 6 * extra {
        extra += 1;
    }
    let lead_ones = extra + 1;
    let lead = (0xFFu64 << (8 - lead_ones)) & 0xFF;
    w.write(8, lead | (v >> (6 * extra)));
    for i in (0..extra).rev() {
        w.write(8, 0x80 | ((v >> (6 * i)) & 0x3F));
    }
}

/// Appends a frame header (with CRC-8) to `out`. `block_size` is 1..=65536.
/// The sample-rate code 0 ("from STREAMINFO") and the sample-size code for
/// `bits_per_sample` (0 when it has no code) keep the header short.
pub(crate) fn write_frame_header(
    out: &mut Vec<u8>,
    block_size: u32,
    channel_mode: ChannelMode,
    bits_per_sample: u32,
    frame_number: u64,
) {
    let start = out.len();
    let (bs_code, bs_extra) = match block_size {
        192 => (1, None),
        576 | 1152 | 2304 | 4608 => (2 + (block_size / 576).trailing_zeros(), None),
        256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 => {
            (8 + (block_size / 256).trailing_zeros(), None)
        }
        1..=256 => (6, Some((8, block_size - 1))),
        _ => (7, Some((16, block_size - 1))),
    };
    let ss_code = match bits_per_sample {
        8 => 1,
        12 => 2,
        16 => 4,
        20 => 5,
        24 => 6,
        32 => 7,
        _ => 0,
    };
    {
        let mut w = BitWriter::new(out);
        w.write(15, 0b111_1111_1111_1100);
        w.write(1, 0); // fixed block size strategy
        w.write(4, u64::from(bs_code));
        w.write(4, 0); // sample rate from STREAMINFO
        w.write(4, u64::from(channel_mode.code()));
        w.write(3, ss_code);
        w.write(1, 0);
        write_coded_number(&mut w, frame_number);
        if let Some((n, v)) = bs_extra {
            w.write(n, u64::from(v));
        }
        w.finish();
    }
    let crc = crc8(&out[start..]);
    out.push(crc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_numbers_round_trip() {
        for v in [
            0u64,
            1,
            0x7F,
            0x80,
            0x7FF,
            0x800,
            0xFFFF,
            0x10000,
            0x1F_FFFF,
            0x20_0000,
            0x3FF_FFFF,
            0x400_0000,
            0x7FFF_FFFF,
        ] {
            let mut out = Vec::new();
            let mut w = BitWriter::new(&mut out);
            write_coded_number(&mut w, v);
            w.finish();
            let mut r = BitReader::new(&out);
            assert_eq!(
                read_coded_number(&mut r, false).ok(),
                Some(v),
                "{v:#x} as {out:02x?}"
            );
        }
    }

    #[test]
    fn header_matches_libflac_bytes() {
        // First frame header of a level-5 mono 32-bit stream as libFLAC writes it for
        // flacarray 0.4.1 (sync, block size code for 4096, 32 bits), except that we code
        // the sample rate as "from STREAMINFO".
        let mut out = Vec::new();
        write_frame_header(&mut out, 4096, ChannelMode::Independent(1), 32, 0);
        assert_eq!(&out[..5], &[0xFF, 0xF8, 0xC0, 0x0E, 0x00]);
        let h = parse_frame_header(&out, 0, 32, 0).ok();
        assert_eq!(
            h.map(|h| (h.block_size, h.bits_per_sample, h.number, h.len)),
            Some((4096, 32, 0, 6))
        );
        // A short last frame: block size 904 coded with 16 bits after the number.
        let mut out = Vec::new();
        write_frame_header(&mut out, 904, ChannelMode::MidSide, 32, 1);
        assert_eq!(&out[..7], &[0xFF, 0xF8, 0x70, 0xAE, 0x01, 0x03, 0x87]);
        let h = parse_frame_header(&out, 0, 32, 1).ok();
        assert_eq!(
            h.map(|h| (h.block_size, h.channel_mode, h.number)),
            Some((904, ChannelMode::MidSide, 1))
        );
    }
}

/// A frame header found by [`find_frame_header`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStart {
    /// Offset of the header's sync code in the searched bytes.
    pub offset: usize,
    /// The coded frame number.
    pub number: u64,
    /// Block size of the frame, in samples per channel.
    pub block_size: u32,
}

/// Finds the first fixed-block-size frame header in `bytes` at or after offset
/// `from` whose sync code and CRC-8 are valid and whose channel count, bits per
/// sample and block size agree with `info` (the block size equal to STREAMINFO's
/// maximum, or below it for a last frame). Only headers lying wholly inside `bytes`
/// are found, so `bytes` can be any window of a stream.
///
/// A sync pattern with a valid header can occur by chance inside frame data (about
/// once in 2^24 byte positions of noise-like data, and anywhere an encoder was fed
/// crafted samples): the result is a candidate, which decoding from it confirms or
/// not (every frame's CRC-16, and where the frames end).
///
/// ```
/// let x: Vec<i32> = (0..10_000).map(|i| i % 77).collect();
/// let bytes = flacarray_flac::encode(&x, &Default::default())?; // blocks of 4096
/// let info = flacarray_flac::read_stream_info(&bytes)?;
/// let f0 = flacarray_flac::find_frame_header(&bytes, 0, &info).expect("frame 0");
/// let f1 = flacarray_flac::find_frame_header(&bytes, f0.offset + 1, &info).expect("frame 1");
/// assert_eq!((f0.number, f1.number, f1.block_size), (0, 1, 4096));
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
#[must_use]
pub fn find_frame_header(bytes: &[u8], from: usize, info: &StreamInfo) -> Option<FrameStart> {
    let mut i = from;
    while i + 1 < bytes.len() {
        // The fixed-strategy sync code is the 16 bits 0xFFF8.
        let j = i + bytes[i..bytes.len() - 1].iter().position(|&b| b == 0xFF)?;
        if bytes[j + 1] == 0xF8
            && let Ok(h) = parse_frame_header(&bytes[j..], j, info.bits_per_sample, 0)
            && !h.variable
            && h.channel_mode.channels() == info.channels
            && h.bits_per_sample == info.bits_per_sample
            && h.block_size <= info.max_block_size
        {
            return Some(FrameStart {
                offset: j,
                number: h.number,
                block_size: h.block_size,
            });
        }
        i = j + 1;
    }
    None
}
