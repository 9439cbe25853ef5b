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
    #[inline(always)]
    pub(crate) fn write_rice(&mut self, k: u32, residuals: &[i32]) {
        for &r in residuals {
            // Zigzag: 0, -1, 1, -2, .. -> 0, 1, 2, 3, ..; fits in u32 for every i32.
            let f = ((r << 1) ^ (r >> 31)) as u32;
            let q = f >> k;
            if q <= 31 - k {
                // One write: q zeros, a one, then the k low bits.
                let low = u64::from(f) & ((1u64 << k) - 1);
                self.write(q + 1 + k, (1u64 << k) | low);
            } else {
                self.write_unary(q);
                self.write(k, u64::from(f));
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
}
