//! The names of the attributes and arrays of a flacarray group (the same in HDF5 and
//! Zarr, format 0 and 1).

/// Group attribute: format version (`"1"`, or the integer 0 for flacarray 0.2.x).
pub const ATTR_FORMAT_VERSION: &str = "flacarray_format_version";
/// Group attribute: version of the software that wrote the group.
pub const ATTR_SOFTWARE_VERSION: &str = "flacarray_software_version";
/// Group attribute (format 1): FLAC channels per stream, `"1"` or `"2"`.
pub const ATTR_FLAC_CHANNELS: &str = "flac_channels";
/// Attribute of [`ARR_STARTS`]: samples per stream.
pub const ATTR_STREAM_SIZE: &str = "stream_size";
/// Array: byte offset of each stream in [`ARR_COMPRESSED`] (int64, leading shape).
pub const ARR_STARTS: &str = "stream_starts";
/// Array: byte length of each stream (int64, leading shape).
pub const ARR_NBYTES: &str = "stream_bytes";
/// Array (float data, format-0 int64 data): per-stream offsets.
pub const ARR_OFFSETS: &str = "stream_offsets";
/// Array (float data): per-stream gains (`1/quanta`).
pub const ARR_GAINS: &str = "stream_gains";
/// Array: all FLAC streams concatenated (uint8, 1-d).
pub const ARR_COMPRESSED: &str = "compressed";

/// Every array a flacarray group may hold.
pub const ALL_ARRAYS: [&str; 5] = [
    ARR_STARTS,
    ARR_NBYTES,
    ARR_OFFSETS,
    ARR_GAINS,
    ARR_COMPRESSED,
];

/// The format version this crate writes.
pub const FORMAT_VERSION: &str = "1";
/// The value written to `flacarray_software_version` (as the HDF5 backend writes it).
pub const SOFTWARE_VERSION: &str = concat!("flacarray-rs ", env!("CARGO_PKG_VERSION"));
