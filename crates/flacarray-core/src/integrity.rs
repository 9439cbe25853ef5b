//! Checksums of the stream tables and of the streams' bytes, written by this crate's
//! writers as the group attribute [`ATTR_CHECKSUMS`] (flacarray 0.4.1 ignores unknown
//! attributes) and checked by every read.
//!
//! The value is one short string, for example
//! `v1 dtype=float64 writer=flacarray-rs_0.1.0 table=0123456789abcdef streams=fedcba9876543210`:
//!
//! * `dtype`: the element type written. A float group whose `stream_offsets` and
//!   `stream_gains` were both deleted would otherwise read as int32 or int64.
//! * `writer`: the `flacarray_software_version` written with it (spaces as `_`). When a
//!   later writer that does not know this attribute (flacarray 0.4.1) rewrites the
//!   group, it replaces `flacarray_software_version` but leaves this attribute; the
//!   mismatch tells the reader the checksums are stale, and they are ignored.
//! * `table`: a 64-bit sum, modulo 2^64, over the streams of a hash of (flat stream
//!   index, start, byte count, offset bits, gain bits), plus a hash of the leading
//!   shape, stream size, dtype and format version. Binding each row's hash to its
//!   index catches permuted starts; the sum makes the value independent of how the
//!   rows were split between MPI ranks (each rank adds its rows, the parts are added).
//! * `streams`: the same kind of sum over the streams of a hash of (flat index, byte
//!   count, CRC-32 of the stream's bytes): catches a stream whose bytes changed and
//!   two equal-length streams swapped (each is now at the wrong index).
//!
//! These detect accidental damage and mix-ups, not deliberate forgery: anyone can
//! recompute them. The CRC-32 is `crc32fast` (already a dependency of the Zarr
//! codecs; SIMD, far faster than FLAC decoding, so checking every stream's bytes on a
//! whole read costs little). The row hash is the SplitMix64 finalizer chained over the
//! fields: a bijection per step, so any single changed field changes the row hash.

use crate::array::FlacArray;
use crate::dtype::{DType, StreamScaling};
use crate::store::{StoredMeta, StreamTable};

pub use crate::layout::ATTR_CHECKSUMS;

/// The SplitMix64 finalizer: a bijection of `u64` with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn chain(seed: u64, values: &[u64]) -> u64 {
    values.iter().fold(mix(seed), |h, &v| mix(h ^ v))
}

const TABLE_SEED: u64 = 0x7461_626c_6500_0001;
const HEADER_SEED: u64 = 0x6865_6164_6572_0001;
const STREAM_SEED: u64 = 0x7374_7265_616d_0001;

fn dtype_code(d: DType) -> u64 {
    match d {
        DType::Int32 => 1,
        DType::Int64 => 2,
        DType::Float32 => 3,
        DType::Float64 => 4,
    }
}

/// The part of the table checksum that does not depend on rows: leading shape,
/// stream size, dtype, format version.
#[must_use]
pub fn header_hash(meta: &StoredMeta) -> u64 {
    let mut v: Vec<u64> = vec![
        meta.leading_shape.len() as u64,
        meta.stream_size as u64,
        dtype_code(meta.dtype),
        u64::from(meta.format_version),
    ];
    v.extend(meta.leading_shape.iter().map(|&d| d as u64));
    chain(HEADER_SEED, &v)
}

/// The table checksum's sum over the rows of `t`, whose first stream is flat stream
/// `first` (a rank's slab; `0` for the whole table). Starts must be global (relative
/// to the stored byte array).
#[must_use]
pub fn table_part(t: &StreamTable, first: usize) -> u64 {
    let scaling = |i: usize| -> (u64, u64) {
        match &t.scaling {
            StreamScaling::None => (0, 0),
            StreamScaling::F32 { offsets, gains } => (
                offsets.get(i).map_or(0, |v| u64::from(v.to_bits())),
                gains.get(i).map_or(0, |v| u64::from(v.to_bits())),
            ),
            StreamScaling::F64 { offsets, gains } => (
                offsets.get(i).map_or(0, |v| v.to_bits()),
                gains.get(i).map_or(0, |v| v.to_bits()),
            ),
            StreamScaling::I64Offsets(o) => (o.get(i).map_or(0, |&v| v as u64), 0),
        }
    };
    let mut sum = 0u64;
    for (i, (&s, &b)) in t.starts.iter().zip(&t.nbytes).enumerate() {
        let (o, g) = scaling(i);
        sum = sum.wrapping_add(chain(TABLE_SEED, &[(first + i) as u64, s, b, o, g]));
    }
    sum
}

/// The hash of flat stream `flat`'s bytes, bound to its index.
#[must_use]
pub fn stream_hash(flat: usize, bytes: &[u8]) -> u64 {
    let crc = crc32fast::hash(bytes);
    chain(
        STREAM_SEED,
        &[flat as u64, bytes.len() as u64, u64::from(crc)],
    )
}

/// The checksums of an array, as recorded in [`ATTR_CHECKSUMS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksums {
    /// The dtype written.
    pub dtype: DType,
    /// `flacarray_software_version` written with them.
    pub writer: String,
    /// Table checksum (header hash plus [`table_part`] of every row).
    pub table: u64,
    /// Streams checksum (sum of [`stream_hash`] of every stream).
    pub streams: u64,
}

impl Checksums {
    /// The checksums of a whole array held in memory, whose stored software version
    /// will be `writer`.
    #[must_use]
    pub fn of(arr: &FlacArray, writer: &str) -> Self {
        let meta = StoredMeta {
            format_version: arr.format_version(),
            dtype: arr.dtype(),
            leading_shape: arr.leading_shape().to_vec(),
            stream_size: arr.stream_size(),
            total_bytes: arr.compressed().len() as u64,
        };
        let (t, s) = Self::parts(arr, 0, 0);
        Self {
            dtype: arr.dtype(),
            writer: writer.to_owned(),
            table: header_hash(&meta).wrapping_add(t),
            streams: s,
        }
    }

    /// The table and streams sums of the rows of `arr` when they are rows starting
    /// at flat stream `first` of a larger stored array, at byte `byte_offset` of its
    /// byte array (an MPI rank's part). Add the parts of all ranks (modulo 2^64) and
    /// [`header_hash`] of the whole array's metadata to get the checksums.
    #[must_use]
    pub fn parts(arr: &FlacArray, first: usize, byte_offset: u64) -> (u64, u64) {
        let table = StreamTable {
            starts: arr
                .stream_starts()
                .iter()
                .map(|&s| s.wrapping_add(byte_offset))
                .collect(),
            nbytes: arr.stream_nbytes().to_vec(),
            scaling: arr.scaling().clone(),
        };
        let bytes = arr.compressed();
        let mut streams = 0u64;
        for (i, (&s, &b)) in arr
            .stream_starts()
            .iter()
            .zip(arr.stream_nbytes())
            .enumerate()
        {
            let lo = usize::try_from(s).unwrap_or(usize::MAX);
            let hi = usize::try_from(s.saturating_add(b)).unwrap_or(usize::MAX);
            let part = bytes.get(lo..hi).unwrap_or(&[]);
            streams = streams.wrapping_add(stream_hash(first + i, part));
        }
        (table_part(&table, first), streams)
    }

    /// The attribute value.
    #[must_use]
    pub fn to_attr(&self) -> String {
        format!(
            "v1 dtype={} writer={} table={:016x} streams={:016x}",
            self.dtype,
            self.writer.replace(' ', "_"),
            self.table,
            self.streams
        )
    }

    /// Parses an attribute value.
    ///
    /// # Errors
    /// A message saying what is wrong with it.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut dtype = None;
        let mut writer = None;
        let mut table = None;
        let mut streams = None;
        let mut words = s.split_ascii_whitespace();
        if words.next() != Some("v1") {
            return Err(format!("{s:?} is not a version-1 checksum record"));
        }
        for w in words {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| format!("{w:?} is not key=value"))?;
            let hex = || u64::from_str_radix(v, 16).map_err(|_| format!("{w:?}: not hex"));
            match k {
                "dtype" => {
                    dtype = Some(match v {
                        "int32" => DType::Int32,
                        "int64" => DType::Int64,
                        "float32" => DType::Float32,
                        "float64" => DType::Float64,
                        _ => return Err(format!("unknown dtype {v:?}")),
                    });
                }
                "writer" => writer = Some(v.replace('_', " ")),
                "table" => table = Some(hex()?),
                "streams" => streams = Some(hex()?),
                _ => {}
            }
        }
        match (dtype, writer, table, streams) {
            (Some(dtype), Some(writer), Some(table), Some(streams)) => Ok(Self {
                dtype,
                writer,
                table,
                streams,
            }),
            _ => Err(format!("{s:?} lacks dtype, writer, table or streams")),
        }
    }
}

/// What a reader found in a group about checksums.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredChecksums {
    /// The value of [`ATTR_CHECKSUMS`], if present.
    pub attr: Option<String>,
    /// The group's `flacarray_software_version`, if present.
    pub software_version: Option<String>,
}
