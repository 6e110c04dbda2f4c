//! The extension point: a [`Rule`] is an id, a default severity, its documentation and a
//! check over a typed view of the repository, at the scope that keeps it short.
//!
//! Scopes, from small to large (a rule implements only the ones it needs; the others do
//! nothing):
//!
//! | method | called | sees |
//! | --- | --- | --- |
//! | [`Rule::check_path`] | once per path of the tree | [`PathCx`]: the path, its kind, its layout problem |
//! | [`Rule::check_file`] | once per YAML file | [`FileCx`]: the file, loaded or not |
//! | [`Rule::check_version`] | once per component version, in parallel | [`VersionCx`]: metadata, manifests, owner, artifact facts |
//! | [`Rule::check_component`] | once per component | [`ComponentCx`]: its versions and owner |
//! | [`Rule::check_repository`] | once | [`RepoCx`]: everything, plus the verdicts of other rules for [`Rule::late`] rules |
//!
//! A rule reports [`Diagnostic`]s to a [`Sink`], which stamps them with the rule's id and
//! effective severity. Rules never print.

use std::collections::HashSet;

use berth_model::files::{
    AuditRecord, ComponentsIndex, DomainIndex, Manifest, Metadata, Ownership,
};
use berth_model::yaml::{Loaded, Node, UnknownKey, YamlError};
use berth_model::{ComponentPath, Config, Severity, Version};
use camino::Utf8Path;

use crate::diagnostic::Diagnostic;
use crate::view::{Context, PathEntry, RepoView, VersionEntry, VersionSummary, YamlFile};

/// What every rule declares about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The stable id: `group/name`, e.g. `manifest/digest-mismatch`. Never changes.
    pub id: &'static str,
    /// Its severity unless `berth.toml` `[rules]` says otherwise.
    pub default_severity: Severity,
    /// Its documentation, as written in the rule's doc comment (`What it checks`, `Why it
    /// matters`, `Example`, `How to fix`). [`declare_rule!`](crate::declare_rule) fills it.
    pub doc: &'static str,
}

impl RuleInfo {
    /// The documentation as text: the doc comment without rustdoc's leading space.
    pub fn doc_text(&self) -> String {
        let mut out = String::new();
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_owned() + "\n"
    }

    /// The first sentence line of the documentation: a one-line summary.
    pub fn summary(&self) -> String {
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("")
            .to_owned()
    }
}

/// Declares a rule struct whose doc comment is its documentation.
///
/// ```
/// use berth_validate::{declare_rule, Rule, RuleInfo, Sink, VersionCx};
///
/// declare_rule! {
///     /// ## What it checks
///     /// Nothing at all.
///     pub struct Quiet => "example/quiet", Info;
/// }
///
/// impl Rule for Quiet {
///     fn info(&self) -> &'static RuleInfo {
///         &Self::INFO
///     }
///     fn check_version(&self, _v: &VersionCx<'_>, _sink: &mut Sink<'_>) {}
/// }
/// assert_eq!(Quiet.info().id, "example/quiet");
/// assert_eq!(Quiet.info().summary(), "Nothing at all.");
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident => $code:path, $sev:ident;
    ) => {
        $crate::declare_rule! {
            $(#[doc = $doc])*
            $vis struct $name => @id $code.id(), $sev;
        }
    };
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident => $id:literal, $sev:ident;
    ) => {
        $crate::declare_rule! {
            $(#[doc = $doc])*
            $vis struct $name => @id $id, $sev;
        }
    };
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident => @id $id:expr, $sev:ident;
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $name {
            /// The rule's id, default severity and documentation.
            pub const INFO: $crate::RuleInfo = $crate::RuleInfo {
                id: $id,
                default_severity: $crate::Severity::$sev,
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}

/// A validation rule. Built-in rules and embedding code's rules have the same shape.
pub trait Rule: Send + Sync {
    /// Id, default severity and documentation.
    fn info(&self) -> &'static RuleInfo;

    /// True for a rule that must see every other rule's findings first (the index's
    /// "latest good version" depends on them). It runs last, in
    /// [`Rule::check_repository`], with [`RepoCx::is_good`] answering.
    fn late(&self) -> bool {
        false
    }

    /// Checks one path of the tree (files and directories, as walked).
    fn check_path(&self, _p: &PathCx<'_>, _sink: &mut Sink<'_>) {}

    /// Checks one YAML file of the repository, whether it loaded or not.
    fn check_file(&self, _f: &FileCx<'_>, _sink: &mut Sink<'_>) {}

    /// Checks one component version (called in parallel over versions).
    fn check_version(&self, _v: &VersionCx<'_>, _sink: &mut Sink<'_>) {}

    /// Checks one component.
    fn check_component(&self, _c: &ComponentCx<'_>, _sink: &mut Sink<'_>) {}

    /// Checks the repository as a whole.
    fn check_repository(&self, _r: &RepoCx<'_>, _sink: &mut Sink<'_>) {}
}

/// Where a rule reports: stamps each [`Diagnostic`] with the rule id and its effective
/// severity.
#[derive(Debug)]
pub struct Sink<'a> {
    rule: &'static str,
    severity: Severity,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    /// A sink for `rule` at `severity`, collecting into `out`.
    pub fn new(rule: &'static str, severity: Severity, out: &'a mut Vec<Diagnostic>) -> Self {
        Sink {
            rule,
            severity,
            out,
        }
    }

    /// Reports a finding.
    pub fn report(&mut self, mut d: Diagnostic) {
        d.rule = self.rule;
        d.severity = self.severity;
        self.out.push(d);
    }
}

/// One walked path: see [`Rule::check_path`].
#[derive(Debug, Clone, Copy)]
pub struct PathCx<'a> {
    /// The repository, its config and owners.
    pub view: &'a Context<'a>,
    /// The path.
    pub entry: &'a PathEntry,
}

/// A YAML file and what loading it gave.
#[derive(Debug, Clone, Copy)]
pub enum FileOutcome<'a> {
    /// It did not load (syntax, missing field, wrong type, unknown key of a strict file).
    Failed(&'a YamlError),
    /// A `metadata.yaml`.
    Metadata(&'a Loaded<Metadata>),
    /// A `manifest.yaml`.
    Manifest(&'a Loaded<Manifest>),
    /// An `ownership.yaml`.
    Ownership(&'a Loaded<Ownership>),
    /// `index/components.yaml`.
    ComponentsIndex(&'a Loaded<ComponentsIndex>),
    /// A domain file.
    DomainIndex(&'a Loaded<DomainIndex>),
    /// An audit record.
    Audit(&'a Loaded<AuditRecord>),
}

impl<'a> FileOutcome<'a> {
    /// The outcome of a loaded-or-not file of type `T`.
    pub(crate) fn of<T>(file: &'a YamlFile<T>, wrap: fn(&'a Loaded<T>) -> Self) -> Self {
        match &file.load {
            Ok(l) => wrap(l),
            Err(e) => FileOutcome::Failed(e),
        }
    }

    /// The source tree, when the file loaded.
    pub fn root(&self) -> Option<&'a Node> {
        Some(match self {
            FileOutcome::Failed(_) => return None,
            FileOutcome::Metadata(l) => &l.root,
            FileOutcome::Manifest(l) => &l.root,
            FileOutcome::Ownership(l) => &l.root,
            FileOutcome::ComponentsIndex(l) => &l.root,
            FileOutcome::DomainIndex(l) => &l.root,
            FileOutcome::Audit(l) => &l.root,
        })
    }

    /// Keys the file's type does not know.
    pub fn unknown(&self) -> &'a [UnknownKey] {
        match self {
            FileOutcome::Failed(_) => &[],
            FileOutcome::Metadata(l) => &l.unknown,
            FileOutcome::Manifest(l) => &l.unknown,
            FileOutcome::Ownership(l) => &l.unknown,
            FileOutcome::ComponentsIndex(l) => &l.unknown,
            FileOutcome::DomainIndex(l) => &l.unknown,
            FileOutcome::Audit(l) => &l.unknown,
        }
    }
}

/// One YAML file: see [`Rule::check_file`].
#[derive(Debug, Clone, Copy)]
pub struct FileCx<'a> {
    /// The repository, its config and owners.
    pub view: &'a Context<'a>,
    /// The file, relative to the repository root.
    pub path: &'a Utf8Path,
    /// What loading it gave.
    pub outcome: FileOutcome<'a>,
}

/// One component version: see [`Rule::check_version`].
#[derive(Debug, Clone, Copy)]
pub struct VersionCx<'a> {
    /// The repository, its config and owners.
    pub view: &'a Context<'a>,
    /// The version: its metadata, format directories, manifests and artifact facts.
    pub entry: &'a VersionEntry,
}

impl<'a> VersionCx<'a> {
    /// The component.
    pub fn component(&self) -> &'a ComponentPath {
        &self.entry.component
    }
    /// The version.
    pub fn version(&self) -> &'a Version {
        &self.entry.version
    }
    /// `berth.toml`.
    pub fn config(&self) -> &'a Config {
        self.view.config()
    }
    /// The version's `metadata.yaml`, when it exists and loaded, with its path.
    pub fn metadata(&self) -> Option<(&'a Utf8Path, &'a Loaded<Metadata>)> {
        self.entry.metadata()
    }
}

/// One component: see [`Rule::check_component`].
#[derive(Debug, Clone, Copy)]
pub struct ComponentCx<'a> {
    /// The repository, its config and owners.
    pub view: &'a Context<'a>,
    /// The component.
    pub component: &'a ComponentPath,
    /// Its versions, ascending.
    pub versions: &'a [VersionSummary],
}

/// The whole repository: see [`Rule::check_repository`].
#[derive(Debug, Clone, Copy)]
pub struct RepoCx<'a> {
    /// Everything that was read.
    pub view: &'a RepoView<'a>,
    /// For [`Rule::late`] rules: the versions with an error finding of another rule.
    pub erroneous: Option<&'a HashSet<(ComponentPath, Version)>>,
}

impl RepoCx<'_> {
    /// True when the version exists and no other rule found an error in it (only
    /// meaningful for [`Rule::late`] rules; otherwise it only checks existence).
    pub fn is_good(&self, c: &ComponentPath, v: &Version) -> bool {
        self.view.version(c, v).is_some()
            && !self
                .erroneous
                .is_some_and(|e| e.contains(&(c.clone(), v.clone())))
    }
}
