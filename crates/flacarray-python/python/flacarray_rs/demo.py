"""Synthetic test data (the same values as flacarray 0.4.1's demo helpers for the
same arguments and seed)."""

import numpy as np

from .mpi import global_array_properties


def create_fake_data(
    local_shape, sigma=1.0, dtype=np.float64, seed=123456789, comm=None, dc_sigma=5,
):
    """Random test data, generated on rank 0 and split over axis 0.

    With ``sigma`` None: uniform values over the whole range of ``dtype`` (the first
    two elements are the minimum and maximum).  Otherwise, per stream: a random DC
    level (``dc_sigma * sigma`` wide; none if ``dc_sigma`` is None) plus a randomly
    scaled sum of two sines plus Gaussian noise of width ``sigma`` (float dtypes).

    Returns:
        (tuple): ``(local data, mpi_dist)``; a single local row is returned 1-D.
    """
    rank = 0 if comm is None else comm.rank
    props = global_array_properties(local_shape, dtype, comm)
    shape = tuple(props["shape"])
    dtype = props["dtype"]
    mpi_dist = props["dist"]
    n_total = int(np.prod(shape))
    n_samp = shape[-1]
    lead = shape[:-1]
    lead_ext = lead + (1,)
    rng = np.random.default_rng(seed=seed)
    full = None
    if rank == 0:
        if sigma is None:
            if dtype.kind == "i":
                lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
                flat = rng.integers(low=lo, high=hi, size=n_total, dtype=np.int64).astype(dtype)
            else:
                lo, hi = np.finfo(dtype).min, np.finfo(dtype).max
                flat = rng.uniform(low=lo, high=hi, size=n_total).astype(dtype)
            flat[0] = lo
            flat[1] = hi
            full = flat.reshape(shape)
        else:
            dc = 0 if dc_sigma is None else dc_sigma * sigma * (rng.random(size=lead_ext) - 0.5)
            t = np.arange(n_samp)
            f0 = 5 / n_samp
            wave = np.zeros(n_samp, dtype=dtype)
            wave[:] += 2 * sigma * np.sin(2 * np.pi * (3 * f0) * t)
            wave[:] += 6 * sigma * np.sin(2 * np.pi * f0 * t)
            scale = rng.random(size=lead_ext)
            full = np.empty(shape, dtype=dtype)
            full[...] = dc
            full[...] += scale * wave
            full[:] += rng.normal(0.0, sigma, n_total).reshape(shape)
    if comm is not None:
        full = comm.bcast(full, root=0)
    first, last = mpi_dist[rank]
    if first == last:
        return np.zeros((0,) + shape[1:], dtype=dtype), mpi_dist
    data = full[first:last]
    if data.ndim == 2 and data.shape[0] == 1:
        data = data.reshape((-1,))
    return data, mpi_dist


def plot_data(data, keep=None, stream_slc=slice(None), file=None):
    """Plot 1-D, 2-D or 3-D data stream by stream (needs matplotlib)."""
    import matplotlib.pyplot as plt

    data = np.asarray(data)
    if data.ndim > 3:
        raise NotImplementedError("Can only plot 1D and 2D arrays of streams")
    if data.ndim == 1:
        rows, cols, keys = 1, 1, [(stream_slc,)]
    elif data.ndim == 2:
        rows, cols, keys = data.shape[0], 1, [(i, stream_slc) for i in range(data.shape[0])]
    else:
        rows, cols = data.shape[1], data.shape[0]
        keys = [(c, r, stream_slc) for r in range(rows) for c in range(cols)]
    fig = plt.figure(figsize=(6 * cols, 4 * rows), dpi=100)
    for i, k in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1, aspect="auto")
        ax.plot(data[k], color="black")
    if file is None:
        plt.show()
    else:
        plt.savefig(file)
    plt.close()
