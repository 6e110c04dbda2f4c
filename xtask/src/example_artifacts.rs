//! `cargo xtask example-artifacts`: real, tiny artifacts for every version of
//! `examples/repo`, built with the real tools (dpkg-deb, umoci, skopeo) by the same
//! builders the tests use, and ingested with `berth add`'s library. Re-runnable: a version
//! that already has a format is left alone (its bytes are published and immutable).

use berth_ingest::{AddRequest, MetadataSource, Transfer};
use berth_model::{ComponentPath, Format, Layout, Repository, Version};
use camino::Utf8Path;

#[path = "../../crates/formats/tests/support/mod.rs"]
#[allow(missing_docs, clippy::unwrap_used)]
mod support;

use support::{DebSpec, ImageSpec};

/// What each example version gets.
enum Artifact {
    /// An OCI archive for this architecture, with the seed's labels and base image.
    Oci(&'static str),
    /// A docker-save archive.
    DockerSave(&'static str),
    /// A Debian package for this architecture.
    Deb(&'static str),
    /// A release-notes file.
    Notes,
}

const PLAN: &[(&str, &str, &[Artifact])] = &[
    ("cloud/dmp/ms-ingestion", "1.0.2", &[Artifact::Oci("amd64")]),
    ("cloud/dmp/ms-ingestion", "1.0.3", &[Artifact::Oci("amd64")]),
    (
        "cloud/dmp/ms-export",
        "3.2.0",
        &[Artifact::DockerSave("amd64"), Artifact::Notes],
    ),
    (
        "core/platform/common-utils",
        "1.2.0",
        &[Artifact::Deb("all")],
    ),
    (
        "core/platform/common-utils",
        "1.3.0",
        &[Artifact::Deb("all")],
    ),
    (
        "ran/oam/ms-cell-config",
        "2.1.0",
        &[Artifact::Oci("arm64"), Artifact::Deb("arm64")],
    ),
    ("ran/oam/ms-alarm-relay", "0.9.1", &[Artifact::Oci("arm64")]),
];

/// Builds and adds what is missing; prints one line per format.
pub fn run(repo_dir: &Utf8Path) -> Result<(), String> {
    let repo = Repository::open(repo_dir).map_err(|e| e.to_string())?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let work = support::utf8(&tmp);
    for (component, version, artifacts) in PLAN {
        let c = ComponentPath::parse(component).map_err(|e| e.to_string())?;
        let v = Version::parse(version).map_err(|e| e.to_string())?;
        let name = c.name();
        for (i, a) in artifacts.iter().enumerate() {
            let format = match a {
                Artifact::Oci(_) | Artifact::DockerSave(_) => Format::docker(),
                Artifact::Deb(_) => Format::deb(),
                Artifact::Notes => Format::generic(),
            };
            if repo.path(&Layout::format_dir(&c, &v, &format)).exists() {
                println!("{c} {v} {format}: present");
                continue;
            }
            let dir = work.join(format!("{name}-{version}-{i}"));
            fs_err::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let mut req = AddRequest {
                component: c.clone(),
                version: v.clone(),
                docker: None,
                debs: Vec::new(),
                generic: Vec::new(),
                metadata: MetadataSource::Existing,
                base_image: None,
                transfer: Transfer::Copy,
            };
            let revision = format!("{:x}", 0xabc123u32 + i as u32);
            let labels = [
                ("org.opencontainers.image.revision", revision.as_str()),
                ("org.label-schema.schema-version", "1.0"),
                ("org.opencontainers.image.base.name", "python:3.11-alpine"),
            ];
            match a {
                Artifact::Oci(arch) | Artifact::DockerSave(arch) => {
                    let spec = ImageSpec {
                        arch,
                        labels: &labels,
                        created: "2025-05-10T22:15:00Z",
                    };
                    let layout = support::build_oci_image(&dir, "img", &spec);
                    let out = dir.join("image.tar");
                    if matches!(a, Artifact::Oci(_)) {
                        support::oci_archive(&layout, "img", &out);
                    } else {
                        support::docker_archive(&layout, "img", &out);
                    }
                    req.docker = Some(out);
                }
                Artifact::Deb(arch) => {
                    let deb_version = format!("{version}-1");
                    let deb = support::build_deb(
                        &dir,
                        &DebSpec {
                            package: name,
                            version: &deb_version,
                            arch,
                            depends: None,
                            compression: "xz",
                        },
                    );
                    let named = dir.join(format!("{name}_{version}-1_{arch}.deb"));
                    fs_err::rename(&deb, &named).map_err(|e| e.to_string())?;
                    req.debs.push(named);
                }
                Artifact::Notes => {
                    let notes = dir.join("RELEASE-NOTES.md");
                    fs_err::write(&notes, format!("# {c} {v}\n\n- Example release notes.\n"))
                        .map_err(|e| e.to_string())?;
                    req.generic.push(notes);
                }
            }
            let checker = berth_validate::Checker::builtin(&repo);
            let outcome = berth_ingest::add(&repo, &req, &checker, &|_, _, _| {})
                .map_err(|e| e.to_string())?;
            for (f, status, m) in outcome.formats {
                println!("{c} {v} {f}: {status:?} (sha256 {})", m.sha256.text());
            }
        }
    }
    Ok(())
}
