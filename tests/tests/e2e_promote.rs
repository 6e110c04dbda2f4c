//! End to end: promote, rollback, deployed, diff and log through the built binary, on
//! copies of `examples/repo`; concurrent promotions by real processes.

use std::collections::BTreeMap;
use std::process::Stdio;

use berth_model::{ComponentPath, DomainName, EnvName, Repository, Version};
use berth_tests::{Run, berth, example_repo, run, tree_digest};
use camino::Utf8Path;

/// Runs berth as `ci-bot`, the CI user.
fn bot(root: &Utf8Path, args: &[&str]) -> Run {
    let out = berth(root)
        .env("BERTH_ACTOR", "ci-bot")
        .args(args)
        .output()
        .expect("running berth");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

fn refused(r: &Run, gate: &str) {
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!("gate `{gate}` refused")),
        "not refused by {gate}:\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
}

/// Times and record-name stamps change from run to run.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]"),
            (r"\d{8}T\d{6}Z", "[STAMP]"),
            (r"previous_record: [0-9a-f]{64}", "previous_record: [SHA256]"),
            (r"audit_head: [0-9a-f]{64}", "audit_head: [SHA256]"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

fn audit_files(root: &Utf8Path, d: &str, e: &str) -> Vec<camino::Utf8PathBuf> {
    let dir = root.join("index/audit").join(d).join(e);
    let mut out: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .map(|x| dir.join(x.expect("entry").file_name().into_string().expect("utf-8")))
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// The README tour: a version climbs from staging to prod, and prod rolls back.
#[test]
fn readme_tour_staging_to_prod_and_back() {
    let (_g, root) = example_repo();
    let r = &root;
    ok(&bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "lars.n",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "priya.k",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.3",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--reason",
            "fixes ingestion lag",
        ],
    ));

    let diff = bot(
        r,
        &[
            "diff", "--domain", "cloud", "--from", "staging", "--to", "prod",
        ],
    );
    ok(&diff);
    snapshot!("tour_diff", diff.stdout);

    let before = tree_digest(r);
    let dry = bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.3",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "priya.k",
            "--dry-run",
        ],
    );
    ok(&dry);
    snapshot!("tour_dry_run", dry.stdout);
    assert_eq!(tree_digest(r), before, "a dry run writes nothing");

    let promoted = bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.3",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "priya.k",
            "--reason",
            "smoke tests green",
            "--evidence",
            "https://ci.example/reports/42",
        ],
    );
    ok(&promoted);
    snapshot!("tour_promoted", promoted.stdout);
    let deployed = bot(r, &["deployed", "--domain", "cloud"]);
    ok(&deployed);
    snapshot!("tour_deployed_prod", deployed.stdout);

    let back = bot(
        r,
        &[
            "rollback",
            "ms-ingestion",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--reason",
            "error rate up",
        ],
    );
    ok(&back);
    snapshot!("tour_rollback", back.stdout);
    let deployed = bot(r, &["--format", "json", "deployed", "--domain", "cloud"]);
    ok(&deployed);
    snapshot!("tour_deployed_json", deployed.stdout);
    snapshot!(
        "tour_domain_cloud",
        std::fs::read_to_string(r.join("index/domain-cloud.yaml")).expect("prod file")
    );
    let prod = audit_files(r, "cloud", "prod");
    assert_eq!(prod.len(), 4);
    snapshot!(
        "tour_rollback_record",
        std::fs::read_to_string(&prod[3]).expect("record")
    );

    let log = bot(r, &["log", "ms-ingestion"]);
    ok(&log);
    snapshot!("tour_log", log.stdout);
    let log = bot(
        r,
        &[
            "log", "--domain", "cloud", "--env", "prod", "--format", "json",
        ],
    );
    ok(&log);
    let v: serde_json::Value = serde_json::from_str(&log.stdout).expect("json");
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0));

    // The validator of the example repository still passes after the tour.
    let valid = run(r, &["validate"]);
    assert_eq!(valid.code, 0, "{valid:?}");
}

#[test]
fn each_gate_refuses_through_the_cli_and_changes_nothing() {
    let (_g, root) = example_repo();
    let r = &root;
    let before = tree_digest(r);
    refused(
        &bot(
            r,
            &[
                "promote",
                "ms-ingestion",
                "9.9.9",
                "--domain",
                "cloud",
                "--env",
                "staging",
            ],
        ),
        "exists",
    );
    refused(
        &bot(
            r,
            &[
                "promote",
                "ms-alarm-relay",
                "0.9.1",
                "--domain",
                "cloud",
                "--env",
                "staging",
            ],
        ),
        "allowed",
    );
    refused(
        &bot(
            r,
            &[
                "promote",
                "ms-ingestion",
                "1.0.2",
                "--domain",
                "cloud",
                "--env",
                "staging",
            ],
        ),
        "dependencies",
    );
    refused(
        &bot(
            r,
            &[
                "promote",
                "common-utils",
                "1.3.0",
                "--domain",
                "cloud",
                "--env",
                "prod",
                "--approved-by",
                "lars.n",
            ],
        ),
        "previous-stage",
    );
    assert_eq!(tree_digest(r), before, "refused promotions write nothing");
    ok(&bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    let no_approval = bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "prod",
        ],
    );
    refused(&no_approval, "approvals");
    snapshot!("refusal_approvals", no_approval.stderr);
    // GitLab's login is the actor; it cannot approve its own promotion.
    let out = berth(r)
        .env("GITLAB_USER_LOGIN", "lars.n")
        .args([
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "lars.n",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`lars.n` promotes and cannot also approve")
    );
    // Build age: the example builds date from 2025-05-10; a 30-day policy refuses them.
    let toml = std::fs::read_to_string(r.join("berth.toml")).expect("toml");
    std::fs::write(
        r.join("berth.toml"),
        toml.replace("max_build_age_days = 3650", "max_build_age_days = 30"),
    )
    .expect("write");
    let old = bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    );
    refused(&old, "build-age");
    assert!(
        old.stderr.contains("policy.max_build_age_days is 30"),
        "{}",
        old.stderr
    );
    // Usage errors exit 2.
    let bad = bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "qa",
        ],
    );
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("staging → prod"), "{}", bad.stderr);
    let bad = bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "--domain",
            "cloud",
            "--env",
            "prod",
        ],
    );
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn whole_stage_promotion_and_json_output() {
    let (_g, root) = example_repo();
    let r = &root;
    ok(&bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "ran",
            "--env",
            "lab",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "ms-cell-config",
            "2.1.0",
            "--domain",
            "ran",
            "--env",
            "lab",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "ms-alarm-relay",
            "0.9.1",
            "--domain",
            "ran",
            "--env",
            "lab",
        ],
    ));
    let diff = bot(
        r,
        &[
            "--format", "json", "diff", "--domain", "ran", "--from", "lab", "--to", "staging",
        ],
    );
    ok(&diff);
    let v: serde_json::Value = serde_json::from_str(&diff.stdout).expect("json");
    assert_eq!(v["changes"].as_array().map(Vec::len), Some(3));
    // Staging needs no approvals: the whole lab stage enters it, one record each.
    let all = bot(
        r,
        &[
            "--format", "json", "promote", "--domain", "ran", "--from", "lab", "--to", "staging",
        ],
    );
    ok(&all);
    let v: serde_json::Value = serde_json::from_str(&all.stdout).expect("json");
    assert_eq!(v["applied"], true);
    assert_eq!(v["records"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["events"][0]["component"], "core/platform/common-utils");
    // Prod needs approvals from two groups; with one, nothing lands.
    let before = tree_digest(r);
    let part = bot(
        r,
        &[
            "promote",
            "--domain",
            "ran",
            "--from",
            "staging",
            "--to",
            "prod",
            "--approved-by",
            "mei.t",
        ],
    );
    refused(&part, "approvals");
    assert!(
        part.stderr.contains("core/platform/common-utils"),
        "{}",
        part.stderr
    );
    assert_eq!(tree_digest(r), before);
    ok(&bot(
        r,
        &[
            "promote",
            "--domain",
            "ran",
            "--from",
            "staging",
            "--to",
            "prod",
            "--approved-by",
            "mei.t",
            "--approved-by",
            "lars.n",
        ],
    ));
    let prod = bot(r, &["deployed", "--domain", "ran", "--env", "prod"]);
    snapshot!("whole_stage_ran_prod", prod.stdout);
    let same = bot(
        r,
        &[
            "diff", "--domain", "ran", "--from", "staging", "--to", "prod",
        ],
    );
    assert!(
        same.stdout.contains("nothing to promote"),
        "{}",
        same.stdout
    );
}

#[test]
fn log_reports_a_tampered_audit_chain() {
    let (_g, root) = example_repo();
    let r = &root;
    ok(&bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    ok(&bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    ok(&bot(r, &["log"]));
    let files = audit_files(r, "cloud", "staging");
    let text = std::fs::read_to_string(&files[0]).expect("read");
    std::fs::write(&files[0], text.replace("actor: ci-bot", "actor: mallory")).expect("tamper");
    let log = bot(r, &["log"]);
    assert_eq!(log.code, 1, "{log:?}");
    assert!(log.stderr.contains("audit chain broken"), "{}", log.stderr);
    assert!(log.stderr.contains("000002-"), "{}", log.stderr);
}

/// Every way to change a trail by hand, the newest record included, is seen by `berth log`
/// and `berth validate` alike (one check, the same exit code), and `log --anchor` repairs
/// only an intact trail.
#[test]
fn log_and_validate_agree_on_every_tampering_the_newest_record_included() {
    let (_g, root) = example_repo();
    let r = &root;
    for (c, v) in [("common-utils", "1.3.0"), ("ms-ingestion", "1.0.2")] {
        ok(&bot(
            r,
            &["promote", c, v, "--domain", "cloud", "--env", "staging"],
        ));
    }
    let clean = |why: &str| {
        let log = bot(r, &["log"]);
        let val = bot(r, &["validate"]);
        assert_eq!((log.code, val.code), (0, 0), "{why}: {log:?}\n{val:?}");
    };
    // Returns what `log` said on stderr and `validate` on stdout.
    let both_fail = |why: &str| -> (String, String) {
        let log = bot(r, &["log"]);
        let val = bot(r, &["validate"]);
        assert_eq!(log.code, 1, "{why}: log\n{log:?}");
        assert_eq!(val.code, 1, "{why}: validate\n{val:?}");
        assert!(val.stdout.contains("audit/chain"), "{why}: {}", val.stdout);
        (log.stderr, val.stdout)
    };
    clean("fresh promotions");
    let files = audit_files(r, "cloud", "staging");
    let newest = files.last().expect("records").clone();
    let domain_file = r.join("index/domain-cloud-staging.yaml");
    let keep = |p: &Utf8Path| std::fs::read(p).expect("read");
    let (newest_bytes, domain_bytes) = (keep(&newest), keep(&domain_file));
    let restore = || {
        std::fs::write(&newest, &newest_bytes).expect("restore record");
        std::fs::write(&domain_file, &domain_bytes).expect("restore domain file");
    };

    // The newest record edited: nothing links to it, the anchor does.
    let text = String::from_utf8(newest_bytes.clone()).expect("utf-8");
    std::fs::write(&newest, text.replace("actor: ci-bot", "actor: priya.k")).expect("edit");
    let (log, val) = both_fail("newest record edited");
    for out in [&log, &val] {
        assert!(out.contains("newest"), "{out}");
    }
    assert!(log.contains("audit_head is"), "{log}");
    restore();
    clean("restored");

    // The newest record removed.
    std::fs::remove_file(&newest).expect("rm");
    both_fail("newest record removed");
    restore();
    clean("restored");

    // The anchor removed: the newest record is then unprotected, which is reported.
    let plain = String::from_utf8(domain_bytes.clone()).expect("utf-8");
    let unanchored: String = plain
        .lines()
        .filter(|l| !l.starts_with("audit_head:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(unanchored, plain);
    std::fs::write(&domain_file, &unanchored).expect("unanchor");
    let (log, _) = both_fail("anchor removed");
    assert!(log.contains("no audit_head"), "{log}");
    // `log --anchor` writes it back, and refuses a broken trail.
    let a = bot(r, &["log", "--anchor"]);
    assert_eq!(a.code, 0, "{a:?}");
    assert!(a.stdout.contains("cloud/staging: anchored"), "{}", a.stdout);
    assert_eq!(
        keep(&domain_file),
        domain_bytes,
        "the same anchor as promote wrote"
    );
    clean("anchored again");
    std::fs::write(&files[0], "action: promote\n").expect("break the first record");
    let a = bot(r, &["log", "--anchor"]);
    assert_eq!(a.code, 1, "{a:?}");
    assert!(a.stderr.contains("not anchored"), "{}", a.stderr);
    assert_eq!(
        keep(&domain_file),
        domain_bytes,
        "a broken trail is not anchored"
    );

    // A record copied into a stage berth.toml does not declare.
    let (_g3, root3) = example_repo();
    let r3 = &root3;
    ok(&bot(
        r3,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    let rec = audit_files(r3, "cloud", "staging").remove(0);
    let qa = r3.join("index/audit/cloud/qa");
    std::fs::create_dir_all(&qa).expect("mkdir");
    std::fs::copy(&rec, qa.join(rec.file_name().expect("name"))).expect("copy");
    let log = bot(r3, &["log"]);
    let val = bot(r3, &["validate"]);
    assert_eq!((log.code, val.code), (1, 1), "{log:?}\n{val:?}");
    assert!(log.stderr.contains("does not declare"), "{}", log.stderr);
    assert!(val.stdout.contains("does not declare"), "{}", val.stdout);
}

/// What each stage's records say it runs, checked against its domain file, chain and
/// record count.
fn assert_consistent(root: &Utf8Path, landed: &BTreeMap<(String, String), usize>) {
    let repo = Repository::open(root).expect("open");
    for stage in berth_promote::Stage::all(repo.config()) {
        let (d, e): (&DomainName, &EnvName) = (&stage.domain, &stage.env);
        assert_eq!(
            berth_promote::verify_chain(&repo, d, e),
            Vec::new(),
            "{stage}"
        );
        let trail = berth_promote::promoted_by_audit(&repo, d, e).expect("trail");
        let file: BTreeMap<ComponentPath, Version> = berth_promote::read_stage(&repo, &stage)
            .expect("domain file")
            .components
            .into_iter()
            .map(|x| (x.name, x.version))
            .collect();
        assert_eq!(trail, file, "{stage}: domain file and audit trail disagree");
        let n = audit_files(root, d.as_str(), e.as_str()).len();
        let want = landed
            .get(&(d.to_string(), e.to_string()))
            .copied()
            .unwrap_or(0);
        assert_eq!(n, want, "{stage}: one record per landed promotion");
        // Each record's previous_version is what the stage ran before it.
        let mut seen: BTreeMap<ComponentPath, Version> = BTreeMap::new();
        for f in berth_promote::record_files(&repo, &stage).expect("records") {
            let rec = f.record().expect("parses");
            assert_eq!(
                rec.previous_version.as_ref(),
                seen.get(&rec.component),
                "{}",
                f.path
            );
            seen.insert(rec.component, rec.version);
        }
    }
}

#[test]
fn concurrent_promotions_by_real_processes_lose_nothing() {
    let (_g, root) = example_repo();
    ok(&bot(
        &root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    ));
    let jobs: &[&[&str]] = &[
        &["ms-ingestion", "1.0.2", "cloud", "staging"],
        &["ms-ingestion", "1.0.3", "cloud", "staging"],
        &["ms-ingestion", "1.0.3", "cloud", "staging"],
        &["common-utils", "1.2.0", "cloud", "staging"],
        &["ms-export", "3.2.0", "cloud", "staging"],
        &["common-utils", "1.3.0", "ran", "lab"],
        &["ms-cell-config", "2.1.0", "ran", "lab"],
        &["ms-alarm-relay", "0.9.1", "ran", "lab"],
        &["common-utils", "1.3.0", "core", "staging"],
        &["common-utils", "1.2.0", "core", "staging"],
    ];
    let children: Vec<_> = jobs
        .iter()
        .map(|j| {
            berth(&root)
                .env("BERTH_ACTOR", "ci-bot")
                .args(["promote", j[0], j[1], "--domain", j[2], "--env", j[3]])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn berth")
        })
        .collect();
    let mut landed: BTreeMap<(String, String), usize> = BTreeMap::new();
    landed.insert(("cloud".into(), "staging".into()), 1);
    for (j, child) in jobs.iter().zip(children) {
        let out = child.wait_with_output().expect("berth finishes");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        match out.status.code() {
            Some(0) if stdout.contains("already; nothing to do") => {}
            Some(0) => {
                assert!(stdout.contains("promoted "), "{j:?}: {stdout}");
                *landed.entry((j[2].into(), j[3].into())).or_default() += 1;
            }
            Some(1) => assert!(
                stderr.contains("gate `"),
                "{j:?} failed without a gate: {stderr}"
            ),
            other => panic!("{j:?} exited {other:?}: {stderr}"),
        }
    }
    let total: usize = landed.values().sum();
    assert!(
        total >= 5,
        "independent promotions land whatever the order: {landed:?}"
    );
    assert_consistent(&root, &landed);
    // And the CLI agrees that every chain is intact.
    ok(&bot(&root, &["log"]));
}

/// A policy change is not retroactive: the index keeps what a stage ran, a rollback to a
/// version the stage ran before is allowed with the new findings recorded as warnings,
/// and only a stage that never ran a version counts them against it.
#[test]
fn a_policy_change_does_not_take_away_what_production_runs() {
    let (_g, root) = example_repo();
    let r = &root;
    let promote = |c: &str, v: &str, env: &str| {
        let mut args = vec!["promote", c, v, "--domain", "cloud", "--env", env];
        if env == "prod" {
            let approver = if c == "common-utils" {
                "lars.n"
            } else {
                "priya.k"
            };
            args.extend(["--approved-by", approver]);
        }
        bot(r, &args)
    };
    for (c, v, env) in [
        ("common-utils", "1.3.0", "staging"),
        ("ms-ingestion", "1.0.2", "staging"),
        ("common-utils", "1.3.0", "prod"),
        ("ms-ingestion", "1.0.2", "prod"),
        ("ms-ingestion", "1.0.3", "staging"),
        ("ms-ingestion", "1.0.3", "prod"),
        ("ms-export", "3.2.0", "staging"),
    ] {
        ok(&promote(c, v, env));
    }
    ok(&bot(r, &["index"]));
    assert_eq!(bot(r, &["latest", "ms-ingestion"]).stdout, "1.0.3\n");
    // The policy now asks for a label no image has, as an error.
    let toml = std::fs::read_to_string(r.join("berth.toml")).expect("read");
    let stricter = toml
        .replace(
            "required_labels = [\"org.opencontainers.image.revision\"]",
            "required_labels = [\"org.opencontainers.image.revision\", \"com.yourco.sbom\"]",
        )
        .replace(
            "\"manifest/missing-label\" = \"warn\"",
            "\"manifest/missing-label\" = \"error\"",
        );
    assert_ne!(stricter, toml);
    std::fs::write(r.join("berth.toml"), stricter).expect("write");

    // The index keeps what the stages ran, and says which rule drops a version no stage
    // ran; validate says why, as a warning.
    let index = bot(r, &["index"]);
    ok(&index);
    assert!(!index.stdout.contains("cloud/"), "{}", index.stdout);
    assert!(
        index.stdout.contains("ran/oam/ms-cell-config")
            && index.stdout.contains("2.1.0: manifest/missing-label"),
        "{}",
        index.stdout
    );
    assert_eq!(bot(r, &["latest", "ms-ingestion"]).stdout, "1.0.3\n");
    assert_eq!(bot(r, &["latest", "ms-export"]).stdout, "3.2.0\n");
    let v = bot(r, &["--format", "json", "validate"]);
    let report: serde_json::Value = serde_json::from_str(&v.stdout).expect("json");
    let label: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "manifest/missing-label")
        .filter(|d| {
            d["file"]
                .as_str()
                .is_some_and(|f| f.contains("ms-ingestion/versions/1.0.3"))
        })
        .collect();
    assert!(!label.is_empty(), "{}", v.stdout);
    for d in &label {
        assert_eq!(d["severity"], "warn", "{d}");
        assert!(
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("not counted")),
            "{d}"
        );
    }

    // Rollback in prod to the version it ran before: allowed, the findings recorded.
    let back = bot(
        r,
        &[
            "rollback",
            "ms-ingestion",
            "--domain",
            "cloud",
            "--env",
            "prod",
        ],
    );
    ok(&back);
    assert!(
        back.stdout.contains("warning:") && back.stdout.contains("com.yourco.sbom"),
        "{}",
        back.stdout
    );
    let newest = audit_files(r, "cloud", "prod").pop().expect("record");
    let record = std::fs::read_to_string(&newest).expect("read");
    assert!(
        record.contains("warnings:") && record.contains("com.yourco.sbom"),
        "{record}"
    );

    // A stage that never ran a version counts the policy against it.
    let refused = promote("ms-export", "3.2.0", "prod");
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("gate `valid`") && refused.stderr.contains("com.yourco.sbom"),
        "{}",
        refused.stderr
    );
}

/// The `valid` gate of a gated or production stage reads the bytes again: an artifact
/// changed after `berth add` (same size) passes into staging unseen, but not into
/// production; and `validate --verify-artifacts` checks every field `add` derived from
/// the artifact, so a manifest edited to hide a disallowed base image is caught.
#[test]
fn production_gates_read_the_bytes_and_derived_fields_are_checked() {
    let (_g, root) = example_repo();
    let r = &root;
    for (c, v) in [("common-utils", "1.3.0"), ("ms-ingestion", "1.0.2")] {
        ok(&bot(
            r,
            &["promote", c, v, "--domain", "cloud", "--env", "staging"],
        ));
    }
    ok(&bot(
        r,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "lars.n",
        ],
    ));
    // One byte of the stored image changes; its size does not.
    let image = r.join("components/cloud/dmp/ms-ingestion/versions/1.0.2/docker/image.tar");
    let mut bytes = std::fs::read(&image).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&image, &bytes).expect("write");
    // Without reading bytes nothing shows …
    assert_eq!(bot(r, &["validate"]).code, 0);
    // … the production gate reads them.
    let refused = bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "priya.k",
        ],
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("gate `valid`") && refused.stderr.contains("artifacts read again"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("manifest/"), "{}", refused.stderr);
    bytes[mid] ^= 0xff;
    std::fs::write(&image, &bytes).expect("restore");
    ok(&bot(
        r,
        &[
            "promote",
            "ms-ingestion",
            "1.0.2",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--approved-by",
            "priya.k",
        ],
    ));

    // A manifest edited to hide a base image the policy no longer allows.
    let toml = std::fs::read_to_string(r.join("berth.toml")).expect("read");
    std::fs::write(
        r.join("berth.toml"),
        toml.replace("\"python:3.11-*\", ", ""),
    )
    .expect("write");
    let manifest = r.join("components/cloud/dmp/ms-export/versions/3.2.0/docker/manifest.yaml");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let hidden = text.replace("python:3.11-alpine", "debian:bookworm-slim");
    assert_ne!(hidden, text);
    std::fs::write(&manifest, hidden).expect("edit");
    let plain = bot(r, &["--format", "json", "validate", "cloud/dmp/ms-export"]);
    assert!(
        !plain.stdout.contains("base-image-not-allowed"),
        "{}",
        plain.stdout
    );
    let verify = bot(
        r,
        &[
            "--format",
            "json",
            "validate",
            "--verify-artifacts",
            "cloud/dmp/ms-export",
        ],
    );
    assert_eq!(verify.code, 1, "{verify:?}");
    let report: serde_json::Value = serde_json::from_str(&verify.stdout).expect("json");
    let fields: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "manifest/field-mismatch")
        .filter_map(|d| d["message"].as_str().map(ToOwned::to_owned))
        .collect();
    assert!(
        fields
            .iter()
            .any(|m| m.starts_with("base_image says debian:bookworm-slim")
                && m.contains("python:3.11-alpine")),
        "{fields:#?}"
    );
    assert!(
        fields
            .iter()
            .any(|m| m.contains("label `org.opencontainers.image.base.name`")),
        "{fields:#?}"
    );
}
