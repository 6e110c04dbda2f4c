//! berth-site: a static dashboard of a berth repository, for the people who would rather
//! look than read YAML. No server: plain HTML and CSS with SVG drawings, a little vanilla
//! JavaScript for filtering and search, readable from any web server, GitLab Pages or
//! `file://`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repo = berth_model::Repository::open("examples/repo")?;
//! let summary = berth_site::build(&repo, &berth_site::Options::new("public"))?;
//! println!("{} pages, {} written", summary.pages, summary.write.written.len());
//! # Ok(()) }
//! ```
//!
//! The pages:
//! - **overview** (`index.html`, `overview-N.html`): components, grouped by group, ×
//!   every stage of every domain; each cell the version the stage runs with its drift
//!   ([`drift`]); latest version, owner and findings beside each component;
//! - **component** (`c/<component>/index.html`): versions (formats, sizes, build dates,
//!   base images, architectures, labels), where each runs, dependencies and dependents
//!   (an SVG graph and lists), owner, findings with their rules' documentation;
//! - **stage** (`stage/<domain>/<env>.html`): what it runs, the diff to the next stage,
//!   the promotion timeline from the audit trail, findings about its files;
//! - **findings** (`findings.html`, `findings/rule/…`, `findings/team/…`): every finding,
//!   filterable by rule, severity and team;
//! - **search** (`search.html`, `search/index-N.js`): components by name, team, label and
//!   architecture, in the browser.
//!
//! How it works: [`render()`] reads the repository once through the public APIs of
//! berth-model, berth-validate (one validation run, no artifact bytes), berth-promote and
//! berth-index, builds typed page data, and renders every page with askama templates
//! (compiled with this crate; the engine escapes everything). [`write()`] then writes only
//! the files whose bytes changed and removes pages of components that are gone. The
//! output is deterministic: the same tree gives the same bytes (no generation time).
//!
//! Architecture Invariant: this crate only reads the repository; it writes only below the
//! output directory, and there removes only files its own manifest ([`output::MANIFEST`])
//! lists. It never prints.
//!
//! It is *not* for: serving pages (any static web server does), or anything a command
//! decides (validation verdicts, promotion): it shows what the other crates answer.

pub mod drift;
pub mod error;
pub mod output;

mod collect;
mod graph;
mod links;
mod ruledoc;
mod views;

use berth_model::{Repository, layout};
use berth_validate::Registry;
use camino::{Utf8Component, Utf8Path, Utf8PathBuf};

pub use error::{Result, SiteError};
pub use output::WriteReport;

/// How to build a site.
#[derive(Debug, Clone)]
pub struct Options {
    /// The output directory.
    pub out: Utf8PathBuf,
    /// The public URL of the site, for canonical links (`https://group.gitlab.io/repo`).
    pub base_url: Option<String>,
    /// Components per overview page (default: 200, fewer when there are many stages).
    pub rows_per_page: Option<usize>,
    /// The rules of the validation run (default: the built-in ones).
    pub registry: Registry,
    /// Keep and use the validator's per-version cache in `.berth/cache/` (berth's private
    /// state, as `berth validate` does; the findings are the same either way). Off by
    /// default for embedding code, on in the CLI.
    pub cache: bool,
}

impl Options {
    /// Defaults, writing to `out`.
    pub fn new(out: impl Into<Utf8PathBuf>) -> Self {
        Options {
            out: out.into(),
            base_url: None,
            rows_per_page: None,
            registry: Registry::builtin(),
            cache: false,
        }
    }
}

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Its path below the output directory (`c/cloud/dmp/ms-export/index.html`).
    pub path: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// A rendered site, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Every file, sorted by path.
    pub pages: Vec<Page>,
    /// How many components it shows.
    pub components: usize,
    /// How many findings it shows.
    pub findings: usize,
}

impl Site {
    /// The file at `path`, if the site has it.
    pub fn page(&self, path: &str) -> Option<&Page> {
        self.pages
            .binary_search_by(|p| p.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.pages[i])
    }

    /// The total size of every file, in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.pages.iter().map(|p| p.bytes.len() as u64).sum()
    }

    /// The largest file: its path and size.
    pub fn largest(&self) -> Option<(&str, u64)> {
        self.pages
            .iter()
            .map(|p| (p.path.as_str(), p.bytes.len() as u64))
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
    }
}

/// What [`build`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Files in the site.
    pub pages: usize,
    /// Components shown.
    pub components: usize,
    /// Findings shown.
    pub findings: usize,
    /// Total size of the site, in bytes.
    pub bytes: u64,
    /// The largest file and its size.
    pub largest: Option<(String, u64)>,
    /// What was written, left alone and removed.
    pub write: WriteReport,
}

/// Renders the whole site in memory.
pub fn render(repo: &Repository, opts: &Options) -> Result<Site> {
    let data = collect::collect(repo, &opts.registry, opts.cache)?;
    let renderer = views::Renderer::new(&data, opts, repo_name(repo.root()));
    let pages = renderer.pages()?;
    Ok(Site {
        pages,
        components: data.components.len(),
        findings: data.findings.len(),
    })
}

/// Writes a rendered site to `out`: only changed files, removing pages the site no
/// longer has (see [`output`]).
pub fn write(site: &Site, out: &Utf8Path) -> Result<WriteReport> {
    output::write_pages(out, &site.pages)
}

/// Renders the site of `repo` and writes it to `opts.out`. Refuses an output directory
/// that is the repository or lies in its tree (`components/`, `index/`, `.berth/`): the
/// site is written with plain file operations, and the tree is written only through the
/// store. A directory beside them (`public/` at the root, for GitLab Pages) is fine.
pub fn build(repo: &Repository, opts: &Options) -> Result<Summary> {
    check_out(repo.root(), &opts.out)?;
    let site = render(repo, opts)?;
    let write = write(&site, &opts.out)?;
    Ok(Summary {
        pages: site.pages.len(),
        components: site.components,
        findings: site.findings,
        bytes: site.total_bytes(),
        largest: site.largest().map(|(p, n)| (p.to_owned(), n)),
        write,
    })
}

/// Refuses an output directory that is `root` or inside one of its tree's directories
/// (compared by the paths' text, `.` and `..` resolved).
fn check_out(root: &Utf8Path, out: &Utf8Path) -> Result<()> {
    let (root, abs) = (lexical_absolute(root), lexical_absolute(out));
    if abs == root {
        return Err(SiteError::OutIsRepository {
            out: out.to_owned(),
        });
    }
    for part in [layout::COMPONENTS_DIR, layout::INDEX_DIR, layout::STATE_DIR] {
        if abs.starts_with(root.join(part)) {
            return Err(SiteError::OutInsideTree {
                out: out.to_owned(),
                part,
            });
        }
    }
    Ok(())
}

/// `path` made absolute against the working directory, with `.` and `..` resolved by its
/// text alone, never by asking the filesystem.
fn lexical_absolute(path: &Utf8Path) -> Utf8PathBuf {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| Utf8PathBuf::from_path_buf(d).ok());
    let joined = match cwd {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_owned(),
    };
    let mut out = Utf8PathBuf::from("/");
    for c in joined.components() {
        match c {
            Utf8Component::Normal(n) => out.push(n),
            Utf8Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The name shown for the repository: its directory's name, worked out from the path's
/// text (the tree is read only through the store).
fn repo_name(root: &Utf8Path) -> String {
    lexical_absolute(root)
        .file_name()
        .map_or_else(|| "repository".to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_is_named_by_its_directory() {
        assert_eq!(repo_name(Utf8Path::new("/srv/repos/platform")), "platform");
        assert_eq!(repo_name(Utf8Path::new("/srv/repos/platform/")), "platform");
        assert_eq!(
            repo_name(Utf8Path::new("/srv/repos/platform/.")),
            "platform"
        );
        assert_eq!(
            repo_name(Utf8Path::new("/srv/repos/platform/x/..")),
            "platform"
        );
        assert_eq!(repo_name(Utf8Path::new("/")), "repository");
    }

    #[test]
    fn the_site_is_never_written_into_the_tree() {
        let root = Utf8Path::new("/srv/repo");
        assert!(check_out(root, Utf8Path::new("/srv/repo/public")).is_ok());
        assert!(check_out(root, Utf8Path::new("/srv/site")).is_ok());
        assert!(check_out(root, Utf8Path::new("/srv/repo/indexes")).is_ok());
        for bad in [
            "/srv/repo",
            "/srv/repo/public/..",
            "/srv/repo/components/site",
            "/srv/repo/index",
            "/srv/repo/x/../.berth/site",
        ] {
            let e = check_out(root, Utf8Path::new(bad)).expect_err(bad);
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
