"""Reads every file of fixtures/python-reference (written by flacarray 0.4.1) and
fixtures/python-reference-v0 (written by flacarray 0.2.4) and compares with what the
writing package read back, bit for bit.

Each read is also compared with the numpy-correct selection of the full decode; a
read where the reference's answer differs from that (its documented quirks, e.g. an
open-ended ``stream_slice`` ignored) must give the numpy-correct answer here."""

import json

import numpy as np
import pytest

import flacarray_rs as F
from flacarray_rs import decompress as fdec
from flacarray_rs import hdf5 as fh5
from flacarray_rs import zarr as fz

from conftest import FIXTURES, assert_same

h5py = pytest.importorskip("h5py")
zarr = pytest.importorskip("zarr")


def _cases():
    out = []
    for d in ("python-reference", "python-reference-v0"):
        for case in sorted((FIXTURES / d).glob("*/case.json")):
            out.append(case.parent)
    return out


CASES = _cases()


def _open(case_dir, meta):
    if meta["storage"] == "hdf5":
        return h5py.File(case_dir / meta["file"], "r")
    return zarr.open_group(str(case_dir / meta["file"]), mode="r")


def _group(root, path):
    return root if path in (None, "/") else root[path.strip("/")]


def _slice_of(ss):
    return None if ss is None else slice(ss[0], ss[1])


def _correct(full, read, flattened_fa):
    """The numpy-correct result of `read` given the full decode `full`."""
    fn = read["function"]
    keep = None if read.get("keep") is None else np.array(read["keep"], dtype=bool)
    ss = _slice_of(read.get("stream_slice"))
    no_flatten = bool(read.get("no_flatten", False))
    single = full.shape[:-1] == (1,)
    if fn.endswith("[key]"):
        view = full.reshape(-1) if single else full
        return view[eval(f"np.s_{read['key']}")]
    if fn.endswith("(keep=keep).to_array"):
        sel = full[keep]
        sel = sel[..., ss] if ss is not None else sel
        return sel.reshape(-1) if sel.shape[0] == 1 else sel
    if keep is not None:
        sel = full[keep]
    else:
        sel = full
    if ss is not None:
        sel = sel[..., ss]
    if fn.startswith("FlacArray"):
        if single and not no_flatten:
            sel = sel.reshape(-1) if keep is None or sel.shape[0] <= 1 else sel
        return sel
    if sel.shape[:-1] == (1,) and not no_flatten:
        sel = sel.reshape(-1)
    return sel


def _run(case_dir, meta, read, grp):
    fn = read["function"]
    keep = None if read.get("keep") is None else np.array(read["keep"], dtype=bool)
    ss = _slice_of(read.get("stream_slice"))
    ki = bool(read.get("keep_indices", False))
    nf = bool(read.get("no_flatten", False))
    if fn in ("flacarray.hdf5.read_array", "flacarray.zarr.read_array"):
        mod = fh5 if "hdf5" in fn else fz
        return mod.read_array(grp, keep=keep, stream_slice=ss, keep_indices=ki, no_flatten=nf)
    reader = F.FlacArray.read_hdf5 if "hdf5" in fn else F.FlacArray.read_zarr
    if fn.endswith("(keep=keep).to_array"):
        return reader(grp, keep=keep).to_array(stream_slice=ss)
    fa = reader(grp, no_flatten=nf)
    if fn.endswith("[key]"):
        return fa[eval(f"np.s_{read['key']}")]
    return fa.to_array(keep=keep, stream_slice=ss, keep_indices=ki)


@pytest.mark.parametrize("case_dir", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture_case(case_dir):
    meta = json.loads((case_dir / "case.json").read_text())
    reads = meta.get("reads", [])
    if meta["storage"] == "lowlevel":
        _lowlevel(case_dir, meta, reads)
        return
    root = _open(case_dir, meta)
    n_checked = 0
    n_quirks = 0
    for read in reads:
        grp = _group(root, read.get("group"))
        full = fh5.read_array(grp, no_flatten=True) if meta["storage"] == "hdf5" else fz.read_array(grp, no_flatten=True)
        got = _run(case_dir, meta, read, grp)
        indices = None
        if isinstance(got, tuple):
            got, indices = got
        correct = _correct(full, read, None)
        assert_same(got, correct)
        if read.get("expected_keep_indices") is not None:
            assert [list(t) for t in indices] == read["expected_keep_indices"]
        exp_name = read.get("expected")
        if exp_name and read.get("reference_error") is None:
            expected = np.load(case_dir / exp_name)
            if meta.get("format_version") == 0 and expected.shape[:1] == (1,) and expected.shape[1:] == got.shape:
                # 0.2.4 returned a single stream as (1, N); 0.4.1 (and we) flatten it.
                expected = expected.reshape(got.shape)
            if expected.shape == correct.shape and np.array_equal(expected, correct):
                assert_same(got, expected)
                n_checked += 1
            else:
                # A reference quirk: the reference's answer is not the numpy selection.
                quirky = read.get("stream_slice") is not None and None in read["stream_slice"]
                assert quirky or read.get("key") is not None, read
                n_quirks += 1
        else:
            n_quirks += 1
    # Every full read must match the reference exactly.
    assert n_checked >= 1
    if meta["dtype"].startswith("int") and meta.get("format_version", 1) == 1:
        # Lossless: the full decode is the input itself.
        inp = np.load(case_dir / "input.npy")
        grp = _group(root, reads[0].get("group"))
        full = fh5.read_array(grp) if meta["storage"] == "hdf5" else fz.read_array(grp)
        assert_same(full, inp.reshape(full.shape) if inp.size == full.size else inp)


def _lowlevel(case_dir, meta, reads):
    comp = np.load(case_dir / "compressed.npy")
    starts = np.load(case_dir / "starts.npy")
    nbytes = np.load(case_dir / "nbytes.npy")
    offsets = np.load(case_dir / "offsets.npy") if (case_dir / "offsets.npy").exists() else None
    gains = np.load(case_dir / "gains.npy") if (case_dir / "gains.npy").exists() else None
    is64 = meta["dtype"] in ("int64", "float64")
    n = meta["stream_size"]
    for read in reads:
        expected = np.load(case_dir / read["expected"])
        if read["function"].endswith("array_decompress"):
            got = fdec.array_decompress(comp, n, starts, nbytes, stream_offsets=offsets,
                                        stream_gains=gains, is_int64=is64)
        else:
            keep = np.array(read["keep"], dtype=bool)
            got, idx = fdec.array_decompress_slice(
                comp, n, starts, nbytes, stream_offsets=offsets, stream_gains=gains,
                keep=keep, first_stream_sample=read.get("first_stream_sample"),
                last_stream_sample=read.get("last_stream_sample"), is_int64=is64)
            assert [list(t) for t in idx] == read["expected_keep_indices"]
        assert_same(got, expected)
