use super::*;

fn store() -> (tempfile::TempDir, Utf8PathBuf, LocalStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf8");
    let s = LocalStore::new(&root).expect("open");
    (dir, root, s)
}

fn lock(s: &LocalStore) -> StoreLock {
    s.lock(Duration::from_secs(5)).expect("lock")
}

#[test]
fn atomic_writes_and_create_new() {
    let (_d, _root, s) = store();
    let l = lock(&s);
    let p = Utf8Path::new("a/b.yaml");
    s.write_atomic(&l, p, b"one").expect("write");
    s.write_atomic(&l, p, b"two").expect("replace");
    assert_eq!(s.read(p, 100).expect("read"), b"two");
    let e = s.create_new(&l, p, b"three").expect_err("exists");
    assert!(matches!(e, StoreError::AlreadyExists { .. }), "{e}");
    assert_eq!(s.read(p, 100).expect("read"), b"two");
    // No temporary files are left behind, neither next to the file nor in .berth/tmp.
    let names: Vec<_> = s
        .list(Utf8Path::new("a"))
        .expect("list")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["b.yaml"]);
    let tmp: Vec<_> = s
        .list(Utf8Path::new(TMP_DIR))
        .expect("list")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

#[test]
fn lock_is_exclusive_and_released_on_drop() {
    let (_d, root, a) = store();
    let b = LocalStore::new(&root).expect("open");
    let held = a.lock(Duration::from_millis(10)).expect("first lock");
    let e = b
        .lock(Duration::from_millis(50))
        .expect_err("second waits then fails");
    assert!(matches!(e, StoreError::LockTimeout { .. }), "{e}");
    drop(held);
    b.lock(Duration::from_millis(50)).expect("free again");
}

#[test]
fn taking_the_lock_sweeps_temporary_files_of_killed_writers() {
    let (_d, root, s) = store();
    std::fs::create_dir_all(root.join(TMP_DIR)).expect("mkdir");
    let stale = root.join(TMP_DIR).join(format!("{TEMP_PREFIX}999-1-0"));
    std::fs::write(&stale, b"half").expect("write");
    let work = s.work_dir("add").expect("work dir");
    let _l = lock(&s);
    assert!(!stale.exists(), "stale temp file swept");
    assert!(work.abs.is_dir(), "a live work directory is kept");
}

#[test]
fn symlinks_on_any_path_are_never_followed() {
    let (_d, root, s) = store();
    let outside = tempfile::tempdir().expect("outside");
    let out = Utf8PathBuf::from_path_buf(outside.path().to_path_buf()).expect("utf8");
    std::fs::write(out.join("secret"), b"root:x:0:0").expect("write");
    std::fs::create_dir_all(root.join("index")).expect("mkdir");
    std::os::unix::fs::symlink(&out, root.join("index/audit")).expect("symlink dir");
    std::os::unix::fs::symlink(out.join("secret"), root.join("index/file.yaml"))
        .expect("symlink file");
    let l = lock(&s);

    for rel in ["index/audit/secret", "index/file.yaml"] {
        let e = s.read(Utf8Path::new(rel), 1000).expect_err("refused");
        assert!(matches!(e, StoreError::Symlink { .. }), "{rel}: {e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }
    assert!(matches!(
        s.list(Utf8Path::new("index/audit")).expect_err("refused"),
        StoreError::Symlink { .. }
    ));
    let e = s
        .write_atomic(
            &l,
            Utf8Path::new("index/audit/cloud/prod/x.yaml"),
            b"forged",
        )
        .expect_err("refused");
    assert!(matches!(e, StoreError::Symlink { .. }), "{e}");
    let e = s
        .write_atomic(&l, Utf8Path::new("index/file.yaml"), b"new")
        .map(|()| std::fs::read(out.join("secret")).expect("read"));
    // Replacing the link itself is fine (rename replaces the link, never writes through it).
    assert_eq!(e.expect("the link is replaced"), b"root:x:0:0");
    assert!(!out.join("cloud").exists(), "nothing written outside");
    // `..` never leaves the tree.
    let e = s.read(Utf8Path::new("../x"), 10).expect_err("refused");
    assert!(matches!(e, StoreError::OutsideTree { .. }), "{e}");
    // Stat does not follow either.
    let m = s
        .stat(Utf8Path::new("index/audit"))
        .expect("stat")
        .expect("exists");
    assert_eq!(m.kind, EntryKind::Symlink);
}

#[test]
fn a_linked_state_directory_is_refused() {
    let (_d, root, s) = store();
    let outside = tempfile::tempdir().expect("outside");
    std::os::unix::fs::symlink(outside.path(), root.join(".berth")).expect("symlink");
    let e = s.lock(Duration::from_millis(10)).expect_err("refused");
    assert!(matches!(e, StoreError::Symlink { .. }), "{e}");
    assert!(
        std::fs::read_dir(outside.path())
            .expect("read")
            .next()
            .is_none()
    );
}

#[test]
fn special_files_are_refused_without_blocking() {
    let (_d, root, s) = store();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo").as_std_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .expect("mkfifo");
    // Would hang forever with a blocking open.
    let e = s.read(Utf8Path::new("fifo"), 10).expect_err("refused");
    assert!(matches!(e, StoreError::NotRegular { .. }), "{e}");
    assert!(e.to_string().contains("FIFO"), "{e}");
    let e = open_regular(&root.join("fifo")).expect_err("refused");
    assert!(matches!(e, StoreError::NotRegular { .. }), "{e}");
    let e = open_regular(Utf8Path::new("/dev/zero")).expect_err("refused");
    assert!(e.to_string().contains("character device"), "{e}");
    let e = s.read(Utf8Path::new(""), 10).expect_err("a directory");
    assert!(matches!(e, StoreError::NotRegular { .. }), "{e}");
}

#[test]
fn size_limits_are_checked_before_reading() {
    let (_d, root, s) = store();
    std::fs::write(root.join("big"), vec![b'a'; 2048]).expect("write");
    let e = s.read(Utf8Path::new("big"), 1024).expect_err("too large");
    assert!(
        matches!(
            e,
            StoreError::TooLarge {
                size: 2048,
                limit: 1024,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        s.read(Utf8Path::new("big"), 2048)
            .expect("at the limit")
            .len(),
        2048
    );
    let e = read_regular(&root.join("big"), 100).expect_err("too large");
    assert!(matches!(e, StoreError::TooLarge { .. }), "{e}");
}

#[test]
fn created_files_and_directories_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_d, root, s) = store();
    let l = lock(&s);
    s.write_atomic(&l, Utf8Path::new("d/e/f.yaml"), b"x")
        .expect("write");
    // The test process runs with its inherited umask; what berth creates must match what
    // `touch`/`mkdir` would create under it.
    let probe = root.join("probe");
    std::fs::write(&probe, b"").expect("probe");
    let file_mode = std::fs::metadata(&probe)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    std::fs::create_dir(root.join("probedir")).expect("probe dir");
    let dir_mode = std::fs::metadata(root.join("probedir"))
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    let got = |p: &str| {
        std::fs::metadata(root.join(p))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(got("d/e/f.yaml"), file_mode);
    assert_eq!(got("d/e"), dir_mode);
    atomic_write(&root.join("out.json"), b"{}", true).expect("write outside");
    assert_eq!(got("out.json"), file_mode);
}

#[test]
fn rename_and_remove_stay_inside() {
    let (_d, root, s) = store();
    let l = lock(&s);
    s.write_atomic(&l, Utf8Path::new("w/a"), b"a")
        .expect("write");
    s.rename(&l, Utf8Path::new("w"), Utf8Path::new("x/y"), false)
        .expect("rename");
    assert_eq!(s.read(Utf8Path::new("x/y/a"), 10).expect("read"), b"a");
    s.write_atomic(&l, Utf8Path::new("z/b"), b"b")
        .expect("write");
    let e = s
        .rename(&l, Utf8Path::new("z"), Utf8Path::new("x/y"), false)
        .expect_err("taken");
    assert!(matches!(e, StoreError::AlreadyExists { .. }), "{e}");
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("keep"), b"k").expect("write");
    std::os::unix::fs::symlink(outside.path(), root.join("x/link")).expect("symlink");
    s.remove(&l, Utf8Path::new("x")).expect("remove");
    assert!(!root.join("x").exists());
    assert!(
        outside.path().join("keep").exists(),
        "a link's target is never removed"
    );
}

#[test]
fn the_portable_resolution_refuses_the_same_links() {
    // Where openat2 is missing (old kernels, some sandboxes) every component is opened with
    // O_NOFOLLOW instead; it must refuse exactly what openat2 refuses. (The switch is
    // process-wide; both paths are correct, so other tests are unaffected.)
    super::root::NO_OPENAT2.store(true, std::sync::atomic::Ordering::Relaxed);
    let (_d, root, s) = store();
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("f"), b"x").expect("write");
    std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
    std::fs::write(root.join("a/b/ok.yaml"), b"fine").expect("write");
    std::os::unix::fs::symlink(outside.path(), root.join("a/link")).expect("symlink");
    assert_eq!(
        s.read(Utf8Path::new("a/b/ok.yaml"), 10)
            .expect("plain path"),
        b"fine"
    );
    let e = s.read(Utf8Path::new("a/link/f"), 10).expect_err("refused");
    assert!(matches!(e, StoreError::Symlink { .. }), "{e}");
    assert!(e.to_string().contains("`a/link` is a symbolic link"), "{e}");
    let e = s.list(Utf8Path::new("a/link")).expect_err("refused");
    assert!(matches!(e, StoreError::Symlink { .. }), "{e}");
}
