//! Writes, from every rank, files that Python flacarray 0.4.1 reads
//! (`scripts/mpi-tests.sh` runs it with 3 ranks, then checks the files in Python).
//!
//! Usage: `mpirun -n 3 mpi_interop DIR`. Writes `DIR/dist.h5` with groups `/f32`
//! (float32, quanta 1e-3) and `/i64` (int64), each a `(5, 2, 3000)` array split over
//! the ranks, and on rank 0 the serial decode of each as `DIR/f32.npy` and
//! `DIR/i64.npy` (what a reader must get back).

use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use flacarray_core::{CompressOptions, Element, FlacArray, QuantaOption};
use flacarray_mpi::mpi::traits::{Communicator, CommunicatorCollectives};
use flacarray_mpi::{DistFlacArray, split_rows};
use ndarray::{ArrayD, Axis, IxDyn, Slice};
use npyz::WriterBuilder;

type Res<T = ()> = Result<T, Box<dyn StdError>>;

fn write_npy<T: Element + npyz::AutoSerialize>(path: &Path, a: &ArrayD<T>) -> Res {
    let shape: Vec<u64> = a.shape().iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(std::io::BufWriter::new(std::fs::File::create(path)?))
        .begin_nd()?;
    w.extend(a.iter().copied())?;
    w.finish()?;
    Ok(())
}

fn one<C: Communicator, T: Element + npyz::AutoSerialize>(
    comm: &C,
    dir: &Path,
    name: &str,
    global: &ArrayD<T>,
    opts: &CompressOptions,
) -> Res {
    let rank = usize::try_from(comm.rank())?;
    let size = usize::try_from(comm.size())?;
    let (a, b) = split_rows(global.shape()[0], size)[rank];
    let local = (a < b).then(|| global.slice_axis(Axis(0), Slice::from(a..b)).to_owned());
    let d = DistFlacArray::from_array(comm, local.as_ref(), opts)?;
    d.write_hdf5(comm, &dir.join("dist.h5"), &format!("/{name}"), true)?;
    if rank == 0 {
        let serial = FlacArray::from_array(global, opts)?.to_array_typed::<T>()?;
        write_npy(&dir.join(format!("{name}.npy")), &serial)?;
    }
    Ok(())
}

fn run<C: Communicator>(comm: &C, dir: &Path) -> Res {
    let shape = IxDyn(&[5, 2, 3000]);
    let f = ArrayD::from_shape_fn(shape.clone(), |i| {
        (i[0] * 2 + i[1]) as f32 * 1.5 + (i[2] as f32 * 0.013).sin() * 4.0 + i[2] as f32 * 1e-4
    });
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..Default::default()
    };
    one(comm, dir, "f32", &f, &q)?;
    let i = ArrayD::from_shape_fn(shape, |i| {
        (i[0] as i64 * 2 + i[1] as i64 - 4) * 5_000_000_000 + ((i[2] * 131) % 997) as i64
    });
    one(comm, dir, "i64", &i, &CompressOptions::default())
}

fn main() {
    let Some(universe) = flacarray_mpi::mpi::initialize() else {
        eprintln!("MPI was already initialised");
        std::process::exit(2);
    };
    let world = universe.world();
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: mpi_interop DIR");
        world.abort(2);
    };
    if let Err(e) = run(&world, &dir) {
        eprintln!("mpi_interop: rank {}: FAILED: {e}", world.rank());
        world.abort(1);
    }
    world.barrier();
}
