//! NaN and ±inf kept on request: where they are, how the gaps are filled before
//! quantization, and the compact encoding stored next to the streams (format 2).
//!
//! Per stream a flag says whether it holds no ([`NonFiniteFlag::None`]), some or only
//! ([`NonFiniteFlag::All`]) non-finite samples. The positions and values are runs of
//! equal non-finite samples, encoded per stream (streams with flag `None` have no
//! entry) as unsigned LEB128 varints:
//!
//! ```text
//! n_runs, then per run: gap (samples since the previous run's end, or since 0),
//!                       length (>= 1), kind (one byte) [, bits when kind = 3]
//! kind 0: the canonical quiet NaN   (f32 0x7fc00000, f64 0x7ff8000000000000)
//! kind 1: +inf     kind 2: -inf
//! kind 3: another NaN, followed by its bit pattern in the stored float type
//! ```
//!
//! Before quantization every non-finite sample is replaced by the last finite value
//! before it (the first finite value for a run at the stream's start, 0 for a stream
//! without any finite value): a held value costs the FLAC predictor almost nothing,
//! and the quanta and offsets come out as for the finite samples alone.

use std::ops::Range;

use crate::error::{Error, Result, stream_name};

/// Whether a stream holds non-finite samples (the stored per-stream flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum NonFiniteFlag {
    /// Every sample is finite.
    None = 0,
    /// Some samples are NaN or infinite.
    Some = 1,
    /// Every sample is NaN or infinite.
    All = 2,
}

/// A run of equal non-finite samples of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// First sample.
    pub start: usize,
    /// Number of samples (at least 1).
    pub len: usize,
    /// Bit pattern of the value in the stored float type (`f32` bits zero-extended).
    pub bits: u64,
}

impl Run {
    fn end(&self) -> usize {
        self.start + self.len
    }
}

/// The non-finite samples of every stream of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonFinite {
    /// `index[g]..index[g + 1]` are the runs of stream `g` (C order).
    index: Vec<usize>,
    runs: Vec<Run>,
    float64: bool,
}

const CANONICAL_NAN_32: u64 = 0x7fc0_0000;
const CANONICAL_NAN_64: u64 = 0x7ff8_0000_0000_0000;

/// A float type whose non-finite samples can be kept: `f32` or `f64`.
pub(crate) trait NfFloat: Copy + Send + Sync {
    const ZERO: Self;
    fn finite(self) -> bool;
    fn bits(self) -> u64;
    fn from_bits64(b: u64) -> Self;
}

impl NfFloat for f32 {
    const ZERO: Self = 0.0;
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn from_bits64(b: u64) -> Self {
        // Only called with validated 32-bit patterns.
        #[allow(clippy::cast_possible_truncation)]
        f32::from_bits(b as u32)
    }
}

impl NfFloat for f64 {
    const ZERO: Self = 0.0;
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn from_bits64(b: u64) -> Self {
        f64::from_bits(b)
    }
}

/// Whether `bits` is a non-finite value of the float type (`f64` or `f32`).
fn is_nonfinite_bits(bits: u64, float64: bool) -> bool {
    if float64 {
        !f64::from_bits(bits).is_finite()
    } else {
        u32::try_from(bits).is_ok_and(|b| !f32::from_bits(b).is_finite())
    }
}

/// The index of the first non-finite sample of `x` at or after `from` (`x.len()` when
/// none). Blocks are tested without an early exit so that the test vectorizes; this
/// scan is most of what keeping NaN costs on a stream without any.
fn first_nonfinite<T: NfFloat>(x: &[T], from: usize) -> usize {
    const BLOCK: usize = 128;
    let mut i = from;
    while i < x.len() {
        let end = (i + BLOCK).min(x.len());
        let block = &x[i..end];
        if block.iter().fold(false, |any, v| any | !v.finite()) {
            return i + block.iter().position(|v| !v.finite()).unwrap_or(0);
        }
        i = end;
    }
    x.len()
}

/// Copies `x` into `fill` with every non-finite sample replaced (see the module
/// documentation) and appends its runs to `runs`; returns the number of runs. `fill`
/// is left untouched (and 0 returned) when every sample is finite.
pub(crate) fn fill_stream<T: NfFloat>(x: &[T], fill: &mut Vec<T>, runs: &mut Vec<Run>) -> usize {
    let first_bad = first_nonfinite(x, 0);
    if first_bad == x.len() {
        return 0;
    }
    let before = runs.len();
    fill.clear();
    fill.reserve(x.len());
    // A run at the start holds the first finite value (0 when there is none).
    let mut held = x.iter().copied().find(|v| v.finite()).unwrap_or(T::ZERO);
    let mut i = 0;
    let mut bad = first_bad;
    loop {
        // Finite samples are copied as a block: the fill costs about a memcpy.
        fill.extend_from_slice(&x[i..bad]);
        if bad > i {
            held = x[bad - 1];
        }
        if bad == x.len() {
            break;
        }
        let bits = x[bad].bits();
        let start = bad;
        i = bad;
        while i < x.len() && !x[i].finite() && x[i].bits() == bits {
            i += 1;
        }
        fill.resize(i, held);
        runs.push(Run {
            start,
            len: i - start,
            bits,
        });
        bad = first_nonfinite(x, i);
    }
    runs.len() - before
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // The low 7 bits with the continuation bit; truncation is the point.
        #[allow(clippy::cast_possible_truncation)]
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

/// A cursor over the stored run bytes; every read names what ran out.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn varint(&mut self, what: &str) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(corrupt(format!("the run table ends inside {what}")));
            };
            self.pos += 1;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(corrupt(format!("{what} overflows 64 bits")));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt(format!("{what} overflows 64 bits")))
    }

    fn byte(&mut self, what: &str) -> Result<u8> {
        let b = self
            .bytes
            .get(self.pos)
            .copied()
            .ok_or_else(|| corrupt(format!("the run table ends inside {what}")))?;
        self.pos += 1;
        Ok(b)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

fn corrupt(msg: String) -> Error {
    Error::Corrupt(format!("non-finite samples: {msg}"))
}

impl NonFinite {
    /// Builds the table from per-stream run counts and the runs of all streams in
    /// stream order (as the encoder produces them).
    pub(crate) fn from_counts(counts: &[usize], runs: Vec<Run>, float64: bool) -> Self {
        let mut index = Vec::with_capacity(counts.len() + 1);
        let mut at = 0;
        index.push(0);
        for &c in counts {
            at += c;
            index.push(at);
        }
        Self {
            index,
            runs,
            float64,
        }
    }

    /// Number of streams described.
    #[must_use]
    pub fn n_streams(&self) -> usize {
        self.index.len() - 1
    }

    /// Whether the values are `f64` bit patterns (else `f32`).
    #[must_use]
    pub fn is_float64(&self) -> bool {
        self.float64
    }

    /// The runs of stream `g` (flat index), in sample order.
    #[must_use]
    pub fn stream_runs(&self, g: usize) -> &[Run] {
        match (self.index.get(g), self.index.get(g + 1)) {
            (Some(&a), Some(&b)) => &self.runs[a..b],
            _ => &[],
        }
    }

    /// Total number of non-finite samples.
    #[must_use]
    pub fn count(&self) -> usize {
        self.runs.iter().map(|r| r.len).sum()
    }

    /// Total number of runs.
    #[must_use]
    pub fn n_runs(&self) -> usize {
        self.runs.len()
    }

    /// The flag of every stream of `stream_size` samples, as stored.
    #[must_use]
    pub fn flags(&self, stream_size: usize) -> Vec<u8> {
        (0..self.n_streams())
            .map(|g| {
                let n: usize = self.stream_runs(g).iter().map(|r| r.len).sum();
                let f = if n == 0 {
                    NonFiniteFlag::None
                } else if n == stream_size {
                    NonFiniteFlag::All
                } else {
                    NonFiniteFlag::Some
                };
                f as u8
            })
            .collect()
    }

    /// The stored run bytes (see the module documentation).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let nan = if self.float64 {
            CANONICAL_NAN_64
        } else {
            CANONICAL_NAN_32
        };
        let (pinf, ninf) = if self.float64 {
            (f64::INFINITY.to_bits(), f64::NEG_INFINITY.to_bits())
        } else {
            (
                u64::from(f32::INFINITY.to_bits()),
                u64::from(f32::NEG_INFINITY.to_bits()),
            )
        };
        for g in 0..self.n_streams() {
            let runs = self.stream_runs(g);
            if runs.is_empty() {
                continue;
            }
            push_varint(&mut out, runs.len() as u64);
            let mut prev = 0usize;
            for r in runs {
                push_varint(&mut out, (r.start - prev) as u64);
                push_varint(&mut out, r.len as u64);
                if r.bits == nan {
                    out.push(0);
                } else if r.bits == pinf {
                    out.push(1);
                } else if r.bits == ninf {
                    out.push(2);
                } else {
                    out.push(3);
                    push_varint(&mut out, r.bits);
                }
                prev = r.end();
            }
        }
        out
    }

    /// Parses and checks stored flags and run bytes for streams of `stream_size`
    /// samples (`leading` names streams in errors).
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the stream: an unknown flag or kind, a run outside
    /// the stream, overlapping or empty runs, a flag that does not match the runs, a
    /// value that is finite, run bytes that end early or have bytes left over.
    pub fn decode(
        flags: &[u8],
        bytes: &[u8],
        stream_size: usize,
        leading: &[usize],
        float64: bool,
    ) -> Result<Self> {
        let mut rd = Reader { bytes, pos: 0 };
        let mut index = Vec::with_capacity(flags.len() + 1);
        index.push(0);
        let mut runs = Vec::new();
        let nan = if float64 {
            CANONICAL_NAN_64
        } else {
            CANONICAL_NAN_32
        };
        for (g, &flag) in flags.iter().enumerate() {
            let name = || stream_name(g, leading);
            let flag = match flag {
                0 => NonFiniteFlag::None,
                1 => NonFiniteFlag::Some,
                2 => NonFiniteFlag::All,
                other => {
                    return Err(corrupt(format!("stream {}: unknown flag {other}", name())));
                }
            };
            if flag != NonFiniteFlag::None {
                let n = rd.varint("a run count")?;
                // A run takes at least 3 bytes: bounds the allocation by the bytes present.
                if n == 0 || n > (rd.remaining() / 3) as u64 {
                    return Err(corrupt(format!(
                        "stream {}: {n} runs in {} remaining bytes",
                        name(),
                        rd.remaining()
                    )));
                }
                let mut end = 0usize;
                let mut total = 0usize;
                for _ in 0..n {
                    let gap = rd.varint("a run gap")?;
                    let len = rd.varint("a run length")?;
                    let kind = rd.byte("a run kind")?;
                    let bits = match kind {
                        0 => nan,
                        1 if float64 => f64::INFINITY.to_bits(),
                        1 => u64::from(f32::INFINITY.to_bits()),
                        2 if float64 => f64::NEG_INFINITY.to_bits(),
                        2 => u64::from(f32::NEG_INFINITY.to_bits()),
                        3 => {
                            let b = rd.varint("a NaN bit pattern")?;
                            if !is_nonfinite_bits(b, float64) {
                                return Err(corrupt(format!(
                                    "stream {}: bit pattern {b:#x} is not a non-finite value",
                                    name()
                                )));
                            }
                            b
                        }
                        other => {
                            return Err(corrupt(format!(
                                "stream {}: unknown kind {other}",
                                name()
                            )));
                        }
                    };
                    let start = usize::try_from(gap)
                        .ok()
                        .and_then(|gap| end.checked_add(gap));
                    let stop = start
                        .zip(usize::try_from(len).ok())
                        .and_then(|(s, l)| s.checked_add(l).filter(|&e| e <= stream_size && l > 0));
                    let (Some(start), Some(stop)) = (start, stop) else {
                        return Err(corrupt(format!(
                            "stream {}: a run of {len} samples {gap} after sample {end} does \
                             not fit a stream of {stream_size} samples",
                            name()
                        )));
                    };
                    runs.push(Run {
                        start,
                        len: stop - start,
                        bits,
                    });
                    total += stop - start;
                    end = stop;
                }
                let all = total == stream_size;
                if all != (flag == NonFiniteFlag::All) {
                    return Err(corrupt(format!(
                        "stream {}: flag {flag:?} but {total} of {stream_size} samples listed",
                        name()
                    )));
                }
            }
            index.push(runs.len());
        }
        if rd.remaining() != 0 {
            return Err(corrupt(format!(
                "{} bytes left after the last stream's runs",
                rd.remaining()
            )));
        }
        Ok(Self {
            index,
            runs,
            float64,
        })
    }

    /// The table of the streams `sel` (flat indices), in that order.
    #[must_use]
    pub fn select(&self, sel: &[usize]) -> Self {
        let mut index = Vec::with_capacity(sel.len() + 1);
        let mut runs = Vec::new();
        index.push(0);
        for &g in sel {
            runs.extend_from_slice(self.stream_runs(g));
            index.push(runs.len());
        }
        Self {
            index,
            runs,
            float64: self.float64,
        }
    }

    /// Checks the table against an array of `n_streams` streams of `stream_size`.
    pub(crate) fn check(&self, n_streams: usize, stream_size: usize, float64: bool) -> Result<()> {
        if self.n_streams() != n_streams {
            return Err(corrupt(format!(
                "{} streams described for {n_streams}",
                self.n_streams()
            )));
        }
        if self.float64 != float64 {
            return Err(corrupt(
                "the table's float width does not match the data".into(),
            ));
        }
        for g in 0..n_streams {
            let mut end = 0;
            for r in self.stream_runs(g) {
                if r.len == 0
                    || r.start < end
                    || r.start.checked_add(r.len).is_none_or(|e| e > stream_size)
                    || !is_nonfinite_bits(r.bits, float64)
                {
                    return Err(corrupt(format!("stream {g}: run {r:?} is invalid")));
                }
                end = r.end();
            }
        }
        Ok(())
    }

    /// Writes the non-finite samples of stream `g` that fall in `range` into `out`
    /// (which holds samples `range` of the stream).
    pub(crate) fn apply<T: NfFloat>(&self, g: usize, range: &Range<usize>, out: &mut [T]) {
        for r in self.stream_runs(g) {
            let a = r.start.max(range.start);
            let b = r.end().min(range.end);
            if a < b {
                let v = T::from_bits64(r.bits);
                out[a - range.start..b - range.start].fill(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(x: &[f64]) -> (Vec<f64>, NonFinite) {
        let mut fill = Vec::new();
        let mut runs = Vec::new();
        let n = fill_stream(x, &mut fill, &mut runs);
        if n == 0 {
            fill = x.to_vec();
        }
        let t = NonFinite::from_counts(&[n], runs, true);
        let flags = t.flags(x.len());
        let back = NonFinite::decode(&flags, &t.encode(), x.len(), &[1], true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, t);
        (fill, back)
    }

    #[test]
    fn fill_holds_the_previous_finite_value_and_runs_restore_the_bits() {
        let odd_nan = f64::from_bits(0x7ff0_0000_0000_0001);
        let x = [
            f64::NAN,
            f64::NAN,
            1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2.5,
            odd_nan,
            odd_nan,
        ];
        let (fill, t) = roundtrip(&x);
        assert_eq!(fill, vec![1.5, 1.5, 1.5, 1.5, 1.5, 2.5, 2.5, 2.5]);
        assert_eq!(t.n_runs(), 4);
        assert_eq!(t.count(), 6);
        let mut out = fill.clone();
        t.apply(0, &(0..8), &mut out);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(&x));
        // A window applies only the runs inside it.
        let mut part = fill[3..7].to_vec();
        t.apply(0, &(3..7), &mut part);
        assert_eq!(bits(&part), bits(&x[3..7]));
        assert_eq!(t.flags(8), vec![NonFiniteFlag::Some as u8]);
    }

    #[test]
    fn all_nonfinite_fills_zeros_and_flags_all() {
        let x = [f64::INFINITY; 5];
        let (fill, t) = roundtrip(&x);
        assert_eq!(fill, vec![0.0; 5]);
        assert_eq!(t.flags(5), vec![NonFiniteFlag::All as u8]);
        let (fill, t) = roundtrip(&[1.0, 2.0]);
        assert_eq!(fill, vec![1.0, 2.0]);
        assert_eq!(t.flags(2), vec![0]);
        assert!(t.encode().is_empty());
    }

    #[test]
    fn hostile_tables_are_refused() {
        let lead = [2usize];
        let cases: Vec<(Vec<u8>, Vec<u8>, &str)> = vec![
            (vec![3, 0], vec![], "unknown flag"),
            (vec![1, 0], vec![1, 0, 11, 0], "does not fit"),
            (vec![1, 0], vec![1, 9, 2, 0], "does not fit"),
            (vec![1, 0], vec![1, 0, 0, 0], "does not fit"),
            (vec![1, 0], vec![1, 0, 1, 7], "unknown kind"),
            (vec![1, 0], vec![1, 0, 1, 3, 1], "not a non-finite"),
            (vec![1, 0], vec![1, 0, 1, 3], "ends inside"),
            (vec![1, 0], vec![2, 0, 1, 0], "runs in"),
            (vec![2, 0], vec![1, 0, 3, 0], "flag All"),
            (vec![1, 0], vec![1, 0, 10, 0], "flag Some"),
            (vec![0, 0], vec![1, 0, 1, 0], "left after"),
            (vec![1, 0], vec![1, 0, 1, 0, 0], "left after"),
            (vec![1, 0], vec![0xff; 12], "overflows"),
        ];
        for (flags, bytes, want) in cases {
            match NonFinite::decode(&flags, &bytes, 10, &lead, false) {
                Ok(t) => panic!("{flags:?} {bytes:?} accepted: {t:?}"),
                Err(e) => assert!(
                    e.to_string().contains(want),
                    "{flags:?} {bytes:?}: {e} (want {want})"
                ),
            }
        }
        // Overlapping runs cannot be expressed (gaps are unsigned), adjacent ones can.
        let ok = NonFinite::decode(&[1, 0], &[2, 0, 1, 0, 0, 1, 1], 10, &lead, false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.stream_runs(0)[1].start, 1);
    }
}
