//! The seed's GitLab flow, run for real: `gitlab-ci-local` (npm) executes the jobs of
//! `ci/gitlab/berth.gitlab-ci.yml` in shell mode against a temporary git copy of
//! `examples/repo`: add, index check, validate with its reports, a promote-to-staging tag
//! with deploy and smoke test, a promote-to-prod tag with deploy, and the Slack message of a
//! successful promotion, received by a local HTTP listener.

#[path = "../../crates/notify/tests/support/mod.rs"]
mod slack;

use std::process::Command;
use std::time::Duration;

use berth_tests::{berth_bin, example_repo, run, workspace};
use camino::Utf8Path;

fn git(dir: &Utf8Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=berth-test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `gitlab-ci-local` with `vars` and the given jobs; returns (success, output).
fn gcl(dir: &Utf8Path, vars: &[(&str, &str)], jobs: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("gitlab-ci-local");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("BERTH_SLACK_WEBHOOK")
        .arg("--shell-isolation=false");
    for (k, v) in vars {
        cmd.arg("--variable").arg(format!("{k}={v}"));
    }
    cmd.args(jobs);
    let out = cmd
        .output()
        .expect("gitlab-ci-local runs (npm install -g gitlab-ci-local@4.60.1)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn read(dir: &Utf8Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_seed_pipeline_runs_with_gitlab_ci_local() {
    berth_tests::require_tool(
        "gitlab-ci-local",
        "gitlab-ci-local (npm install -g gitlab-ci-local@4.60.1)",
    );
    berth_tests::require_tool("rsync", "rsync");
    let (_g, root) = example_repo();
    let bin = berth_bin();
    // The image repository's own pipeline: include the template, name the build.
    std::fs::copy(
        workspace().join("ci/gitlab/berth.gitlab-ci.yml"),
        root.join("berth.gitlab-ci.yml"),
    )
    .expect("copy template");
    std::fs::write(
        root.join(".gitlab-ci.yml"),
        "include:\n  - local: berth.gitlab-ci.yml\n\nvariables:\n  BERTH_COMPONENT: cloud/dmp/ms-ingestion\n  BERTH_VERSION: \"1.0.4\"\n  BERTH_ADD_ARGS: \"--generic build/RELEASE-NOTES.md --from-previous\"\n  BERTH_DEPLOY_COMMAND: \"./deploy.sh\"\n  BERTH_SMOKE_COMMAND: \"./smoke.sh\"\n",
    )
    .expect("write .gitlab-ci.yml");
    std::fs::write(
        root.join("deploy.sh"),
        "#!/bin/sh\necho \"deploy $1 $2\" >> deploy.log\n",
    )
    .expect("deploy.sh");
    std::fs::write(
        root.join("smoke.sh"),
        "#!/bin/sh\ngrep -q \"deploy cloud/dmp/ms-ingestion 1.0.4\" deploy.log\n",
    )
    .expect("smoke.sh");
    for s in ["deploy.sh", "smoke.sh"] {
        std::process::Command::new("chmod")
            .args(["+x", root.join(s).as_str()])
            .status()
            .expect("chmod");
    }
    std::fs::create_dir_all(root.join("build")).expect("build dir");
    std::fs::write(
        root.join("build/RELEASE-NOTES.md"),
        "# ms-ingestion 1.0.4\n- faster ingestion\n",
    )
    .expect("notes");
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "image repository"]);

    // The shared library must run in cloud's stages first (ms-ingestion depends on it).
    for (env, extra) in [("staging", None), ("prod", Some("lars.n"))] {
        let mut args = vec![
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            env,
            "--actor",
            "setup",
        ];
        if let Some(a) = extra {
            args.extend(["--approved-by", a]);
        }
        let r = run(&root, &args);
        assert_eq!(r.code, 0, "{r:?}");
    }

    // From here on prod approvals are signed tags (the default evidence): priya.k's SSH
    // key is listed in cloud/dmp's ownership.yaml.
    berth_tests::require_tool("ssh-keygen", "openssh-client");
    let keys = root.join(".keys");
    std::fs::create_dir_all(&keys).expect("keys dir");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "priya.k", "-f"])
        .arg(keys.join("priya.k"))
        .output()
        .expect("ssh-keygen");
    assert!(keygen.status.success());
    let public = read(&root, ".keys/priya.k.pub");
    let toml = read(&root, "berth.toml");
    std::fs::write(
        root.join("berth.toml"),
        toml.replace("[policy.evidence]\nprod = \"name\"\n", ""),
    )
    .expect("berth.toml");
    let dmp = read(&root, "components/cloud/dmp/ownership.yaml").replace(
        "approvers: [\"priya.k\", \"domain-lead-cloud\"]",
        &format!(
            "approvers:\n  - name: priya.k\n    keys: [\"{}\"]\n  - domain-lead-cloud",
            public.trim()
        ),
    );
    std::fs::write(root.join("components/cloud/dmp/ownership.yaml"), dmp).expect("ownership");
    git(&root, &["add", "-A", "berth.toml", "components", "index"]);
    git(&root, &["commit", "-q", "-m", "approvals are signed tags"]);

    let common = [("BERTH", bin.as_str()), ("BERTH_ACTOR", "ci-bot")];

    // Build stage: add, then the two checks of the verify stage.
    let (ok, out) = gcl(&root, &common, &["berth-add"]);
    assert!(ok, "{out}");
    let manifest = read(
        &root,
        "components/cloud/dmp/ms-ingestion/versions/1.0.4/generic/manifest.yaml",
    );
    assert!(manifest.contains("path: RELEASE-NOTES.md"), "{manifest}");
    assert!(read(&root, "index/components.yaml").contains("latest_version: 1.0.4"));
    let (ok, out) = gcl(&root, &common, &["berth-index-check", "berth-validate"]);
    assert!(ok, "{out}");
    let quality: serde_json::Value =
        serde_json::from_str(&read(&root, "gl-code-quality-report.json"))
            .expect("code quality JSON");
    assert!(quality.is_array(), "{quality}");
    let junit = read(&root, "berth-junit.xml");
    assert!(
        junit.contains("<testsuites") && junit.contains("failures=\"0\""),
        "{junit}"
    );

    // The default branch's pages job: the dashboard in public/, for GitLab Pages.
    let (ok, out) = gcl(&root, &common, &["pages"]);
    assert!(ok, "{out}");
    let index = read(&root, "public/index.html");
    assert!(
        index.contains("data-component=\"cloud/dmp/ms-ingestion\""),
        "{index}"
    );
    assert!(
        root.join("public/c/cloud/dmp/ms-ingestion/index.html")
            .is_file()
    );

    // promote-to-staging tag: promote, deploy what staging now runs, smoke test.
    let tag = "promote-to-staging/cloud/dmp/ms-ingestion/1.0.4";
    let mut vars = common.to_vec();
    vars.push(("CI_COMMIT_TAG", tag));
    let (ok, out) = gcl(
        &root,
        &vars,
        &[
            "berth-promote",
            "berth-deploy-staging",
            "berth-smoke-staging",
        ],
    );
    assert!(ok, "{out}");
    let staging = read(&root, "index/domain-cloud-staging.yaml");
    assert!(
        staging.contains("name: cloud/dmp/ms-ingestion\n    version: 1.0.4"),
        "{staging}"
    );
    assert!(read(&root, "deploy.log").contains("deploy cloud/dmp/ms-ingestion 1.0.4"));
    let deployed: serde_json::Value =
        serde_json::from_str(&read(&root, "deployed.json")).expect("deployed.json");
    assert!(deployed.to_string().contains("1.0.4"), "{deployed}");

    // promote-to-prod without the approval the config asks for: refused, prod unchanged.
    let prod_tag = "promote-to-prod/cloud/dmp/ms-ingestion/1.0.4";
    let mut vars = common.to_vec();
    vars.push(("CI_COMMIT_TAG", prod_tag));
    let before = read(&root, "index/domain-cloud.yaml");
    let (ok, out) = gcl(&root, &vars, &["berth-promote"]);
    assert!(!ok, "{out}");
    assert!(out.contains("approvals"), "{out}");
    assert_eq!(read(&root, "index/domain-cloud.yaml"), before);

    // A bare name is not evidence any more.
    let mut named = vars.clone();
    named.push(("BERTH_PROMOTE_ARGS", "--approved-by priya.k"));
    let (ok, out) = gcl(&root, &named, &["berth-promote"]);
    assert!(!ok && out.contains("is a name, not evidence"), "{out}");
    assert_eq!(read(&root, "index/domain-cloud.yaml"), before);

    // priya.k signs the prod tag (the tag pipeline runs on it): promoted, deployed, and
    // Slack told.
    git(&root, &["add", "-A", "components", "index"]);
    git(
        &root,
        &["commit", "-q", "-m", "ms-ingestion 1.0.4 in staging"],
    );
    let signing_key = format!("user.signingkey={}", keys.join("priya.k"));
    git(
        &root,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing_key,
            "tag",
            "-s",
            "-m",
            "approved",
            prod_tag,
        ],
    );
    let receiver = slack::Receiver::start(vec![slack::Reply::ok()], Duration::from_secs(60));
    let hook = receiver.url.clone();
    let (ok, out) = gcl(&root, &vars, &["berth-promote", "berth-deploy-prod"]);
    assert!(ok, "{out}");
    let prod = read(&root, "index/domain-cloud.yaml");
    assert!(
        prod.contains("name: cloud/dmp/ms-ingestion\n    version: 1.0.4"),
        "{prod}"
    );
    vars.push(("BERTH_SLACK_WEBHOOK", hook.as_str()));
    let (ok, out) = gcl(&root, &vars, &["berth-notify-success"]);
    assert!(ok, "{out}");
    assert!(
        !out.contains(slack::TOKEN),
        "the webhook must never be printed"
    );
    let seen = receiver.finish();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let body = seen[0].body.to_string();
    assert!(
        body.contains("#cloud-dmp-alerts")
            && body.contains("1.0.4")
            && body.contains("https://gitlab.com/yourorg/cloud-dmp"),
        "{body}"
    );

    // The audit trail holds both promotions with their actor and approvals.
    let log = run(&root, &["log", "ms-ingestion", "--format", "json"]);
    assert_eq!(log.code, 0, "{log:?}");
    assert!(
        log.stdout.contains("ci-bot") && log.stdout.contains("priya.k"),
        "{}",
        log.stdout
    );
    let records = std::fs::read_dir(root.join("index/audit/cloud/prod"))
        .expect("prod audit dir")
        .count();
    assert_eq!(records, 2, "common-utils and ms-ingestion entered prod");
}

#[test]
fn a_malformed_tag_is_refused_with_the_expected_form() {
    let (_g, root) = example_repo();
    let r = run(&root, &["promote", "--tag", "promote-to-prod/ms-ingestion"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("promote-to-<env>/<component>/<version>"),
        "{}",
        r.stderr
    );
    // A component whose metadata lists several domains needs --domain.
    let r = run(
        &root,
        &[
            "promote",
            "--tag",
            "promote-to-staging/core/platform/common-utils/1.3.0",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--domain"), "{}", r.stderr);
    let r = run(
        &root,
        &[
            "promote",
            "--tag",
            "promote-to-staging/core/platform/common-utils/1.3.0",
            "--domain",
            "core",
            "--actor",
            "a",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v = run(
        &root,
        &[
            "deployed",
            "--tag",
            "promote-to-staging/core/platform/common-utils/1.3.0",
            "--domain",
            "core",
            "--component",
            "common-utils",
        ],
    );
    assert_eq!(v.stdout, "1.3.0\n", "{v:?}");
}

#[test]
fn promote_rollback_and_add_notify_the_owner_when_a_webhook_is_configured() {
    let (_g, root) = example_repo();
    let receiver = slack::Receiver::start(
        vec![
            slack::Reply::ok(),
            slack::Reply::ok(),
            slack::Reply::status(500, "down"),
            slack::Reply::status(500, "down"),
            slack::Reply::status(500, "down"),
        ],
        Duration::from_secs(60),
    );
    let with_hook = |args: &[&str]| {
        let out = berth_tests::berth(&root)
            .env("BERTH_SLACK_WEBHOOK", &receiver.url)
            .env("BERTH_NOTIFY_TIMEOUT_SECS", "2")
            .env("BERTH_ACTOR", "ci-bot")
            .args(args)
            .output()
            .expect("berth runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A promotion that lands: `promoted`.
    let (code, _, err) = with_hook(&[
        "promote",
        "common-utils",
        "1.3.0",
        "--domain",
        "cloud",
        "--env",
        "staging",
    ]);
    assert_eq!(code, Some(0), "{err}");
    // A refused one (no approval for prod): `promotion-refused`, and still exit 1.
    let (code, _, err) = with_hook(&[
        "promote",
        "common-utils",
        "1.3.0",
        "--domain",
        "cloud",
        "--env",
        "prod",
    ]);
    assert_eq!(code, Some(1), "{err}");
    // The webhook is down for the next one: the add stands, a warning says so.
    let notes = root.join("NOTES.txt");
    std::fs::write(&notes, "notes\n").expect("write");
    let (code, out, err) = with_hook(&[
        "add",
        "ran/oam/ms-cell-config",
        "2.2.0",
        "--generic",
        notes.as_str(),
        "--from-previous",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        err.contains("warning") && err.contains("not delivered"),
        "{err}"
    );
    assert!(
        !err.contains(slack::TOKEN) && !out.contains(slack::TOKEN),
        "the webhook must never be printed"
    );
    assert!(
        root.join("components/ran/oam/ms-cell-config/versions/2.2.0/generic/manifest.yaml")
            .exists()
    );
    let seen = receiver.finish();
    let texts: Vec<String> = seen
        .iter()
        .map(|r| r.body["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        seen.len(),
        5,
        "promoted, refused, then three attempts for added: {texts:?}"
    );
    assert!(
        seen[0].body["channel"] == "#core-platform",
        "{}",
        seen[0].body
    );
    assert!(
        texts[0].contains("common-utils") && texts[0].to_lowercase().contains("promot"),
        "{texts:?}"
    );
    assert!(texts[1].to_lowercase().contains("refused"), "{texts:?}");
    assert!(
        seen[2].body["channel"] == "#ran-oam-alerts",
        "{}",
        seen[2].body
    );
}
