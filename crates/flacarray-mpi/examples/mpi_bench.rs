//! Scaling benchmark: compresses and decompresses a float32 array distributed over the
//! ranks, then writes it to HDF5 through rank 0 and reads it back distributed.
//!
//! Usage (release build): `mpirun -n N mpi_bench [ROWS [SAMPLES [THREADS [REPS]]]]`,
//! defaults 64 rows of 1 000 000 samples (noise + drift + sines, quanta 1e-3), 1
//! rayon thread per rank, best of 3. Each phase is timed between MPI barriers and the
//! time is the maximum over the ranks; MB/s are of the raw float32 data (1 MB = 10⁶
//! bytes).

use std::error::Error as StdError;

use flacarray_core::{CompressOptions, QuantaOption, ReadOptions};
use flacarray_mpi::mpi::collective::SystemOperation;
use flacarray_mpi::mpi::traits::{Communicator, CommunicatorCollectives};
use flacarray_mpi::{DistFlacArray, read_hdf5, split_rows};
use ndarray::Array2;

type Res<T = ()> = Result<T, Box<dyn StdError>>;

/// xorshift64* and Box-Muller: reproducible standard normal noise.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Rows `a..b` of the benchmark array: unit noise, a drift and two sines per row.
fn rows(a: usize, b: usize, n: usize) -> Array2<f32> {
    let mut out = Array2::zeros((b - a, n));
    for (i, mut row) in out.outer_iter_mut().enumerate() {
        let r = (a + i) as f64;
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15 ^ ((a + i) as u64 + 1));
        let drift = 1e-5 * (r - 32.0);
        for (k, v) in row.iter_mut().enumerate() {
            let t = k as f64;
            *v = (noise.normal()
                + drift * t
                + 5.0 * (t * 1e-3 + r).sin()
                + 0.5 * (t * 0.07).sin()
                + r) as f32;
        }
    }
    out
}

/// Runs `f` between barriers; its time is the maximum over the ranks.
fn timed<C: Communicator, T>(comm: &C, f: impl FnOnce() -> Res<T>) -> Res<(T, f64)> {
    comm.barrier();
    let t0 = flacarray_mpi::mpi::time();
    let out = f()?;
    let dt = flacarray_mpi::mpi::time() - t0;
    let mut max = 0.0f64;
    comm.all_reduce_into(&dt, &mut max, SystemOperation::max());
    comm.barrier();
    Ok((out, max))
}

fn arg(i: usize, default: usize) -> Res<usize> {
    Ok(match std::env::args().nth(i) {
        Some(s) => s.parse()?,
        None => default,
    })
}

fn run<C: Communicator>(comm: &C) -> Res {
    let n_rows = arg(1, 64)?;
    let n = arg(2, 1_000_000)?;
    let threads = arg(3, 1)?;
    let reps = arg(4, 3)?.max(1);
    let rank = usize::try_from(comm.rank())?;
    let size = usize::try_from(comm.size())?;
    let (a, b) = split_rows(n_rows, size)[rank];
    let local = (a < b).then(|| rows(a, b, n));
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        threads: Some(threads),
        ..Default::default()
    };
    let raw_mb = (n_rows * n * 4) as f64 / 1e6;

    let (mut best_c, mut best_d, mut best_w, mut best_r) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let mut nbytes = 0u64;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.h5");
    for _ in 0..reps {
        let (d, tc) = timed(comm, || {
            Ok(DistFlacArray::from_array(comm, local.as_ref(), &opts)?)
        })?;
        nbytes = d.global_nbytes();
        let read_opts = ReadOptions {
            threads: Some(threads),
            ..Default::default()
        };
        let (_, td) = timed(comm, || {
            Ok(d.local().map(|fa| fa.decompress(&read_opts)).transpose()?)
        })?;
        let (_, tw) = timed(comm, || Ok(d.write_hdf5(comm, &path, "/bench", true)?))?;
        let (_, tr) = timed(comm, || {
            let r = read_hdf5(comm, &path, "/bench", None, None, false)?;
            Ok(r.local().map(|fa| fa.decompress(&read_opts)).transpose()?)
        })?;
        best_c = best_c.min(tc);
        best_d = best_d.min(td);
        best_w = best_w.min(tw);
        best_r = best_r.min(tr);
    }
    if rank == 0 {
        println!(
            "mpi_bench: {size} rank(s) x {threads} thread(s), ({n_rows}, {n}) float32 = {raw_mb:.1} MB, \
             compressed {:.1} MB (ratio {:.2}), best of {reps}",
            nbytes as f64 / 1e6,
            raw_mb * 1e6 / nbytes as f64
        );
        for (what, t) in [
            ("compress", best_c),
            ("decompress", best_d),
            (
                if flacarray_mpi::HDF5_MPIO {
                    "write_hdf5 (MPI-IO, every rank)"
                } else {
                    "write_hdf5 (gather to rank 0)"
                },
                best_w,
            ),
            ("read_hdf5 + decompress", best_r),
        ] {
            println!("  {what:<30} {t:8.3} s  {:8.1} MB/s", raw_mb / t);
        }
    }
    Ok(())
}

fn main() {
    let Some(universe) = flacarray_mpi::mpi::initialize() else {
        eprintln!("MPI was already initialised");
        std::process::exit(2);
    };
    let world = universe.world();
    if let Err(e) = run(&world) {
        eprintln!("mpi_bench: rank {}: {e}", world.rank());
        world.abort(1);
    }
}
