//! Benchmarks of the later crates (add, index, validate, publish), appended to the table
//! of [`crate::bench`]. They drive the release `berth` binary as a user would.

use std::io::Write;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest as _, Sha256};

use crate::bench::{BenchArgs, Row, sh, time};
use crate::synth::Rng;

/// The release `berth` binary, built once.
pub fn berth_release() -> Result<Utf8PathBuf, String> {
    let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "berth-cli",
            "--bin",
            "berth",
        ])
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("building the release berth binary failed".into());
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    Ok(Utf8PathBuf::from(target).join("release/berth"))
}

fn wanted(args: &BenchArgs, name: &str) -> bool {
    args.only.as_deref().is_none_or(|o| name.contains(o))
}

/// Adds the rows of the benchmarks defined here.
pub fn more(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    if wanted(args, "add") {
        add_rows(args, rows)?;
    }
    Ok(())
}

/// A 1 GiB OCI archive: oci-layout, index.json, a config, a manifest and one uncompressed
/// layer (a tar holding 1 GiB of pseudo-random bytes). Made once.
fn big_oci_archive(dir: &Utf8Path) -> Result<Utf8PathBuf, String> {
    let out = dir.join("big-1gib.oci.tar");
    if out.exists() {
        return Ok(out);
    }
    eprintln!("bench: writing a 1 GiB OCI archive …");
    let e = |x: std::io::Error| x.to_string();
    // The layer: a tar with one file of random bytes, hashed while written.
    let layer_path = dir.join("big-layer.tar");
    let size: u64 = 1 << 30;
    {
        let f = fs_err::File::create(&layer_path).map_err(e)?;
        let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, f));
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        let mut rng = Rng::new(7);
        let reader = RandReader {
            rng: &mut rng,
            left: size,
        };
        b.append_data(&mut h, "data.bin", reader).map_err(e)?;
        b.into_inner().map_err(e)?.flush().map_err(e)?;
    }
    let layer_digest = hex::encode(Sha256::digest(fs_err::read(&layer_path).map_err(e)?));
    let layer_size = fs_err::metadata(&layer_path).map_err(e)?.len();
    let config = serde_json::to_vec(&serde_json::json!({
        "created": "2025-05-10T22:15:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"org.opencontainers.image.revision": "bench"}},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_digest}")]},
    }))
    .map_err(|x| x.to_string())?;
    let config_digest = hex::encode(Sha256::digest(&config));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config_digest}"), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer_digest}"), "size": layer_size}],
    }))
    .map_err(|x| x.to_string())?;
    let manifest_digest = hex::encode(Sha256::digest(&manifest));
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{manifest_digest}"), "size": manifest.len()}],
    }))
    .map_err(|x| x.to_string())?;
    let f = fs_err::File::create(&out).map_err(e)?;
    let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, f));
    let mut add = |name: &str, data: &[u8]| -> Result<(), String> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, data).map_err(e)
    };
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    add("index.json", &index)?;
    add(&format!("blobs/sha256/{config_digest}"), &config)?;
    add(&format!("blobs/sha256/{manifest_digest}"), &manifest)?;
    let mut h = tar::Header::new_gnu();
    h.set_size(layer_size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    b.append_data(
        &mut h,
        format!("blobs/sha256/{layer_digest}"),
        fs_err::File::open(&layer_path).map_err(e)?,
    )
    .map_err(e)?;
    b.into_inner().map_err(e)?.flush().map_err(e)?;
    fs_err::remove_file(&layer_path).map_err(e)?;
    Ok(out)
}

struct RandReader<'a> {
    rng: &'a mut Rng,
    left: u64,
}

impl std::io::Read for RandReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            let r = self.rng.next().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

const BENCH_META: &str = "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"staging\", \"prod\"]\ngroup: bench\nservice_name: big\nteam: bench\n";

fn add_rows(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    let berth = berth_release()?;
    let archive = big_oci_archive(&args.dir)?;
    let meta = args.dir.join("big-metadata.yaml");
    fs_err::write(&meta, BENCH_META).map_err(|e| e.to_string())?;
    // Warm the page cache so both sides read from memory.
    sh(&format!("cat {archive} > /dev/null"))?;
    let repo = args.dir.join("add-repo");
    let fresh_repo = || -> Result<(), String> {
        if repo.exists() {
            fs_err::remove_dir_all(&repo).map_err(|e| e.to_string())?;
        }
        sh(&format!("{berth} init {repo} > /dev/null"))
    };
    let add_cmd = format!(
        "{berth} --repo {repo} add cloud/bench/big 1.0.0 --docker {archive} --metadata {meta} --no-progress > /dev/null"
    );
    let mut samples = Vec::new();
    for _ in 0..args.runs.clamp(1, 3) {
        fresh_repo()?;
        samples.extend(time(1, || sh(&add_cmd))?);
    }
    let size_gib =
        fs_err::metadata(&archive).map_err(|e| e.to_string())?.len() as f64 / f64::from(1u32 << 30);
    let openssl = time(args.runs.clamp(1, 3), || {
        sh(&format!("openssl dgst -sha256 {archive} > /dev/null"))
    })?;
    let sha256sum = time(1, || sh(&format!("sha256sum {archive} > /dev/null")))?;
    // Peak memory of one add, from GNU time.
    fresh_repo()?;
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .args(["sh", "-c", &add_cmd])
        .output()
        .map_err(|e| format!("/usr/bin/time: {e} (apt-get install time)"))?;
    let rss_kib: u64 = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let median = |s: &[std::time::Duration]| {
        let mut v = s.to_vec();
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    // The read-verify-copy-hash pipeline alone, into tmpfs (no disk write-back): what berth
    // itself costs, separated from the disk's speed.
    let shm = Utf8PathBuf::from("/dev/shm/berth-bench-ingest.tar");
    let pipeline = time(args.runs.clamp(1, 3), || {
        let _ = fs_err::remove_file(&shm);
        berth_formats::ingest_image(&archive, &shm, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let _ = fs_err::remove_file(&shm);
    // Writing the same bytes durably with coreutils, for the disk's share.
    let dd_out = args.dir.join("dd-copy.tar");
    let dd = time(1, || {
        sh(&format!(
            "dd if={archive} of={dd_out} bs=1M conv=fsync status=none"
        ))
    })?;
    let _ = fs_err::remove_file(&dd_out);
    let (a, o) = (median(&samples), median(&openssl));
    let p = median(&pipeline);
    rows.push(Row {
        name: "add pipeline: read+verify+copy+hash to tmpfs".into(),
        samples: pipeline,
        note: format!(
            "{:.0} MiB/s; {:.2}x openssl's speed (berth-formats::ingest_image, in process)",
            size_gib * 1024.0 / p,
            o / p
        ),
    });
    rows.push(Row {
        name: "ref: dd conv=fsync, same file to the same disk".into(),
        note: format!(
            "{:.0} MiB/s: the disk's durable write speed bounds `berth add`",
            size_gib * 1024.0 / median(&dd)
        ),
        samples: dd,
    });
    rows.push(Row {
        name: "add: berth add, 1 GiB OCI archive".into(),
        samples,
        note: format!(
            "{:.0} MiB/s; {:.2}x openssl's speed; peak RSS {:.1} MiB",
            size_gib * 1024.0 / a,
            o / a,
            rss_kib as f64 / 1024.0
        ),
    });
    rows.push(Row {
        name: "floor: openssl dgst -sha256, same file".into(),
        samples: openssl,
        note: format!("{:.0} MiB/s", size_gib * 1024.0 / o),
    });
    rows.push(Row {
        name: "ref: sha256sum, same file".into(),
        note: format!("{:.0} MiB/s", size_gib * 1024.0 / median(&sha256sum)),
        samples: sha256sum,
    });
    fs_err::remove_dir_all(&repo).map_err(|e| e.to_string())?;
    Ok(())
}
