//! The command line, as clap definitions. Help text, the man page and shell completions
//! are all generated from these (`cargo xtask man`, `cargo xtask completions`).

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// berth: a metadata-driven artifact repository for Docker/OCI images, Debian packages and
/// generic files, grouped by product, validated by rules, indexed and promoted domain by
/// domain.
///
/// Exit codes: 0 success; 1 a negative answer or findings (invalid, not found, gate
/// refused); 2 usage, configuration or I/O error.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// The repository (a directory holding berth.toml). Default: $BERTH_REPO, else the
    /// nearest berth.toml at or above the working directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<Utf8PathBuf>,

    /// Output format. Not every command offers every format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    Human,
    /// An aligned table (same as human where it applies).
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// GitLab Code Quality report (validate).
    Gitlab,
    /// JUnit XML test report (validate).
    Junit,
    /// SARIF 2.1.0 (validate).
    Sarif,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new repository with a commented berth.toml.
    Init(InitArgs),
    /// List components with their versions and owners.
    Ls(LsArgs),
    /// Show a component, or one version of it.
    Show(ShowArgs),
    /// Print or write the JSON Schemas of every file, for editors and other tools.
    Schema(SchemaArgs),
}

/// `berth init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create the repository (default: the working directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<Utf8PathBuf>,
}

/// `berth ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only components below this path prefix (`cloud/dmp`).
    #[arg(value_name = "PREFIX")]
    pub prefix: Option<String>,
}

/// `berth show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The component: full path, or its last segment when unique.
    pub component: String,
    /// One version of it.
    pub version: Option<String>,
}

/// `berth schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write one `<file>.schema.json` per file kind into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<Utf8PathBuf>,
}
