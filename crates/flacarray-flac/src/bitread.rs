//! Big-endian bit reader over a byte slice, with the fast paths the FLAC decoder needs.

use crate::error::{Error, Result};

/// Reads bits MSB-first. Positions are in bits from the start of `data`; every read
/// is bounds-checked against the slice, so hostile input can only produce
/// [`Error::Truncated`], never a read past the end.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Length of `data` in bits (cached).
    len_bits: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            len_bits: data.len() * 8,
        }
    }

    /// Byte offset of the next unread bit (rounded down).
    pub(crate) fn byte_pos(&self) -> usize {
        self.pos >> 3
    }

    pub(crate) fn is_byte_aligned(&self) -> bool {
        self.pos & 7 == 0
    }

    pub(crate) fn align(&mut self) {
        self.pos = (self.pos + 7) & !7;
    }

    fn truncated(&self, what: &'static str) -> Error {
        Error::Truncated {
            what,
            offset: self.byte_pos(),
        }
    }

    /// The next 64 bits starting at the current position, zero-filled past the end.
    /// At least 57 of them are real data when that many remain, since the position
    /// within the first byte discards at most 7.
    #[inline(always)]
    fn peek64(&self) -> u64 {
        let i = self.pos >> 3;
        let word = match self.data.get(i..i + 8) {
            Some(b) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                u64::from_be_bytes(a)
            }
            None => {
                let mut a = [0u8; 8];
                let tail = self.data.get(i..).unwrap_or(&[]);
                a[..tail.len()].copy_from_slice(tail);
                u64::from_be_bytes(a)
            }
        };
        word << (self.pos & 7)
    }

    /// Reads `n <= 57` bits as an unsigned value.
    #[inline(always)]
    pub(crate) fn read(&mut self, n: u32, what: &'static str) -> Result<u64> {
        debug_assert!(n <= 57);
        if n == 0 {
            return Ok(0);
        }
        if self.pos + n as usize > self.len_bits {
            return Err(self.truncated(what));
        }
        let v = self.peek64() >> (64 - n);
        self.pos += n as usize;
        Ok(v)
    }

    /// Reads `n <= 32` bits as an unsigned value.
    #[inline(always)]
    pub(crate) fn read_u32(&mut self, n: u32, what: &'static str) -> Result<u32> {
        debug_assert!(n <= 32);
        // `n <= 32`, so the value has at most 32 significant bits.
        self.read(n, what).map(|v| v as u32)
    }

    /// Reads `n` (1..=33) bits as a two's-complement signed value.
    #[inline(always)]
    pub(crate) fn read_signed(&mut self, n: u32, what: &'static str) -> Result<i64> {
        debug_assert!((1..=57).contains(&n));
        let v = self.read(n, what)?;
        // Move the sign bit to bit 63 and shift back arithmetically to sign-extend.
        Ok(((v << (64 - n)) as i64) >> (64 - n))
    }

    pub(crate) fn read_bit(&mut self, what: &'static str) -> Result<bool> {
        self.read(1, what).map(|b| b == 1)
    }

    /// Reads a unary-coded count: the number of 0 bits before the next 1 bit, which is
    /// consumed. Runs longer than `limit` are corrupt data rather than a long read.
    pub(crate) fn read_unary(&mut self, limit: u32, what: &'static str) -> Result<u32> {
        let mut count = 0u32;
        loop {
            let remaining = self.len_bits - self.pos;
            if remaining == 0 {
                return Err(self.truncated(what));
            }
            let w = self.peek64();
            let lz = w.leading_zeros();
            // Only the first min(57, remaining) bits of the peek are trusted.
            let valid = remaining.min(57) as u32;
            if lz < valid {
                self.pos += lz as usize + 1;
                count = count.saturating_add(lz);
                return if count > limit {
                    Err(Error::Corrupt {
                        what,
                        offset: self.byte_pos(),
                    })
                } else {
                    Ok(count)
                };
            }
            self.pos += valid as usize;
            count = count.saturating_add(valid);
            if count > limit {
                return Err(Error::Corrupt {
                    what,
                    offset: self.byte_pos(),
                });
            }
        }
    }

    /// Decodes `out.len()` Rice-coded residuals with parameter `k` (0..=30).
    ///
    /// A residual is `q << k | low` zigzag-mapped to a signed value. FLAC requires each
    /// residual to fit in a signed 32-bit integer, so the folded value must fit in 32
    /// unsigned bits: `q < 2^(32-k)`. Anything larger is corrupt.
    ///
    /// The fast loop loads 64 bits once and decodes every code that lies wholly inside
    /// them (4-5 codes for typical parameters), so the load latency is paid once per
    /// word rather than once per sample. The codes are stored folded and unfolded
    /// afterwards in one pass over the slice, which the compiler vectorizes; that
    /// keeps the per-code work to the bit extraction.
    #[inline(always)]
    pub(crate) fn read_rice(&mut self, k: u32, out: &mut [i32]) -> Result<()> {
        debug_assert!(k <= 30);
        let data = self.data;
        let n = out.len();
        let k1 = k + 1;
        let mut pos = self.pos;
        let mut i = 0usize;
        let mut too_big = 0u64;
        // Batches of `m` codes per 64-bit load, decoded without a check per code:
        // if the batch consumed no more than the word's valid bits, every code was
        // whole (bits past them read as zeros and make the sum too large); else
        // the codes of that one word are redone one by one below and batching
        // resumes after them. A fixed count per load replaces the data-dependent
        // loop exit, mispredicted about once per word, with a branch that is nearly
        // always taken. Codes of typical partitions are about k + 2 bits long at
        // most (parameter, stop bit and a short unary part).
        let m = (56 / (k1 as usize + 2)).max(1);
        // A committed batch code has a quotient below 64 (it lies within 63 bits),
        // so its folded value is below 64 * 2^k <= 2^32 when k <= 26: only larger
        // parameters need the per-code range check in the batch.
        let check_batch = k > 26;
        while i < n {
            let byte = pos >> 3;
            let Some(chunk) = data.get(byte..byte + 8) else {
                // The last bytes of the data: code by code, the careful way.
                self.pos = pos;
                let folded = self.read_rice_slow(k)?;
                pos = self.pos;
                too_big |= folded >> 32;
                out[i] = folded as i32;
                i += 1;
                continue;
            };
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let skip = (pos & 7) as u32;
            let w0 = u64::from_be_bytes(word) << skip;
            // Valid bits in `w0` (at least 57); capped at 63 so no shift reaches 64.
            let avail = (64 - skip).min(63);
            if i + m <= n {
                // Once the valid bits are used up, `w` may run out of set bits (64
                // leading zeros); the wrapping shifts then give garbage for codes
                // that the length check rejects anyway.
                let mut w = w0;
                let mut used = 0u32;
                let mut big = 0u64;
                for slot in &mut out[i..i + m] {
                    let lz = w.leading_zeros();
                    let len = lz + k1;
                    // `w << lz` starts with the code's stop bit followed by its k low
                    // bits, so shifting it right by 63 - k gives `2^k + low`.
                    let folded = (u64::from(lz) << k)
                        .wrapping_add(w.wrapping_shl(lz) >> (63 - k))
                        .wrapping_sub(1u64 << k);
                    if check_batch {
                        big |= folded >> 32;
                    }
                    // The low 32 bits; a larger value is rejected through `big`.
                    *slot = folded as i32;
                    w = w.wrapping_shl(len);
                    used += len;
                }
                if used <= avail {
                    too_big |= big;
                    pos += used as usize;
                    i += m;
                    continue;
                }
            }
            // Code by code within this one word.
            let start = i;
            let mut w = w0;
            let mut left = avail;
            // The loop-carried chain is w -> leading_zeros -> shift by the code's
            // length; the value itself is formed off that chain.
            while i < n {
                let lz = w.leading_zeros();
                let len = lz + k1;
                if len > left {
                    break;
                }
                let folded = (u64::from(lz) << k)
                    .wrapping_add((w << lz) >> (63 - k))
                    .wrapping_sub(1u64 << k);
                too_big |= folded >> 32;
                out[i] = folded as i32;
                w <<= len;
                left -= len;
                i += 1;
            }
            pos += (avail - left) as usize;
            if i == start {
                // A code longer than a fresh word holds.
                self.pos = pos;
                let folded = self.read_rice_slow(k)?;
                pos = self.pos;
                too_big |= folded >> 32;
                out[i] = folded as i32;
                i += 1;
            }
        }
        self.pos = pos;
        if too_big != 0 {
            return Err(Error::Corrupt {
                what: "residual exceeds 32 bits",
                offset: self.byte_pos(),
            });
        }
        for o in out.iter_mut() {
            *o = unfold(*o as u32);
        }
        Ok(())
    }

    /// One Rice code the careful way: long unary runs and the end of the slice.
    #[cold]
    fn read_rice_slow(&mut self, k: u32) -> Result<u64> {
        // A quotient of 2^(32-k) or more cannot fold into 32 bits; stop counting there
        // so that a long run of zero bits is rejected without being walked to its end.
        let limit = u32::try_from((1u64 << (32 - k)) - 1).unwrap_or(u32::MAX);
        let q = self.read_unary(limit, "residual exceeds 32 bits")?;
        Ok((u64::from(q) << k) | self.read(k, "rice code")?)
    }
}

/// Zigzag inverse: 0, 1, 2, 3, .. -> 0, -1, 1, -2, ..
#[inline(always)]
fn unfold(f: u32) -> i32 {
    ((f >> 1) as i32) ^ -((f & 1) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_msb_first() {
        let mut r = BitReader::new(&[0b1011_0011, 0xFF, 0x00, 0x80]);
        assert_eq!(r.read(1, "").ok(), Some(1));
        assert_eq!(r.read(3, "").ok(), Some(0b011));
        assert_eq!(r.read_signed(4, "").ok(), Some(3));
        assert_eq!(r.read_signed(8, "").ok(), Some(-1));
        assert_eq!(r.read_unary(100, "").ok(), Some(8));
        assert_eq!(r.read(7, "").ok(), Some(0));
        assert!(r.read(1, "").is_err());
    }

    #[test]
    fn rice_values_and_bounds() {
        // k = 2: values 0 -> folded 0 = "1 00", -1 -> 1 = "1 01", 5 -> 10 = "001 10".
        let bytes = [0b1001_0100, 0b1100_0000];
        let mut r = BitReader::new(&bytes);
        let mut out = [0i32; 3];
        r.read_rice(2, &mut out).ok();
        assert_eq!(out, [0, -1, 5]);
        // An endless unary run is truncation, not a hang.
        let zeros = [0u8; 16];
        let mut r = BitReader::new(&zeros);
        assert!(r.read_rice(0, &mut out).is_err());
    }

    /// Batched Rice decoding against the writer: every parameter 0..=30, residuals
    /// from tiny to the 32-bit extremes (long unary runs inside and across batches),
    /// odd counts, and codes that end exactly at the end of the data.
    #[test]
    fn rice_batches_match_the_writer() {
        use crate::bitwrite::BitWriter;
        let mut seed = 5u64;
        let mut next = || crate::tests::lcg(&mut seed);
        for k in 0..=30u32 {
            for trial in 0..12 {
                let len = 1 + (next() % 700) as usize;
                let vals: Vec<i32> = (0..len)
                    .map(|_| {
                        let r = next();
                        let typical = 1i64 << k;
                        let v = match (trial + r % 5) % 5 {
                            // Quotients up to 40: long unary runs.
                            0 => (r % 40) as i64 * typical,
                            1 => -((r % 7) as i64) * typical - 1,
                            _ => (r as i64).rem_euclid(2 * typical) - typical,
                        };
                        // Folded values must stay below 2^32 - 1 (as the encoder ensures).
                        v.clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32
                    })
                    .collect();
                let mut buf = Vec::new();
                let mut w = BitWriter::new(&mut buf);
                w.write_rice(k, &vals);
                w.align();
                w.finish();
                let mut r = BitReader::new(&buf);
                let mut back = vec![0i32; len];
                assert!(r.read_rice(k, &mut back).is_ok(), "k {k} trial {trial}");
                assert_eq!(back, vals, "k {k} trial {trial}");
                assert!(buf.len() * 8 - r.pos < 8, "k {k}: all codes consumed");
            }
        }
        // A quotient that cannot fold into 32 bits is an error: 16 zero bits (q = 16)
        // with k >= 28 gives a folded value of at least 2^32.
        for k in [28u32, 29, 30] {
            let mut bytes = vec![0u8, 0, 0x80];
            bytes.extend([0xFF; 16]);
            let mut r = BitReader::new(&bytes);
            let mut out = vec![0i32; 3];
            assert!(r.read_rice(k, &mut out).is_err(), "k {k}");
        }
    }
}

#[cfg(test)]
mod batch_recovery_tests {
    use super::*;
    use crate::bitwrite::BitWriter;

    /// Mostly short codes with a rare long one (as in spiky recordings): the batch
    /// that holds a long code fails, that word is decoded code by code and the
    /// batches resume. Checked against the writer for every parameter, odd counts
    /// and every spacing of the long codes; every truncation of the bytes is an
    /// error, never a panic or a wrong success.
    #[test]
    fn spiky_residuals_and_truncations() {
        let mut seed = 17u64;
        let mut next = || crate::tests::lcg(&mut seed);
        for k in 0..=30u32 {
            for every in [3u64, 7, 13, 40] {
                let len = 1 + (next() % 333) as usize;
                let scale = 1i64 << k;
                let vals: Vec<i32> = (0..len)
                    .map(|_| {
                        let r = next();
                        let v = if r % every == 0 {
                            // A quotient of 20..100: longer than a batch expects,
                            // sometimes longer than a whole word.
                            (20 + (r >> 8) % 80) as i64 * scale
                        } else {
                            (r as i64 >> 3).rem_euclid(2 * scale) - scale
                        };
                        let v = if r & 4 == 0 { v } else { -v - 1 };
                        v.clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32
                    })
                    .collect();
                let mut buf = Vec::new();
                let mut w = BitWriter::new(&mut buf);
                w.write_rice(k, &vals);
                let bits: usize = vals
                    .iter()
                    .map(|&v| {
                        let folded = ((v << 1) ^ (v >> 31)) as u32;
                        (folded >> k) as usize + 1 + k as usize
                    })
                    .sum();
                w.align();
                w.finish();
                let mut back = vec![0i32; len];
                let mut r = BitReader::new(&buf);
                assert!(r.read_rice(k, &mut back).is_ok(), "k {k} every {every}");
                assert_eq!(back, vals, "k {k} every {every}");
                assert_eq!(r.pos, bits, "k {k}: position after the last code");
                for cut in 0..buf.len() {
                    // Without its last byte(s) the data cannot hold every code
                    // (the last code ends in byte `buf.len() - 1`).
                    let mut r = BitReader::new(&buf[..cut]);
                    assert!(r.read_rice(k, &mut back).is_err(), "k {k} cut {cut}");
                }
            }
        }
    }
}
