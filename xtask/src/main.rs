//! `cargo xtask`: the project's chores, in Rust.

mod bench;
mod bench_ext;
mod bench_publish;
mod bench_scale;
mod bench_site;
mod example_artifacts;
mod fuzz;
mod synth;

use camino::Utf8PathBuf;
use clap::{CommandFactory, Parser, Subcommand};

/// berth's chores.
#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Generate a synthetic repository (deterministic from --seed).
    Synth(synth::SynthArgs),
    /// Run every benchmark and print one table.
    Bench(bench::BenchArgs),
    /// Build real, tiny artifacts (dpkg-deb, umoci, skopeo) for every version of
    /// examples/repo that lacks them, and add them with berth add.
    ExampleArtifacts {
        /// The repository.
        #[arg(long, default_value = "examples/repo")]
        repo: Utf8PathBuf,
    },
    /// Run the fuzz tests of every reader with a long budget (release mode).
    Fuzz(fuzz::FuzzArgs),
    /// Write shell completions for bash, zsh, fish, elvish and PowerShell.
    Completions {
        /// Output directory.
        #[arg(long, default_value = "target/completions")]
        out: Utf8PathBuf,
    },
    /// Write man pages (berth.1 and one page per subcommand).
    Man {
        /// Output directory.
        #[arg(long, default_value = "target/man")]
        out: Utf8PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let x = Xtask::parse();
    let result = match x.task {
        Task::Synth(a) => synth::run(&a).map(|n| println!("wrote {n} files to {}", a.out)),
        Task::Bench(a) => bench::run(&a),
        Task::Fuzz(a) => fuzz::run(&a),
        Task::ExampleArtifacts { repo } => example_artifacts::run(&repo),
        Task::Completions { out } => completions(&out),
        Task::Man { out } => man(&out),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn completions(out: &Utf8PathBuf) -> Result<(), String> {
    use clap_complete::Shell;
    fs_err::create_dir_all(out).map_err(|e| e.to_string())?;
    let mut cmd = berth_cli::Cli::command();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let path =
            clap_complete::generate_to(shell, &mut cmd, "berth", out).map_err(|e| e.to_string())?;
        println!("{}", path.display());
    }
    Ok(())
}

fn man(out: &Utf8PathBuf) -> Result<(), String> {
    fs_err::create_dir_all(out).map_err(|e| e.to_string())?;
    let cmd = berth_cli::Cli::command();
    clap_mangen::generate_to(cmd, out).map_err(|e| e.to_string())?;
    let mut pages: Vec<_> = fs_err::read_dir(out)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    pages.sort();
    for p in pages {
        println!("{}", p.display());
    }
    Ok(())
}
