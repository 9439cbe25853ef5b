//! CRC-8 (frame headers) and CRC-16 (whole frames) as RFC 9639 defines them:
//! polynomials x^8+x^2+x+1 and x^16+x^15+x^2+1, initial value 0, no reflection.

const fn crc8_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // `i < 256` so the cast keeps every bit.
        let mut c = i as u8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// Slicing-by-16 tables: `T[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
/// Sixteen tables let the frame check consume sixteen bytes per step. A step is
/// bound by the latency of one table load plus an xor tree on the running CRC, about
/// the same for 8 or 16 bytes, so 16 bytes per step nearly halves the CRC-16 cost
/// of slicing-by-8 (the 8 KiB of tables stay in L1).
const fn crc16_tables() -> [[u16; 256]; 16] {
    let mut t = [[0u16; 256]; 16];
    let mut i = 0;
    while i < 256 {
        // `i < 256`, so `i << 8` fits in 16 bits.
        let mut c = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
            bit += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static CRC8: [u8; 256] = crc8_table();
static CRC16: [[u16; 256]; 16] = crc16_tables();

/// CRC-8 of `data`.
pub(crate) fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |c, &b| CRC8[usize::from(c ^ b)])
}

/// CRC-16 of `data`, continuing from `crc`; the fastest path this CPU allows.
#[inline]
pub(crate) fn crc16_update(crc: u16, data: &[u8]) -> u16 {
    crate::simd::crc16_update(crc, data)
}

/// CRC-16 of `data`, continuing from `crc`, with the slicing-by-16 tables only.
pub(crate) fn crc16_update_table(mut crc: u16, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let [hi, lo] = crc.to_be_bytes();
        // Two independent xor trees, joined at the end, shorten the dependency chain.
        let a = CRC16[15][usize::from(c[0] ^ hi)]
            ^ CRC16[14][usize::from(c[1] ^ lo)]
            ^ CRC16[13][usize::from(c[2])]
            ^ CRC16[12][usize::from(c[3])]
            ^ CRC16[11][usize::from(c[4])]
            ^ CRC16[10][usize::from(c[5])]
            ^ CRC16[9][usize::from(c[6])]
            ^ CRC16[8][usize::from(c[7])];
        let b = CRC16[7][usize::from(c[8])]
            ^ CRC16[6][usize::from(c[9])]
            ^ CRC16[5][usize::from(c[10])]
            ^ CRC16[4][usize::from(c[11])]
            ^ CRC16[3][usize::from(c[12])]
            ^ CRC16[2][usize::from(c[13])]
            ^ CRC16[1][usize::from(c[14])]
            ^ CRC16[0][usize::from(c[15])];
        crc = a ^ b;
    }
    for &b in chunks.remainder() {
        let [hi, _] = crc.to_be_bytes();
        crc = (crc << 8) ^ CRC16[0][usize::from(hi ^ b)];
    }
    crc
}

/// CRC-16 of `data`.
pub(crate) fn crc16(data: &[u8]) -> u16 {
    crc16_update(0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc16_bitwise(data: &[u8]) -> u16 {
        let mut c: u16 = 0;
        for &b in data {
            c ^= u16::from(b) << 8;
            for _ in 0..8 {
                c = if c & 0x8000 != 0 {
                    (c << 1) ^ 0x8005
                } else {
                    c << 1
                };
            }
        }
        c
    }

    #[test]
    fn known_values() {
        // Check values of the CRC-8/SMBUS and CRC-16/UMTS (BUYPASS) catalogue entries,
        // which use exactly FLAC's parameters.
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc16(b"123456789"), 0xFEE8);
    }

    #[test]
    fn sliced_matches_bitwise() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000] {
            assert_eq!(
                crc16(&data[..len]),
                crc16_bitwise(&data[..len]),
                "len {len}"
            );
        }
        let (a, b) = data.split_at(333);
        assert_eq!(crc16_update(crc16(a), b), crc16(&data));
    }
}
