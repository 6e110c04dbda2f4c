//! The `berth` binary.

use clap::Parser;

/// mimalloc: whole-repository runs allocate and free millions of small values from
/// several threads, where it is measurably faster than glibc's allocator (see
/// ARCHITECTURE.md, "Performance").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    berth_cli::run(berth_cli::Cli::parse())
}
