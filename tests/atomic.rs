//! `flacarray::atomic`: the temporary path, its removal on failure and on request,
//! stale temporary paths of dead processes, and the directory lock.
#![allow(clippy::unwrap_used)]

use flacarray::atomic::{
    Error, Replaced, lock_dir_of, remove_pending, remove_stale_temps, replace, temp_path_for,
    with_temp_path,
};
use std::io::Read;

#[test]
fn temporary_path_is_renamed_or_removed_also_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a.zarr");
    let tmp = temp_path_for(&target).unwrap();
    assert_eq!(
        tmp.file_name().unwrap().to_string_lossy(),
        format!(".a.zarr.{}.tmp", std::process::id())
    );
    // A directory (a Zarr store) is renamed whole.
    with_temp_path(&target, |p| {
        std::fs::create_dir(p)?;
        std::fs::write(p.join("zarr.json"), b"{}")
    })
    .unwrap();
    assert!(target.join("zarr.json").is_file());
    // A failed write leaves the old store and no temporary directory.
    let e = with_temp_path(&target, |p| {
        std::fs::create_dir(p)?;
        Err(std::io::Error::other("no space"))
    })
    .unwrap_err();
    assert!(matches!(e, Error::Write { .. }));
    assert_eq!(e.to_string(), format!("{}: no space", target.display()));
    assert!(!tmp.exists() && target.join("zarr.json").is_file());
    assert!(matches!(
        temp_path_for(std::path::Path::new("/")),
        Err(Error::NotAFileName(_))
    ));
    // In the same test: the pending list is process-wide, so no other test of this
    // file writes through a temporary path.
    let target = dir.path().join("b.npy");
    with_temp_path(&target, |p| {
        std::fs::write(p, b"partial")?;
        // What a signal handler does while the write is under way.
        remove_pending();
        assert!(!p.exists());
        Ok::<(), std::io::Error>(())
    })
    .unwrap_err();
    assert!(!target.exists());
    // An existing regular file is replaced whole; a reader that opened it before
    // still reads the old content, and nothing but the target is left.
    let target = dir.path().join("c.npy");
    std::fs::write(&target, b"old content").unwrap();
    let mut reader = std::fs::File::open(&target).unwrap();
    with_temp_path(&target, |p| std::fs::write(p, b"new")).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
    let mut old = String::new();
    reader.read_to_string(&mut old).unwrap();
    assert_eq!(old, "old content");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.zarr", "c.npy"]);
}

#[test]
fn replace_swaps_regular_files_and_renames_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let (tmp, target) = (dir.path().join("t"), dir.path().join("out.npy"));
    // No target: a rename.
    std::fs::write(&tmp, b"one").unwrap();
    assert_eq!(replace(&tmp, &target).unwrap(), Replaced::Renamed);
    assert!(!tmp.exists());
    assert_eq!(std::fs::read(&target).unwrap(), b"one");
    // A regular file: exchanged on Linux (and the old file, left at `tmp`, removed),
    // renamed elsewhere. A reader of the old file keeps reading it.
    let mut reader = std::fs::File::open(&target).unwrap();
    std::fs::write(&tmp, b"two").unwrap();
    let how = replace(&tmp, &target).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"two");
    let want = if cfg!(target_os = "linux") {
        Replaced::Exchanged
    } else {
        Replaced::Renamed
    };
    assert_eq!(how, want);
    assert!(!tmp.exists());
    let mut old = String::new();
    reader.read_to_string(&mut old).unwrap();
    assert_eq!(old, "one");
    // A hard link to the target keeps the old content, as with a rename.
    let link = dir.path().join("link.npy");
    std::fs::hard_link(&target, &link).unwrap();
    std::fs::write(&tmp, b"three").unwrap();
    replace(&tmp, &target).unwrap();
    assert!(!tmp.exists());
    assert_eq!(std::fs::read(&target).unwrap(), b"three");
    assert_eq!(std::fs::read(&link).unwrap(), b"two");
    // A symbolic link is itself replaced (renamed over), its file untouched.
    #[cfg(unix)]
    {
        let sym = dir.path().join("sym.npy");
        std::os::unix::fs::symlink(&link, &sym).unwrap();
        std::fs::write(&tmp, b"four").unwrap();
        assert_eq!(replace(&tmp, &sym).unwrap(), Replaced::Renamed);
        assert!(
            !std::fs::symlink_metadata(&sym)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&sym).unwrap(), b"four");
        assert_eq!(std::fs::read(&link).unwrap(), b"two");
    }
    // A missing temporary file is an error and leaves the target as it was.
    assert!(replace(&dir.path().join("missing"), &target).is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"three");
}

#[test]
fn stale_temps_of_dead_processes_go_and_live_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("c.h5");
    // No process has a pid above the kernel's maximum (4194304 at most).
    let dead = dir.path().join(".c.h5.4294967295.tmp");
    let live = dir.path().join(format!(".c.h5.{}.tmp", std::process::id()));
    let other = dir.path().join(".d.h5.4294967295.tmp");
    for p in [&dead, &live, &other] {
        std::fs::write(p, b"x").unwrap();
    }
    assert!(remove_stale_temps(&target).is_empty());
    assert!(!dead.exists() && live.exists() && other.exists());
    let _lock = lock_dir_of(&target).unwrap();
}
