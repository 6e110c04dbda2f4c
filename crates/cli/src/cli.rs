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
    /// Ingest artifacts: write them with a generated manifest.yaml, write or check
    /// metadata.yaml, update the index. Atomic; published versions are immutable.
    Add(AddArgs),
    /// Regenerate index/components.yaml: the latest good version of every component.
    ///
    /// Latest is the highest SemVer version with no error finding; pre-releases count only
    /// when berth.toml sets `repository.latest_includes_prereleases = true`. The output is
    /// byte-deterministic. With --check nothing is written: exit 1 and a unified diff when
    /// the committed file is stale (for CI and the pre-commit hook `berth-index`).
    Index(IndexArgs),
    /// Print the latest version of a component, and nothing else.
    ///
    /// For deploy jobs: `VERSION=$(berth latest cloud/dmp/ms-ingestion)`. Reads only
    /// index/components.yaml. Exit 1, with a message on stderr, for an unknown component.
    Latest(LatestArgs),
    /// Find component versions by team, domain, environment, architecture, label or
    /// dependency; filters combine with AND.
    ///
    /// Looks at the latest version of each component (from index/components.yaml) unless
    /// --all-versions. Examples: `berth query --team ingestion-platform --domain cloud
    /// --env prod`; `berth query --depends-on "common-utils >=1.2"`. Exit 1 when nothing
    /// matches.
    Query(QueryArgs),
    /// Resolve the dependencies of a component version to the highest matching versions.
    ///
    /// Reports unresolved, ambiguous and cyclic dependencies and exits 1 when there are
    /// any.
    Deps(DepsArgs),
}

/// `berth index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Write nothing; exit 1 and print a unified diff when index/components.yaml is stale.
    #[arg(long)]
    pub check: bool,
}

/// `berth latest`.
#[derive(Debug, Args)]
pub struct LatestArgs {
    /// The component: full path (`cloud/dmp/ms-ingestion`), or its last segment when unique.
    pub component: String,
}

/// `berth query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Built by this team (metadata `team`) or owned by it (ownership.yaml `owner_team`).
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// Lists this domain in metadata `domains`.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Lists this environment in metadata `environments`.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Runs on this architecture (`all` fits every architecture).
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// Carries this label in metadata `labels` (repeatable; all must match).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Depends on this component, with a requirement that admits a version in REQ:
    /// `--depends-on "common-utils >=1.2"`.
    #[arg(long, value_name = "COMPONENT[ REQ]")]
    pub depends_on: Option<String>,
    /// Look at every version, not only the latest of each component.
    #[arg(long)]
    pub all_versions: bool,
}

/// `berth deps`.
#[derive(Debug, Args)]
pub struct DepsArgs {
    /// The component: full path, or its last segment when unique.
    pub component: String,
    /// The version (default: its latest, from index/components.yaml).
    pub version: Option<String>,
    /// Print the whole tree of transitive dependencies.
    #[arg(long)]
    pub tree: bool,
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

/// `berth add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The component (`cloud/dmp/ms-ingestion`).
    pub component: String,
    /// The version (SemVer: `1.0.2`).
    pub version: String,
    /// A docker-save or OCI image archive (stored as docker/image.tar).
    #[arg(long, value_name = "FILE")]
    pub docker: Option<Utf8PathBuf>,
    /// A Debian package (repeatable).
    #[arg(long, value_name = "FILE")]
    pub deb: Vec<Utf8PathBuf>,
    /// Any file (repeatable).
    #[arg(long, value_name = "FILE")]
    pub generic: Vec<Utf8PathBuf>,
    /// The version's metadata.yaml.
    #[arg(long, value_name = "FILE", conflicts_with = "from_previous")]
    pub metadata: Option<Utf8PathBuf>,
    /// Copy metadata.yaml from the component's highest existing version.
    #[arg(long)]
    pub from_previous: bool,
    /// The base image, when the image has no org.opencontainers.image.base.name label.
    #[arg(long, value_name = "REF")]
    pub base_image: Option<String>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}
