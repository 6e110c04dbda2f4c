use crate::declare_rule;
use crate::rule::{FileCx, FileOutcome, Rule, RuleInfo, Sink};
use crate::rules::{LoadFailure, from_load_error, load_failure};

declare_rule! {
    /// ## What it checks
    /// Every YAML file of the repository parses: valid UTF-8, valid YAML syntax, one
    /// document, no duplicate keys, no alias bombs.
    ///
    /// ## Why it matters
    /// A file that does not parse means nothing to berth, CI jobs or the seed's Python
    /// helper: the version it describes cannot be indexed, promoted or deployed.
    ///
    /// ## Example
    /// ```yaml
    /// domains: ["cloud"
    /// group: dmp
    /// ```
    ///
    /// ## How to fix
    /// Correct the syntax at the line and column given (here: close the list with `]`).
    pub struct SchemaParse => berth_model::Code::SchemaParse, Error;
}

impl Rule for SchemaParse {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_file(&self, f: &FileCx<'_>, sink: &mut Sink<'_>) {
        if let FileOutcome::Failed(e) = f.outcome
            && load_failure(e) == LoadFailure::Parse
        {
            sink.report(from_load_error(f.path, e).help("fix the YAML syntax at this position"));
        }
    }
}
