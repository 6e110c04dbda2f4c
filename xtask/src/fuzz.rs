//! `cargo xtask fuzz`: the property-based fuzz tests of every reader (YAML files,
//! `berth.toml`, deb control, image archives and their JSON members, tar members) with a long
//! budget, in release mode, reporting the time taken and the peak memory.

use std::process::Command;
use std::time::Instant;

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    /// Cases per property (CI runs a few hundred).
    #[arg(long, default_value_t = 20_000)]
    pub cases: u32,
}

/// The fuzz test binaries: (package, test target).
const TARGETS: [(&str, &str); 3] = [
    ("berth-model", "fuzz"),
    ("berth-formats", "fuzz"),
    ("berth-validate", "cache"),
];

/// Runs every fuzz target with the budget; fails on the first failing property.
pub fn run(args: &FuzzArgs) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (package, test) in TARGETS {
        // Build first, so the peak memory below is the tests', not the compiler's.
        let built = Command::new(&cargo)
            .args([
                "test",
                "--release",
                "-q",
                "--no-run",
                "-p",
                package,
                "--test",
                test,
            ])
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !built.success() {
            return Err(format!("building {package} {test} failed"));
        }
        let t = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "peak-rss-kib=%M"])
            .arg(&cargo)
            .args(["test", "--release", "-q", "-p", package, "--test", test])
            .env("BERTH_FUZZ_CASES", args.cases.to_string())
            .output()
            .map_err(|e| format!("/usr/bin/time: {e} (apt-get install time)"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            return Err(format!("{package} {test} failed:\n{stderr}"));
        }
        let rss = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("peak-rss-kib="))
            .next_back()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        println!(
            "fuzz {package}/{test}: {} cases per property, {:.1} s, peak RSS {:.1} MiB (cargo included)",
            args.cases,
            t.elapsed().as_secs_f64(),
            rss as f64 / 1024.0
        );
    }
    Ok(())
}
