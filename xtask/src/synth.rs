//! `cargo xtask synth`: a synthetic repository of realistic shape, deterministic from a
//! seed, for benchmarks and scale tests.
//!
//! Shape: three domains (cloud, core, ran), groups of about 20 services each with an
//! ownership.yaml, `M` versions per service (a few of them pre-releases), metadata whose
//! dependencies point at a handful of shared libraries under `core/platform`, and with
//! `--artifacts` a tiny generic artifact plus its manifest per version.

use std::fmt::Write as _;

use berth_model::{
    ArchField, Checked, ComponentsIndex, Dependency, DomainName, EnvName, FileEntry, Format,
    Manifest, Metadata, Ownership, Port, Sha256Digest, Timestamp, Version, yaml,
};
use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

/// What to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct SynthArgs {
    /// Number of components (services).
    #[arg(long, default_value_t = 1000)]
    pub components: usize,
    /// Versions per component.
    #[arg(long, default_value_t = 10)]
    pub versions: usize,
    /// Output directory (must not exist, or be empty).
    #[arg(long)]
    pub out: Utf8PathBuf,
    /// Seed of the generator: the same seed gives the same tree.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write a tiny generic artifact and its manifest.yaml per version.
    #[arg(long)]
    pub artifacts: bool,
}

/// A small deterministic generator (SplitMix64): no dependency, stable across releases.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const DOMAINS: [&str; 3] = ["cloud", "core", "ran"];
const LIBS: [&str; 4] = ["common-utils", "auth-lib", "telemetry", "config-client"];

fn name(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:05}")
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("generated names are valid")
}

/// Generates the tree; returns the number of files written.
pub fn run(args: &SynthArgs) -> Result<usize, String> {
    let out = &args.out;
    if out.exists()
        && fs_err::read_dir(out)
            .map_err(|e| e.to_string())?
            .next()
            .is_some()
    {
        return Err(format!("{out} exists and is not empty; pick a new --out"));
    }
    fs_err::create_dir_all(out.join("components")).map_err(|e| e.to_string())?;
    fs_err::create_dir_all(out.join("index")).map_err(|e| e.to_string())?;
    fs_err::write(out.join("berth.toml"), CONFIG).map_err(|e| e.to_string())?;

    // Shared libraries first: every service depends on some of them.
    let mut plan: Vec<(Utf8PathBuf, String, String, String)> = Vec::new(); // (path, group, service, team)
    for lib in LIBS {
        plan.push((
            format!("core/platform/{lib}").into(),
            "platform".into(),
            lib.into(),
            "core-platform".into(),
        ));
    }
    let services = args.components.saturating_sub(LIBS.len());
    for i in 0..services {
        let domain = DOMAINS[i % 3];
        let group = name("grp", i / 20);
        let service = name("ms-svc", i);
        plan.push((
            format!("{domain}/{group}/{service}").into(),
            group.clone(),
            service,
            format!("team-{group}"),
        ));
    }

    let written: usize = plan
        .par_iter()
        .enumerate()
        .map(|(i, (path, group, service, team))| {
            let mut rng = Rng::new(args.seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
            write_component(out, args, &mut rng, path, group, service, team)
        })
        .collect::<Result<Vec<usize>, String>>()?
        .into_iter()
        .sum();

    // One ownership.yaml per group.
    let mut groups: Vec<(String, String)> = plan
        .iter()
        .map(|(p, _, _, team)| {
            (
                p.parent().map(|g| g.to_string()).unwrap_or_default(),
                team.clone(),
            )
        })
        .collect();
    groups.sort();
    groups.dedup_by(|a, b| a.0 == b.0);
    for (g, team) in &groups {
        let o = Ownership {
            owner_team: team.clone(),
            product_owner: format!("owner@{}.example", g.replace('/', "-")),
            slack_channel: format!("#{}-alerts", g.replace('/', "-")),
            source_repo: format!("https://gitlab.example/{g}"),
            ci_pipeline: format!("https://gitlab.example/{g}/-/pipelines"),
            audit_contact: "audit@example.com".into(),
            teams: Vec::new(),
            approvers: vec!["lead".into()],
        };
        let text = yaml::to_canonical(&o).map_err(|e| e.to_string())?;
        fs_err::write(out.join("components").join(g).join("ownership.yaml"), text)
            .map_err(|e| e.to_string())?;
    }
    // An empty index: `berth index` fills it.
    let text = yaml::to_canonical(&ComponentsIndex::default()).map_err(|e| e.to_string())?;
    fs_err::write(out.join("index/components.yaml"), text).map_err(|e| e.to_string())?;
    Ok(written + groups.len() + 2)
}

fn write_component(
    out: &Utf8Path,
    args: &SynthArgs,
    rng: &mut Rng,
    path: &Utf8Path,
    group: &str,
    service: &str,
    team: &str,
) -> Result<usize, String> {
    let mut files = 0;
    let (mut major, mut minor, mut patch) = (1 + rng.below(3), 0, 0);
    for n in 0..args.versions {
        match rng.below(10) {
            0 => {
                major += 1;
                minor = 0;
                patch = 0;
            }
            1..=3 => {
                minor += 1;
                patch = 0;
            }
            _ => patch += 1,
        }
        let pre = if n + 1 == args.versions && rng.below(4) == 0 {
            "-rc.1"
        } else {
            ""
        };
        let version: Version = id(&format!("{major}.{minor}.{patch}{pre}"));
        let dir = out
            .join("components")
            .join(path)
            .join("versions")
            .join(version.to_string());
        fs_err::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let meta = metadata(rng, path, group, service, team);
        let text = yaml::to_canonical(&meta).map_err(|e| e.to_string())?;
        fs_err::write(dir.join("metadata.yaml"), text).map_err(|e| e.to_string())?;
        files += 1;
        if args.artifacts {
            write_generic(rng, &dir, path, &version)?;
            files += 2;
        }
    }
    Ok(files)
}

/// The metadata of one synthetic version: libraries run everywhere with no dependencies;
/// services in their domain, depending on one or two libraries.
fn metadata(rng: &mut Rng, path: &Utf8Path, group: &str, service: &str, team: &str) -> Metadata {
    let domain = path.as_str().split('/').next().unwrap_or("cloud");
    let is_lib = path.as_str().starts_with("core/platform/");
    let deps: Vec<Checked<Dependency>> = if is_lib {
        Vec::new()
    } else {
        let k = 1 + rng.below(2) as usize;
        (0..k)
            .map(|j| {
                let lib = LIBS[(rng.below(LIBS.len() as u64) as usize + j) % LIBS.len()];
                Checked::Valid(id(&format!("{lib} >=1.0.0")))
            })
            .collect()
    };
    let mut meta = Metadata {
        architecture: ArchField::One(Checked::Valid(id(if is_lib { "all" } else { "amd64" }))),
        domains: if is_lib {
            DOMAINS
                .iter()
                .map(|d| Checked::Valid(id::<DomainName>(d)))
                .collect()
        } else {
            vec![Checked::Valid(id(domain))]
        },
        environments: vec![
            Checked::Valid(id::<EnvName>("staging")),
            Checked::Valid(id("prod")),
        ],
        dependencies: deps,
        group: group.to_owned(),
        service_name: service.to_owned(),
        team: team.to_owned(),
        port_exposed: (!is_lib).then(|| Checked::Valid(Port(8000 + rng.below(1000) as u16))),
        multi_arch: Some(false),
        notes: None,
        labels: [(
            "tier".to_owned(),
            ["gold", "silver", "bronze"][rng.below(3) as usize].to_owned(),
        )]
        .into_iter()
        .collect(),
        extra: Default::default(),
    };
    meta.canonicalize();
    meta.canonicalize();
    meta
}

/// One generic artifact and its manifest in version directory `dir`.
fn write_generic(
    rng: &mut Rng,
    dir: &Utf8Path,
    path: &Utf8Path,
    version: &Version,
) -> Result<(), String> {
    let gdir = dir.join("generic");
    fs_err::create_dir_all(&gdir).map_err(|e| e.to_string())?;
    let mut body = String::new();
    let _ = writeln!(body, "{path} {version} {}", rng.next());
    let digest = Sha256Digest::of(body.as_bytes());
    fs_err::write(gdir.join("release-notes.txt"), &body).map_err(|e| e.to_string())?;
    let manifest = Manifest {
        format: Checked::Valid(Format::generic()),
        version: Checked::Valid(version.clone()),
        base_image: None,
        sha256: Checked::Valid(digest),
        built_at: Timestamp::from_unix(1_700_000_000 + rng.below(30_000_000) as i64)
            .map(Checked::Valid),
        labels: Default::default(),
        image_id: None,
        platforms: Vec::new(),
        deb: None,
        files: vec![FileEntry {
            path: "release-notes.txt".into(),
            size: body.len() as u64,
            sha256: Checked::Valid(digest),
        }],
    };
    let text = yaml::to_canonical(&manifest).map_err(|e| e.to_string())?;
    fs_err::write(gdir.join("manifest.yaml"), text).map_err(|e| e.to_string())?;
    Ok(())
}

const CONFIG: &str = r#"# A synthetic repository made by `cargo xtask synth`.
[repository]
architectures = ["amd64", "arm64"]

[domains.cloud]
ladder = ["staging", "prod"]

[domains.core]
ladder = ["staging", "prod"]

[domains.ran]
ladder = ["staging", "prod"]
"#;
