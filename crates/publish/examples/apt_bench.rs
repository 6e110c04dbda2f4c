//! Benchmark fixture and in-process timings for `publish apt`.
//!
//! ```text
//! cargo run --release -p berth-publish --example apt_bench -- WORKDIR [COUNT]
//! ```
//!
//! Builds COUNT (default 2000) tiny debs with `dpkg-deb` into `WORKDIR/debs` (once), lays
//! out a repository `WORKDIR/repo` with one component per deb (manifest.yaml generated
//! from the deb, deb hard-linked), whose stage `bench`/`staging` runs the first COUNT
//! and `WORKDIR/domain-plus-one.yaml` one more; then times `apt_index` cold (empty
//! cache), warm, and after adding one deb, and `apt::publish` cold and incremental.
//! `apt-ftparchive packages WORKDIR/debs` and `dpkg-scanpackages WORKDIR/debs` are the
//! references: `cargo xtask bench --only publish` builds its fixture with this example
//! and times the `berth` binary beside them.

use std::process::Command;
use std::time::Instant;

use berth_model::{
    Checked, ComponentPath, DebFields, DomainEntry, DomainIndex, DomainName, EnvName, FileEntry,
    Format, Layout, Manifest, Repository, Version,
};
use berth_publish::Contents;
use berth_publish::apt::{AptCache, AptOptions};
use camino::Utf8PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let work = Utf8PathBuf::from(args.next().expect("usage: apt_bench WORKDIR [COUNT]"));
    let count: usize = args.next().map_or(2000, |c| c.parse().expect("COUNT"));
    let debs = work.join("debs");
    let extra = work.join("extra");
    build_debs(&debs, 0, count);
    build_debs(&extra, count, count + 1);

    let root = work.join("repo");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("repo");
    std::fs::write(
        root.join("berth.toml"),
        "[repository]\narchitectures = [\"amd64\"]\n\n[domains.bench]\nladder = [\"staging\", \"prod\"]\n",
    )
    .expect("berth.toml");
    let repo = Repository::open(&root).expect("open");
    let mut entries = Vec::new();
    let t = Instant::now();
    for i in 0..=count {
        let dir = if i < count { &debs } else { &extra };
        let deb = dir.join(deb_name(i));
        entries.push(add_component(&repo, i, &deb));
    }
    eprintln!("laid out {} components in {:?}", count + 1, t.elapsed());
    let d = DomainName::parse("bench").expect("domain");
    let e = EnvName::parse("staging").expect("env");
    let file = Layout::domain_file(repo.config(), &d, Some(&e));
    let plus_one = DomainIndex {
        components: entries.clone(),
        audit_head: None,
    };
    let lock = repo.lock().expect("lock");
    repo.write_yaml(&lock, &file, &plus_one).expect("write");
    std::fs::copy(root.join(&file), work.join("domain-plus-one.yaml")).expect("copy");
    let base = DomainIndex {
        components: entries[..count].to_vec(),
        audit_head: None,
    };
    repo.write_yaml(&lock, &file, &base).expect("write");
    drop(lock);
    std::fs::copy(root.join(&file), work.join("domain-base.yaml")).expect("copy");

    let stage = Contents::load(&repo, &d, &e).expect("stage");
    let stage1 = Contents::from_entries(d.clone(), e.clone(), entries.clone());
    let opts = AptOptions::new("bench");

    let mut cache = AptCache::default();
    let t = Instant::now();
    let idx = berth_publish::apt::apt_index(&repo, &stage, &mut cache, &opts).expect("index");
    println!(
        "apt_index cold ({} debs read):        {:>8.1} ms",
        idx.debs_read,
        ms(t)
    );
    let t = Instant::now();
    let idx = berth_publish::apt::apt_index(&repo, &stage, &mut cache, &opts).expect("index");
    println!(
        "apt_index warm ({} debs read):        {:>8.1} ms",
        idx.debs_read,
        ms(t)
    );
    let t = Instant::now();
    let idx = berth_publish::apt::apt_index(&repo, &stage1, &mut cache, &opts).expect("index");
    println!(
        "apt_index plus one ({} deb read):     {:>8.1} ms",
        idx.debs_read,
        ms(t)
    );

    let out = work.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let t = Instant::now();
    berth_publish::apt::publish(&repo, &stage, out.clone(), &opts).expect("publish");
    println!("publish cold:                          {:>8.1} ms", ms(t));
    let t = Instant::now();
    let r = berth_publish::apt::publish(&repo, &stage1, out.clone(), &opts).expect("publish");
    println!(
        "publish plus one ({} read, {} linked): {:>8.1} ms",
        r.debs_read,
        r.linked,
        ms(t)
    );
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn deb_name(i: usize) -> String {
    format!("bench-pkg{i:05}_1.0.{i}-1_amd64.deb")
}

/// Builds debs `from..to` into `dir` unless present, two dpkg-deb processes at a time.
fn build_debs(dir: &camino::Utf8Path, from: usize, to: usize) {
    std::fs::create_dir_all(dir).expect("debs dir");
    let todo: Vec<usize> = (from..to)
        .filter(|i| !dir.join(deb_name(*i)).exists())
        .collect();
    if todo.is_empty() {
        return;
    }
    let t = Instant::now();
    let staging = dir.join(".build");
    std::thread::scope(|s| {
        for chunk in todo.chunks(todo.len().div_ceil(2)) {
            let staging = &staging;
            s.spawn(move || {
                for &i in chunk {
                    let pkg = format!("bench-pkg{i:05}");
                    let tree = staging.join(&pkg);
                    std::fs::create_dir_all(tree.join("DEBIAN")).expect("mkdir");
                    std::fs::create_dir_all(tree.join("usr/share/doc").join(&pkg)).expect("mkdir");
                    std::fs::write(
                        tree.join("DEBIAN/control"),
                        format!(
                            "Package: {pkg}\nVersion: 1.0.{i}-1\nArchitecture: amd64\nMaintainer: Bench <bench@example.invalid>\nInstalled-Size: 1\nDepends: libc6 (>= 2.36)\nSection: misc\nPriority: optional\nDescription: benchmark package {i}\n A tiny package for timing publish apt.\n"
                        ),
                    )
                    .expect("control");
                    std::fs::write(
                        tree.join("usr/share/doc").join(&pkg).join("README"),
                        format!("package {i}\n"),
                    )
                    .expect("payload");
                    let st = Command::new("dpkg-deb")
                        .args(["-Zgzip", "--root-owner-group", "--build"])
                        .arg(&tree)
                        .arg(dir.join(deb_name(i)))
                        .stdout(std::process::Stdio::null())
                        .status()
                        .expect("dpkg-deb");
                    assert!(st.success(), "dpkg-deb failed for {pkg}");
                    std::fs::remove_dir_all(&tree).expect("clean");
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&staging);
    eprintln!("built {} debs in {:?}", todo.len(), t.elapsed());
}

/// Lays out `bench/pkgs/p<i>` 1.0.0 with the deb and a manifest.yaml made from it.
fn add_component(repo: &Repository, i: usize, deb: &camino::Utf8Path) -> DomainEntry {
    let c = ComponentPath::parse(&format!("bench/pkgs/p{i:05}")).expect("component");
    let v = Version::parse("1.0.0").expect("version");
    let f = Format::deb();
    let info = berth_formats::inspect_deb(deb, None).expect("inspect");
    let name = deb.file_name().expect("file name");
    let dir = repo.path(&Layout::format_dir(&c, &v, &f));
    std::fs::create_dir_all(&dir).expect("format dir");
    std::fs::hard_link(deb, dir.join(name))
        .or_else(|_| std::fs::copy(deb, dir.join(name)).map(|_| ()))
        .expect("place deb");
    let manifest = Manifest {
        format: Checked::Valid(f.clone()),
        version: Checked::Valid(v.clone()),
        base_image: None,
        sha256: Checked::Valid(info.file.sha256),
        built_at: None,
        labels: Default::default(),
        image_id: None,
        platforms: Vec::new(),
        deb: Some(DebFields {
            package: info.package.clone(),
            version: info.version.clone(),
            architecture: info.architecture.to_string(),
            depends: info.depends.clone(),
            installed_size: info.installed_size,
        }),
        files: vec![FileEntry {
            path: name.to_owned(),
            size: info.file.size,
            sha256: Checked::Valid(info.file.sha256),
        }],
    };
    let lock = repo.lock().expect("lock");
    repo.write_yaml(&lock, &Layout::manifest_path(&c, &v, &f), &manifest)
        .expect("manifest");
    DomainEntry {
        name: c,
        version: v,
    }
}
