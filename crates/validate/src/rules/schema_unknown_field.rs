use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{FileCx, FileOutcome, Rule, RuleInfo, Sink};
use crate::rules::{LoadFailure, load_failure};

declare_rule! {
    /// ## What it checks
    /// No file holds a key its kind does not know. In `metadata.yaml`, keys starting with
    /// `x-` are free for your own tooling and custom rules.
    ///
    /// ## Why it matters
    /// A typo such as `enviroments:` would otherwise pass silently, and the version would
    /// be checked against no environments at all.
    ///
    /// ## Example
    /// ```yaml
    /// teem: ingestion-platform
    /// ```
    ///
    /// ## How to fix
    /// Rename the key as the "did you mean" hint suggests, or prefix your own keys with
    /// `x-` (`x-cost-center: 42`).
    pub struct SchemaUnknownField => berth_model::Code::SchemaUnknownField, Error;
}

/// The backticked words of a message: for serde's "unknown field `a`, expected one of
/// `b`, `c`", the key then the expected names.
impl Rule for SchemaUnknownField {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_file(&self, f: &FileCx<'_>, sink: &mut Sink<'_>) {
        if let FileOutcome::Failed(e) = f.outcome {
            if load_failure(e) == LoadFailure::UnknownField {
                let width = e.key.as_ref().map_or(1, |k| k.chars().count() as u32);
                let d = Diagnostic::new(f.path, &e.message).at_pos(e.pos, width);
                sink.report(match e.help.clone() {
                    Some(h) => d.help(h),
                    None => d,
                });
            }
            return;
        }
        let metadata = matches!(f.outcome, FileOutcome::Metadata(_));
        for k in f.outcome.unknown() {
            if metadata && k.parent.is_empty() && k.key.starts_with("x-") {
                continue;
            }
            let help = match k.suggestion() {
                Some(s) => format!("did you mean `{s}`?"),
                None if metadata && k.parent.is_empty() => format!(
                    "known keys: {}; prefix your own keys with `x-`",
                    k.expected.join(", ")
                ),
                None => format!("known keys: {}", k.expected.join(", ")),
            };
            sink.report(
                Diagnostic::new(f.path, format!("unknown key `{}`", k.key))
                    .at_pos(Some(k.pos), k.width)
                    .help(help),
            );
        }
    }
}
