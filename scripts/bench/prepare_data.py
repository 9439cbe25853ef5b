"""Builds the benchmark inputs under bench-data/ (see docs/benchmarks.md).

Run by scripts/bench-vs-python.sh with the bench venv's Python (numpy and
flacarray 0.4.1). Every recording comes from a file shipped inside a package of a
public registry, fetched with that registry's own client:

* ECG: ``scipy/misc/ecg.dat`` of the scipy 1.10.1 wheel (PyPI; scipy < 1.12 ships
  it): 108000 samples of one MIT-BIH lead at 360 Hz, raw 11-bit ADC counts (uint16).
* Seismograms: ``obspy/signal/tests/data/CRLZ.HHZ.10.NZ.SAC`` (32768 samples, 100
  Hz broadband, counts) and ``obspy/realtime/tests/data/II.TLY.BHZ.SAC`` (12684
  samples, 20 Hz teleseism, counts) of the obspy 1.5.1 wheel (PyPI).
* Speech: the eight spoken WAV files ``/usr/share/sounds/alsa/{Front,Rear,Side}_*.wav``
  of the Debian package ``alsa-utils`` (48 kHz, 16-bit mono, a human voice saying
  the channel's name; ``Noise.wav`` is left out), concatenated in name order.

A recording of L samples becomes R rows of N int32 samples: row r is the recording
read circularly from offset r * L // R (so rows differ, and a row longer than the
recording wraps around). Shapes give ~64 MB of rows (``--quick``: 1/8 of that).
``seismic-f64.npy`` is the seismograms as float64 (counts times 1e-9), for the
64-bit path. ``long.npy`` is one 1-d stream of 5e7 samples (the speech, wrapped around). The
synthetic float32 timestreams are flacarray 0.4.1's
``flacarray.demo.create_fake_data((100, 250000), dtype=np.float32)``, compressed
with quanta 1e-4.

Writes DIR/NAME.npy (or NAME-quick.npy) and DIR/SOURCES.md; skips files present.
"""

import argparse
import glob
import io
import os
import shutil
import subprocess
import sys
import wave
import zipfile

import numpy as np

SCIPY = "scipy==1.10.1"
OBSPY = "obspy==1.5.1"
SAC_FILES = [
    "obspy/signal/tests/data/CRLZ.HHZ.10.NZ.SAC",
    "obspy/realtime/tests/data/II.TLY.BHZ.SAC",
]
SPEECH = [
    "Front_Center",
    "Front_Left",
    "Front_Right",
    "Rear_Center",
    "Rear_Left",
    "Rear_Right",
    "Side_Left",
    "Side_Right",
]


def pip_download(spec, dl):
    """Fetches the wheel of SPEC (no dependencies) into DL, returns its path."""
    name = spec.split("==")[0]
    ver = spec.split("==")[1]
    found = glob.glob(os.path.join(dl, f"{name}-{ver}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--disable-pip-version-check", "--only-binary=:all:", "-d", dl, spec],
            check=True,
        )
        found = glob.glob(os.path.join(dl, f"{name}-{ver}-*.whl"))
    if not found:
        raise SystemExit(f"prepare_data: pip download {spec} gave no wheel")
    return found[0]


def alsa_wavs(dl):
    """Returns {name: bytes} of the spoken WAVs and where they came from."""
    src = "/usr/share/sounds/alsa"
    debs = sorted(glob.glob(os.path.join(dl, "alsa-utils_*.deb")))
    if not debs:
        r = subprocess.run(["apt-get", "download", "alsa-utils"], cwd=dl,
                           capture_output=True, text=True)
        debs = sorted(glob.glob(os.path.join(dl, "alsa-utils_*.deb")))
        if not debs:
            sys.stderr.write(r.stderr)
    if debs:
        out = os.path.join(dl, "alsa-utils")
        if not os.path.isdir(os.path.join(out, "usr/share/sounds/alsa")):
            subprocess.run(["dpkg-deb", "-x", debs[-1], out], check=True)
        src = os.path.join(out, "usr/share/sounds/alsa")
        origin = f"Debian package {os.path.basename(debs[-1])}"
    elif os.path.isfile(os.path.join(src, "Front_Center.wav")):
        origin = "installed Debian package alsa-utils (/usr/share/sounds/alsa)"
    else:
        raise SystemExit(
            "prepare_data: cannot get alsa-utils (apt-get download alsa-utils failed; "
            "run 'apt-get update' or install alsa-utils)")
    return {n: open(os.path.join(src, n + ".wav"), "rb").read() for n in SPEECH}, origin


def read_sac(raw):
    """Samples of a SAC file (header of 632 bytes, float32 data, either byte order)."""
    for e in "<>":
        ints = np.frombuffer(raw[280:440], dtype=e + "i4")
        if ints[6] == 6:  # NVHDR, header version
            n = int(ints[9])  # NPTS
            d = np.frombuffer(raw[632:632 + 4 * n], dtype=e + "f4")
            if not np.all(d == np.round(d)):
                raise SystemExit("prepare_data: SAC data are not integer counts")
            return d.astype(np.int32)
    raise SystemExit("prepare_data: not a SAC file")


def rows(sig, n_rows, n):
    """R rows of N samples: SIG read circularly from offset r * len(SIG) // R."""
    sig = np.asarray(sig, dtype=np.int32)
    idx = (np.arange(n_rows)[:, None] * (len(sig) // n_rows) + np.arange(n)[None, :]) % len(sig)
    return np.ascontiguousarray(sig[idx])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    dl = os.path.join(a.dir, "downloads")
    os.makedirs(dl, exist_ok=True)
    div = 8 if a.quick else 1
    suffix = "-quick" if a.quick else ""
    sources = []

    def save(name, fn, what):
        path = os.path.join(a.dir, f"{name}{suffix}.npy")
        if not os.path.exists(path):
            arr = fn()
            np.save(path + ".tmp.npy", arr)
            os.replace(path + ".tmp.npy", path)
        arr = np.load(path, mmap_mode="r")
        sources.append(f"| {name}{suffix}.npy | {arr.dtype} {arr.shape} | {what} |")

    def timestreams():
        import flacarray.demo
        d, _ = flacarray.demo.create_fake_data((100, 250000 // div), dtype=np.float32)
        return d

    save("timestreams", timestreams,
         "flacarray 0.4.1 `flacarray.demo.create_fake_data(shape, dtype=np.float32)`; "
         "compressed with quanta 1e-4")

    def timestreams_int32():
        # The integers 0.4.1 codes for quanta 1e-4 (rounded offsets from each row's
        # mean), first 8 rows only: the codec comparison's input.
        d = np.load(os.path.join(a.dir, f"timestreams{suffix}.npy"))[:8].astype(np.float64)
        return np.round((d - d.mean(axis=1, keepdims=True)) / 1e-4).astype(np.int32)

    save("timestreams-int32", timestreams_int32,
         "first 8 rows of timestreams.npy as the integers of quanta 1e-4 (offset: row mean)")

    whl = pip_download(SCIPY, dl)

    def ecg():
        with zipfile.ZipFile(whl) as z:
            raw = np.load(io.BytesIO(z.read("scipy/misc/ecg.dat")))["ecg"]
        return rows(raw.astype(np.int32) - 1024, 149 // div, 108000)

    save("ecg", ecg, f"`scipy/misc/ecg.dat` of {os.path.basename(whl)} (PyPI): "
         "108000 samples, 360 Hz, counts - 1024; rows = circular shifts by 724 samples")

    whl = pip_download(OBSPY, dl)

    def seismic():
        with zipfile.ZipFile(whl) as z:
            sigs = [read_sac(z.read(f)) for f in SAC_FILES]
        half = 32 // div
        return np.concatenate([rows(s, half, 250000) for s in sigs])

    save("seismic", seismic, f"{' and '.join('`' + f + '`' for f in SAC_FILES)} of "
         f"{os.path.basename(whl)} (PyPI), counts; half of the rows from each, "
         "each row a circular window of 250000 samples")

    def seismic_f64():
        # The same seismograms in physical units (float64), as archives store
        # converted data: counts times a sensitivity of 1e-9 (m/s per count), so that
        # quanta 1e-9 gives the counts back. Exercises the 64-bit (two-channel) path.
        return np.load(os.path.join(a.dir, f"seismic{suffix}.npy")).astype(np.float64) * 1e-9

    save("seismic-f64", seismic_f64,
         "seismic.npy in physical units: float64 counts times 1e-9; compressed with "
         "quanta 1e-9")

    wavs, origin = alsa_wavs(dl)

    def speech_samples():
        parts = []
        for n in SPEECH:
            w = wave.open(io.BytesIO(wavs[n]))
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise SystemExit(f"prepare_data: {n}.wav is not 16-bit mono")
            parts.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))
        return np.concatenate(parts)

    def speech():
        return rows(speech_samples(), 64 // div, 250000)

    save("speech", speech, f"{', '.join(SPEECH)} (.wav, 48 kHz 16-bit) of {origin}, "
         "concatenated; each row a circular window of 250000 samples")

    save("long", lambda: rows(speech_samples(), 1, 50_000_000 // div)[0],
         f"one stream (1-d): the speech above read circularly to {50_000_000 // div} samples")

    with open(os.path.join(a.dir, f"SOURCES{suffix}.md"), "w") as f:
        f.write("| file | dtype, shape | source |\n|---|---|---|\n")
        f.write("\n".join(sources) + "\n")
    print("\n".join(sources))


if __name__ == "__main__":
    main()
