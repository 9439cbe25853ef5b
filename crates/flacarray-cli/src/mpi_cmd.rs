//! `compress`, `decompress` and `verify` under `mpirun` (cargo feature `mpi`).
//!
//! When the binary is built with the feature and started by an MPI launcher (which
//! sets `OMPI_COMM_WORLD_SIZE`, `PMI_SIZE`, `PMIX_RANK` or `MPI_LOCALNRANKS` in every
//! process), these three commands run on all the ranks of `MPI_COMM_WORLD`, axis 0 of
//! the array split evenly over them (numpy's `array_split`):
//!
//! * `compress`: each rank reads only its rows of the `.npy` input (one seek and one
//!   read for a C-order file in the machine's byte order) and compresses them; rank 0
//!   gathers the compressed streams and writes the one output file or store, which is
//!   byte for byte what a single process writes.
//! * `decompress`: rank 0 reads the stored array and sends each rank its rows (only the
//!   kept streams with `--keep`); each rank decodes them and writes its slab of the one
//!   `.npy` output, whose header and size rank 0 has set. `--select` runs on rank 0.
//! * `verify`: each rank decodes its rows; rank 0 reports the totals.
//!
//! Every step that can fail on one rank is followed by an agreement, so every rank
//! fails when one does and no rank is left waiting; only rank 0 prints the error.
//! The other commands run on rank 0 alone.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use flacarray::LogicalArray;
use flacarray::mpi::mpi::collective::SystemOperation;
use flacarray::mpi::mpi::topology::SimpleCommunicator;
use flacarray::mpi::mpi::traits::{Communicator, CommunicatorCollectives};
use flacarray::mpi::{
    DistFlacArray, Error as MpiError, MAX_MESSAGE_BYTES, agree, broadcast_bytes, split_rows,
};
use flacarray::npy::itemsize;

use crate::array_cmd::{self, VerifyReport, fmt_shape};
use crate::cli::{Cli, Command, CompressArgs, DecompressArgs, VerifyArgs};
use crate::outcheck::OutputKind;
use crate::storage::Store;
use crate::{npy, output, progress};

/// Environment variables that MPI launchers (Open MPI, MPICH, PMIx, Slurm's PMI) set in
/// every process they start.
const LAUNCHER_VARS: [&str; 4] = [
    "OMPI_COMM_WORLD_SIZE",
    "PMI_SIZE",
    "PMIX_RANK",
    "MPI_LOCALNRANKS",
];

/// Whether this process was started by an MPI launcher such as `mpirun`.
#[must_use]
pub fn launched_by_mpirun() -> bool {
    LAUNCHER_VARS.iter().any(|v| std::env::var_os(v).is_some())
}

/// Runs one command line on every rank of `MPI_COMM_WORLD`.
///
/// # Errors
/// [`crate::Reported`] on every rank, once rank 0 has printed the one error line.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let universe =
        flacarray::mpi::mpi::initialize().ok_or_else(|| anyhow!("MPI is already initialised"))?;
    let world = universe.world();
    let root = world.rank() == 0;
    let res = match cli.command {
        Command::Compress(args) => compress(&world, &args, out),
        Command::Decompress(args) => decompress(&world, &args, out),
        Command::Verify(args) => verify(&world, &args, out),
        command if root => crate::run_serial(command, out),
        _ => Ok(()),
    };
    // Rank 0 prints its error line before any rank leaves: mpirun ends the whole job
    // as soon as one rank exits non-zero, which could cut rank 0 off before it
    // printed. Errors are agreed collectively, so every rank reaches the barrier.
    let code = match &res {
        Err(e) if root => crate::report(e),
        Err(_) => 1,
        Ok(()) => 0,
    };
    world.barrier();
    match res {
        Ok(()) => Ok(()),
        Err(_) => Err(anyhow::Error::new(crate::Reported(code))),
    }
}

/// This rank and the number of ranks (MPI never gives negative values).
fn rank_size(comm: &SimpleCommunicator) -> (usize, usize) {
    (
        usize::try_from(comm.rank()).unwrap_or(0),
        usize::try_from(comm.size()).unwrap_or(1),
    )
}

/// Collective: `res` on every rank where all ranks succeeded; otherwise every rank
/// fails, the others with the lowest failing rank's message.
fn agree_on<T>(comm: &SimpleCommunicator, res: Result<T>) -> Result<T> {
    match res {
        Ok(v) => {
            agree(comm, Ok(()))?;
            Ok(v)
        }
        Err(e) => {
            // This rank's own error is the one to report, whatever the others say.
            let _ = agree::<_, ()>(comm, Err(MpiError::Message(crate::one_line(&e))));
            Err(e)
        }
    }
}

/// An error of the MPI layer about `store`: the backends' errors name the file
/// already, the array layer's do not.
fn store_err(store: &Store, e: MpiError) -> anyhow::Error {
    match e {
        MpiError::Core(c) => anyhow::Error::new(c).context(store.describe()),
        other => anyhow::Error::new(other),
    }
}

/// Removes a temporary output (a file, or a Zarr store's directory) after a failure.
fn remove_temp(path: &Path) {
    // The failure being reported is the one that matters; a leftover is harmless.
    let _ = output::remove_path(path);
}

/// Collective: the stored array (only the streams `keep` marks) split over the ranks.
fn read_dist(
    world: &SimpleCommunicator,
    store: &Store,
    keep: Option<&[bool]>,
    no_flatten: bool,
) -> Result<DistFlacArray> {
    let (path, group) = (store.path(), store.group());
    match store {
        Store::Hdf5 { .. } => flacarray::mpi::read_hdf5(world, path, group, keep, None, no_flatten),
        Store::Zarr { .. } => flacarray::mpi::read_zarr(world, path, group, keep, None, no_flatten),
    }
    .map_err(|e| store_err(store, e))
}

/// Rows of axis 0 of an array of `shape` (a 1-d array is one row) and streams per row.
fn rows_of(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] | [_] => (1, 1),
        [rows, mid @ .., _] => (*rows, mid.iter().product()),
    }
}

fn compress(world: &SimpleCommunicator, args: &CompressArgs, out: &mut dyn Write) -> Result<()> {
    let (rank, size) = rank_size(world);
    let store = array_cmd::output_store(args);
    // The serial command's output rules, judged on rank 0 (see `outcheck`).
    let checked = (rank == 0).then(|| {
        let mut inputs = vec![args.input.as_path()];
        inputs.extend(args.quanta_file.as_deref());
        inputs.extend(args.precision_file.as_deref());
        crate::outcheck::checked(
            &args.output,
            &inputs,
            crate::outcheck::OutputKind::of(&store),
            args.force,
        )
    });
    agree_on(world, checked.transpose())?;
    let header = (|| {
        let (dtype, shape) = npy::peek(&args.input)?;
        let opts = array_cmd::compress_options(args, dtype, &shape)?;
        Ok((dtype, shape, opts))
    })();
    let (dtype, shape, opts) = agree_on(world, header)?;
    let (n_rows, per_row) = rows_of(&shape);
    let (a, b) = split_rows(n_rows, size)[rank];
    let local = (|| {
        // A rank without rows passes a (0, ...) array (the type and shape when no rank
        // has rows); one stream (1-d) is not split, so the other ranks pass nothing.
        if a == b && shape.len() < 2 {
            return Ok(None);
        }
        let data = npy::read_values_rows(&args.input, a..b)?;
        let p = progress::bar(
            args.common.quiet || rank != 0,
            Some(((b - a) * per_row) as u64),
            "compressing",
        );
        let sub = opts.for_streams(a * per_row, b * per_row);
        let fa = array_cmd::compress_with_progress(&data, &sub, &p)
            .with_context(|| format!("{}: rows {a}..{b}", args.input.display()))?;
        p.finish();
        Ok(Some(fa))
    })();
    let local = agree_on(world, local)?;
    let dist = DistFlacArray::from_local(world, local).map_err(|e| store_err(&store, e))?;

    // Rank 0 writes a new file or store under a temporary name, renamed when complete.
    let (path, group) = (store.path(), store.group());
    let target = (|| -> Result<(PathBuf, bool)> {
        if rank != 0 || path.exists() {
            return Ok((path.to_path_buf(), false));
        }
        let tmp = output::temp_path_for(path)?;
        if tmp.exists() {
            remove_temp(&tmp);
        }
        Ok((tmp, true))
    })();
    let (at, temporary) = agree_on(world, target)?;
    let written = match &store {
        Store::Hdf5 { .. } => dist.write_hdf5(world, &at, group, args.force),
        Store::Zarr { format, .. } => dist.write_zarr(world, &at, group, args.force, *format),
    }
    .map_err(|e| store_err(&store, e));
    let written = written.and_then(|()| {
        if temporary {
            output::put_in_place(&at, path)
        } else {
            Ok(())
        }
    });
    if written.is_err() && temporary {
        remove_temp(&at);
    }
    agree_on(world, written)?;
    if rank == 0 && !args.common.quiet {
        let input_bytes = (shape.iter().product::<usize>() * itemsize(dtype)) as u64;
        writeln!(
            out,
            "{} -> {}: {} {}, {} bytes -> {} bytes (ratio {:.3}), {size} MPI ranks",
            args.input.display(),
            store.describe(),
            dtype,
            fmt_shape(&shape),
            input_bytes,
            dist.global_nbytes(),
            input_bytes as f64 / dist.global_nbytes().max(1) as f64
        )?;
    }
    Ok(())
}

/// Runs the serial command on rank 0 only (the others wait for its outcome).
fn on_rank_0(
    world: &SimpleCommunicator,
    f: impl FnOnce(&mut dyn Write) -> Result<()>,
    out: &mut dyn Write,
) -> Result<()> {
    let res = if world.rank() == 0 { f(out) } else { Ok(()) };
    agree_on(world, res)
}

fn decompress(
    world: &SimpleCommunicator,
    args: &DecompressArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let (rank, size) = rank_size(world);
    crate::output::set_sync(args.sync);
    if args.select.is_some() || args.output.as_os_str() == "-" {
        return on_rank_0(world, |o| array_cmd::decompress(args, o), out);
    }
    // The serial command's output rules, judged on rank 0, which writes `target`
    // (a symbolic link's target; see `outcheck`).
    let checked = (rank == 0).then(|| {
        let mut inputs = vec![args.store.input.as_path()];
        inputs.extend(args.keep.as_deref());
        crate::outcheck::checked(&args.output, &inputs, OutputKind::File, args.force)
    });
    let target = agree_on(world, checked.transpose())?.unwrap_or_default();
    let store = Store::for_path(&args.store.input, &args.store.group);
    // The mask matters on rank 0 only (it reads and distributes the kept streams).
    let keep = if rank == 0 {
        array_cmd::keep_mask(args, &store)
    } else {
        Ok(None)
    };
    let keep = agree_on(world, keep)?;
    let none_kept = keep.as_ref().is_some_and(|k| !k.iter().any(|&b| b));
    let none_kept = broadcast_bytes(world, 0, vec![u8::from(none_kept)], MAX_MESSAGE_BYTES)?;
    if none_kept.first() == Some(&1) {
        // An empty (0, samples) array: nothing to distribute.
        return on_rank_0(world, |o| array_cmd::decompress(args, o), out);
    }
    let logical = agree_on(world, store.logical_dtype().map_err(anyhow::Error::new))?;
    let dist = read_dist(world, &store, keep.as_deref(), args.no_flatten)?;
    let n = dist.stream_size();
    let slice = agree_on(world, array_cmd::sample_slice(args, &store, n))?;
    let len = slice.resolve(n)?.len();

    // The output shape of the serial command: the (kept) leading shape and the slice,
    // a single stream flattened to 1-d unless asked not to.
    let lead = dist.global_leading_shape().to_vec();
    let n_streams: usize = lead.iter().product();
    let mut shape = if n_streams == 1 && lead.len() == 1 && !args.no_flatten {
        Vec::new()
    } else {
        lead.clone()
    };
    shape.push(len);
    let per_row: usize = lead.get(1..).map_or(1, |m| m.iter().product());
    let (first_row, _) = dist.mpi_dist()[rank];
    let elem = itemsize(logical) as u64;
    let header = npy::header(logical, &shape)?;
    let offset = header.len() as u64 + (first_row * per_row * len) as u64 * elem;

    let local = dist
        .local()
        .map(|fa| {
            let p = progress::bar(args.common.quiet || rank != 0, None, "decompressing");
            let arr = array_cmd::decode_with_progress(fa, slice, args.common.threads(), &p);
            p.finish();
            arr.and_then(|a| LogicalArray::from_decoded(a, logical))
        })
        .transpose()
        .with_context(|| store.describe());
    let local: Option<LogicalArray> = agree_on(world, local)?;

    // Rank 0 creates the temporary output with its header and full size; every rank
    // writes its slab at its offset; rank 0 renames the file when all are done.
    let created = (|| -> Result<PathBuf> {
        if rank != 0 {
            return Ok(PathBuf::new());
        }
        let tmp = output::temp_path_for(&target)?;
        let total = header.len() as u64 + shape.iter().product::<usize>() as u64 * elem;
        let made = std::fs::write(&tmp, &header)
            .and_then(|()| std::fs::OpenOptions::new().write(true).open(&tmp))
            .and_then(|f| f.set_len(total));
        if made.is_err() {
            remove_temp(&tmp);
        }
        made.with_context(|| {
            format!("{}: cannot create {}", args.output.display(), tmp.display())
        })?;
        Ok(tmp)
    })();
    let tmp = agree_on(world, created)?;
    let tmp = broadcast_bytes(
        world,
        0,
        tmp.to_string_lossy().into_owned().into_bytes(),
        MAX_MESSAGE_BYTES,
    )?;
    let tmp = PathBuf::from(String::from_utf8_lossy(&tmp).into_owned());
    let wrote = match &local {
        Some(arr) => npy::write_slab_at(&tmp, offset, arr),
        None => Ok(()),
    };
    let wrote = agree_on(world, wrote);
    let done = wrote.and_then(|()| {
        if rank == 0 {
            output::put_in_place(&tmp, &target)
        } else {
            Ok(())
        }
    });
    if rank == 0 && done.is_err() {
        remove_temp(&tmp);
    }
    agree_on(world, done)?;
    if rank == 0 && !args.common.quiet {
        writeln!(
            out,
            "{} -> {}: {} {}, {size} MPI ranks",
            store.describe(),
            args.output.display(),
            logical,
            fmt_shape(&shape)
        )?;
    }
    Ok(())
}

fn verify(world: &SimpleCommunicator, args: &VerifyArgs, out: &mut dyn Write) -> Result<()> {
    let (rank, size) = rank_size(world);
    let store = Store::for_path(&args.store.input, &args.store.group);
    // As the serial command: the recorded dtype and kept NaN/inf, named (on rank 0).
    let ext = (rank == 0).then(|| store.read_info().map(drop));
    agree_on(world, ext.transpose().map_err(anyhow::Error::new))?;
    let dist = read_dist(world, &store, None, true)?;
    let (a, b) = dist.mpi_dist()[rank];
    let mine = match dist.local() {
        Some(fa) => {
            array_cmd::verify_array(fa, args.common.quiet || rank != 0, args.common.threads())
                .with_context(|| format!("{}: rows {a}..{b}", store.describe()))
        }
        None => Ok(VerifyReport {
            streams: 0,
            samples: 0,
            bytes: 0,
        }),
    };
    let mine = agree_on(world, mine)?;
    let local = [mine.streams as u64, mine.samples, mine.bytes];
    let mut total = [0u64; 3];
    world.all_reduce_into(&local[..], &mut total[..], SystemOperation::sum());
    if rank == 0 {
        writeln!(
            out,
            "{}: ok: {} streams, {} samples, {} compressed bytes checked by {size} MPI ranks",
            store.describe(),
            total[0],
            total[1],
            total[2]
        )?;
    }
    Ok(())
}
