"""Reading and writing the flacarray group layout, shared by the HDF5 and Zarr modules.

A stored array is a group holding the attributes ``flacarray_format_version``
(``"1"``; the integer 0 for files of flacarray <= 0.2), ``flacarray_software_version``
and ``flac_channels`` (format 1), and the arrays ``stream_starts`` (int64, leading
shape, attribute ``stream_size``), ``stream_bytes`` (int64, leading shape),
``stream_offsets`` / ``stream_gains`` (float data) and ``compressed`` (uint8, every
stream's FLAC bytes concatenated).  Other attributes on the group are never touched.
What flacarray-rs adds (``docs/format.md``) is written and read here too: format
``"2"``, the attributes ``flacarray_dtype`` and ``flacarray_rs_checksums`` and the
arrays ``stream_nonfinite`` / ``nonfinite_runs`` of kept NaN and infinity.

A backend object adapts h5py or zarr-python (see ``hdf5.py`` / ``zarr.py``).  With an
MPI communicator, rows (axis 0) are distributed by ``mpi_dist``; when only rank 0
holds the group, rank 0 does all the I/O and exchanges each rank's part with it.
"""

import numpy as np

from . import _native
from ._errors import CorruptDataError, FlacArrayError
from .compress import SUPPORTED_DTYPES, stored_dtype
from .decompress import make_engine
from .mpi import distribute_and_verify, global_bytes
from .utils import compressed_dtype

VERSION_ATTR = "flacarray_format_version"
SOFTWARE_ATTR = "flacarray_software_version"
CHANNELS_ATTR = "flac_channels"
STREAM_SIZE_ATTR = "stream_size"
STARTS = "stream_starts"
NBYTES = "stream_bytes"
OFFSETS = "stream_offsets"
GAINS = "stream_gains"
COMPRESSED = "compressed"
CHECKSUMS_ATTR = "flacarray_rs_checksums"
DTYPE_ATTR = "flacarray_dtype"
NF_FLAGS = "stream_nonfinite"
NF_RUNS = "nonfinite_runs"


class Backend:
    """Adapter over one group API (h5py or zarr-python): the defaults fit both, a
    subclass overrides what differs."""

    kind = "?"

    @staticmethod
    def attrs(grp):
        return grp.attrs

    @staticmethod
    def has(grp, name):
        return name in grp

    @staticmethod
    def get(grp, name):
        return grp[name]

    @staticmethod
    def read(ds, slc):
        shape = tuple(s.stop - s.start for s in slc)
        if any(n <= 0 for n in shape):
            return np.empty(tuple(max(n, 0) for n in shape), dtype=ds.dtype)
        return np.asarray(ds[slc])

    @staticmethod
    def create(grp, name, shape, dtype):
        return grp.create_dataset(name, shape, dtype=dtype)

    @staticmethod
    def write(ds, slc, data):
        if np.size(data) == 0:
            return
        ds[slc] = data

    @staticmethod
    def write_collective(dsets, fn):
        # Every rank writes its own rows and bytes (independent MPI-IO with h5py's
        # mpio driver): ranks without data write nothing, so no rank waits in a
        # collective call.  Creating the datasets and attributes before this is
        # collective.
        fn()


def _scalar_attr(v):
    if isinstance(v, np.ndarray):
        if v.size != 1:
            raise CorruptDataError(f"attribute value {v!r} is not a scalar")
        v = v.reshape(-1)[0]
    if isinstance(v, (bytes, np.bytes_)):
        v = v.decode("utf-8", "replace")
    return v


def _int_attr(attrs, name, what):
    if name not in attrs:
        raise CorruptDataError(f"corrupt flacarray data: missing attribute {name} ({what})")
    v = _scalar_attr(attrs[name])
    try:
        return int(str(v).strip()) if isinstance(v, str) else int(v)
    except (TypeError, ValueError):
        raise CorruptDataError(
            f"corrupt flacarray data: attribute {name} = {v!r} is not an integer"
        ) from None


def _comm_tools(comm):
    """(size, rank, point-to-point communicator safe for large messages)."""
    if comm is None:
        return 1, 0, None
    try:
        from mpi4py.util import pkl5

        p2p = pkl5.Intracomm(comm)
    except Exception:
        p2p = comm
    return comm.size, comm.rank, p2p


class Meta:
    """What a group stores, read from its attributes and array shapes."""

    def __init__(self, version, n_channels, stream_size, leading_shape, dtype,
                 param_dtype, total_bytes, software, logical=None, has_nonfinite=False):
        #: The element type reads return (``dtype`` or a type it carries).
        self.logical = np.dtype(dtype if logical is None else logical)
        #: Whether kept NaN/inf are stored (format 2).
        self.has_nonfinite = has_nonfinite
        self.version = version
        self.n_channels = n_channels
        self.stream_size = stream_size
        self.leading_shape = tuple(leading_shape)
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.total_bytes = total_bytes
        self.software = software

    @property
    def global_shape(self):
        return self.leading_shape + (self.stream_size,)

    @property
    def has_offsets(self):
        return self.param_dtype is not None

    def as_dict(self):
        return {
            "format_version": self.version,
            "software_version": self.software,
            "flac_channels": self.n_channels,
            "dtype": self.logical,
            "stored_dtype": self.dtype,
            "nonfinite": self.has_nonfinite,
            "shape": self.global_shape,
            "leading_shape": self.leading_shape,
            "stream_size": self.stream_size,
            "n_streams": int(np.prod(self.leading_shape)),
            "compressed_nbytes": self.total_bytes,
            "has_offsets": self.param_dtype is not None,
        }


def format_version(backend, grp):
    """The group's format version, or None when it holds no FlacArray."""
    attrs = backend.attrs(grp)
    if VERSION_ATTR not in attrs:
        return None
    return _int_attr(attrs, VERSION_ATTR, "format version")


def _check_lead(name, d, lead):
    """A per-stream array must have the leading shape of ``stream_starts``."""
    if tuple(d.shape) != lead:
        raise CorruptDataError(
            f"corrupt flacarray data: {name} shape {tuple(d.shape)} differs from "
            f"stream_starts shape {lead}"
        )


def read_meta(backend, grp):
    """Read and check a group's metadata (no stream bytes are read)."""
    version = format_version(backend, grp)
    if version is None:
        raise FlacArrayError(f"{backend.kind} Group does not contain a FlacArray")
    if version not in (0, 1, 2):
        raise FlacArrayError(f"unsupported flacarray format version {version}")
    for name in (STARTS, NBYTES, COMPRESSED):
        if not backend.has(grp, name):
            raise CorruptDataError(f"corrupt flacarray data: the group has no {name} array")
    attrs = backend.attrs(grp)
    software = _scalar_attr(attrs[SOFTWARE_ATTR]) if SOFTWARE_ATTR in attrs else None
    dstarts = backend.get(grp, STARTS)
    stream_size = _int_attr(dstarts.attrs, STREAM_SIZE_ATTR, "samples per stream")
    if stream_size < 0 or (stream_size == 0 and version < 2):
        raise CorruptDataError(f"corrupt flacarray data: stream_size {stream_size} is not positive")
    lead = tuple(int(x) for x in dstarts.shape)
    if len(lead) == 0:
        raise CorruptDataError("corrupt flacarray data: stream_starts is a scalar")
    dbytes = backend.get(grp, NBYTES)
    _check_lead("stream_bytes", dbytes, lead)
    for name, d in ((STARTS, dstarts), (NBYTES, dbytes)):
        if np.dtype(d.dtype).kind not in "iu":
            raise CorruptDataError(f"corrupt flacarray data: {name} has dtype {d.dtype}")
    dcomp = backend.get(grp, COMPRESSED)
    if len(dcomp.shape) != 1 or np.dtype(dcomp.dtype) != np.dtype(np.uint8):
        raise CorruptDataError("corrupt flacarray data: compressed is not a 1-D uint8 array")
    off_dt = None
    gain_dt = None
    for name in (OFFSETS, GAINS):
        if backend.has(grp, name):
            d = backend.get(grp, name)
            if tuple(d.shape) != lead:
                raise CorruptDataError(
                    f"corrupt flacarray data: {name} shape {tuple(d.shape)} differs from "
                    f"stream_starts shape {lead}"
                )
            if name == OFFSETS:
                off_dt = np.dtype(d.dtype)
            else:
                gain_dt = np.dtype(d.dtype)
    if version >= 1:
        n_channels = _int_attr(attrs, CHANNELS_ATTR, "FLAC channels")
        if n_channels not in (1, 2):
            raise CorruptDataError(f"corrupt flacarray data: flac_channels = {n_channels}")
        if (off_dt is None) != (gain_dt is None):
            raise CorruptDataError("corrupt flacarray data: offsets and gains must both be present")
        dtype = compressed_dtype(n_channels, off_dt, gain_dt)
        if off_dt is not None and (off_dt != dtype or gain_dt != dtype):
            raise CorruptDataError(
                f"corrupt flacarray data: {n_channels}-channel streams with {off_dt} offsets "
                f"and {gain_dt} gains"
            )
        param_dt = off_dt
    else:
        n_channels = 1
        if off_dt is None and gain_dt is None:
            dtype = np.dtype(np.int32)
        elif off_dt == np.dtype(np.int64) and gain_dt is None:
            dtype = np.dtype(np.int64)
        elif off_dt is not None and off_dt == gain_dt and off_dt.kind == "f" and off_dt.itemsize in (4, 8):
            dtype = off_dt
        else:
            raise CorruptDataError(
                f"corrupt flacarray data: format 0 offsets {off_dt} and gains {gain_dt}"
            )
        param_dt = off_dt
    logical, has_nf = _extension_meta(backend, grp, attrs, version, software, np.dtype(dtype), lead)
    return Meta(version, n_channels, stream_size, lead, np.dtype(dtype), param_dt,
                int(dcomp.shape[0]), software, logical=logical, has_nonfinite=has_nf)


def _checksums_current(attrs, software):
    """Whether the group's ``flacarray_rs_checksums`` record was written together
    with its ``flacarray_software_version`` (a later writer replacing the version
    makes the record, and the format-1 additions, stale)."""
    if CHECKSUMS_ATTR not in attrs or software is None:
        return False
    value = str(_scalar_attr(attrs[CHECKSUMS_ATTR]))
    for word in value.split()[1:]:
        key, _, v = word.partition("=")
        if key == "writer":
            return v.replace("_", " ") == str(software)
    return False


def _extension_meta(backend, grp, attrs, version, software, dtype, lead):
    """The element type reads return and whether kept NaN/inf are stored: the
    additions of ``docs/format.md`` (always honoured in format 2, in format 1 only
    while the checksum record is current)."""
    if version < 1 or (version == 1 and not _checksums_current(attrs, software)):
        return dtype, False
    logical = dtype
    if DTYPE_ATTR in attrs:
        name = str(_scalar_attr(attrs[DTYPE_ATTR]))
        if name not in SUPPORTED_DTYPES:
            raise CorruptDataError(
                f"corrupt flacarray data: attribute {DTYPE_ATTR}: unknown type {name!r}"
            )
        logical = np.dtype(name)
        if stored_dtype(logical) != dtype:
            raise CorruptDataError(
                f"corrupt flacarray data: attribute {DTYPE_ATTR}: {name} data is stored as "
                f"{stored_dtype(logical)}, not {dtype}"
            )
    has_f = backend.has(grp, NF_FLAGS)
    has_r = backend.has(grp, NF_RUNS)
    if has_f != has_r:
        raise CorruptDataError(
            f"corrupt flacarray data: {NF_FLAGS} and {NF_RUNS} must both be present"
        )
    if has_f:
        if version < 2:
            raise CorruptDataError(
                f"corrupt flacarray data: {NF_FLAGS} in a format-1 group (0.4.1 would read "
                "the filled values)"
            )
        if dtype.kind != "f":
            raise CorruptDataError(f"corrupt flacarray data: {NF_FLAGS} over {dtype} data")
        df = backend.get(grp, NF_FLAGS)
        dr = backend.get(grp, NF_RUNS)
        _check_lead(NF_FLAGS, df, lead)
        for name, d in ((NF_FLAGS, df), (NF_RUNS, dr)):
            if np.dtype(d.dtype) != np.dtype(np.uint8):
                raise CorruptDataError(f"corrupt flacarray data: {name} has dtype {d.dtype}")
        if len(dr.shape) != 1:
            raise CorruptDataError(f"corrupt flacarray data: {NF_RUNS} is not 1-D")
    return logical, has_f


def _read_nonfinite(backend, grp, meta, flat_indices):
    """The checked non-finite flags and runs of the flat streams ``flat_indices``
    (every stored stream's runs are parsed and checked)."""
    df = backend.get(grp, NF_FLAGS)
    dr = backend.get(grp, NF_RUNS)
    full = tuple(slice(0, int(n)) for n in df.shape)
    flags = np.ascontiguousarray(backend.read(df, full), dtype=np.uint8).reshape(-1)
    runs = np.ascontiguousarray(
        backend.read(dr, (slice(0, int(dr.shape[0])),)), dtype=np.uint8
    ).reshape(-1)
    try:
        f, r = _native.nonfinite_select(
            flags, runs, int(meta.stream_size), [int(x) for x in meta.leading_shape],
            meta.dtype.itemsize == 8, [int(i) for i in flat_indices],
        )
    except FlacArrayError as e:
        raise CorruptDataError(str(e)) from None
    return f, r


def _coalesce(starts, nbytes):
    """Runs of consecutive streams whose bytes are adjacent: (file_start, length)."""
    runs = []
    for s, n in zip(starts.tolist(), nbytes.tolist()):
        if runs and runs[-1][0] + runs[-1][1] == s:
            runs[-1][1] += n
        else:
            runs.append([s, n])
    return runs


def read_rows(backend, grp, meta, r0, r1, keep_part):
    """Read rows ``r0:r1`` (kept streams only, with ``keep_part`` over those rows).

    Returns a dict (``shape``, ``compressed``, ``starts`` relative to the returned
    bytes, ``nbytes``, ``offsets``, ``gains``, ``indices``, ``reads``) or None when
    the range is empty.
    """
    if r1 < r0 or (r1 == r0 and (meta.leading_shape[0] != 0 or meta.version < 2)):
        return None
    slab = (slice(r0, r1),) + tuple(slice(0, int(n)) for n in meta.leading_shape[1:])
    starts = np.asarray(backend.read(backend.get(grp, STARTS), slab)).astype(np.int64)
    nbytes = np.asarray(backend.read(backend.get(grp, NBYTES), slab)).astype(np.int64)
    offsets = None
    gains = None
    if backend.has(grp, OFFSETS):
        offsets = np.asarray(backend.read(backend.get(grp, OFFSETS), slab))
    if backend.has(grp, GAINS):
        gains = np.asarray(backend.read(backend.get(grp, GAINS), slab))
    total = meta.total_bytes
    bad = (starts < 0) | (nbytes < 0) | (starts + nbytes > total)
    if np.any(bad):
        idx = tuple(int(v) for v in np.argwhere(bad)[0])
        idx = (idx[0] + r0,) + idx[1:]
        s = int(starts[tuple(np.argwhere(bad)[0])])
        n = int(nbytes[tuple(np.argwhere(bad)[0])])
        raise CorruptDataError(
            f"corrupt flacarray data: stream {idx}: bytes {s}..{s}+{n} lie outside the "
            f"{total} compressed bytes"
        )
    dcomp = backend.get(grp, COMPRESSED)
    indices = None
    nonfinite = None
    if meta.has_nonfinite:
        per = int(np.prod(meta.leading_shape[1:], dtype=np.int64))
        flat = np.arange(r0 * per, r1 * per, dtype=np.int64).reshape(starts.shape)
        if keep_part is not None:
            flat = flat[np.asarray(keep_part).astype(bool)]
        f, r = _read_nonfinite(backend, grp, meta, flat.reshape(-1))
        nonfinite = (f.reshape(flat.shape), r)
    if keep_part is not None:
        mask = np.asarray(keep_part).astype(bool)
        indices = [tuple(int(v) for v in row) for row in np.argwhere(mask)]
        starts = starts[mask]
        nbytes = nbytes[mask]
        if offsets is not None:
            offsets = offsets[mask]
        if gains is not None:
            gains = gains[mask]
    flat_s = starts.reshape(-1)
    flat_n = nbytes.reshape(-1)
    # The result holds the streams back to back in order; runs of streams that are
    # also back to back in the file are read with one call each.
    rel = np.zeros_like(flat_n)
    if flat_n.size > 1:
        rel[1:] = np.cumsum(flat_n)[:-1]
    data = np.empty(int(flat_n.sum()), dtype=np.uint8)
    runs = _coalesce(flat_s, flat_n)
    pos = 0
    for s, n in runs:
        if n > 0:
            data[pos : pos + n] = backend.read(dcomp, (slice(s, s + n),))
        pos += n
    return {
        "shape": tuple(starts.shape),
        "compressed": data,
        "starts": rel.reshape(starts.shape),
        "nbytes": nbytes,
        "offsets": offsets,
        "gains": gains,
        "indices": indices,
        "reads": sum(1 for r in runs if r[1] > 0),
        "nonfinite": nonfinite,
    }


def _empty_part(meta):
    lead = (0,) + meta.leading_shape[1:]
    part = {
        "shape": None,
        "compressed": np.zeros(0, dtype=np.uint8),
        "starts": np.zeros(lead, dtype=np.int64),
        "nbytes": np.zeros(lead, dtype=np.int64),
        "offsets": None,
        "gains": None,
        "indices": None,
        "nonfinite": None,
    }
    if meta.has_nonfinite:
        part["nonfinite"] = (np.zeros(lead, dtype=np.uint8), np.zeros(0, dtype=np.uint8))
    if meta.param_dtype is not None:
        part["offsets"] = np.zeros(lead, dtype=meta.param_dtype)
        if meta.version == 1 or meta.dtype.kind == "f":
            part["gains"] = np.zeros(lead, dtype=meta.param_dtype)
    return part


def read_distributed(backend, grp, keep=None, mpi_comm=None, mpi_dist=None, parallel=False):
    """Read this rank's part of a stored array.

    ``parallel``: every rank holds the group and reads its own rows; otherwise rank 0
    reads every rank's rows and sends them.  Returns ``(meta, part, mpi_dist)``.
    """
    nproc, rank, p2p = _comm_tools(mpi_comm)
    meta = None
    err = None
    if parallel or rank == 0:
        try:
            meta = read_meta(backend, grp)
        except Exception as e:  # noqa: BLE001 - re-raised on every rank below
            err = e
    if nproc > 1 and not parallel:
        err = mpi_comm.bcast(err, root=0)
        meta = mpi_comm.bcast(meta, root=0)
    if err is not None:
        raise err
    lead = meta.leading_shape
    if keep is not None:
        keep = np.asarray(keep)
        if keep.shape != lead:
            raise FlacArrayError(
                f"The keep array has shape {keep.shape}, not the leading shape {lead} of "
                "the stored array"
            )
    dist = distribute_and_verify(mpi_comm, lead[0], mpi_dist=mpi_dist)
    dist_t = [(int(a), int(b)) for a, b in dist]

    def rows_of(proc):
        r0, r1 = dist_t[proc]
        kp = None if keep is None else keep[r0:r1]
        return read_rows(backend, grp, meta, r0, r1, kp)

    if nproc == 1 or parallel:
        part = rows_of(rank)
    else:
        part = None
        if rank == 0:
            for proc in range(nproc):
                if dist_t[proc][1] <= dist_t[proc][0]:
                    continue
                err = None
                try:
                    p = rows_of(proc)
                except Exception as e:  # noqa: BLE001 - sent to the rank that needs it
                    p, err = None, e
                if proc == 0:
                    part, own_err = p, err
                else:
                    p2p.send((p, err), dest=proc, tag=7 * proc)
            if dist_t[0][1] > dist_t[0][0] and own_err is not None:
                raise own_err
        elif dist_t[rank][1] > dist_t[rank][0]:
            part, err = p2p.recv(source=0, tag=7 * rank)
            if err is not None:
                raise err
    if part is None:
        part = _empty_part(meta)
    return meta, part, dist


def _local_parts(compressed, starts, nbytes, offsets, gains, leading_shape, global_lead):
    """Reshape a rank's parts to its local leading shape ((1,) for a 1-D array)."""
    lead = tuple(leading_shape) if len(leading_shape) > 0 else (1,)
    if np.size(starts) == 0:
        lead = (0,) + tuple(global_lead[1:])
    out = {
        "compressed": np.ascontiguousarray(compressed, dtype=np.uint8).reshape(-1),
        "starts": np.asarray(starts, dtype=np.int64).reshape(lead),
        "nbytes": np.asarray(nbytes, dtype=np.int64).reshape(lead),
        "offsets": None if offsets is None else np.asarray(offsets).reshape(lead),
        "gains": None if gains is None else np.asarray(gains).reshape(lead),
    }
    return out


def write_distributed(backend, grp, software_version, leading_shape, global_leading_shape,
                      stream_size, stream_starts, stream_nbytes, stream_offsets, stream_gains,
                      compressed, n_channels, mpi_comm, mpi_dist, parallel=False, dtype=None,
                      format_version=1, nonfinite=None):
    """Write every rank's part into one group.

    Each rank's streams land at its rows ``mpi_dist[rank]`` and its bytes after the
    bytes of all lower ranks.  ``parallel``: every rank holds the group (MPI-IO) and
    writes its own part; otherwise rank 0 receives and writes everything.

    ``dtype`` is the caller's element type (None: the stored one), ``format_version``
    this rank's format (1, or 2 with what 0.4.1 cannot read) and ``nonfinite`` this
    rank's kept NaN/inf ``(flags, runs)``.  The group gets what flacarray-rs's own
    writers write: format 2 if any rank needs it (or an axis has length 0), the
    attribute ``flacarray_dtype`` for a type carried by a stored one, the arrays of
    kept NaN/inf, and the checksum attribute ``flacarray_rs_checksums``.
    """
    nproc, rank, p2p = _comm_tools(mpi_comm)
    glead = tuple(int(x) for x in global_leading_shape)
    if len(glead) == 0:
        glead = (1,)
    part = _local_parts(compressed, stream_starts, stream_nbytes, stream_offsets,
                        stream_gains, leading_shape, glead)
    local_nbytes = int(part["compressed"].size)
    global_nbytes, proc_nbytes, _ = global_bytes(local_nbytes, part["starts"], mpi_comm)
    proc_nbytes = [int(x) for x in proc_nbytes]
    byte_off = [int(sum(proc_nbytes[:p])) for p in range(nproc)]
    has_params = part["offsets"] is not None
    param_dtype = part["offsets"].dtype if has_params else None
    if nproc > 1:
        has_params = any(mpi_comm.allgather(has_params))
        dts = [d for d in mpi_comm.allgather(None if param_dtype is None else param_dtype.str) if d]
        param_dtype = np.dtype(dts[0]) if dts else None
    dist = [(int(a), int(b)) for a, b in mpi_dist] if mpi_dist is not None else [(0, glead[0])]
    r0_mine, r1_mine = dist[rank]
    stored = compressed_dtype(n_channels, param_dtype, param_dtype)
    logical = stored if dtype is None else np.dtype(dtype)
    if stored_dtype(logical) != stored:
        raise FlacArrayError(f"{logical} data is stored as {stored_dtype(logical)}, not {stored}")
    # This rank's part of the checksums (its rows are flat streams from r0 * per on).
    per = int(np.prod(glead[1:], dtype=np.int64))
    empty = int(stream_size) == 0 or any(int(x) == 0 for x in glead)
    sums = (0, 0)
    if r1_mine > r0_mine:
        eng = make_engine(part["compressed"], stream_size, part["starts"], part["nbytes"],
                          part["offsets"], part["gains"], stored, part["starts"].shape,
                          version=2 if empty else 1)
        sums = eng.checksum_parts(r0_mine * per, byte_off[rank])
    has_nf = nonfinite is not None
    nf_len = 0 if nonfinite is None else int(np.size(nonfinite[1]))
    part["nonfinite"] = None
    if has_nf:
        part["nonfinite"] = (
            np.asarray(nonfinite[0], dtype=np.uint8).reshape(part["starts"].shape),
            np.ascontiguousarray(nonfinite[1], dtype=np.uint8).reshape(-1),
        )
    version = int(format_version)
    if nproc > 1:
        gathered = mpi_comm.allgather((sums, has_nf, nf_len, version))
    else:
        gathered = [(sums, has_nf, nf_len, version)]
    mask = (1 << 64) - 1
    table = sum(g[0][0] for g in gathered) & mask
    streams = sum(g[0][1] for g in gathered) & mask
    has_nf = any(g[1] for g in gathered)
    nf_off = [int(sum(g[2] for g in gathered[:p])) for p in range(nproc)]
    nf_total = int(sum(g[2] for g in gathered))
    version = 2 if (empty or has_nf or any(g[3] >= 2 for g in gathered)) else 1
    checksums = _native.checksum_attr(
        version, stored.name, [int(x) for x in glead], int(stream_size), int(global_nbytes),
        table, streams, software_version,
    )
    dtype_attr = None if logical.name == stored.name else logical.name

    dsets = None
    if parallel or rank == 0:
        dsets = _create(backend, grp, software_version, n_channels, glead, int(stream_size),
                        int(global_nbytes), param_dtype if has_params else None,
                        version=version, checksums=checksums, dtype_attr=dtype_attr,
                        nf_total=nf_total if has_nf else None)

    def write_part(proc, p):
        r0, r1 = dist[proc]
        if p is None or r1 <= r0:
            return False
        rows = (slice(r0, r1),) + tuple(slice(0, x) for x in glead[1:])
        gstarts = p["starts"] + byte_off[proc]
        backend.write(dsets[STARTS], rows, gstarts)
        backend.write(dsets[NBYTES], rows, p["nbytes"])
        if OFFSETS in dsets and p["offsets"] is not None:
            backend.write(dsets[OFFSETS], rows, p["offsets"].astype(param_dtype))
            backend.write(dsets[GAINS], rows, p["gains"].astype(param_dtype))
        if NF_FLAGS in dsets:
            nf = p.get("nonfinite")
            if nf is None:
                backend.write(dsets[NF_FLAGS], rows, np.zeros(p["starts"].shape, dtype=np.uint8))
            else:
                backend.write(dsets[NF_FLAGS], rows, nf[0])
                o = nf_off[proc]
                backend.write(dsets[NF_RUNS], (slice(o, o + nf[1].size),), nf[1])
        n = p["compressed"].size
        if n > 0:
            backend.write(dsets[COMPRESSED], (slice(byte_off[proc], byte_off[proc] + n),),
                          p["compressed"])
        return True

    if parallel:
        backend.write_collective(dsets, lambda: write_part(rank, part))
        if mpi_comm is not None:
            mpi_comm.barrier()
        return
    if rank == 0:
        for proc in range(nproc):
            if proc == 0:
                write_part(0, part)
            elif dist[proc][1] > dist[proc][0]:
                write_part(proc, p2p.recv(source=proc, tag=5 * proc))
    elif r1_mine > r0_mine:
        p2p.send(part, dest=0, tag=5 * rank)
    if mpi_comm is not None:
        mpi_comm.barrier()


def _create(backend, grp, software_version, n_channels, glead, stream_size, global_nbytes,
            param_dtype, version=1, checksums=None, dtype_attr=None, nf_total=None):
    attrs = backend.attrs(grp)
    attrs[VERSION_ATTR] = f"{int(version)}"
    attrs[SOFTWARE_ATTR] = software_version
    attrs[CHANNELS_ATTR] = f"{int(n_channels)}"
    if checksums is not None:
        attrs[CHECKSUMS_ATTR] = checksums
    if dtype_attr is not None:
        attrs[DTYPE_ATTR] = dtype_attr
    dsets = {}
    if nf_total is not None:
        dsets[NF_FLAGS] = backend.create(grp, NF_FLAGS, glead, np.uint8)
        dsets[NF_RUNS] = backend.create(grp, NF_RUNS, (nf_total,), np.uint8)
    dsets[STARTS] = backend.create(grp, STARTS, glead, np.int64)
    dsets[STARTS].attrs[STREAM_SIZE_ATTR] = int(stream_size)
    dsets[NBYTES] = backend.create(grp, NBYTES, glead, np.int64)
    if param_dtype is not None:
        dsets[OFFSETS] = backend.create(grp, OFFSETS, glead, param_dtype)
        dsets[GAINS] = backend.create(grp, GAINS, glead, param_dtype)
    dsets[COMPRESSED] = backend.create(grp, COMPRESSED, (global_nbytes,), np.uint8)
    return dsets
