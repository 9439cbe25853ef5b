//! The names of the objects in a flacarray group (`hdf5_names` in flacarray 0.4.1).

/// Group attribute: the format version (string `"1"`, or the integer 0 in format 0).
pub const ATTR_FORMAT_VERSION: &str = "flacarray_format_version";
/// Group attribute: the version of the software that wrote the group.
pub const ATTR_SOFTWARE_VERSION: &str = "flacarray_software_version";
/// Group attribute (format 1): FLAC channels per stream, `"1"` or `"2"`.
pub const ATTR_FLAC_CHANNELS: &str = "flac_channels";
/// Attribute of [`DS_STARTS`]: samples per stream.
pub const ATTR_STREAM_SIZE: &str = "stream_size";
/// Dataset: byte offset of each stream inside [`DS_COMPRESSED`].
pub const DS_STARTS: &str = "stream_starts";
/// Dataset: byte length of each stream.
pub const DS_NBYTES: &str = "stream_bytes";
/// Dataset (float data; int64 data in format 0): per-stream offsets.
pub const DS_OFFSETS: &str = "stream_offsets";
/// Dataset (float data): per-stream gains.
pub const DS_GAINS: &str = "stream_gains";
/// Dataset: all streams' FLAC bytes, concatenated.
pub const DS_COMPRESSED: &str = "compressed";

/// Every dataset a flacarray group may hold.
pub const ALL_DATASETS: [&str; 5] = [DS_STARTS, DS_NBYTES, DS_OFFSETS, DS_GAINS, DS_COMPRESSED];
/// Every group attribute a flacarray group may hold.
pub const ALL_GROUP_ATTRS: [&str; 3] = [
    ATTR_FORMAT_VERSION,
    ATTR_SOFTWARE_VERSION,
    ATTR_FLAC_CHANNELS,
];
