//! The library end to end on copies of `examples/repo`: every gate, approvals, whole-stage
//! promotion, rollback, the audit chain and hand-edit detection.

use std::collections::BTreeMap;

use berth_model::{ComponentPath, Repository, Timestamp, Version};
use berth_promote::{
    ChainProblem, Context, Gate, Outcome, Request, Stage, execute, plan, promoted_by_audit,
    verify_chain,
};
use camino::{Utf8Path, Utf8PathBuf};

struct Fixture {
    _tmp: tempfile::TempDir,
    root: Utf8PathBuf,
}

fn copy(from: &Utf8Path, to: &Utf8Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let name = e.file_name().into_string().expect("utf-8");
        if name == ".berth" {
            continue;
        }
        if e.file_type().expect("type").is_dir() {
            copy(&from.join(&name), &to.join(&name));
        } else {
            std::fs::copy(from.join(&name), to.join(&name)).expect("copy");
        }
    }
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(tmp.path().join("repo")).expect("utf-8");
    copy(
        &Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/repo"),
        &root,
    );
    Fixture { _tmp: tmp, root }
}

impl Fixture {
    fn repo(&self) -> Repository {
        Repository::open(&self.root).expect("open")
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).expect(rel)
    }
    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.root.join(rel), text).expect(rel);
    }
    fn audit_files(&self, d: &str, e: &str) -> Vec<Utf8PathBuf> {
        let dir = self.root.join("index/audit").join(d).join(e);
        let mut out: Vec<Utf8PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .map(|e| dir.join(e.expect("entry").file_name().into_string().expect("utf-8")))
                .collect(),
            Err(_) => Vec::new(),
        };
        out.sort();
        out
    }
}

fn stage(repo: &Repository, d: &str, e: &str) -> Stage {
    Stage::new(repo.config(), d, Some(e)).expect("declared stage")
}

fn cx(actor: &str, approvals: &[&str]) -> Context {
    let mut cx = Context::new(actor);
    cx.approvals = approvals.iter().map(|s| (*s).to_owned()).collect();
    cx.now = Timestamp::parse("2026-11-28T12:00:00Z").expect("valid");
    cx
}

fn promote(f: &Fixture, c: &str, v: &str, d: &str, e: &str, cx: &Context) -> Outcome {
    let repo = f.repo();
    let req = Request::one(stage(&repo, d, e), c, v);
    execute(&repo, &berth_validate::Checker::builtin(&repo), &req, cx).expect("no I/O error")
}

fn landed(o: &Outcome) {
    assert!(o.applied, "refused: {:#?}", o.plan.refusals);
}

fn refused_by(o: &Outcome, gate: Gate) -> String {
    assert!(!o.applied, "should be refused by {gate}");
    let msgs: Vec<String> = o
        .plan
        .refusals
        .iter()
        .filter(|r| r.gate == gate)
        .map(|r| format!("{r}\n  help: {}", r.help))
        .collect();
    assert!(
        !msgs.is_empty(),
        "not refused by {gate}: {:#?}",
        o.plan.refusals
    );
    msgs.join("\n")
}

/// Redacts the fields that change from run to run in an audit record.
fn redact_record(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("previous_record: ") {
                "previous_record: [SHA256]".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// cloud/staging runs common-utils 1.3.0 and ms-ingestion 1.0.2.
fn staging_ready(f: &Fixture) {
    let bot = cx("ci-bot", &[]);
    landed(&promote(
        f,
        "common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &bot,
    ));
    landed(&promote(
        f,
        "ms-ingestion",
        "1.0.2",
        "cloud",
        "staging",
        &bot,
    ));
}

#[test]
fn a_promotion_writes_the_domain_file_and_a_chained_record() {
    let f = fixture();
    staging_ready(&f);
    insta::assert_snapshot!(
        "domain_cloud_staging",
        f.read("index/domain-cloud-staging.yaml")
    );
    let records = f.audit_files("cloud", "staging");
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].file_name(),
        Some("000001-20261128T120000Z-core-platform-common-utils-1.3.0.yaml")
    );
    let first = std::fs::read(&records[0]).expect("record");
    let second = std::fs::read_to_string(&records[1]).expect("record");
    assert!(
        second.contains(&berth_model::Sha256Digest::of(&first).hex()),
        "the second record links to the first: {second}"
    );
    insta::assert_snapshot!("audit_record_staging", redact_record(&second));

    let mut approved = cx("ci-bot", &["priya.k"]);
    approved.reason = Some("smoke tests green".into());
    approved.evidence = vec!["https://ci.example/reports/42".into()];
    approved.pipeline_url = Some("https://gitlab.example/cloud-dmp/-/pipelines/42".into());
    // common-utils is owned by core/platform, whose approver is lars.n.
    let cu = promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "prod",
        &cx("ci-bot", &["lars.n"]),
    );
    landed(&cu);
    let o = promote(&f, "ms-ingestion", "1.0.2", "cloud", "prod", &approved);
    landed(&o);
    // Production is the seed's file name.
    insta::assert_snapshot!("domain_cloud_prod", f.read("index/domain-cloud.yaml"));
    let prod = f.audit_files("cloud", "prod");
    insta::assert_snapshot!(
        "audit_record_prod",
        redact_record(&std::fs::read_to_string(&prod[1]).expect("record"))
    );
    let events = o.events(&approved);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert!(e.landed());
    assert_eq!(
        (
            e.component.as_str(),
            e.version.as_ref().map(ToString::to_string).as_deref()
        ),
        ("cloud/dmp/ms-ingestion", Some("1.0.2"))
    );
    assert_eq!(
        (e.domain.as_str(), e.environment.as_str()),
        ("cloud", "prod")
    );
    assert_eq!(
        (e.actor.as_str(), e.approvals.as_slice()),
        ("ci-bot", &["priya.k".to_owned()][..])
    );
    let repo = f.repo();
    for (d, e) in [("cloud", "staging"), ("cloud", "prod")] {
        let s = stage(&repo, d, e);
        assert_eq!(verify_chain(&repo, &s.domain, &s.env), Vec::new());
    }
}

#[test]
fn promoting_what_runs_already_changes_nothing() {
    let f = fixture();
    staging_ready(&f);
    let o = promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &cx("ci-bot", &[]),
    );
    assert!(!o.applied && o.plan.refusals.is_empty() && o.plan.changes.is_empty());
    assert_eq!(o.plan.unchanged.len(), 1);
    assert_eq!(f.audit_files("cloud", "staging").len(), 2);
}

#[test]
fn gate_exists() {
    let f = fixture();
    let bot = cx("ci-bot", &[]);
    let msg = refused_by(
        &promote(
            &f,
            "cloud/dmp/ms-ingestoin",
            "1.0.2",
            "cloud",
            "staging",
            &bot,
        ),
        Gate::Exists,
    );
    assert!(
        msg.contains("did you mean `cloud/dmp/ms-ingestion`"),
        "{msg}"
    );
    let msg = refused_by(
        &promote(&f, "ms-ingestion", "9.9.9", "cloud", "staging", &bot),
        Gate::Exists,
    );
    assert!(
        msg.contains("has no version 9.9.9") && msg.contains("1.0.2, 1.0.3"),
        "{msg}"
    );
    let msg = refused_by(
        &promote(&f, "ms-ingestion", "v1", "cloud", "staging", &bot),
        Gate::Exists,
    );
    assert!(msg.contains("v1"), "{msg}");
}

#[test]
fn gate_valid() {
    let f = fixture();
    let repo = f.repo();
    let sick = |c: &ComponentPath, v: &Version| -> Vec<berth_model::Finding> {
        if c.name() == "common-utils" && v.to_string() == "1.3.0" {
            vec![berth_model::Finding::new(
                "manifest/digest-mismatch",
                "components/core/platform/common-utils/versions/1.3.0/deb/manifest.yaml",
                "the .deb changed",
            )]
        } else {
            Vec::new()
        }
    };
    let req = Request::one(stage(&repo, "cloud", "staging"), "common-utils", "1.3.0");
    let o = execute(&repo, &sick, &req, &cx("ci-bot", &[])).expect("runs");
    let msg = refused_by(&o, Gate::Valid);
    assert!(
        msg.contains("1 error finding(s): [manifest/digest-mismatch]"),
        "{msg}"
    );
    // The passing case: the same version with a clean bill of health.
    landed(&promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &cx("ci-bot", &[]),
    ));
}

#[test]
fn gate_allowed() {
    let f = fixture();
    let bot = cx("ci-bot", &[]);
    // ms-alarm-relay lists only the ran domain.
    let msg = refused_by(
        &promote(&f, "ms-alarm-relay", "0.9.1", "cloud", "staging", &bot),
        Gate::Allowed,
    );
    assert!(msg.contains("lists domains [ran], not `cloud`"), "{msg}");
    // common-utils 1.2.0 lists staging and prod, not lab.
    let msg = refused_by(
        &promote(&f, "common-utils", "1.2.0", "ran", "lab", &bot),
        Gate::Allowed,
    );
    assert!(msg.contains("not `lab`"), "{msg}");
    // The shared component lists cloud: it may run in cloud's stages.
    landed(&promote(
        &f,
        "core/platform/common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &bot,
    ));
    landed(&promote(&f, "common-utils", "1.3.0", "ran", "lab", &bot));
}

#[test]
fn gate_previous_stage() {
    let f = fixture();
    let msg = refused_by(
        &promote(
            &f,
            "common-utils",
            "1.3.0",
            "cloud",
            "prod",
            &cx("ci-bot", &["lars.n"]),
        ),
        Gate::PreviousStage,
    );
    assert!(
        msg.contains("cloud/staging does not run core/platform/common-utils"),
        "{msg}"
    );
    assert!(
        msg.contains("berth promote core/platform/common-utils 1.3.0 --domain cloud --env staging"),
        "{msg}"
    );
    staging_ready(&f);
    // Staging runs ms-ingestion 1.0.2, not 1.0.3.
    let msg = refused_by(
        &promote(
            &f,
            "ms-ingestion",
            "1.0.3",
            "cloud",
            "prod",
            &cx("ci-bot", &["priya.k"]),
        ),
        Gate::PreviousStage,
    );
    assert!(msg.contains("cloud/staging runs 1.0.2"), "{msg}");
    landed(&promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "prod",
        &cx("ci-bot", &["lars.n"]),
    ));
}

#[test]
fn allow_skip_lets_a_version_skip_a_rung() {
    let f = fixture();
    let toml = f.read("berth.toml").replace(
        "[domains.ran]\nladder = [\"lab\", \"staging\", \"prod\"]",
        "[domains.ran]\nladder = [\"lab\", \"staging\", \"prod\"]\nallow_skip = true",
    );
    f.write("berth.toml", &toml);
    let o = promote(
        &f,
        "common-utils",
        "1.3.0",
        "ran",
        "staging",
        &cx("ci-bot", &[]),
    );
    landed(&o);
    assert!(
        o.plan.notes.iter().any(|n| n.contains("allow_skip")),
        "{:?}",
        o.plan.notes
    );
}

#[test]
fn gate_build_age() {
    let f = fixture();
    let manifest = "components/core/platform/common-utils/versions/1.3.0/deb/manifest.yaml";
    let text = f.read(manifest);
    let old = text.replacen(
        "\nsha256: ",
        "\nbuilt_at: \"2015-01-01T00:00:00Z\"\nsha256: ",
        1,
    );
    assert_ne!(old, text, "the fixture manifest has a built_at");
    f.write(manifest, &old);
    let msg = refused_by(
        &promote(
            &f,
            "common-utils",
            "1.3.0",
            "cloud",
            "staging",
            &cx("ci-bot", &[]),
        ),
        Gate::BuildAge,
    );
    assert!(msg.contains("deb build is 4349 days old (built_at 2015-01-01T00:00:00Z); policy.max_build_age_days is 3650"), "{msg}");
    // A fresh build passes.
    landed(&promote(
        &f,
        "common-utils",
        "1.2.0",
        "cloud",
        "staging",
        &cx("ci-bot", &[]),
    ));
}

#[test]
fn build_age_without_a_manifest_passes_with_a_note() {
    let f = fixture();
    std::fs::remove_dir_all(
        f.root
            .join("components/core/platform/common-utils/versions/1.3.0/deb"),
    )
    .expect("rm");
    let o = promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &cx("ci-bot", &[]),
    );
    landed(&o);
    assert!(
        o.plan
            .notes
            .iter()
            .any(|n| n.contains("no manifest.yaml with built_at")),
        "{:?}",
        o.plan.notes
    );
}

#[test]
fn gate_dependencies() {
    let f = fixture();
    let bot = cx("ci-bot", &[]);
    // ms-ingestion needs common-utils >=1.2.0, which cloud/staging does not run yet.
    let msg = refused_by(
        &promote(&f, "ms-ingestion", "1.0.2", "cloud", "staging", &bot),
        Gate::Dependencies,
    );
    assert!(
        msg.contains("cloud/dmp/ms-ingestion 1.0.2 needs `common-utils >=1.2.0`: cloud/staging does not run core/platform/common-utils"),
        "{msg}"
    );
    // The dependency gate checks the whole stage after the change: taking common-utils
    // back to 1.2.0 would break ms-export (>=1.3.0).
    landed(&promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &bot,
    ));
    landed(&promote(
        &f,
        "ms-ingestion",
        "1.0.3",
        "cloud",
        "staging",
        &bot,
    ));
    landed(&promote(&f, "ms-export", "3.2.0", "cloud", "staging", &bot));
    let msg = refused_by(
        &promote(&f, "common-utils", "1.2.0", "cloud", "staging", &bot),
        Gate::Dependencies,
    );
    assert!(
        msg.contains("cloud/dmp/ms-export 3.2.0 needs `common-utils >=1.3.0`: cloud/staging runs core/platform/common-utils 1.2.0, which does not match"),
        "{msg}"
    );
}

#[test]
fn gate_approvals() {
    let f = fixture();
    staging_ready(&f);
    // prod needs one approval (berth.toml [policy.approvals] prod = 1).
    let msg = refused_by(
        &promote(
            &f,
            "common-utils",
            "1.3.0",
            "cloud",
            "prod",
            &cx("ci-bot", &[]),
        ),
        Gate::Approvals,
    );
    assert!(msg.contains("prod needs 1 approval(s) from the approvers in components/core/platform/ownership.yaml; 0 given"), "{msg}");
    assert!(msg.contains("lars.n"), "{msg}");
    // Not an approver of this group.
    let msg = refused_by(
        &promote(
            &f,
            "common-utils",
            "1.3.0",
            "cloud",
            "prod",
            &cx("ci-bot", &["mallory"]),
        ),
        Gate::Approvals,
    );
    assert!(
        msg.contains("`mallory` is not an approver in components/core/platform/ownership.yaml"),
        "{msg}"
    );
    // An approver of another group does not count for this one.
    let msg = refused_by(
        &promote(
            &f,
            "common-utils",
            "1.3.0",
            "cloud",
            "prod",
            &cx("ci-bot", &["priya.k"]),
        ),
        Gate::Approvals,
    );
    assert!(msg.contains("is not an approver"), "{msg}");
    // The actor cannot approve their own promotion.
    let msg = refused_by(
        &promote(
            &f,
            "common-utils",
            "1.3.0",
            "cloud",
            "prod",
            &cx("lars.n", &["lars.n"]),
        ),
        Gate::Approvals,
    );
    assert!(
        msg.contains("`lars.n` promotes and cannot also approve their own promotion"),
        "{msg}"
    );
    assert!(f.audit_files("cloud", "prod").is_empty());
    // Staging needs none; prod with a listed approver passes.
    landed(&promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "prod",
        &cx("lars.n", &["lars.n", "lars.n"]).with_actor("ci-bot"),
    ));
}

trait WithActor {
    fn with_actor(self, a: &str) -> Self;
}
impl WithActor for Context {
    fn with_actor(mut self, a: &str) -> Self {
        self.actor = a.to_owned();
        self
    }
}

#[test]
fn a_refused_promotion_changes_no_file() {
    let f = fixture();
    staging_ready(&f);
    let snapshot = |f: &Fixture| {
        let mut all = BTreeMap::new();
        for rel in ["index/domain-cloud-staging.yaml", "index/domain-cloud.yaml"] {
            all.insert(rel, std::fs::read(f.root.join(rel)).ok());
        }
        (
            all,
            f.audit_files("cloud", "prod"),
            f.audit_files("cloud", "staging"),
        )
    };
    let before = snapshot(&f);
    let o = promote(
        &f,
        "ms-ingestion",
        "1.0.2",
        "cloud",
        "prod",
        &cx("ci-bot", &[]),
    );
    refused_by(&o, Gate::Approvals);
    assert_eq!(snapshot(&f), before);
}

#[test]
fn dry_run_plans_and_shows_a_diff() {
    let f = fixture();
    staging_ready(&f);
    let repo = f.repo();
    let req = Request::one(stage(&repo, "cloud", "staging"), "ms-ingestion", "1.0.3");
    let p = plan(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &req,
        &cx("ci-bot", &[]),
    )
    .expect("plans");
    assert!(!p.is_refused());
    insta::assert_snapshot!("dry_run_diff", p.diff().expect("diff"));
    assert_eq!(
        f.audit_files("cloud", "staging").len(),
        2,
        "nothing written"
    );
}

#[test]
fn whole_stage_promotion_is_all_or_nothing() {
    let f = fixture();
    staging_ready(&f);
    let repo = f.repo();
    let (staging, prod) = (
        stage(&repo, "cloud", "staging"),
        stage(&repo, "cloud", "prod"),
    );
    let req = Request::whole_stage(staging.clone(), prod.clone(), Vec::new());
    // priya.k approves ms-ingestion; nobody approves common-utils: nothing lands.
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &req,
        &cx("ci-bot", &["priya.k"]),
    )
    .expect("runs");
    let msg = refused_by(&o, Gate::Approvals);
    assert!(msg.contains("core/platform/common-utils"), "{msg}");
    assert_eq!(o.plan.changes.len(), 2);
    assert!(!f.root.join("index/domain-cloud.yaml").exists());
    assert!(f.audit_files("cloud", "prod").is_empty());
    // Both approvers: both land, one record each, chained.
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &req,
        &cx("ci-bot", &["priya.k", "lars.n"]),
    )
    .expect("runs");
    landed(&o);
    assert_eq!(o.records.len(), 2);
    assert_eq!(f.audit_files("cloud", "prod").len(), 2);
    assert_eq!(verify_chain(&repo, &prod.domain, &prod.env), Vec::new());
    insta::assert_snapshot!(
        "domain_cloud_prod_whole_stage",
        f.read("index/domain-cloud.yaml")
    );
    // Only some components; one that staging does not run is refused.
    let req = Request::whole_stage(staging, prod, vec!["ms-export".into()]);
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &req,
        &cx("ci-bot", &["priya.k"]),
    )
    .expect("runs");
    let msg = refused_by(&o, Gate::PreviousStage);
    assert!(
        msg.contains("cloud/staging does not run `ms-export`"),
        "{msg}"
    );
}

#[test]
fn rollback_goes_back_and_is_recorded() {
    let f = fixture();
    staging_ready(&f);
    let bot = cx("ci-bot", &[]);
    landed(&promote(
        &f,
        "ms-ingestion",
        "1.0.3",
        "cloud",
        "staging",
        &bot,
    ));
    let repo = f.repo();
    let s = stage(&repo, "cloud", "staging");
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &Request::rollback(s.clone(), "ms-ingestion", None),
        &bot,
    )
    .expect("runs");
    landed(&o);
    assert_eq!(o.plan.changes[0].version.to_string(), "1.0.2");
    assert_eq!(
        o.plan.changes[0]
            .previous
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("1.0.3")
    );
    let records = f.audit_files("cloud", "staging");
    let last = std::fs::read_to_string(records.last().expect("a record")).expect("read");
    assert!(last.starts_with("action: rollback\n"), "{last}");
    assert_eq!(verify_chain(&repo, &s.domain, &s.env), Vec::new());
    // --to a version it ran earlier works; one it never ran is refused.
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &Request::rollback(s.clone(), "ms-ingestion", Some("1.0.3".into())),
        &bot,
    )
    .expect("runs");
    landed(&o);
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &Request::rollback(s.clone(), "common-utils", Some("1.2.0".into())),
        &bot,
    )
    .expect("runs");
    let msg = refused_by(&o, Gate::History);
    assert!(
        msg.contains("never ran core/platform/common-utils 1.2.0"),
        "{msg}"
    );
    // The first version a stage ran has nothing before it.
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &Request::rollback(s.clone(), "common-utils", None),
        &bot,
    )
    .expect("runs");
    let msg = refused_by(&o, Gate::History);
    assert!(
        msg.contains("is the first version cloud/staging ran"),
        "{msg}"
    );
    // A component the stage does not run.
    let o = execute(
        &repo,
        &berth_validate::Checker::builtin(&repo),
        &Request::rollback(s, "ms-export", None),
        &bot,
    )
    .expect("runs");
    refused_by(&o, Gate::History);
}

#[test]
fn rollback_is_refused_when_the_version_no_longer_validates() {
    let f = fixture();
    staging_ready(&f);
    let bot = cx("ci-bot", &[]);
    landed(&promote(
        &f,
        "ms-ingestion",
        "1.0.3",
        "cloud",
        "staging",
        &bot,
    ));
    let repo = f.repo();
    let broken = |c: &ComponentPath, v: &Version| -> Vec<berth_model::Finding> {
        if c.name() == "ms-ingestion" && v.to_string() == "1.0.2" {
            vec![berth_model::Finding::new(
                "manifest/file-changed",
                "docker/manifest.yaml",
                "image.tar changed",
            )]
        } else {
            Vec::new()
        }
    };
    let req = Request::rollback(stage(&repo, "cloud", "staging"), "ms-ingestion", None);
    let o = execute(&repo, &broken, &req, &bot).expect("runs");
    refused_by(&o, Gate::Valid);
}

#[test]
fn hand_edits_show_against_the_audit_trail() {
    let f = fixture();
    staging_ready(&f);
    let repo = f.repo();
    let s = stage(&repo, "cloud", "staging");
    let trail = promoted_by_audit(&repo, &s.domain, &s.env).expect("reads");
    let file = berth_promote::read_stage(&repo, &s).expect("reads");
    let as_map: BTreeMap<_, _> = file
        .components
        .iter()
        .map(|e| (e.name.clone(), e.version.clone()))
        .collect();
    assert_eq!(trail, as_map, "promoted files agree with their trail");
    // Someone edits the domain file by hand.
    let edited = f
        .read("index/domain-cloud-staging.yaml")
        .replace("version: 1.0.2", "version: 1.0.3");
    f.write("index/domain-cloud-staging.yaml", &edited);
    let file = berth_promote::read_stage(&repo, &s).expect("reads");
    let ing = ComponentPath::parse("cloud/dmp/ms-ingestion").expect("valid");
    assert_eq!(
        file.version_of(&ing).map(ToString::to_string).as_deref(),
        Some("1.0.3")
    );
    // The trail, read again after the edit, still says 1.0.2 …
    let trail = promoted_by_audit(&repo, &s.domain, &s.env).expect("reads");
    assert_eq!(
        trail.get(&ing).map(ToString::to_string).as_deref(),
        Some("1.0.2")
    );
    // … and the validator, which compares the two, reports the hand edit.
    let report = berth_validate::validate(
        &repo,
        &berth_validate::Registry::builtin(),
        &berth_validate::Options::default(),
    )
    .expect("validates");
    let found: Vec<&berth_validate::Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "domain/not-promoted")
        .collect();
    assert!(
        found
            .iter()
            .any(|d| d.file == "index/domain-cloud-staging.yaml"
                && d.message.contains("cloud/dmp/ms-ingestion")
                && d.message.contains("1.0.3")),
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn a_tampered_chain_is_reported() {
    let f = fixture();
    staging_ready(&f);
    landed(&promote(
        &f,
        "ms-ingestion",
        "1.0.3",
        "cloud",
        "staging",
        &cx("ci-bot", &[]),
    ));
    let repo = f.repo();
    let s = stage(&repo, "cloud", "staging");
    let records = f.audit_files("cloud", "staging");
    assert_eq!(records.len(), 3);
    // Edit the reason of the first record: the second's link breaks.
    let text = std::fs::read_to_string(&records[0]).expect("read");
    std::fs::write(
        &records[0],
        text.replace("actor: ci-bot", "actor: someone-else"),
    )
    .expect("write");
    let problems = verify_chain(&repo, &s.domain, &s.env);
    assert!(
        matches!(problems.as_slice(), [ChainProblem::BrokenLink { file, .. }] if file.as_str().contains("000002-")),
        "{problems:#?}"
    );
    assert!(
        problems[0].to_string().contains("audit chain broken"),
        "{}",
        problems[0]
    );
    std::fs::write(&records[0], text).expect("restore");
    assert_eq!(verify_chain(&repo, &s.domain, &s.env), Vec::new());
    // Remove the middle record: a gap, and the third no longer links.
    std::fs::remove_file(&records[1]).expect("rm");
    let problems = verify_chain(&repo, &s.domain, &s.env);
    assert!(
        problems.iter().any(|p| matches!(
            p,
            ChainProblem::Gap {
                expected: 2,
                found: 3,
                ..
            }
        )),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, ChainProblem::BrokenLink { .. })),
        "{problems:#?}"
    );
    // A record with a foreign name.
    std::fs::write(records[0].with_file_name("extra.yaml"), "action: promote\n").expect("write");
    let problems = verify_chain(&repo, &s.domain, &s.env);
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, ChainProblem::BadName { .. })),
        "{problems:#?}"
    );
}

#[test]
fn the_seed_domain_file_loads_and_can_be_promoted_into() {
    let f = fixture();
    let seed = Utf8Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/model/tests/fixtures/seed/domain-cloud.yaml");
    std::fs::copy(&seed, f.root.join("index/domain-cloud.yaml")).expect("copy seed file");
    let repo = f.repo();
    let prod = stage(&repo, "cloud", "prod");
    let runs = berth_promote::deployed(&repo, &prod).expect("the seed's file loads");
    let rows: Vec<String> = runs
        .components
        .iter()
        .map(|e| format!("{} {}", e.name, e.version))
        .collect();
    assert_eq!(
        rows,
        ["cloud/dmp/ms-ingestion 1.0.2", "cloud/dmp/ms-export 3.2.0"]
    );
    // ms-export needs common-utils >=1.3.0, which the hand-written file never ran: that
    // older problem is a note, not a refusal of an unrelated promotion, and promoting
    // common-utils repairs it.
    landed(&promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "staging",
        &cx("ci-bot", &[]),
    ));
    let o = promote(
        &f,
        "common-utils",
        "1.3.0",
        "cloud",
        "prod",
        &cx("ci-bot", &["lars.n"]),
    );
    landed(&o);
    insta::assert_snapshot!(
        "seed_domain_file_after_promotion",
        o.plan.diff().expect("diff")
    );
    assert!(
        !o.plan.notes.iter().any(|n| n.contains("already unmet")),
        "{:?}",
        o.plan.notes
    );
    // An unrelated promotion into a stage with an older unmet dependency passes with a note.
    let f = fixture();
    std::fs::copy(&seed, f.root.join("index/domain-cloud.yaml")).expect("copy seed file");
    let toml = f.read("berth.toml").replace(
        "[domains.cloud]\nladder = [\"staging\", \"prod\"]",
        "[domains.cloud]\nladder = [\"staging\", \"prod\"]\nallow_skip = true",
    );
    f.write("berth.toml", &toml);
    let o = promote(
        &f,
        "common-utils",
        "1.2.0",
        "cloud",
        "prod",
        &cx("ci-bot", &["lars.n"]),
    );
    landed(&o);
    assert!(
        o.plan.notes.iter().any(|n| n.contains("already unmet before this change: cloud/dmp/ms-export 3.2.0 needs `common-utils >=1.3.0`")),
        "{:?}",
        o.plan.notes
    );
}

#[test]
fn events_for_refusals_name_the_gate() {
    let f = fixture();
    let bot = cx("ci-bot", &[]);
    let o = promote(&f, "ms-ingestion", "1.0.2", "cloud", "staging", &bot);
    let events = o.events(&bot);
    assert_eq!(events.len(), 1);
    assert!(!events[0].landed());
    let r = events[0].refused.as_ref().expect("refused");
    assert_eq!(events[0].component.as_str(), "cloud/dmp/ms-ingestion");
    assert_eq!(
        r.message,
        "after the change, cloud/dmp/ms-ingestion 1.0.2 needs `common-utils >=1.2.0`: cloud/staging does not run core/platform/common-utils"
    );
    let json = serde_json::to_value(&events[0]).expect("serializes");
    assert_eq!(json["refused"]["gate"], "dependencies");
}
