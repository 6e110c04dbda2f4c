use berth_model::layout::{Layout, PathKind};

use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{PathCx, Rule, RuleInfo, Sink};
use crate::view::LayoutProblem;

declare_rule! {
    /// ## What it checks
    /// Every file and directory is where the layout expects it: `berth.toml`,
    /// `components/` (groups with `ownership.yaml`, components with `versions/`, versions
    /// with `metadata.yaml` and format directories) and `index/` (`components.yaml`,
    /// `domain-<domain>[-<env>].yaml` for a declared domain and rung, `audit/`).
    /// Dot-files (`.gitignore`, `.berth/`) are ignored.
    ///
    /// ## Why it matters
    /// A stray file is usually a mistake (an artifact copied to the wrong place, a domain
    /// file for a domain nobody declared) and nothing will ever read it.
    ///
    /// ## Example
    /// ```text
    /// components/cloud/dmp/ms-ingestion/versions/1.0.2/notes.txt
    /// index/domain-mars.yaml
    /// ```
    ///
    /// ## How to fix
    /// Move the file where it belongs (release notes: `generic/` through `berth add
    /// --generic`), declare the domain in `berth.toml`, or delete the file.
    pub struct LayoutUnexpectedFile => berth_model::Code::LayoutUnexpectedFile, Warn;
}

impl Rule for LayoutUnexpectedFile {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_path(&self, p: &PathCx<'_>, sink: &mut Sink<'_>) {
        match (&p.entry.problem, &p.entry.kind) {
            (Some(LayoutProblem::UnexpectedFile(reason)), _) => sink.report(
                Diagnostic::new(&p.entry.path, reason.as_str())
                    .help("move it where it belongs, or delete it"),
            ),
            (None, PathKind::DomainFile(stem))
                if Layout::resolve_domain_stem(p.view.config(), stem).is_none() =>
            {
                let stages: Vec<String> = p
                    .view
                    .config()
                    .domains
                    .iter()
                    .flat_map(|(d, dc)| {
                        dc.ladder
                            .iter()
                            .map(move |e| Layout::domain_file(p.view.config(), d, Some(e)))
                    })
                    .map(|f| f.file_name().unwrap_or_default().to_owned())
                    .collect();
                sink.report(
                    Diagnostic::new(
                        &p.entry.path,
                        format!("`domain-{stem}` names no domain and rung declared in berth.toml"),
                    )
                    .help(format!("domain files here are: {}", stages.join(", "))),
                );
            }
            _ => {}
        }
    }
}
