//! CRC-8 (frame headers) and CRC-16 (whole frames) as RFC 9639 defines them:
//! polynomials x^8+x^2+x+1 and x^16+x^15+x^2+1, initial value 0, no reflection.

const fn crc8_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // `i < 256` so the cast keeps every bit.
        #[allow(clippy::cast_possible_truncation)]
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

/// Slicing-by-8 tables: `T[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
/// Eight tables let the frame check consume eight bytes per step, which keeps the
/// CRC-16 pass well below the cost of decoding the same bytes.
const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut t = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        // `i < 256`, so `i << 8` fits in 16 bits.
        #[allow(clippy::cast_possible_truncation)]
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
    while k < 8 {
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
static CRC16: [[u16; 256]; 8] = crc16_tables();

/// CRC-8 of `data`.
pub(crate) fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |c, &b| CRC8[usize::from(c ^ b)])
}

/// CRC-16 of `data`, continuing from `crc`.
pub(crate) fn crc16_update(mut crc: u16, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let [hi, lo] = crc.to_be_bytes();
        crc = CRC16[7][usize::from(c[0] ^ hi)]
            ^ CRC16[6][usize::from(c[1] ^ lo)]
            ^ CRC16[5][usize::from(c[2])]
            ^ CRC16[4][usize::from(c[3])]
            ^ CRC16[3][usize::from(c[4])]
            ^ CRC16[2][usize::from(c[5])]
            ^ CRC16[1][usize::from(c[6])]
            ^ CRC16[0][usize::from(c[7])];
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
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000] {
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
