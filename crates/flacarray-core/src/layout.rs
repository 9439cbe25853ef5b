//! The names of the attributes and arrays of a stored flacarray group, the same in
//! every backend (HDF5 datasets, Zarr arrays) and in formats 0 and 1 (`hdf5_names` /
//! `zarr_names` in flacarray 0.4.1), and the rule that gives a stored group's dtype.

use crate::DType;

/// The format version this project writes: stored as the string `"1"` in
/// [`ATTR_FORMAT_VERSION`] (format 0, read only, stored the integer 0).
pub const FORMAT_VERSION: u32 = 1;
/// The value written to [`ATTR_SOFTWARE_VERSION`]: `"flacarray-rs "` and the version
/// of this workspace. flacarray 0.4.1 stores the attribute but never interprets it.
pub const SOFTWARE_VERSION: &str = concat!("flacarray-rs ", env!("CARGO_PKG_VERSION"));

/// Group attribute: the format version (string `"1"`, or the integer 0 in format 0).
pub const ATTR_FORMAT_VERSION: &str = "flacarray_format_version";
/// Group attribute: the version of the software that wrote the group.
pub const ATTR_SOFTWARE_VERSION: &str = "flacarray_software_version";
/// Group attribute (format 1): FLAC channels per stream, `"1"` or `"2"`.
pub const ATTR_FLAC_CHANNELS: &str = "flac_channels";
/// Group attribute written by flacarray-rs only (ignored by flacarray 0.4.1): the
/// checksums of the stream tables and bytes ([`crate::integrity`]).
pub const ATTR_CHECKSUMS: &str = "flacarray_rs_checksums";
/// Attribute of [`ARR_STARTS`]: samples per stream.
pub const ATTR_STREAM_SIZE: &str = "stream_size";
/// Array: byte offset of each stream inside [`ARR_COMPRESSED`] (int64, leading shape).
pub const ARR_STARTS: &str = "stream_starts";
/// Array: byte length of each stream (int64, leading shape).
pub const ARR_NBYTES: &str = "stream_bytes";
/// Array (float data; int64 data in format 0): per-stream offsets.
pub const ARR_OFFSETS: &str = "stream_offsets";
/// Array (float data): per-stream gains (`1/quanta`).
pub const ARR_GAINS: &str = "stream_gains";
/// Array: all streams' FLAC bytes, concatenated (uint8, 1-d).
pub const ARR_COMPRESSED: &str = "compressed";
/// Group attribute written by flacarray-rs only, in format 1 or 2, for an array whose
/// element type is carried by the stored one ([`crate::LogicalDType`]): numpy's name
/// of that type (`"uint16"`, `"bool"`, `"float16"`, ...).
pub const ATTR_DTYPE: &str = "flacarray_dtype";
/// Array (format 2, float data with kept NaN/inf only): per-stream flag, uint8,
/// leading shape: 0 no non-finite sample, 1 some, 2 all ([`crate::NonFiniteFlag`]).
pub const ARR_NONFINITE_FLAGS: &str = "stream_nonfinite";
/// Array (format 2, with [`ARR_NONFINITE_FLAGS`]): the runs of non-finite samples of
/// every flagged stream (uint8, 1-d; encoding in [`crate::NonFinite`]).
pub const ARR_NONFINITE_RUNS: &str = "nonfinite_runs";

/// Every array a flacarray group may hold.
pub const ALL_ARRAYS: [&str; 7] = [
    ARR_STARTS,
    ARR_NBYTES,
    ARR_OFFSETS,
    ARR_GAINS,
    ARR_COMPRESSED,
    ARR_NONFINITE_FLAGS,
    ARR_NONFINITE_RUNS,
];
/// Every group attribute a flacarray group may hold.
pub const ALL_GROUP_ATTRS: [&str; 5] = [
    ATTR_FORMAT_VERSION,
    ATTR_SOFTWARE_VERSION,
    ATTR_FLAC_CHANNELS,
    ATTR_CHECKSUMS,
    ATTR_DTYPE,
];

/// The element type of a stored group from its format version, its FLAC channels per
/// stream and the element types of its `stream_offsets` and `stream_gains` arrays
/// (`None` when absent), as flacarray infers it.
///
/// Format 1 (`compressed_dtype` in flacarray 0.4.1): 1 channel without offsets and
/// gains → int32, with float32 ones → float32; 2 channels without → int64, with
/// float64 ones → float64. Format 0 (always 1 channel): nothing → int32, int64 offsets
/// only → int64, float32 offsets and gains → float32, float64 → float64.
///
/// # Errors
/// Any other combination, with a message naming what was found.
pub fn infer_dtype(
    version: u32,
    channels: u32,
    offsets: Option<&str>,
    gains: Option<&str>,
) -> Result<DType, String> {
    Ok(match (version, channels, offsets, gains) {
        (0..=2, 1, None, None) => DType::Int32,
        (1 | 2, 2, None, None) | (0, 1, Some("int64"), None) => DType::Int64,
        (0..=2, 1, Some("float32"), Some("float32")) => DType::Float32,
        (1 | 2, 2, Some("float64"), Some("float64")) | (0, 1, Some("float64"), Some("float64")) => {
            DType::Float64
        }
        _ => {
            return Err(format!(
                "format {version} with {channels} FLAC channel(s), stream_offsets {} and \
                 stream_gains {} matches no known dtype",
                offsets.unwrap_or("absent"),
                gains.unwrap_or("absent"),
            ));
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn dtype_table_format_1() {
        let f = |ch, o, g| infer_dtype(1, ch, o, g);
        assert_eq!(f(1, None, None), Ok(DType::Int32));
        assert_eq!(f(2, None, None), Ok(DType::Int64));
        assert_eq!(f(1, Some("float32"), Some("float32")), Ok(DType::Float32));
        assert_eq!(f(2, Some("float64"), Some("float64")), Ok(DType::Float64));
        // Mismatches: float type against channels, one without the other, int64
        // offsets (format 0 only), unknown channel counts.
        for (ch, o, g) in [
            (1, Some("float64"), Some("float64")),
            (2, Some("float32"), Some("float32")),
            (1, Some("float32"), None),
            (1, None, Some("float32")),
            (1, Some("float32"), Some("float64")),
            (2, Some("int64"), None),
            (3, None, None),
            (0, None, None),
        ] {
            let err = f(ch, o, g).unwrap_err();
            assert!(err.contains("matches no known dtype"), "{err}");
            assert!(err.contains(&format!("{ch} FLAC channel(s)")), "{err}");
        }
    }

    #[test]
    fn dtype_table_format_0() {
        let f = |o, g| infer_dtype(0, 1, o, g);
        assert_eq!(f(None, None), Ok(DType::Int32));
        assert_eq!(f(Some("int64"), None), Ok(DType::Int64));
        assert_eq!(f(Some("float32"), Some("float32")), Ok(DType::Float32));
        assert_eq!(f(Some("float64"), Some("float64")), Ok(DType::Float64));
        assert!(f(Some("int64"), Some("float64")).is_err());
        assert!(f(None, Some("float32")).is_err());
        assert!(f(Some("float32"), Some("float64")).is_err());
        // Format 0 has one channel only; versions above 1 are unknown.
        assert!(infer_dtype(0, 2, None, None).is_err());
        assert!(infer_dtype(3, 1, None, None).is_err());
        // Format 2 is format 1's layout.
        assert_eq!(infer_dtype(2, 2, None, None), Ok(DType::Int64));
    }
}
