//! The command line, as clap definitions. Help text, the man page and shell completions
//! are all generated from these (`cargo xtask man`, `cargo xtask completions`).
//!
//! The doc comments below are `--help` text, not rustdoc: `<domain>` there is a
//! placeholder a user reads, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// berth: a metadata-driven artifact repository for Docker/OCI images, Debian packages and
/// generic files, grouped by product, validated by rules, indexed and promoted domain by
/// domain.
///
/// Exit codes: 0 success; 1 a negative answer or findings (invalid, not found, gate
/// refused); 2 usage, configuration or I/O error; 3 a notification could not be posted
/// (`berth notify`).
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
    ///
    /// Artifacts are copied; with --move they are moved in instead (the source path is gone
    /// on success and restored on refusal).
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
    /// Check the repository against every rule: layout, schemas, metadata, manifests,
    /// ownership, dependencies, the index and the domain files.
    ///
    /// Only YAML files are read unless --verify-artifacts. Exit 0 when no finding is an
    /// error (or a warning, with --deny warnings), 1 otherwise, 2 for usage, config or I/O
    /// errors. `berth explain RULE` documents a rule; severities are set in berth.toml
    /// `[rules]`.
    Validate(ValidateArgs),
    /// Print the documentation of a rule: what it checks, why it matters, an example and
    /// how to fix it.
    Explain(ExplainArgs),
    /// Publish what one stage of a domain runs for native clients: an apt repository, an
    /// OCI image layout or registry push, or a plain tree with SHA256SUMS.
    ///
    /// Reads the stage's domain file (index/domain-<domain>[-<env>].yaml). Publishing is
    /// incremental and atomic for clients; publish each stage into its own directory.
    Publish(PublishArgs),
    /// Promote a component version into a stage of a domain, through every gate; or, with
    /// --from, everything a stage runs into the next one, all or nothing.
    ///
    /// Gates, each refusing with its id and what would satisfy it: exists, valid (no error
    /// finding), allowed (metadata lists the domain and environment), previous-stage (runs
    /// in the rung before, unless allow_skip), build-age (policy.max_build_age_days),
    /// dependencies (satisfied by versions running in the same stage, checked on the whole
    /// stage after the change), approvals ([policy.approvals], by approvers listed in
    /// ownership.yaml, never the actor). A refused promotion changes no file and exits 1.
    /// A promotion writes one audit record per change (index/audit/<domain>/<env>/) and
    /// the domain file, under the repository lock. The actor is --actor, else
    /// $BERTH_ACTOR, else $GITLAB_USER_LOGIN, else the OS user.
    ///
    /// Examples: `berth promote ms-ingestion 1.0.3 --domain cloud --env prod --approved-by
    /// priya.k --reason "smoke tests green"`; `berth promote --domain cloud --from staging
    /// --to prod --approved-by priya.k --approved-by lars.n`.
    Promote(PromoteArgs),
    /// Take a stage back to the version of a component it ran before (or, with --to, to
    /// one it ran earlier), recorded in the audit trail like a promotion.
    ///
    /// Refused (exit 1) when the target version no longer passes validation, its metadata
    /// no longer allows the stage, or the stage's dependencies would break. Needs no
    /// approvals.
    Rollback(RollbackArgs),
    /// Print what a stage runs: what its deploy job must deploy.
    ///
    /// Reads index/domain-<domain>[-<env>].yaml (production when --env is not given).
    /// `--format json` gives {domain, environment, file, components: [{name, version}]}.
    Deployed(DeployedArgs),
    /// Show what promoting a whole stage into the next would change (no gate checked).
    Diff(DiffArgs),
    /// Print the audit history, oldest first, and check every audit chain read.
    ///
    /// Exit 1 when a chain is broken: a record edited, removed, inserted or renamed.
    Log(LogArgs),
    /// Post an event to the owning group's Slack channel: `slack_channel` of the nearest
    /// ownership.yaml, as a Slack incoming-webhook message with links to the owner's
    /// source_repo and ci_pipeline and to this pipeline run.
    ///
    /// The webhook URL comes from the environment, never from the tree, and is never
    /// printed: the variable berth.toml `[notify.channels]` names for the channel when it
    /// is set, else $BERTH_SLACK_WEBHOOK (or the variable `[notify] webhook_env` names).
    /// Timeouts, connection errors, HTTP 5xx and 429 (Retry-After up to 5 s) are retried:
    /// 3 attempts, 0.5 s then 1 s apart, 5 s each ($BERTH_NOTIFY_TIMEOUT_SECS sets the
    /// per-attempt timeout); other statuses are not. See docs/notifications.md.
    ///
    /// Exit codes: 0 posted, or no webhook configured (a note on stderr, nothing posted);
    /// 1 unknown component; 2 usage or configuration error (e.g. no ownership.yaml);
    /// 3 the post failed (refused, or retries exhausted): nothing else is undone.
    ///
    /// Example: `berth notify promotion-refused ms-ingestion 1.0.3 --domain cloud --env
    /// prod --detail "gate approvals: needs 1 approval"`.
    Notify(NotifyArgs),
    /// Write a static dashboard of the repository: the components × stages matrix with
    /// drift, component pages, stage timelines, findings and search.
    ///
    /// Plain HTML, CSS and SVG with a little JavaScript (filters, search); no server, no
    /// external resources; works from any web server, GitLab Pages or file://. Output is
    /// deterministic and incremental: only files whose bytes changed are rewritten, and
    /// pages of components that are gone are removed (only files the site wrote, listed
    /// in DIR/.berth-site-files). Example: `berth site --out public`.
    Site(SiteArgs),
}

/// `berth promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// COMPONENT VERSION; with --from, the components to promote (default: all).
    #[arg(value_name = "COMPONENT VERSION | COMPONENT…")]
    pub targets: Vec<String>,
    /// The domain (`cloud`); with --tag, only needed when the version's metadata lists
    /// several domains whose ladders hold the environment.
    #[arg(long, value_name = "DOMAIN", required_unless_present = "tag")]
    pub domain: Option<String>,
    /// The environment to enter, a rung of the domain's ladder (`--to` with --from).
    #[arg(
        long,
        visible_alias = "to",
        value_name = "ENV",
        required_unless_present = "tag",
        conflicts_with = "tag"
    )]
    pub env: Option<String>,
    /// Promote from a git tag `promote-to-<env>/<component>/<version>` (GitLab's
    /// $CI_COMMIT_TAG), instead of COMPONENT VERSION --env.
    #[arg(long, value_name = "TAG", conflicts_with_all = ["targets", "from"])]
    pub tag: Option<String>,
    /// Promote what this stage runs (whole-stage promotion).
    #[arg(long, value_name = "ENV")]
    pub from: Option<String>,
    /// Who approved (repeatable); each must be an approver in the owner's ownership.yaml.
    #[arg(long = "approved-by", value_name = "NAME")]
    pub approved_by: Vec<String>,
    /// Why, for the audit record.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// A link to a test report or other evidence (repeatable).
    #[arg(long, value_name = "URL")]
    pub evidence: Vec<String>,
    /// Who promotes (default: $BERTH_ACTOR, $GITLAB_USER_LOGIN, the OS user).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// Who made the change being promoted (`Name <mail>` or a login; default:
    /// $BERTH_CHANGE_AUTHOR). A signed approval by them does not count: the author of a
    /// change cannot approve it. Without it, the actor is taken as the author.
    #[arg(long, value_name = "NAME")]
    pub author: Option<String>,
    /// Check every gate and show the change as a diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `berth rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The component: full path, or its last segment when unique.
    pub component: String,
    /// The domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: String,
    /// The environment.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Go back to this version (one the stage ran before); default: the version it ran
    /// before the current one.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Who approved (recorded; not required).
    #[arg(long = "approved-by", value_name = "NAME")]
    pub approved_by: Vec<String>,
    /// Why, for the audit record.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// A link to an incident or other evidence (repeatable).
    #[arg(long, value_name = "URL")]
    pub evidence: Vec<String>,
    /// Who rolls back (default: $BERTH_ACTOR, $GITLAB_USER_LOGIN, the OS user).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// Check and show the change as a diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `berth deployed`.
#[derive(Debug, Args)]
pub struct DeployedArgs {
    /// The domain (with --tag: only when the tag's version lists several).
    #[arg(long, value_name = "DOMAIN", required_unless_present = "tag")]
    pub domain: Option<String>,
    /// The environment (default: production, the last rung).
    #[arg(long, value_name = "ENV", conflicts_with = "tag")]
    pub env: Option<String>,
    /// The stage a promotion tag `promote-to-<env>/<component>/<version>` names.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Print only the version this stage runs for COMPONENT (exit 1 if it runs none):
    /// `VERSION=$(berth deployed --domain cloud --env prod --component ms-ingestion)`.
    #[arg(long, value_name = "COMPONENT")]
    pub component: Option<String>,
}

/// `berth diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: String,
    /// The stage whose versions would be promoted.
    #[arg(long, value_name = "ENV")]
    pub from: String,
    /// The stage they would enter.
    #[arg(long, value_name = "ENV")]
    pub to: String,
}

/// `berth log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this component (full path, or last segment).
    pub component: Option<String>,
    /// Only this domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Only this environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Write each stage's anchor (the sha256 of its newest record, `audit_head` in its
    /// domain file) where it is missing or stale, for trails written before berth
    /// anchored them. Only stages whose chain is intact: check the newest records first
    /// (`git log -p -- index/audit/`). Every promotion writes the anchor anyway.
    #[arg(long, conflicts_with_all = ["component", "domain", "env"])]
    pub anchor: bool,
}

/// `berth validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Only report findings in these paths: components (`cloud/dmp/ms-ingestion`, or a
    /// unique last segment), or files and directories of the repository.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Also read every artifact again: re-hash files and re-inspect images and packages
    /// (digests, architectures, build times). Unchanged files come from a hash cache
    /// ($BERTH_CACHE_DIR, else $XDG_CACHE_HOME/berth, else ~/.cache/berth).
    #[arg(long)]
    pub verify_artifacts: bool,
    /// Read every file again: ignore the per-version cache in .berth/cache (and, with
    /// --verify-artifacts, the hash cache). The findings are the same either way.
    #[arg(long)]
    pub no_cache: bool,
    /// Fail on findings of this level too: `--deny warnings`.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub deny: Vec<DenyLevel>,
    /// List the rules (id, default severity, effective severity, summary) and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// Levels `--deny` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DenyLevel {
    /// Warnings fail validation like errors.
    Warnings,
}

/// `berth explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id (`manifest/digest-mismatch`).
    pub rule: String,
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
    /// Move the artifact files into the repository instead of copying them (no second
    /// write: for large images built only to be added).
    ///
    /// Each file is renamed into .berth/tmp/ of the repository first (so its producer can
    /// no longer rewrite it by its old name), then read once in place and fsynced. On
    /// success the source path no longer exists. On refusal or failure (a bad archive,
    /// metadata problems, different bytes for a published version) every file is renamed
    /// back to its source path, unchanged; so are files whose identical bytes were already
    /// stored. A file on another filesystem than the repository, a symbolic link or a file
    /// with other hard links is copied instead and left in place (a note on stderr).
    #[arg(long = "move")]
    pub move_files: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// `berth publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// What to publish.
    #[command(subcommand)]
    pub target: PublishTarget,
}

/// The stage to publish: a domain and a rung of its ladder.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The domain (`cloud`).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: String,
    /// The environment, a rung of the domain's ladder (`staging`, `prod`).
    #[arg(long, value_name = "ENV")]
    pub env: String,
}

/// `berth publish apt|oci|generic`.
#[derive(Debug, Subcommand)]
pub enum PublishTarget {
    /// An apt repository (dists/<suite>/…, pool/) for the stage's debs, with an InRelease
    /// signed by --sign-key; `apt-get update && apt-get install` accept it with the key.
    ///
    /// Sources line: `deb [signed-by=KEY.asc] file:DIR SUITE main` (or http://…).
    /// The passphrase of a protected key is read from $BERTH_SIGN_PASSPHRASE.
    Apt(PublishAptArgs),
    /// An OCI image layout (--out; skopeo reads `oci:DIR:<component>:<version>`) or a
    /// push to a registry (--registry) of the stage's images.
    ///
    /// Credentials: $BERTH_REGISTRY_USER and $BERTH_REGISTRY_PASSWORD. docker-save
    /// archives are converted to OCI; their digest is then that of the generated manifest.
    Oci(PublishOciArgs),
    /// A plain tree <component>/<version>/… with a SHA256SUMS per version
    /// (`sha256sum -c SHA256SUMS` checks it).
    Generic(PublishGenericArgs),
}

/// `berth publish apt`.
#[derive(Debug, Args)]
pub struct PublishAptArgs {
    /// The stage.
    #[command(flatten)]
    pub stage: StageArgs,
    /// The output directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: Utf8PathBuf,
    /// The suite (default: <domain>-<env>).
    #[arg(long, value_name = "NAME")]
    pub suite: Option<String>,
    /// An armored OpenPGP secret key file to sign InRelease with
    /// (`gpg --export-secret-keys --armor KEYID`). Default: the key `[publish.apt]` in
    /// berth.toml names for the stage (a file, or an environment variable holding it).
    #[arg(long, value_name = "KEY", conflicts_with = "unsigned")]
    pub sign_key: Option<Utf8PathBuf>,
    /// Publish without a signature even where berth.toml names a key or the output is
    /// signed now (clients of a signed repository then refuse it: "is no longer signed").
    #[arg(long)]
    pub unsigned: bool,
    /// Architectures to index (repeatable; default: berth.toml's plus the debs').
    #[arg(long = "arch", value_name = "ARCH")]
    pub archs: Vec<String>,
}

/// `berth publish oci`.
#[derive(Debug, Args)]
pub struct PublishOciArgs {
    /// The stage.
    #[command(flatten)]
    pub stage: StageArgs,
    /// Write an OCI image layout into this directory.
    #[arg(
        long,
        value_name = "LAYOUT_DIR",
        required_unless_present = "registry",
        conflicts_with = "registry"
    )]
    pub out: Option<Utf8PathBuf>,
    /// Push to this registry (`HOST[:PORT]`).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub registry: Option<String>,
    /// Talk plain HTTP to the registry.
    #[arg(long, requires = "registry")]
    pub insecure: bool,
    /// Prefix every repository name (`team/apps` gives `team/apps/<component>`).
    #[arg(long, value_name = "PREFIX", requires = "registry")]
    pub prefix: Option<String>,
}

/// `berth publish generic`.
#[derive(Debug, Args)]
pub struct PublishGenericArgs {
    /// The stage.
    #[command(flatten)]
    pub stage: StageArgs,
    /// The output directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: Utf8PathBuf,
}

/// `berth notify`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// What happened.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(berth_notify::EventKind::NAMES))]
    pub event: String,
    /// The component: full path, or its last segment when unique. A full path that does
    /// not exist yet is fine when an ownership.yaml lies above it.
    #[arg(required_unless_present = "tag")]
    pub component: Option<String>,
    /// The version (for rolled-back: the version the stage went back to).
    pub version: Option<String>,
    /// The domain (promotions and rollbacks).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// The environment (promotions and rollbacks).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Who did it (default: $BERTH_ACTOR, else $GITLAB_USER_LOGIN, else nobody named).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// More text: the gate that refused, the validation summary (quoted in the message).
    #[arg(long, value_name = "TEXT")]
    pub detail: Option<String>,
    /// The URL of this CI pipeline run (default: $CI_PIPELINE_URL).
    #[arg(long, value_name = "URL")]
    pub pipeline_url: Option<String>,
    /// Take component, version, domain and environment from a promotion tag
    /// `promote-to-<env>/<component>/<version>`.
    #[arg(long, value_name = "TAG", conflicts_with_all = ["component", "version", "env"])]
    pub tag: Option<String>,
    /// Print the channel, the webhook variable's name and the payload; post nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `berth site`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The output directory (created when missing; never the repository itself).
    #[arg(long, value_name = "DIR")]
    pub out: Utf8PathBuf,
    /// The site's public URL, for canonical links (e.g. $CI_PAGES_URL).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read every file again: ignore the validator's per-version cache in .berth/cache
    /// (as `berth validate --no-cache`). The site is the same either way.
    #[arg(long)]
    pub no_cache: bool,
}
