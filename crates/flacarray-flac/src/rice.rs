//! Residual coding for the encoder: partition order and Rice parameter search, with
//! escaped (raw) partitions, and the writer.

use crate::bitwrite::BitWriter;

/// Largest partition order the encoder considers (the format allows 15).
pub(crate) const MAX_PARTITION_ORDER: u32 = 8;
const MAX_PARTS: usize = 1 << MAX_PARTITION_ORDER;
/// Largest Rice parameter of the 5-bit (RICE2) coding; 31 is the escape code.
const MAX_PARAM: u32 = 30;
/// Marks an escaped partition in `params`.
const ESCAPE: u8 = 0xFF;

/// The chosen coding of one residual.
#[derive(Debug, Clone)]
pub(crate) struct RiceChoice {
    pub order: u32,
    /// Per partition: Rice parameter, or `ESCAPE` with the raw width in `raw_bits`.
    pub params: [u8; MAX_PARTS],
    pub raw_bits: [u8; MAX_PARTS],
    /// Whether 5-bit parameters (RICE2) are needed.
    pub rice2: bool,
    /// Total bits of the residual section (method and order fields included).
    pub bits: u64,
}

impl Default for RiceChoice {
    fn default() -> Self {
        Self {
            order: 0,
            params: [0; MAX_PARTS],
            raw_bits: [0; MAX_PARTS],
            rice2: false,
            bits: 0,
        }
    }
}

/// Per-partition statistics at the finest order, reused for the coarser ones.
pub(crate) struct Stats {
    sums: [u64; MAX_PARTS],
    maxs: [u32; MAX_PARTS],
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            sums: [0; MAX_PARTS],
            maxs: [0; MAX_PARTS],
        }
    }
}

#[inline(always)]
fn fold(r: i32) -> u32 {
    // Zigzag; the bit pattern of the xor is the folded value.
    ((r << 1) ^ (r >> 31)) as u32
}

/// Estimated bits for a partition of `len` folded values summing to `sum` coded with
/// parameter `k`: one stop bit and `k` low bits each, plus the unary quotients.
/// The quotients total `sum / 2^k` less the dropped fractions, which average one
/// half per value when `k > 0` (none when `k == 0`).
#[inline(always)]
fn rice_bits(len: u64, sum: u64, k: u32) -> u64 {
    let frac = if k > 0 { len / 2 } else { 0 };
    (len * u64::from(k + 1) + (sum >> k)).saturating_sub(frac)
}

/// Best parameter for a partition. For a Laplacian residual the optimum is near
/// log2(mean * ln 2), about half a bit below log2(mean), so the three parameters
/// around floor(log2(mean)) are compared.
#[inline(always)]
fn best_param(len: u64, sum: u64) -> (u32, u64) {
    if len == 0 {
        return (0, 0);
    }
    let mean = sum / len;
    let k0 = if mean == 0 {
        0
    } else {
        (63 - mean.leading_zeros()).min(MAX_PARAM)
    };
    let mut best = (k0, rice_bits(len, sum, k0));
    for k in [k0.saturating_sub(1), (k0 + 1).min(MAX_PARAM)] {
        let b = rice_bits(len, sum, k);
        if b < best.1 {
            best = (k, b);
        }
    }
    best
}

/// Bits needed to hold the signed residuals whose largest folded value is `max_fold`.
#[inline(always)]
fn raw_width(max_fold: u32) -> u32 {
    // For v >= 0, f = 2v and v needs bitlen(v) + 1 = bitlen(f) bits signed; for v < 0,
    // f = 2|v| - 1 and |v| <= 2^(w-1) holds exactly when f < 2^w. Either way the
    // width is the bit length of the largest folded value.
    32 - max_fold.leading_zeros()
}

/// Search limits of [`choose`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub min_order: u32,
    pub max_order: u32,
    /// Whether escaped (raw) partitions may be chosen.
    pub escapes: bool,
}

/// Chooses the partition order in `min_order..=max_order` and the parameters that
/// minimise the coded size of `res` (the residual of a block of `n` samples with
/// predictor `order`, so `res.len() == n - order`).
#[inline(always)]
pub(crate) fn choose(
    res: &[i32],
    n: usize,
    pred_order: usize,
    limits: &Limits,
    stats: &mut Stats,
    out: &mut RiceChoice,
) {
    // Highest usable partition order: n divisible by 2^p and the first partition
    // longer than the predictor order.
    let mut top = limits.max_order.min(MAX_PARTITION_ORDER);
    while top > 0 && (!n.is_multiple_of(1 << top) || (n >> top) <= pred_order) {
        top -= 1;
    }
    let min_order = limits.min_order.min(top);
    let parts = 1usize << top;
    let per = n >> top;
    let mut start = 0usize;
    for p in 0..parts {
        let len = if p == 0 { per - pred_order } else { per };
        let mut sum = 0u64;
        let mut mx = 0u32;
        for &r in &res[start..start + len] {
            let f = fold(r);
            sum += u64::from(f);
            mx = mx.max(f);
        }
        stats.sums[p] = sum;
        stats.maxs[p] = mx;
        start += len;
    }
    let mut best_bits = u64::MAX;
    let mut cur_parts = parts;
    let mut order = top;
    loop {
        if order >= min_order {
            let per = n >> order;
            let mut total = 6u64; // method (2) + partition order (4)
            let mut rice2 = false;
            let mut params = [0u8; MAX_PARTS];
            let mut raw = [0u8; MAX_PARTS];
            for p in 0..cur_parts {
                let len = (if p == 0 { per - pred_order } else { per }) as u64;
                let (k, bits) = best_param(len, stats.sums[p]);
                let w = raw_width(stats.maxs[p]);
                let esc_bits = 5 + len * u64::from(w);
                // Parameter and raw width fit in u8 (at most 30 and 33).
                // The escape's 5-bit width field cannot say 32.
                if limits.escapes && w <= 31 && esc_bits < bits {
                    params[p] = ESCAPE;
                    raw[p] = w as u8;
                    total += esc_bits;
                } else {
                    params[p] = k as u8;
                    rice2 |= k > 14;
                    total += bits;
                }
            }
            total += cur_parts as u64 * if rice2 { 5 } else { 4 };
            if total < best_bits {
                best_bits = total;
                out.order = order;
                out.params[..cur_parts].copy_from_slice(&params[..cur_parts]);
                out.raw_bits[..cur_parts].copy_from_slice(&raw[..cur_parts]);
                out.rice2 = rice2;
                out.bits = total;
            }
        }
        if order == 0 || order <= min_order {
            break;
        }
        // Merge neighbouring partitions for the next coarser order.
        cur_parts /= 2;
        for p in 0..cur_parts {
            stats.sums[p] = stats.sums[2 * p] + stats.sums[2 * p + 1];
            stats.maxs[p] = stats.maxs[2 * p].max(stats.maxs[2 * p + 1]);
        }
        order -= 1;
    }
}

/// Writes the residual section chosen by [`choose`].
#[inline(always)]
pub(crate) fn write(
    w: &mut BitWriter<'_>,
    res: &[i32],
    n: usize,
    pred_order: usize,
    c: &RiceChoice,
) {
    w.write(2, u64::from(c.rice2));
    w.write(4, u64::from(c.order));
    let (pbits, esc) = if c.rice2 { (5, 31) } else { (4, 15) };
    let parts = 1usize << c.order;
    let per = n >> c.order;
    let mut start = 0usize;
    for p in 0..parts {
        let len = if p == 0 { per - pred_order } else { per };
        let part = &res[start..start + len];
        if c.params[p] == ESCAPE {
            let width = u32::from(c.raw_bits[p]);
            w.write(pbits, esc);
            w.write(5, u64::from(width));
            if width > 0 {
                for &r in part {
                    w.write_signed(width, i64::from(r));
                }
            }
        } else {
            let k = u32::from(c.params[p]);
            w.write(pbits, u64::from(k));
            w.write_rice(k, part);
        }
        start += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitread::BitReader;

    #[test]
    fn raw_width_holds_extremes() {
        // folded 1 = -1 (needs 1 bit signed), folded 2 = 1 (needs 2 bits).
        assert_eq!(raw_width(1), 1);
        assert_eq!(raw_width(2), 2);
        assert_eq!(raw_width(fold(i32::MAX)), 32);
        assert_eq!(raw_width(fold(-i32::MAX)), 32);
    }

    #[test]
    fn chosen_coding_is_what_is_written() {
        let res: Vec<i32> = (0..4096).map(|i| ((i * 7919) % 201) - 100).collect();
        let mut c = RiceChoice::default();
        let mut st = Stats::default();
        choose(
            &res[2..],
            4096,
            2,
            &Limits {
                min_order: 0,
                max_order: 6,
                escapes: true,
            },
            &mut st,
            &mut c,
        );
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf);
        write(&mut w, &res[2..], 4096, 2, &c);
        w.align();
        w.finish();
        // The size estimate is an upper bound of the exact Rice size within a bit a
        // sample.
        let written = buf.len() as u64 * 8;
        assert!(
            written <= c.bits + 8 && written + 4096 >= c.bits,
            "{written} vs {}",
            c.bits
        );
        // Parse the partitions back and compare values.
        let mut r = BitReader::new(&buf);
        assert_eq!(r.read(2, "").ok(), Some(u64::from(c.rice2)));
        let order = r.read(4, "").unwrap_or(99) as u32;
        assert_eq!(order, c.order);
        let mut back = vec![0i32; 4094];
        let per = 4096 >> order;
        let mut at = 0;
        for p in 0..(1 << order) {
            let len = if p == 0 { per - 2 } else { per };
            let k = r.read(if c.rice2 { 5 } else { 4 }, "").unwrap_or(99) as u32;
            if k == if c.rice2 { 31 } else { 15 } {
                let width = r.read(5, "").unwrap_or(99) as u32;
                for v in &mut back[at..at + len] {
                    *v = r.read_signed(width, "").unwrap_or(i64::MAX) as i32;
                }
            } else {
                assert!(r.read_rice(k, &mut back[at..at + len]).is_ok());
            }
            at += len;
        }
        assert_eq!(&back[..], &res[2..]);
    }
}
