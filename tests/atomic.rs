//! `flacarray::atomic`: the temporary path, its removal on failure and on request,
//! stale temporary paths of dead processes, and the directory lock.
#![allow(clippy::unwrap_used)]

use flacarray::atomic::{
    Error, lock_dir_of, remove_pending, remove_stale_temps, temp_path_for, with_temp_path,
};

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
