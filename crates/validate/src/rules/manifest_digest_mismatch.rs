use std::collections::BTreeMap;

use berth_model::Format;

use crate::artifacts::set_digest;
use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// With `--verify-artifacts`: a manifest's `sha256` is the digest of the real
    /// artifact. docker: the OCI manifest (or index) digest of an OCI archive, the image
    /// ID of a `docker save` archive (what skopeo reports), and `image_id` the config
    /// digest; deb and generic: the file's sha256 (several files: the sha256 of their
    /// `SHA256SUMS` listing). An artifact that cannot be read fails too.
    ///
    /// ## Why it matters
    /// Deploy jobs and registries pull by digest; a wrong digest means either the
    /// manifest was edited or the artifact was swapped, and nothing pins what runs.
    ///
    /// ## Example
    /// ```yaml
    /// sha256: 0000000000000000000000000000000000000000000000000000000000000000
    /// ```
    ///
    /// ## How to fix
    /// Manifests are generated, never typed: re-add the artifact with `berth add` (as a
    /// new version if the old bytes are gone).
    pub struct ManifestDigestMismatch => berth_model::Code::ManifestDigestMismatch, Error;
}

impl Rule for ManifestDigestMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        const HELP: &str = "manifests are generated: re-add the artifact with `berth add`";
        for f in &v.entry.formats {
            let (Some((path, m)), Some(facts)) = (f.manifest(), &f.facts) else {
                continue;
            };
            let Some(recorded) = m.value.sha256.get() else {
                continue;
            };
            if f.format.as_str() == Format::DOCKER {
                match &facts.image {
                    Some(Ok(img)) => {
                        if &img.digest != recorded {
                            sink.report(
                                Diagnostic::new(
                                    path,
                                    format!(
                                        "sha256 {recorded} is not the image's digest {}",
                                        img.digest
                                    ),
                                )
                                .at(Span::value(&m.root, &["sha256"]))
                                .help(HELP),
                            );
                        }
                        if let Some(id) = m.value.image_id.as_ref().and_then(|i| i.get())
                            && id != &img.image_id
                        {
                            sink.report(
                                Diagnostic::new(
                                    path,
                                    format!(
                                        "image_id {id} is not the image's config digest {}",
                                        img.image_id
                                    ),
                                )
                                .at(Span::value(&m.root, &["image_id"]))
                                .help(HELP),
                            );
                        }
                    }
                    Some(Err(e)) => sink.report(
                        Diagnostic::new(path, format!("the image cannot be read: {e}"))
                            .at(Span::key(&m.root, &["sha256"]))
                            .help("restore the archive, or re-add the version with `berth add`"),
                    ),
                    None => {}
                }
                continue;
            }
            if let Some((name, Err(e))) = facts.debs.iter().find(|(_, r)| r.is_err()) {
                sink.report(
                    Diagnostic::new(path, format!("`{name}` cannot be read as a .deb: {e}"))
                        .at(Span::key(&m.root, &["sha256"]))
                        .help("restore the package, or re-add the version with `berth add`"),
                );
                continue;
            }
            // deb and generic: the digest is derived from the files. When a listed file
            // is missing or changed, manifest/file-missing or manifest/file-changed says
            // so; here only a wrong `sha256` over intact files is reported.
            let mut read = BTreeMap::new();
            let mut intact = true;
            for e in &m.value.files {
                match facts.files.get(&e.path) {
                    Some(Ok(fact))
                        if fact.size == e.size && Some(&fact.sha256) == e.sha256.get() =>
                    {
                        read.insert(e.path.clone(), *fact);
                    }
                    _ => intact = false,
                }
            }
            if !intact {
                continue;
            }
            if let Some(actual) = set_digest(&read)
                && &actual != recorded
            {
                sink.report(
                    Diagnostic::new(
                        path,
                        format!("sha256 {recorded} is not the artifact's digest {actual}"),
                    )
                    .at(Span::value(&m.root, &["sha256"]))
                    .help(HELP),
                );
            }
        }
    }
}
