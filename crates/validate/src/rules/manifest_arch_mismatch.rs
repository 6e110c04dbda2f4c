use berth_model::{Arch, Format};

use crate::declare_rule;
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};
use crate::rules::from_problem;

declare_rule! {
    /// ## What it checks
    /// The artifacts are built for the architectures `metadata.yaml` declares: docker
    /// images' platforms and .debs' `Architecture` (`all` fits any), from the manifests,
    /// or with `--verify-artifacts` from the artifacts themselves. A multi-arch image must
    /// cover every listed architecture.
    ///
    /// ## Why it matters
    /// An arm64 image deployed to amd64 nodes crash-loops; a deb for the wrong
    /// architecture does not install.
    ///
    /// ## Example
    /// ```yaml
    /// architecture: arm64      # docker/manifest.yaml: platforms: ["linux/amd64"]
    /// ```
    ///
    /// ## How to fix
    /// Build the artifact for the declared architecture, or correct `architecture` in
    /// `metadata.yaml`.
    pub struct ManifestArchMismatch => berth_model::Code::ManifestArchMismatch, Error;
}

impl Rule for ManifestArchMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let Some((file, meta)) = v.metadata() else {
            return;
        };
        for f in &v.entry.formats {
            let Some((_, m)) = f.manifest() else { continue };
            let (archs, what): (Vec<Arch>, String) = match f.format.as_str() {
                Format::DOCKER => {
                    let archs = match f.facts.as_ref().and_then(|x| x.image.as_ref()) {
                        Some(Ok(img)) => img.archs.clone(),
                        _ => m
                            .value
                            .platforms
                            .iter()
                            .filter_map(|p| p.split('/').nth(1))
                            .filter_map(|a| Arch::parse(a).ok())
                            .collect(),
                    };
                    (archs, format!("image in {}", f.dir))
                }
                Format::DEB => {
                    let verified: Vec<Arch> = f
                        .facts
                        .iter()
                        .flat_map(|x| x.debs.values())
                        .filter_map(|d| d.as_ref().ok().map(|d| d.architecture.clone()))
                        .collect();
                    let archs = if verified.is_empty() {
                        m.value
                            .deb
                            .iter()
                            .filter_map(|d| Arch::parse(&d.architecture).ok())
                            .collect()
                    } else {
                        verified
                    };
                    (archs, format!("package in {}", f.dir))
                }
                _ => continue,
            };
            for p in berth_model::checks::arch_mismatch(&meta.value, v.config(), &archs, &what) {
                sink.report(from_problem(file, &meta.root, &p));
            }
        }
    }
}
