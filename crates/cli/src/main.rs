//! The `berth` binary.

use clap::Parser;

fn main() -> std::process::ExitCode {
    berth_cli::run(berth_cli::Cli::parse())
}
