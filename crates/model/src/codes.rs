//! Every built-in rule's stable id, in one table (the way cargo-deny and ruff keep their
//! codes): the rule that owns a code declares itself with it, and the shared checks of this
//! crate report with it, so no rule id is ever spelled twice. Custom rules (embedding code)
//! bring their own `&'static str` ids.

use std::fmt;

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, )*) => {
        /// The id of a built-in rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// Every built-in code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable id (`manifest/digest-mismatch`): never changes.
            pub const fn id(self) -> &'static str {
                match self {
                    $( Code::$variant => $id, )*
                }
            }

            /// The code with this id.
            pub fn from_id(id: &str) -> Option<Code> {
                match id {
                    $( $id => Some(Code::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// A YAML file that does not parse (or cannot be read).
    SchemaParse = "schema/parse",
    /// A required field is missing.
    SchemaMissingField = "schema/missing-field",
    /// A key the file does not know.
    SchemaUnknownField = "schema/unknown-field",
    /// A value that is not valid.
    SchemaInvalidValue = "schema/invalid-value",
    /// A group or component directory with an invalid name.
    LayoutBadComponentPath = "layout/bad-component-path",
    /// A version directory whose name is not SemVer.
    LayoutBadVersion = "layout/bad-version",
    /// An unknown format directory.
    LayoutUnknownFormat = "layout/unknown-format",
    /// A file or directory that does not belong where it is.
    LayoutUnexpectedFile = "layout/unexpected-file",
    /// A symbolic link inside the repository.
    LayoutSymlinkEscape = "layout/symlink-escape",
    /// group/service_name against the path.
    MetadataNameMismatch = "metadata/name-mismatch",
    /// A domain berth.toml does not declare.
    MetadataUnknownDomain = "metadata/unknown-domain",
    /// An environment no ladder has.
    MetadataUnknownEnvironment = "metadata/unknown-environment",
    /// An architecture berth.toml does not allow.
    MetadataArchNotAllowed = "metadata/arch-not-allowed",
    /// A manifest in the wrong format directory.
    ManifestFormatMismatch = "manifest/format-mismatch",
    /// A manifest of another version.
    ManifestVersionMismatch = "manifest/version-mismatch",
    /// sha256 against the real artifact.
    ManifestDigestMismatch = "manifest/digest-mismatch",
    /// A listed file that is missing.
    ManifestFileMissing = "manifest/file-missing",
    /// A file that changed, or is not listed.
    ManifestFileChanged = "manifest/file-changed",
    /// The artifact against the metadata's architecture.
    ManifestArchMismatch = "manifest/arch-mismatch",
    /// A build time in the future.
    ManifestFutureBuild = "manifest/future-build",
    /// built_at against the artifact's own timestamp.
    ManifestBuiltAtMismatch = "manifest/built-at-mismatch",
    /// A field `berth add` derives from the artifact (platforms, labels, base image, deb
    /// control fields) against the artifact.
    ManifestFieldMismatch = "manifest/field-mismatch",
    /// A label the policy requires.
    ManifestMissingLabel = "manifest/missing-label",
    /// A base image the policy does not allow.
    ManifestBaseImageNotAllowed = "manifest/base-image-not-allowed",
    /// No ownership.yaml above a component.
    OwnershipMissing = "ownership/missing",
    /// A team that does not own the group.
    OwnershipTeamNotOwner = "ownership/team-not-owner",
    /// A dependency that does not resolve.
    DepsUnresolved = "deps/unresolved",
    /// A bare dependency name several components share.
    DepsAmbiguous = "deps/ambiguous",
    /// A dependency cycle.
    DepsCycle = "deps/cycle",
    /// index/components.yaml is not what `berth index` writes.
    IndexStale = "index/stale",
    /// The index names a component that does not exist.
    IndexUnknownComponent = "index/unknown-component",
    /// The index names a version that does not exist.
    IndexUnknownVersion = "index/unknown-version",
    /// A domain file names a version that does not exist.
    DomainUnknownVersion = "domain/unknown-version",
    /// A domain file row no audit record promoted.
    DomainNotPromoted = "domain/not-promoted",
    /// A version that skipped a stage.
    DomainStageSkipped = "domain/stage-skipped",
    /// A version running where its metadata does not allow.
    DomainNotAllowed = "domain/not-allowed",
    /// The audit trail's hash chain is broken.
    AuditChain = "audit/chain",
}

impl Code {
    /// True for the codes of `[policy]` rules (required labels, allowed base images): a
    /// policy change is not retroactive ([`crate::Verdict::grandfathered`]).
    pub const fn is_policy(self) -> bool {
        matches!(
            self,
            Code::ManifestMissingLabel | Code::ManifestBaseImageNotAllowed
        )
    }

    /// [`Code::is_policy`] of a rule id (custom rules are not policy rules).
    pub fn is_policy_id(id: &str) -> bool {
        Code::from_id(id).is_some_and(Code::is_policy)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.id()), "{} twice", c.id());
            assert_eq!(Code::from_id(c.id()), Some(*c));
            let (group, name) = c.id().split_once('/').expect("group/name");
            assert!(!group.is_empty() && !name.is_empty());
        }
    }
}
