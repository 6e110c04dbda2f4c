use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

/// Clock skew tolerated between build machines and the validating one, in seconds.
const SKEW_SECS: i64 = 300;

declare_rule! {
    /// ## What it checks
    /// No manifest's `built_at` lies in the future (more than five minutes of clock skew
    /// is not tolerated).
    ///
    /// ## Why it matters
    /// A build from the future was made on a machine with a wrong clock or was edited by
    /// hand; either way its age, which promotion gates rely on, is wrong.
    ///
    /// ## Example
    /// ```yaml
    /// built_at: "2999-01-01T00:00:00Z"
    /// ```
    ///
    /// ## How to fix
    /// Fix the build machine's clock and rebuild; never edit `built_at`.
    pub struct ManifestFutureBuild => berth_model::Code::ManifestFutureBuild, Error;
}

impl Rule for ManifestFutureBuild {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let now = v.view.now;
        for f in &v.entry.formats {
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            let Some(built) = m.value.built_at.as_ref().and_then(|b| b.get()) else {
                continue;
            };
            if built.jiff().as_second() > now.jiff().as_second() + SKEW_SECS {
                sink.report(
                    Diagnostic::new(
                        path,
                        format!("built_at {built} is in the future (now is {now})"),
                    )
                    .at(Span::value(&m.root, &["built_at"]))
                    .help("fix the build machine's clock and rebuild"),
                );
            }
        }
    }
}
