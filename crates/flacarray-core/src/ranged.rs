//! Reading only the frames a sample range needs.
//!
//! A stream written with one block size (every stream flacarray writes, and those of
//! flacarray 0.4.1 through libFLAC) holds `ceil(stream_size / block_size)` frames,
//! each numbered in its header. Samples `a..b` live in frames
//! `a / block_size .. ceil(b / block_size)`, so a range read needs the stream header
//! and one run of frames. [`read_piece`] finds where that run starts and ends with a
//! few small reads: it guesses both ends by interpolating over the stream's frame
//! bytes (frames of one stream hold similar signal, so their sizes are close), reads
//! the guess with a margin, and looks for the frame headers it needs in what it read
//! (sync code, CRC-8, frame number), reading further back or forward when a guess was
//! off. The piece it returns is the header followed by the run; decoding it checks
//! every frame's CRC-16 and that the run ends exactly at the next frame's header
//! ([`crate::codec::decode_pieces`]). Whenever something does not fit (no fixed block
//! size, a header that does not parse, a guess that does not converge, a false sync
//! pattern inside frame data) the caller reads and decodes the whole stream, whose
//! result (or error) is authoritative.

use std::ops::Range;

use flacarray_flac::{StreamInfo, find_frame_header, read_stream_header};

use crate::store::FlacArrayReader;

/// Bytes read first for a stream's header: `fLaC` and STREAMINFO take 42 bytes, a
/// VORBIS_COMMENT block with libFLAC's vendor string about 50 more.
const HEAD_BYTES: u64 = 256;
/// Largest header followed (metadata blocks beyond this make the stream be read
/// whole).
const HEAD_MAX: u64 = 1 << 20;
/// Reads spent looking for the run's ends before giving up on a piece.
const MAX_STEPS: usize = 16;
/// A range covering more than this fraction of a stream's frames reads the whole
/// stream: the saving would be small and the whole stream is read in one call.
pub(crate) const MAX_FRACTION: u64 = 4;
/// Streams shorter than this are read whole: a few reads would cost more than the
/// bytes they save.
pub(crate) const MIN_PIECE_STREAM: u64 = 16 << 10;

/// The piece of one stream a range needs: its header and frames `first_frame..`
/// up to the end of the range, back to back.
#[derive(Debug)]
pub(crate) struct Piece {
    pub bytes: Vec<u8>,
    pub first_frame: u64,
}

/// Where the frames of a stream lie, from its header.
struct Layout {
    info: StreamInfo,
    /// Offset of frame 0 inside the stream.
    first: u64,
    /// Stream length in bytes.
    len: u64,
    n_frames: u64,
}

impl Layout {
    /// Interpolated offset of frame `k` (the end of the stream for `k = n_frames`).
    fn guess(&self, k: u64) -> u64 {
        let span = u128::from(self.len - self.first);
        let at = span * u128::from(k) / u128::from(self.n_frames.max(1));
        // `at <= span`, which is a `u64`.
        self.first
            + u64::try_from(at)
                .unwrap_or(u64::MAX)
                .min(self.len - self.first)
    }

    /// Mean frame size, at least 1.
    fn avg(&self) -> u64 {
        ((self.len - self.first) / self.n_frames.max(1)).max(1)
    }
}

/// A window of a stream read so far: bytes `lo..lo + bytes.len()`.
struct Window {
    lo: u64,
    bytes: Vec<u8>,
}

impl Window {
    fn hi(&self) -> u64 {
        self.lo + self.bytes.len() as u64
    }

    /// Extends the window to `lo..hi` (a superset), reading only the new bytes.
    fn grow<R: FlacArrayReader + ?Sized>(
        &mut self,
        reader: &R,
        base: u64,
        lo: u64,
        hi: u64,
    ) -> Result<(), R::Error> {
        if lo < self.lo {
            let mut front = vec![0u8; usize_of(self.lo - lo)];
            reader.read_bytes(base + lo, &mut front)?;
            front.extend_from_slice(&self.bytes);
            self.bytes = front;
            self.lo = lo;
        }
        if hi > self.hi() {
            let from = self.hi();
            let old = self.bytes.len();
            self.bytes.resize(old + usize_of(hi - from), 0);
            reader.read_bytes(base + from, &mut self.bytes[old..])?;
        }
        Ok(())
    }

    /// The first candidate header numbered `k` at or after stream offset `from`, and
    /// otherwise the numbers of the first and last headers seen from there.
    fn find(&self, info: &StreamInfo, from: u64, k: u64) -> Found {
        let mut i = usize_of(from.saturating_sub(self.lo));
        let mut seen: Option<(u64, u64)> = None;
        while let Some(h) = find_frame_header(&self.bytes, i, info) {
            if h.number == k {
                return Found::At(self.lo + h.offset as u64);
            }
            seen = Some(seen.map_or((h.number, h.number), |(a, _)| (a, h.number)));
            if h.number > k {
                break;
            }
            i = h.offset + 1;
        }
        match seen {
            None => Found::Nothing,
            Some((first, last)) => Found::Other { first, last },
        }
    }
}

/// What a window holds around a wanted frame.
enum Found {
    At(u64),
    Nothing,
    /// Headers numbered `first` (the first seen) to `last` (the last seen, which is
    /// past the wanted frame or the last in the window), none the wanted one.
    Other {
        first: u64,
        last: u64,
    },
}

/// Offsets inside one stream are below its byte count, which the caller's buffer
/// holds, so they fit a `usize`.
fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Reads the piece of the stream at `start` (`nbytes` long, `stream_size` samples)
/// that holds samples `range`, or `None` when the stream should be read whole.
/// Errors are the reader's only.
pub(crate) fn read_piece<R: FlacArrayReader + ?Sized>(
    reader: &R,
    start: u64,
    nbytes: u64,
    stream_size: u64,
    range: &Range<u64>,
) -> Result<Option<Piece>, R::Error> {
    if nbytes < MIN_PIECE_STREAM || range.start >= range.end || range.end > stream_size {
        return Ok(None);
    }
    // The header, read in growing prefixes until it parses.
    let mut head = Window {
        lo: 0,
        bytes: Vec::new(),
    };
    let mut want = HEAD_BYTES.min(nbytes);
    let (info, first) = loop {
        head.grow(reader, start, 0, want)?;
        match read_stream_header(&head.bytes) {
            Ok((info, first)) => break (info, first as u64),
            Err(flacarray_flac::Error::Truncated { .. }) if want < nbytes.min(HEAD_MAX) => {
                want = (want * 4).min(nbytes).min(HEAD_MAX);
            }
            Err(_) => return Ok(None),
        }
    };
    let bs = u64::from(info.max_block_size);
    if info.min_block_size != info.max_block_size
        || bs < 16
        || (info.total_samples != 0 && info.total_samples != stream_size)
        || first >= nbytes
    {
        return Ok(None);
    }
    let lay = Layout {
        info,
        first,
        len: nbytes,
        n_frames: stream_size.div_ceil(bs),
    };
    let k0 = range.start / bs;
    let k1 = range.end.div_ceil(bs).min(lay.n_frames);
    if (k1 - k0) * MAX_FRACTION > lay.n_frames {
        return Ok(None);
    }
    let Some((p0, p1, win)) = locate_run(reader, start, &lay, k0, k1)? else {
        return Ok(None);
    };
    let run = win
        .bytes
        .get(usize_of(p0 - win.lo)..usize_of(p1 - win.lo))
        .unwrap_or_default();
    let mut bytes = Vec::with_capacity(usize_of(first) + run.len());
    bytes.extend_from_slice(&head.bytes[..usize_of(first)]);
    bytes.extend_from_slice(run);
    Ok(Some(Piece {
        bytes,
        first_frame: k0,
    }))
}

/// Finds the offsets of frames `k0` and `k1` (the stream's end when `k1` is the frame
/// count) and returns them with a window holding everything between.
fn locate_run<R: FlacArrayReader + ?Sized>(
    reader: &R,
    base: u64,
    lay: &Layout,
    k0: u64,
    k1: u64,
) -> Result<Option<(u64, u64, Window)>, R::Error> {
    let avg = lay.avg();
    // Frame sizes of one stream vary by a fraction of the mean, and the guess of a
    // frame's offset drifts by the sum of such variations: a quarter of a frame on
    // each side holds most guesses; a header is at most 16 bytes.
    let margin = avg / 4 + 16;
    let lo = if k0 == 0 {
        lay.first
    } else {
        lay.guess(k0).saturating_sub(margin).max(lay.first)
    };
    let hi = if k1 == lay.n_frames {
        lay.len
    } else {
        lay.guess(k1).saturating_add(margin).min(lay.len)
    };
    let mut win = Window {
        lo,
        bytes: Vec::new(),
    };
    win.grow(reader, base, lo, hi.max(lo))?;
    let mut p0 = (k0 == 0).then_some(lay.first);
    for _ in 0..MAX_STEPS {
        // Reading more than half the stream this way is no longer worth it.
        if win.bytes.len() as u64 > lay.len / 2 {
            return Ok(None);
        }
        let (lo, hi) = (win.lo, win.hi());
        let at0 = match p0 {
            Some(p) => p,
            None => match win.find(&lay.info, lo, k0) {
                Found::At(p) => {
                    p0 = Some(p);
                    p
                }
                // The window starts past frame k0: read back over the missing frames.
                Found::Other { first, .. } if first > k0 => {
                    if lo == lay.first {
                        return Ok(None);
                    }
                    let back = (first - k0).saturating_mul(avg).saturating_add(margin);
                    win.grow(reader, base, lo.saturating_sub(back).max(lay.first), hi)?;
                    continue;
                }
                // Headers before and after k0 but not k0: a false sync or a
                // damaged header.
                Found::Other { last, .. } if last > k0 => return Ok(None),
                // The window ends before frame k0.
                Found::Other { last, .. } => {
                    if hi == lay.len {
                        return Ok(None);
                    }
                    let more = (k0 - last).saturating_mul(avg).saturating_add(margin);
                    win.grow(reader, base, lo, hi.saturating_add(more).min(lay.len))?;
                    continue;
                }
                Found::Nothing => {
                    if lo == lay.first && hi == lay.len {
                        return Ok(None);
                    }
                    let more = (hi - lo).max(avg);
                    let new_lo = lo.saturating_sub(more).max(lay.first);
                    win.grow(reader, base, new_lo, hi.saturating_add(more).min(lay.len))?;
                    continue;
                }
            },
        };
        if k1 == lay.n_frames {
            return Ok(Some((at0, lay.len, win)));
        }
        match win.find(&lay.info, at0 + 1, k1) {
            Found::At(p) => return Ok(Some((at0, p, win))),
            // A header past k1 before k1 itself: a false sync or a damaged header.
            Found::Other { last, .. } if last > k1 => return Ok(None),
            Found::Other { last, .. } => {
                if hi == lay.len {
                    return Ok(None);
                }
                let more = (k1 - last).saturating_mul(avg).saturating_add(margin);
                win.grow(reader, base, lo, hi.saturating_add(more).min(lay.len))?;
            }
            Found::Nothing => {
                if hi == lay.len {
                    return Ok(None);
                }
                let more = (k1 - k0).saturating_mul(avg).saturating_add(margin);
                win.grow(reader, base, lo, hi.saturating_add(more).min(lay.len))?;
            }
        }
    }
    Ok(None)
}
