//! The names of the attributes and arrays of a stored flacarray group, the same in
//! every backend (HDF5 datasets, Zarr arrays) and in formats 0 and 1 (`hdf5_names` /
//! `zarr_names` in flacarray 0.4.1).

/// Group attribute: the format version (string `"1"`, or the integer 0 in format 0).
pub const ATTR_FORMAT_VERSION: &str = "flacarray_format_version";
/// Group attribute: the version of the software that wrote the group.
pub const ATTR_SOFTWARE_VERSION: &str = "flacarray_software_version";
/// Group attribute (format 1): FLAC channels per stream, `"1"` or `"2"`.
pub const ATTR_FLAC_CHANNELS: &str = "flac_channels";
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

/// Every array a flacarray group may hold.
pub const ALL_ARRAYS: [&str; 5] = [
    ARR_STARTS,
    ARR_NBYTES,
    ARR_OFFSETS,
    ARR_GAINS,
    ARR_COMPRESSED,
];
/// Every group attribute a flacarray group may hold.
pub const ALL_GROUP_ATTRS: [&str; 3] = [
    ATTR_FORMAT_VERSION,
    ATTR_SOFTWARE_VERSION,
    ATTR_FLAC_CHANNELS,
];
