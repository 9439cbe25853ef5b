//! Big-endian bit writer appending to a `Vec<u8>`.

/// Accumulates bits MSB-first in a 64-bit register and flushes whole bytes to `out`.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// The low `nbits` bits of `acc` are pending, oldest first.
    acc: u64,
    nbits: u32,
}

impl<'a> BitWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Self {
            out,
            acc: 0,
            nbits: 0,
        }
    }

    /// Writes the low `n <= 32` bits of `v`.
    #[inline(always)]
    pub(crate) fn write(&mut self, n: u32, v: u64) {
        debug_assert!(n <= 32);
        if n == 0 {
            return;
        }
        let v = v & (u64::MAX >> (64 - n));
        // `nbits < 32` holds between calls, so `nbits + n <= 63` fits the register.
        self.acc = (self.acc << n) | v;
        self.nbits += n;
        if self.nbits >= 32 {
            self.nbits -= 32;
            // The top 32 of the pending bits are complete bytes.
            let word = (self.acc >> self.nbits) as u32;
            self.out.extend_from_slice(&word.to_be_bytes());
        }
    }

    /// Writes up to 64 bits (split in two).
    #[inline(always)]
    pub(crate) fn write_wide(&mut self, n: u32, v: u64) {
        if n > 32 {
            self.write(n - 32, v >> 32);
            self.write(32, v);
        } else {
            self.write(n, v);
        }
    }

    /// Writes `v` as an `n`-bit two's-complement value (n <= 33).
    #[inline(always)]
    pub(crate) fn write_signed(&mut self, n: u32, v: i64) {
        // Reinterpreting as u64 keeps the two's-complement bit pattern; `write` masks it.
        self.write_wide(n, v as u64);
    }

    /// Writes `q` zero bits followed by a one bit.
    #[inline(always)]
    pub(crate) fn write_unary(&mut self, mut q: u32) {
        while q >= 32 {
            self.write(32, 0);
            q -= 32;
        }
        self.write(q + 1, 1);
    }

    /// Rice-codes the residuals with parameter `k`.
    ///
    /// Codes of at most 32 bits (all but huge quotients) go through a loop without
    /// a data-dependent branch: after each code the pending bits, top-aligned, are
    /// stored as 8 bytes at the current byte position, which then advances by the
    /// number of complete bytes. Later stores overwrite the partial bytes, and the
    /// bytes past the last complete one are cut off at the end (their bits stay
    /// pending in `acc`). The bytes are those of writing the codes one by one.
    #[inline(always)]
    pub(crate) fn write_rice(&mut self, k: u32, residuals: &[i32]) {
        let mut rest = residuals;
        while !rest.is_empty() {
            // Complete bytes out first: at most 7 bits pending.
            self.flush_bytes();
            let mut pos = self.out.len();
            // A code taken here is at most 32 bits, so 4 bytes per code plus one
            // 8-byte store past the last complete byte always fit.
            self.out.resize(pos + rest.len() * 4 + 8, 0);
            let buf = &mut self.out[..];
            let (mut acc, mut nbits) = (self.acc, self.nbits);
            let mut long = None;
            for (i, &r) in rest.iter().enumerate() {
                // Zigzag: 0, -1, 1, -2, .. -> 0, 1, 2, 3, ..; fits in u32 for every i32.
                let f = ((r << 1) ^ (r >> 31)) as u32;
                let q = f >> k;
                if q > 31 - k {
                    long = Some((i, f));
                    break;
                }
                // q zeros, a one, then the k low bits: q + 1 + k <= 32 bits.
                let len = q + 1 + k;
                let low = u64::from(f) & ((1u64 << k) - 1);
                // nbits <= 7 before, so at most 39 bits are pending: no overflow,
                // and nbits >= 1 after, so the shift below is at most 63.
                acc = (acc << len) | (1u64 << k) | low;
                nbits += len;
                let word = acc << (64 - nbits);
                if let Some(dst) = buf.get_mut(pos..pos + 8) {
                    dst.copy_from_slice(&word.to_be_bytes());
                }
                pos += (nbits >> 3) as usize;
                nbits &= 7;
            }
            self.out.truncate(pos);
            self.acc = acc;
            self.nbits = nbits;
            match long {
                Some((i, f)) => {
                    self.write_unary(f >> k);
                    self.write(k, u64::from(f));
                    rest = &rest[i + 1..];
                }
                None => rest = &[],
            }
        }
    }

    /// Pads with zero bits to the next byte boundary.
    pub(crate) fn align(&mut self) {
        let pad = (8 - self.nbits % 8) % 8;
        self.write(pad, 0);
        self.flush_bytes();
    }

    fn flush_bytes(&mut self) {
        while self.nbits >= 8 {
            self.nbits -= 8;
            // The byte just below the pending bits.
            self.out.push((self.acc >> self.nbits) as u8);
        }
    }

    /// Flushes everything; the writer must be byte-aligned.
    pub(crate) fn finish(mut self) {
        self.flush_bytes();
        debug_assert_eq!(self.nbits, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitread::BitReader;

    #[test]
    fn write_then_read_back() {
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf);
        w.write(3, 0b101);
        w.write_signed(33, -(1i64 << 32));
        w.write_unary(40);
        w.write_rice(3, &[0, -1, 1, 1000, -1000, i32::MAX, i32::MIN]);
        w.align();
        w.finish();
        let mut r = BitReader::new(&buf);
        assert_eq!(r.read(3, "").ok(), Some(0b101));
        assert_eq!(r.read_signed(33, "").ok(), Some(-(1i64 << 32)));
        assert_eq!(r.read_unary(100, "").ok(), Some(40));
        let mut out = [0i32; 7];
        assert!(r.read_rice(3, &mut out).is_ok());
        assert_eq!(out, [0, -1, 1, 1000, -1000, i32::MAX, i32::MIN]);
    }

    /// The batched Rice writer gives the bytes of writing each code on its own,
    /// for every parameter, any number of bits already pending, odd counts,
    /// huge quotients (the slow path) between short codes, and the i32 extremes.
    #[test]
    fn rice_bytes_equal_code_by_code() {
        let mut seed = 11u64;
        let mut next = || crate::tests::lcg(&mut seed);
        for k in 0..=30u32 {
            for trial in 0..10u64 {
                let len = (next() % 300) as usize;
                let vals: Vec<i32> = (0..len)
                    .map(|_| {
                        let r = next();
                        // Quotients of 32..300 take the slow path; the extremes
                        // too once k >= 24 (their quotient is at most 2^(32-k)).
                        let long = ((32 + r % 268) as i64) << k;
                        let v = match r % 17 {
                            0 if k >= 24 => i64::from(i32::MAX),
                            1 if k >= 24 => i64::from(i32::MIN),
                            2 | 3 if trial % 2 == 0 => long >> 1,
                            _ => (r >> 5) as i64 % (1i64 << (k + 1)),
                        };
                        let v = if r & 64 == 0 { v } else { -v - 1 };
                        v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
                    })
                    .collect();
                let pre = (next() % 45) as u32;
                let pre_bits = next();
                let mut fast = Vec::new();
                let mut w = BitWriter::new(&mut fast);
                w.write_wide(pre, pre_bits);
                w.write_rice(k, &vals);
                w.write(5, 0b10101);
                w.align();
                w.finish();
                let mut slow = Vec::new();
                let mut w = BitWriter::new(&mut slow);
                w.write_wide(pre, pre_bits);
                for &r in &vals {
                    let f = ((r << 1) ^ (r >> 31)) as u32;
                    w.write_unary(f >> k);
                    w.write(k, u64::from(f));
                }
                w.write(5, 0b10101);
                w.align();
                w.finish();
                assert_eq!(fast, slow, "k {k} trial {trial}");
            }
        }
    }
}
