//! Outputs that never destroy, atomic replacement, concurrent writers, killed runs,
//! signals and messages in the command's terms (issue 11), on the real binary.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Dir, assert_fails, assert_ok, bin, flacarray, is_symlink, p, stderr};
use flacarray::DecodedArray;
use flacarray_cli::npy;
use ndarray::{ArrayD, Dimension, IxDyn};

fn ints(shape: &[usize], seed: i32) -> ArrayD<i32> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let f = i
            .as_array_view()
            .iter()
            .fold(0i64, |a, &x| a * 7919 + x as i64);
        ((f * 2_654_435_761 + i64::from(seed)) % 20_011) as i32 - 10_000
    })
}

/// Uniform noise in [-2^20, 2^20): about 21 bits a sample after FLAC, so it does not
/// compress much.
fn noise(shape: &[usize], seed: u64) -> ArrayD<i32> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 44) as i32 - (1 << 19)
    })
}

fn write_npy(path: &Path, a: &ArrayD<i32>) {
    npy::write_file(path, &DecodedArray::Int32(a.clone())).unwrap();
}

fn read_i32(path: &Path) -> ArrayD<i32> {
    match npy::read_array(path).unwrap() {
        DecodedArray::Int32(a) => a,
        other => panic!("dtype {}", other.dtype()),
    }
}

/// An HDF5 file with one int32 group `/g`; returns the array.
fn h5_fixture(d: &Dir, name: &str) -> (PathBuf, ArrayD<i32>) {
    let a = ints(&[3, 200], 1);
    let npy_path = d.path(&format!("{name}.in.npy"));
    write_npy(&npy_path, &a);
    let h5 = d.path(name);
    assert_ok(&flacarray(&[
        "compress",
        p(&npy_path),
        p(&h5),
        "--group",
        "g",
        "-q",
    ]));
    (h5, a)
}

fn decompress_group(store: &Path, group: &str, d: &Dir) -> ArrayD<i32> {
    let out = d.path("check.npy");
    let r = flacarray(&[
        "decompress",
        p(store),
        p(&out),
        "--group",
        group,
        "-q",
        "--force",
    ]);
    assert_ok(&r);
    read_i32(&out)
}

#[test]
fn decompress_refuses_to_overwrite_its_input_however_named() {
    let d = Dir::new();
    let (h5, _) = h5_fixture(&d, "obs.h5");
    let before = std::fs::read(&h5).unwrap();
    std::fs::hard_link(&h5, d.path("hard.h5")).unwrap();
    std::os::unix::fs::symlink(&h5, d.path("soft.h5")).unwrap();
    let dotted = d.path(".").join("obs.h5");
    for out in [h5.clone(), d.path("hard.h5"), d.path("soft.h5"), dotted] {
        for force in [false, true] {
            let mut args = vec!["decompress", p(&h5), p(&out), "--group", "g"];
            if force {
                args.push("--force");
            }
            assert_fails(&flacarray(&args), 1, &["is the input", "same file"]);
        }
    }
    assert_eq!(std::fs::read(&h5).unwrap(), before);
    // compress into its own input .npy, named through a link.
    let a = d.path("x.npy");
    write_npy(&a, &ints(&[2, 50], 3));
    std::os::unix::fs::symlink(&a, d.path("x-link.h5")).unwrap();
    let r = flacarray(&["compress", p(&a), p(&d.path("x-link.h5"))]);
    assert_fails(&r, 1, &["is the input"]);
    assert_eq!(read_i32(&a), ints(&[2, 50], 3));
}

#[test]
fn symlink_output_is_written_through_and_kept() {
    let d = Dir::new();
    let (h5, a) = h5_fixture(&d, "s.h5");
    std::fs::create_dir(d.path("real")).unwrap();
    // A dangling link: its target is created, the link stays a link.
    std::os::unix::fs::symlink("real/out.npy", d.path("link.npy")).unwrap();
    assert_ok(&flacarray(&[
        "decompress",
        p(&h5),
        p(&d.path("link.npy")),
        "--group",
        "g",
    ]));
    assert!(is_symlink(&d.path("link.npy")));
    assert_eq!(read_i32(&d.path("real/out.npy")), a);
    // Replacing through the link needs --force and keeps the link.
    let r = flacarray(&["decompress", p(&h5), p(&d.path("link.npy")), "--group", "g"]);
    assert_fails(&r, 1, &["already exists", "--force"]);
    let r = flacarray(&[
        "decompress",
        p(&h5),
        p(&d.path("link.npy")),
        "--group",
        "g",
        "--force",
        "--samples",
        ":10",
    ]);
    assert_ok(&r);
    assert!(is_symlink(&d.path("link.npy")));
    assert_eq!(read_i32(&d.path("real/out.npy")).shape(), &[3, 10]);
    // An HDF5 output through a link: the group is added to the target file.
    std::os::unix::fs::symlink(&h5, d.path("h5link.h5")).unwrap();
    let n = d.path("n.npy");
    write_npy(&n, &ints(&[2, 30], 9));
    assert_ok(&flacarray(&[
        "compress",
        p(&n),
        p(&d.path("h5link.h5")),
        "--group",
        "more",
    ]));
    assert!(is_symlink(&d.path("h5link.h5")));
    assert_eq!(decompress_group(&h5, "more", &d), ints(&[2, 30], 9));
    assert_eq!(decompress_group(&h5, "g", &d), a);
}

#[test]
fn fifo_device_and_foreign_directory_outputs_are_refused() {
    let d = Dir::new();
    let (h5, _) = h5_fixture(&d, "f.h5");
    let fifo = d.path("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for force in [false, true] {
        let mut args = vec!["decompress", p(&h5), p(&fifo), "--group", "g"];
        if force {
            args.push("--force");
        }
        assert_fails(&flacarray(&args), 1, &["is a FIFO", "use - to write"]);
        let mut args = vec!["decompress", p(&h5), "/dev/null", "--group", "g"];
        if force {
            args.push("--force");
        }
        assert_fails(&flacarray(&args), 1, &["/dev/null", "is a device"]);
    }
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo_like()
    );
    let n = d.path("n.npy");
    write_npy(&n, &ints(&[2, 30], 9));
    assert_fails(
        &flacarray(&["compress", p(&n), p(&fifo)]),
        1,
        &["is a FIFO"],
    );
    // A directory that is not a Zarr store and is not empty.
    let out = d.path("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"x").unwrap();
    for force in [false, true] {
        let mut args = vec!["compress", p(&n), p(&out)];
        if force {
            args.push("--force");
        }
        assert_fails(&flacarray(&args), 1, &["neither empty nor a Zarr store"]);
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    // An empty directory becomes a store; a plain file is not made an HDF5 file.
    std::fs::create_dir(d.path("empty")).unwrap();
    assert_ok(&flacarray(&["compress", p(&n), p(&d.path("empty")), "-q"]));
    assert_eq!(
        decompress_group(&d.path("empty"), "/", &d),
        ints(&[2, 30], 9)
    );
    std::fs::write(d.path("text.h5"), b"not hdf5").unwrap();
    assert_fails(
        &flacarray(&["compress", p(&n), p(&d.path("text.h5"))]),
        1,
        &["not an HDF5 file"],
    );
    assert_eq!(std::fs::read(d.path("text.h5")).unwrap(), b"not hdf5");
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}

#[test]
fn decompress_needs_force_and_dash_is_stdout_and_stdin() {
    let d = Dir::new();
    let (h5, a) = h5_fixture(&d, "o.h5");
    let out = d.path("out.npy");
    std::fs::write(&out, b"precious").unwrap();
    let r = flacarray(&["decompress", p(&h5), p(&out), "--group", "g"]);
    assert_fails(&r, 1, &["out.npy", "already exists", "--force"]);
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    assert_ok(&flacarray(&[
        "decompress",
        p(&h5),
        p(&out),
        "--group",
        "g",
        "--force",
    ]));
    assert_eq!(read_i32(&out), a);
    // `-`: the .npy bytes on stdout, nothing else.
    let r = flacarray(&["decompress", p(&h5), "-", "--group", "g"]);
    assert_ok(&r);
    assert_eq!(r.stdout, std::fs::read(&out).unwrap());
    assert!(!d.path("-").exists());
    // `compress -`: the .npy from stdin.
    let mut child = bin()
        .args(["compress", "-", p(&h5), "--group", "fromstdin", "-q"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(&out).unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let r = child.wait_with_output().unwrap();
    assert_ok(&r);
    assert_eq!(decompress_group(&h5, "fromstdin", &d), a);
}

#[test]
fn sigpipe_ends_quietly() {
    let d = Dir::new();
    let (h5, _) = h5_fixture(&d, "p.h5");
    // The reader closes at once; the writer gets EPIPE on a large output.
    let big = d.path("big.npy");
    write_npy(&big, &ints(&[40, 20_000], 5));
    assert_ok(&flacarray(&[
        "compress",
        p(&big),
        p(&h5),
        "--group",
        "big",
        "-q",
    ]));
    for args in [
        vec!["info", p(&h5), "--group", "big", "--json"],
        vec!["decompress", p(&h5), "-", "--group", "big"],
    ] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let r = child.wait_with_output().unwrap();
        assert_eq!(r.status.code(), Some(0), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).is_empty(), "{args:?}: {}", stderr(&r));
    }
}

#[test]
fn messages_name_the_flag_and_use_short_numbers() {
    let d = Dir::new();
    let (h5, _) = h5_fixture(&d, "m.h5");
    let n = d.path("n.npy");
    write_npy(&n, &ints(&[2, 30], 9));
    let r = flacarray(&["compress", p(&n), p(&h5), "--group", "g"]);
    assert_fails(
        &r,
        1,
        &["m.h5", "group /g", "FlacArray already exists", "--force"],
    );
    assert!(!stderr(&r).contains("WriteOptions"));
    // Integer data with --quanta: a usage error.
    let r = flacarray(&["compress", p(&n), p(&d.path("q.h5")), "--quanta", "0.5"]);
    assert_fails(&r, 2, &["int32", "--quanta"]);
    // %g numbers.
    let f = d.path("f.npy");
    let fa = ArrayD::from_shape_fn(IxDyn(&[2, 100]), |i| i[1] as f64 * 10.0);
    npy::write_file(&f, &DecodedArray::Float64(fa)).unwrap();
    let r = flacarray(&["compress", p(&f), p(&d.path("g.h5")), "--quanta", "1e-300"]);
    assert_fails(&r, 1, &["1e-300"]);
    assert!(stderr(&r).len() < 300, "{}", stderr(&r));
    // Missing directory and missing input: one line, the path, no temporary name.
    let r = flacarray(&["compress", p(&n), p(&d.path("no/such/dir/x.h5"))]);
    assert_fails(&r, 1, &["no/such/dir", "does not exist"]);
    assert!(!stderr(&r).contains(".x.h5."), "{}", stderr(&r));
    let r = flacarray(&["info", p(&d.path("missing.h5"))]);
    assert_fails(&r, 1, &["missing.h5", "no such file"]);
    let r = flacarray(&["info", p(&n)]);
    assert_fails(&r, 1, &["n.npy", "not an HDF5 file"]);
    let r = flacarray(&["decompress", p(&d.path("missing.h5")), p(&d.path("o.npy"))]);
    assert_fails(&r, 1, &["missing.h5", "no such file"]);
    // More than 32 leading dimensions for HDF5.
    let deep = d.path("deep.npy");
    let shape = vec![1usize; 34];
    npy::write_file(&deep, &DecodedArray::Int32(ArrayD::zeros(IxDyn(&shape)))).unwrap();
    let r = flacarray(&["compress", p(&deep), p(&d.path("deep.h5"))]);
    assert_fails(&r, 1, &["34 dimensions", "at most 32"]);
    // A plain HDF5 dataset named like a FlacArray's is never deleted by --force.
    let plain = d.path("plain.h5");
    {
        let f = flacarray::hdf5::hdf5::File::create(&plain).unwrap();
        let g = f.create_group("x").unwrap();
        g.new_dataset::<u8>()
            .shape([4])
            .create("compressed")
            .unwrap();
    }
    for force in [false, true] {
        let mut args = vec!["compress", p(&n), p(&plain), "--group", "x"];
        if force {
            args.push("--force");
        }
        let r = flacarray(&args);
        assert_fails(&r, 1, &["dataset compressed", "not part of a FlacArray"]);
        assert!(!stderr(&r).contains("is stored here"), "{}", stderr(&r));
    }
    let f = flacarray::hdf5::hdf5::File::open(&plain).unwrap();
    assert!(f.group("x").unwrap().link_exists("compressed"));
}

/// Runs two commands at the same time; their outputs.
fn at_once(a: &[&str], b: &[&str]) -> (Output, Output) {
    let spawn = |args: &[&str]| bin().args(args).stderr(Stdio::piped()).spawn().unwrap();
    let (c1, c2) = (spawn(a), spawn(b));
    (
        c1.wait_with_output().unwrap(),
        c2.wait_with_output().unwrap(),
    )
}

/// Both processes succeed and both groups are intact, or the loser fails cleanly.
#[test]
fn concurrent_writers_keep_both_groups() {
    let d = Dir::new();
    let a = ints(&[4, 3000], 11);
    let b = ints(&[4, 3000], 12);
    let (na, nb) = (d.path("a.npy"), d.path("b.npy"));
    write_npy(&na, &a);
    write_npy(&nb, &b);
    for round in 0..4 {
        // Two groups into one new HDF5 file.
        let h5 = d.path(&format!("r{round}.h5"));
        let (r1, r2) = at_once(
            &["compress", p(&na), p(&h5), "--group", "g1", "-q"],
            &["compress", p(&nb), p(&h5), "--group", "g2", "-q"],
        );
        assert_ok(&r1);
        assert_ok(&r2);
        assert_eq!(decompress_group(&h5, "g1", &d), a, "round {round}");
        assert_eq!(decompress_group(&h5, "g2", &d), b, "round {round}");
        // Two --force writes of one Zarr group.
        let z = d.path(&format!("r{round}.zarr"));
        assert_ok(&flacarray(&[
            "compress",
            p(&na),
            p(&z),
            "--group",
            "s",
            "-q",
        ]));
        let (r1, r2) = at_once(
            &["compress", p(&na), p(&z), "--group", "s", "-q", "--force"],
            &["compress", p(&nb), p(&z), "--group", "s", "-q", "--force"],
        );
        assert_ok(&r1);
        assert_ok(&r2);
        let got = decompress_group(&z, "s", &d);
        assert!(got == a || got == b, "round {round}: a mix of both");
        assert_ok(&flacarray(&["verify", p(&z), "--group", "s"]));
    }
    let left: Vec<String> = d
        .names()
        .into_iter()
        .filter(|n| n.contains("tmp") || n.contains("old"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Starts `args`, waits until `ready` holds (or the child ends), then signals it.
fn signal_when(
    args: &[&str],
    ready: impl Fn() -> bool,
    signal: &str,
) -> Option<std::process::ExitStatus> {
    let mut child = bin().args(args).stderr(Stdio::null()).spawn().unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Some(status) = child.try_wait().unwrap() {
            eprintln!("the child ended ({status}) before it could be signalled");
            return None;
        }
        if ready() {
            let pid = child.id().to_string();
            assert!(
                Command::new("kill")
                    .args([signal, &pid])
                    .status()
                    .unwrap()
                    .success()
            );
            return Some(child.wait().unwrap());
        }
        std::thread::yield_now();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the child never became ready");
}

fn has_temp(d: &Dir, target: &str) -> bool {
    let prefix = format!(".{target}.");
    d.names()
        .iter()
        .any(|n| n.starts_with(&prefix) && n.ends_with(".tmp"))
}

/// A large, highly compressible array: quick to encode, long to write out.
fn big_zero_store(d: &Dir) -> PathBuf {
    let z = d.path("zeros.npy");
    write_npy(&z, &ArrayD::zeros(IxDyn(&[40, 1_000_000])));
    let h5 = d.path("zeros.h5");
    assert_ok(&flacarray(&["compress", p(&z), p(&h5), "-q"]));
    h5
}

#[test]
fn sigterm_and_kill_leave_nothing_that_blocks_the_next_run() {
    let d = Dir::new();
    let h5 = big_zero_store(&d);
    let out = d.path("out.npy");
    // SIGTERM while the temporary output exists: removed, status 128 + 15.
    let mut caught = 0;
    for _ in 0..5 {
        let args = ["decompress", p(&h5), p(&out), "-q", "--force"];
        if let Some(status) = signal_when(&args, || has_temp(&d, "out.npy"), "-TERM") {
            assert_eq!(status.code(), Some(143));
            assert!(!has_temp(&d, "out.npy"), "{:?}", d.names());
            caught += 1;
        }
        let _ = std::fs::remove_file(&out);
    }
    assert!(caught > 0, "never caught the temporary file");
    // kill -9: the temporary file stays; the next run removes it and succeeds.
    let mut killed = false;
    for _ in 0..5 {
        let args = ["decompress", p(&h5), p(&out), "-q", "--force"];
        if signal_when(&args, || has_temp(&d, "out.npy"), "-KILL").is_some() {
            killed = true;
            break;
        }
    }
    assert!(killed, "never caught the temporary file");
    assert!(has_temp(&d, "out.npy"), "kill -9 leaves its temporary file");
    assert_ok(&flacarray(&[
        "decompress",
        p(&h5),
        p(&out),
        "-q",
        "--force",
        "--samples",
        ":5",
    ]));
    assert!(!has_temp(&d, "out.npy"), "{:?}", d.names());
    assert_eq!(read_i32(&out).shape(), &[40, 5]);
}

#[test]
fn killed_in_place_add_is_cleaned_by_the_next_run() {
    let d = Dir::new();
    let (h5, a) = h5_fixture(&d, "k.h5");
    let z = d.path("zeros.npy");
    let big = noise(&[40, 250_000], 2);
    write_npy(&z, &big);
    let size0 = std::fs::metadata(&h5).unwrap().len();
    let grew = || {
        std::fs::metadata(&h5)
            .map(|m| m.len() > size0 + 4096)
            .unwrap_or(false)
    };
    let args = ["compress", p(&z), p(&h5), "--group", "big", "-q"];
    if signal_when(&args, grew, "-KILL").is_none() {
        eprintln!("skipped: the write finished before the file grew");
        return;
    }
    let killed = std::fs::metadata(&h5).unwrap().len();
    // The old group is intact, the next run succeeds and removes the temporary group.
    assert_eq!(decompress_group(&h5, "g", &d), a);
    let n = d.path("n.npy");
    write_npy(&n, &ints(&[2, 30], 9));
    assert_ok(&flacarray(&[
        "compress",
        p(&n),
        p(&h5),
        "--group",
        "next",
        "-q",
    ]));
    let f = flacarray::hdf5::hdf5::File::open(&h5).unwrap();
    let names = f.member_names().unwrap();
    assert!(
        !names.iter().any(|m| m.starts_with(".flacarray-tmp")),
        "{names:?}"
    );
    // Killed before the swap: no group; after it: the whole array.
    if f.link_exists("big") {
        assert_eq!(decompress_group(&h5, "big", &d), big);
    }
    eprintln!(
        "file size: {size0} before, {killed} after the kill, {} after the next run",
        std::fs::metadata(&h5).unwrap().len()
    );
}

/// Runs `f` with a 2 MiB tmpfs mounted at a new directory, when running as root and
/// the mount works; otherwise says why it is skipped.
fn with_small_tmpfs(f: impl FnOnce(&Path)) {
    let d = Dir::new();
    let mnt = d.path("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs", p(&mnt)])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot mount a small tmpfs (needs root)");
        return;
    }
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mnt)));
    let _ = Command::new("umount").arg(&mnt).status();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn full_disk_keeps_the_old_group_and_the_next_force_works() {
    with_small_tmpfs(|mnt| {
        let d = Dir::new();
        let small = d.path("small.npy");
        let a = ints(&[2, 500], 4);
        write_npy(&small, &a);
        // Noise: about 2.6 bytes a sample compressed, 5 MB in all, over twice the disk.
        let big = d.path("big.npy");
        write_npy(&big, &noise(&[20, 100_000], 8));
        for (name, group) in [
            ("f.h5", "/obs/sig"),
            ("f.h5", "/"),
            ("s.zarr", "/obs/sig"),
            ("s.zarr", "/"),
        ] {
            let out = mnt.join(name);
            assert_ok(&flacarray(&[
                "compress",
                p(&small),
                p(&out),
                "--group",
                group,
                "-q",
                "--force",
            ]));
            let r = flacarray(&[
                "compress",
                p(&big),
                p(&out),
                "--group",
                group,
                "-q",
                "--force",
            ]);
            assert_eq!(r.status.code(), Some(1), "{name} {group}: {}", stderr(&r));
            assert_eq!(stderr(&r).lines().count(), 1, "{}", stderr(&r));
            // The old array is intact and a second --force succeeds.
            assert_eq!(decompress_group(&out, group, &d), a, "{name} {group}");
            let b = ints(&[2, 500], 6);
            write_npy(&small, &b);
            assert_ok(&flacarray(&[
                "compress",
                p(&small),
                p(&out),
                "--group",
                group,
                "-q",
                "--force",
            ]));
            assert_eq!(decompress_group(&out, group, &d), b, "{name} {group}");
            write_npy(&small, &a);
            // No metadata document is left empty.
            if name.ends_with(".zarr") {
                for e in walk(&out) {
                    if e.file_name().is_some_and(|n| n == "zarr.json") {
                        let text = std::fs::read(&e).unwrap();
                        assert!(
                            serde_json::from_slice::<serde_json::Value>(&text).is_ok(),
                            "{}",
                            e.display()
                        );
                    }
                }
            }
            let names: Vec<_> = std::fs::read_dir(mnt)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(
                names.iter().all(|n| !n.to_string_lossy().starts_with('.')),
                "{names:?}"
            );
            std::fs::remove_file(&out)
                .or_else(|_| std::fs::remove_dir_all(&out))
                .unwrap();
        }
    });
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
