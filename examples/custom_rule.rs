//! A platform team's own rule, run through the library exactly like the built-in ones.
//!
//! The rule: a service may listen on a privileged port (below 1024) only when its
//! `metadata.yaml` says so with `x-privileged: true`, a custom key the built-in
//! `schema/unknown-field` rule lets through because it starts with `x-`.
//!
//! ```text
//! cargo run -p berth-examples --example custom_rule -- examples/repo
//! ```
//!
//! Prints the human report of every built-in rule plus this one and exits 1 when a
//! finding is an error, like `berth validate`.

use std::process::ExitCode;

use berth_model::Repository;
use berth_validate::diagnostic::{Diagnostic, Span};
use berth_validate::{Options, Registry, Rule, RuleInfo, Sink, VersionCx, declare_rule};

declare_rule! {
    /// ## What it checks
    /// `port_exposed` is 1024 or above, unless `metadata.yaml` sets `x-privileged: true`.
    ///
    /// ## Why it matters
    /// Binding a port below 1024 needs root or `CAP_NET_BIND_SERVICE`; the platform grants
    /// that only to services that asked for it, in review.
    ///
    /// ## Example
    /// ```yaml
    /// port_exposed: 443
    /// ```
    ///
    /// ## How to fix
    /// Listen on a port from 1024 up (the ingress maps 443 to it), or set
    /// `x-privileged: true` and have the platform team approve the merge request.
    pub struct PrivilegedPort => "example/privileged-port", Error;
}

impl Rule for PrivilegedPort {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let Some((file, meta)) = v.metadata() else {
            return;
        };
        let Some(port) = meta.value.port_exposed.as_ref().and_then(|p| p.get()) else {
            return;
        };
        let privileged = meta
            .value
            .extra
            .get("x-privileged")
            .and_then(|x| x.as_bool())
            .unwrap_or(false);
        if port.0 < 1024 && !privileged {
            sink.report(
                Diagnostic::new(
                    file,
                    format!("port {port} is privileged, and metadata.yaml does not say `x-privileged: true`"),
                )
                .at(Span::value(&meta.root, &["port_exposed"]))
                .help("listen on a port from 1024 up, or set `x-privileged: true` (needs the platform team's approval)"),
            );
        }
    }
}

fn main() -> ExitCode {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: custom_rule REPOSITORY");
        return ExitCode::from(2);
    };
    let repo = match Repository::open(root.as_str()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut registry = Registry::builtin();
    registry.register(PrivilegedPort);
    let report = match berth_validate::validate(&repo, &registry, &Options::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", berth_validate::render::human(&report, false));
    if report.fails(false) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
