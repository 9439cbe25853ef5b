//! The `fLaC` marker and metadata blocks; STREAMINFO parsing and writing.

use crate::error::{Error, Result};

/// The STREAMINFO block of a FLAC stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamInfo {
    /// Smallest block size in samples (the last frame excepted).
    pub min_block_size: u32,
    /// Largest block size in samples.
    pub max_block_size: u32,
    /// Smallest frame in bytes, 0 if unknown.
    pub min_frame_size: u32,
    /// Largest frame in bytes, 0 if unknown.
    pub max_frame_size: u32,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of channels (1..=8 in FLAC; this codec decodes 1 or 2).
    pub channels: u32,
    /// Bits per sample (4..=32).
    pub bits_per_sample: u32,
    /// Samples per channel, 0 if unknown (flacarray 0.4.1 always writes 0).
    pub total_samples: u64,
    /// MD5 of the decoded samples, all zero if not computed.
    pub md5: [u8; 16],
}

pub(crate) const STREAMINFO_LEN: usize = 34;
const BLOCK_STREAMINFO: u8 = 0;
const BLOCK_VORBIS_COMMENT: u8 = 4;

/// Parses the `fLaC` marker and all metadata blocks; returns STREAMINFO and the byte
/// offset of the first frame. Blocks other than STREAMINFO are skipped unread.
pub(crate) fn parse_header(stream: &[u8]) -> Result<(StreamInfo, usize)> {
    if stream.len() < 4 {
        return Err(Error::Truncated {
            what: "fLaC marker",
            offset: 0,
        });
    }
    if &stream[..4] != b"fLaC" {
        return Err(Error::Corrupt {
            what: "missing fLaC marker",
            offset: 0,
        });
    }
    let mut pos = 4;
    let mut info: Option<StreamInfo> = None;
    loop {
        let hdr = stream.get(pos..pos + 4).ok_or(Error::Truncated {
            what: "metadata block header",
            offset: pos,
        })?;
        let last = hdr[0] & 0x80 != 0;
        let kind = hdr[0] & 0x7F;
        let len = usize::from(hdr[1]) << 16 | usize::from(hdr[2]) << 8 | usize::from(hdr[3]);
        let body = stream.get(pos + 4..pos + 4 + len).ok_or(Error::Truncated {
            what: "metadata block",
            offset: pos,
        })?;
        if kind == 127 {
            return Err(Error::Corrupt {
                what: "invalid metadata block type 127",
                offset: pos,
            });
        }
        if kind == BLOCK_STREAMINFO {
            if info.is_some() || pos != 4 {
                return Err(Error::Corrupt {
                    what: "STREAMINFO is not the first and only one",
                    offset: pos,
                });
            }
            if len != STREAMINFO_LEN {
                return Err(Error::Corrupt {
                    what: "STREAMINFO length is not 34",
                    offset: pos,
                });
            }
            info = Some(parse_streaminfo(body, pos + 4)?);
        } else if info.is_none() {
            return Err(Error::Corrupt {
                what: "first metadata block is not STREAMINFO",
                offset: pos,
            });
        }
        pos += 4 + len;
        if last {
            break;
        }
    }
    match info {
        Some(i) => Ok((i, pos)),
        None => Err(Error::Corrupt {
            what: "no STREAMINFO block",
            offset: 4,
        }),
    }
}

fn parse_streaminfo(b: &[u8], offset: usize) -> Result<StreamInfo> {
    let be = |s: &[u8]| s.iter().fold(0u64, |a, &x| a << 8 | u64::from(x));
    let packed = be(&b[10..18]);
    // Field widths: 20-bit rate, 3-bit channels-1, 5-bit bps-1, 36-bit total; each
    // masked field fits in u32 except the total.
    let info = StreamInfo {
        min_block_size: be(&b[0..2]) as u32,
        max_block_size: be(&b[2..4]) as u32,
        min_frame_size: be(&b[4..7]) as u32,
        max_frame_size: be(&b[7..10]) as u32,
        sample_rate: (packed >> 44) as u32,
        channels: ((packed >> 41) & 0x7) as u32 + 1,
        bits_per_sample: ((packed >> 36) & 0x1F) as u32 + 1,
        total_samples: packed & 0xF_FFFF_FFFF,
        md5: {
            let mut m = [0u8; 16];
            m.copy_from_slice(&b[18..34]);
            m
        },
    };
    if info.bits_per_sample < 4 {
        return Err(Error::Corrupt {
            what: "STREAMINFO bits per sample below 4",
            offset,
        });
    }
    Ok(info)
}

/// Parses only the STREAMINFO of a stream.
///
/// ```
/// let bytes = flacarray_flac::encode(&[1, 2, 3], &Default::default())?;
/// let info = flacarray_flac::read_stream_info(&bytes)?;
/// assert_eq!((info.channels, info.bits_per_sample, info.total_samples), (1, 32, 3));
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn read_stream_info(stream: &[u8]) -> Result<StreamInfo> {
    parse_header(stream).map(|(i, _)| i)
}

/// Parses the `fLaC` marker and every metadata block: STREAMINFO and the length of
/// the header, which is the byte offset of the first frame. A prefix of a stream
/// that ends inside the header gives [`Error::Truncated`], so a caller reading a
/// stream piece by piece knows to read more.
///
/// ```
/// let bytes = flacarray_flac::encode(&[1, 2, 3], &Default::default())?;
/// let (info, first) = flacarray_flac::read_stream_header(&bytes)?;
/// assert_eq!((info.total_samples, first), (3, 42));
/// assert!(matches!(
///     flacarray_flac::read_stream_header(&bytes[..30]),
///     Err(flacarray_flac::Error::Truncated { .. })
/// ));
/// # Ok::<(), flacarray_flac::Error>(())
/// ```
pub fn read_stream_header(stream: &[u8]) -> Result<(StreamInfo, usize)> {
    parse_header(stream)
}

/// Appends `fLaC`, STREAMINFO and (when `vendor` is given) an empty VORBIS_COMMENT.
/// Returns the byte offset of STREAMINFO's body inside `out` so that it can be
/// rewritten once the frame sizes are known.
pub(crate) fn write_header(out: &mut Vec<u8>, info: &StreamInfo, vendor: Option<&str>) -> usize {
    out.extend_from_slice(b"fLaC");
    let last = if vendor.is_some() { 0 } else { 0x80 };
    out.extend_from_slice(&[last | BLOCK_STREAMINFO, 0, 0, 34]);
    let at = out.len();
    out.extend_from_slice(&streaminfo_bytes(info));
    if let Some(v) = vendor {
        let body_len = 4 + v.len() + 4;
        out.push(0x80 | BLOCK_VORBIS_COMMENT);
        // The vendor string is bounded by the config validation (< 2^24 - 8 bytes).
        out.extend_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    at
}

pub(crate) fn streaminfo_bytes(i: &StreamInfo) -> [u8; STREAMINFO_LEN] {
    let mut b = [0u8; STREAMINFO_LEN];
    // Every field was range-checked by the encoder config: block sizes < 2^16, frame
    // sizes < 2^24 (clamped to 0 otherwise by the caller), rate < 2^20, total < 2^36.
    {
        b[0..2].copy_from_slice(&(i.min_block_size as u16).to_be_bytes());
        b[2..4].copy_from_slice(&(i.max_block_size as u16).to_be_bytes());
        b[4..7].copy_from_slice(&i.min_frame_size.to_be_bytes()[1..]);
        b[7..10].copy_from_slice(&i.max_frame_size.to_be_bytes()[1..]);
    }
    let packed: u64 = u64::from(i.sample_rate) << 44
        | u64::from(i.channels - 1) << 41
        | u64::from(i.bits_per_sample - 1) << 36
        | (i.total_samples & 0xF_FFFF_FFFF);
    b[10..18].copy_from_slice(&packed.to_be_bytes());
    b[18..34].copy_from_slice(&i.md5);
    b
}
