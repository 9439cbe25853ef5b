//! Hostile stores for fuzzing the whole-array readers (feature `conformance`).
//!
//! [`fuzz_read`] turns arbitrary bytes into a store whose metadata, stream table and
//! bytes are whatever the input says ([`HostileStore`]), then runs every whole-array
//! reader on it ([`read_flacarray`], [`read_array`] with a keep mask and a sample
//! slice, [`read_flacarray_rows`]). A panic is a bug; so is an `Ok` whose decoded size
//! is not what the metadata promises. The cargo-fuzz target `read_store` (in `fuzz/`)
//! and the stable test `fuzz_replay` (in this crate's tests) both call it.
//!
//! Input layout (little-endian):
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | bits 0-1 dtype (int32, int64, float32, float64), bit 2 format 0, bits 3-7 keep-mask seed |
//! | 1 | number of leading axes, 1 + (value % 3) |
//! | 2..8 | three leading dimensions, `u16` each (only the first `ndim` are used) |
//! | 8..16 | `stream_size`, `u64` |
//! | 16..18 | `L`, length of the table region |
//! | 18..18+L | the table region: stream `i` takes the 4 `u32` words at word index `4i` onward, cyclically: start, byte count, offset bits, gain bits |
//! | rest | the stored bytes |
//!
//! The table is generated on demand, per requested row, so a hostile shape costs
//! nothing until the reader asks for rows (after its checks).

use std::ops::Range;

use crate::array::ReadOptions;
use crate::dtype::{DType, StreamScaling};
use crate::error::{Error, Result};
use crate::select::SampleSlice;
use crate::store::{
    FlacArrayReader, StoredMeta, StreamTable, read_array, read_flacarray, read_flacarray_rows,
};
use crate::validate;

/// A store holding whatever the input says (see the module documentation).
#[derive(Debug, Clone)]
pub struct HostileStore {
    meta: StoredMeta,
    table: Vec<u8>,
    bytes: Vec<u8>,
    keep_seed: u8,
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x))
}

impl HostileStore {
    /// Parses an input; `None` when it is shorter than the 18-byte header.
    #[must_use]
    pub fn parse(data: &[u8]) -> Option<Self> {
        if data.len() < 18 {
            return None;
        }
        let flags = data[0];
        let dtype = match flags & 3 {
            0 => DType::Int32,
            1 => DType::Int64,
            2 => DType::Float32,
            _ => DType::Float64,
        };
        let format_version = if flags & 4 != 0 { 0 } else { 1 };
        let ndim = 1 + usize::from(data[1] % 3);
        let leading_shape: Vec<usize> = (0..ndim)
            .map(|k| usize::try_from(le(&data[2 + 2 * k..4 + 2 * k])).unwrap_or(0))
            .collect();
        let stream_size = usize::try_from(le(&data[8..16])).unwrap_or(usize::MAX);
        let l = usize::try_from(le(&data[16..18])).unwrap_or(0);
        let rest = &data[18..];
        let l = l.min(rest.len());
        let (table, bytes) = rest.split_at(l);
        Some(Self {
            meta: StoredMeta {
                format_version,
                dtype,
                leading_shape,
                stream_size,
                total_bytes: bytes.len() as u64,
            },
            table: table.to_vec(),
            bytes: bytes.to_vec(),
            keep_seed: flags >> 3,
        })
    }

    /// Encodes a store in the input layout (for seeds): `words` holds 4 `u32` per
    /// stream (start, byte count, offset bits, gain bits; float64 tables are seeded
    /// with float32 values widened).
    #[must_use]
    pub fn encode(
        dtype: DType,
        format0: bool,
        leading: &[u16],
        stream_size: u64,
        words: &[u32],
        bytes: &[u8],
    ) -> Vec<u8> {
        let code = match dtype {
            DType::Int32 => 0,
            DType::Int64 => 1,
            DType::Float32 => 2,
            DType::Float64 => 3,
        };
        let mut out = vec![code | if format0 { 4 } else { 0 } | (5 << 3)];
        out.push(u8::try_from(leading.len().clamp(1, 3) - 1).unwrap_or(0));
        for k in 0..3 {
            out.extend_from_slice(&leading.get(k).copied().unwrap_or(1).to_le_bytes());
        }
        out.extend_from_slice(&stream_size.to_le_bytes());
        let table: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.extend_from_slice(&u16::try_from(table.len()).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(&table);
        out.extend_from_slice(bytes);
        out
    }

    fn word(&self, i: usize) -> u32 {
        let n = self.table.len() / 4;
        if n == 0 {
            return 0;
        }
        let k = (i % n) * 4;
        u32::try_from(le(&self.table[k..k + 4])).unwrap_or(0)
    }
}

impl FlacArrayReader for HostileStore {
    type Error = Error;

    fn metadata(&self) -> Result<StoredMeta> {
        Ok(self.meta.clone())
    }

    fn read_stream_table(&self, meta: &StoredMeta, rows: Range<usize>) -> Result<StreamTable> {
        let per = meta.streams_per_row();
        let n_rows = meta.leading_shape.first().copied().unwrap_or(0);
        if rows.start > rows.end || rows.end > n_rows {
            return Err(Error::Index(format!("rows {rows:?} outside 0..{n_rows}")));
        }
        // A reader asks for rows only after `check_meta`; a harness bug otherwise.
        validate::check_meta(meta)?;
        let range = rows.start * per..rows.end * per;
        let f = |i: usize, k: usize| self.word(4 * i + k);
        let starts = range.clone().map(|i| u64::from(f(i, 0))).collect();
        let nbytes = range.clone().map(|i| u64::from(f(i, 1))).collect();
        let off32 = |i| f32::from_bits(f(i, 2));
        let gain32 = |i| f32::from_bits(f(i, 3));
        let scaling = match (meta.dtype, meta.format_version) {
            (DType::Int32, _) | (DType::Int64, 1) => StreamScaling::None,
            (DType::Int64, _) => {
                StreamScaling::I64Offsets(range.map(|i| i64::from(f(i, 2).cast_signed())).collect())
            }
            (DType::Float32, _) => StreamScaling::F32 {
                offsets: range.clone().map(off32).collect(),
                gains: range.map(gain32).collect(),
            },
            (DType::Float64, _) => StreamScaling::F64 {
                offsets: range.clone().map(|i| f64::from(off32(i))).collect(),
                gains: range.map(|i| f64::from(gain32(i))).collect(),
            },
        };
        Ok(StreamTable {
            starts,
            nbytes,
            scaling,
        })
    }

    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<()> {
        let s = usize::try_from(start).map_err(|_| Error::store_msg("start"))?;
        let src = s
            .checked_add(out.len())
            .and_then(|e| self.bytes.get(s..e))
            .ok_or_else(|| Error::store_msg(format!("bytes {s}+{} outside", out.len())))?;
        out.copy_from_slice(src);
        Ok(())
    }
}

/// Runs every whole-array reader on the store `data` describes. Errors are expected;
/// a panic, or an `Ok` of the wrong size, is a bug (it panics).
///
/// # Panics
/// On a reader bug, as described.
pub fn fuzz_read(data: &[u8]) {
    let Some(store) = HostileStore::parse(data) else {
        return;
    };
    let meta = &store.meta;
    if let Ok(fa) = read_flacarray(&store, None, true) {
        assert_eq!(fa.stream_size(), meta.stream_size);
        if let Ok(sel) = fa.decompress(&ReadOptions::default()) {
            let n: usize = meta.leading_shape.iter().product();
            assert_eq!(
                sel.array.shape().iter().product::<usize>(),
                n * meta.stream_size
            );
        }
    }
    let n = meta
        .leading_shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d));
    // A keep mask costs one bool per stream: only for shapes the bytes can hold.
    if let Some(n) = n.filter(|&n| n <= data.len()) {
        let keep: Vec<bool> = (0..n)
            .map(|i| (i + usize::from(store.keep_seed)) % 3 != 0)
            .collect();
        let opts = ReadOptions {
            keep: Some(&keep),
            stream_slice: SampleSlice::new(Some(1), Some(7)),
            ..ReadOptions::default()
        };
        if let Ok(sel) = read_array(&store, &opts) {
            let kept = keep.iter().filter(|&&k| k).count();
            let per = meta.stream_size.min(7).saturating_sub(1);
            assert_eq!(sel.array.shape().iter().product::<usize>(), kept * per);
        }
    }
    let rows = meta.leading_shape.first().copied().unwrap_or(0).min(1);
    if let Ok(fa) = read_flacarray_rows(&store, 0..rows, None, true) {
        let _ = fa.decompress(&ReadOptions::default());
    }
}
