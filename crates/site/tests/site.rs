//! berth-site on real trees: snapshots of the example repository's pages, determinism,
//! incremental writes, odd repositories, escaping, and a synthetic 2,000-component
//! repository (size limits and pagination).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use berth_model::{Repository, Stage, Timestamp};
use berth_promote::{Context, Request, execute};
use berth_site::{Options, Site, build, render};
use berth_validate::Checker;
use camino::{Utf8Path, Utf8PathBuf};

struct Fixture {
    _tmp: tempfile::TempDir,
    root: Utf8PathBuf,
    out: Utf8PathBuf,
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

/// A copy of `examples/repo`.
fn example() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).expect("utf-8");
    let root = base.join("repo");
    copy(
        &Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/repo"),
        &root,
    );
    Fixture {
        _tmp: tmp,
        out: base.join("public"),
        root,
    }
}

fn promote(
    repo: &Repository,
    stage: &str,
    c: &str,
    v: &str,
    at: &str,
    approver: Option<&str>,
    reason: Option<&str>,
) {
    let (domain, env) = stage.split_once('/').expect("domain/env");
    let stage = Stage::new(repo.config(), domain, Some(env)).expect("stage");
    let mut cx = Context::new("ci-bot");
    cx.now = Timestamp::parse(at).expect("time");
    cx.approvals = approver.map(|a| vec![a.to_owned()]).unwrap_or_default();
    cx.reason = reason.map(str::to_owned);
    let out = execute(
        repo,
        &Checker::builtin(repo),
        &Request::one(stage, c, v),
        &cx,
    )
    .expect("promote");
    assert!(
        out.applied,
        "{c} {v} into {domain}/{env}: {:?}",
        out.plan.refusals
    );
}

/// The example repository after the README's tour (promotions, one rollback) with
/// fixed times, plus two findings: a hand-edited domain file and a misspelt key.
fn toured() -> Fixture {
    let f = example();
    let repo = Repository::open(&f.root).expect("open");
    let t = |m: u32| format!("2026-11-28T10:{m:02}:00Z");
    promote(
        &repo,
        "cloud/staging",
        "common-utils",
        "1.3.0",
        &t(0),
        None,
        None,
    );
    promote(
        &repo,
        "cloud/staging",
        "ms-ingestion",
        "1.0.2",
        &t(1),
        None,
        None,
    );
    promote(
        &repo,
        "cloud/prod",
        "common-utils",
        "1.3.0",
        &t(2),
        Some("lars.n"),
        None,
    );
    promote(
        &repo,
        "cloud/prod",
        "ms-ingestion",
        "1.0.2",
        &t(3),
        Some("priya.k"),
        None,
    );
    promote(
        &repo,
        "cloud/staging",
        "ms-ingestion",
        "1.0.3",
        &t(4),
        None,
        Some("fixes ingestion lag"),
    );
    promote(
        &repo,
        "cloud/prod",
        "ms-ingestion",
        "1.0.3",
        &t(5),
        Some("priya.k"),
        Some("smoke tests green"),
    );
    let prod = Stage::new(repo.config(), "cloud", Some("prod")).expect("stage");
    let mut cx = Context::new("ci-bot");
    cx.now = Timestamp::parse(&t(6)).expect("time");
    cx.reason = Some("error rate up".into());
    let out = execute(
        &repo,
        &Checker::builtin(&repo),
        &Request::rollback(prod, "ms-ingestion", None),
        &cx,
    )
    .expect("rollback");
    assert!(out.applied);
    promote(&repo, "ran/lab", "common-utils", "1.3.0", &t(7), None, None);
    // Findings: a row nobody promoted, and a typo in a metadata key.
    std::fs::write(
        f.root.join("index/domain-core-staging.yaml"),
        "components:\n  - name: core/platform/common-utils\n    version: 1.2.0\n",
    )
    .expect("hand edit");
    let meta = f
        .root
        .join("components/ran/oam/ms-cell-config/versions/2.1.0/metadata.yaml");
    let text = std::fs::read_to_string(&meta)
        .expect("read")
        .replace("notes:", "nots:");
    std::fs::write(&meta, text).expect("typo");
    f
}

fn site_of(root: &Utf8Path) -> Site {
    let repo = Repository::open(root).expect("open");
    render(&repo, &Options::new("unused")).expect("render")
}

fn html<'a>(site: &'a Site, path: &str) -> &'a str {
    let p = site.page(path).unwrap_or_else(|| panic!("no page {path}"));
    std::str::from_utf8(&p.bytes).expect("utf-8")
}

#[test]
fn snapshots_of_the_example_repository() {
    let f = toured();
    let site = site_of(&f.root);
    insta::assert_snapshot!("overview", html(&site, "index.html"));
    insta::assert_snapshot!(
        "component_ms_ingestion",
        html(&site, "c/cloud/dmp/ms-ingestion/index.html")
    );
    insta::assert_snapshot!("stage_cloud_prod", html(&site, "stage/cloud/prod.html"));
    insta::assert_snapshot!("findings", html(&site, "findings.html"));
}

/// The overview's cells: `data-stage` → `data-version` per component row.
fn matrix(overview: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for row in overview.split("<tr data-component=\"").skip(1) {
        let comp = row.split('"').next().expect("name").to_owned();
        let row = row.split("</tr>").next().expect("row");
        for cell in row.split("data-stage=\"").skip(1) {
            let stage = cell.split('"').next().expect("stage").to_owned();
            let version = cell
                .split("data-version=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("version")
                .to_owned();
            out.insert((comp.clone(), stage), version);
        }
    }
    out
}

#[test]
fn the_matrix_shows_what_each_stage_runs_and_marks_drift() {
    let f = toured();
    let site = site_of(&f.root);
    let overview = html(&site, "index.html");
    let cells = matrix(overview);
    let repo = Repository::open(&f.root).expect("open");
    let comps = repo.components().expect("components");
    let stages = Stage::all(repo.config());
    assert_eq!(
        cells.len(),
        comps.len() * stages.len(),
        "one cell per component and stage"
    );
    for s in &stages {
        let d = berth_promote::deployed(&repo, s).expect("deployed");
        for c in &comps {
            let want = d
                .components
                .iter()
                .find(|e| &e.name == c)
                .map(|e| e.version.to_string())
                .unwrap_or_default();
            assert_eq!(cells[&(c.to_string(), s.to_string())], want, "{c} in {s}");
        }
    }
    // Staging runs 1.0.3, prod was rolled back to 1.0.2: staging is ahead, prod behind.
    let ingestion = overview
        .split("<tr data-component=\"cloud/dmp/ms-ingestion\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("row");
    assert!(
        ingestion.contains("cell ahead\" data-stage=\"cloud/staging\" data-version=\"1.0.3\""),
        "{ingestion}"
    );
    assert!(
        ingestion.contains("cell behind\" data-stage=\"cloud/prod\" data-version=\"1.0.2\""),
        "{ingestion}"
    );
    // Words beside the colours.
    assert!(
        ingestion.contains(">ahead<") && ingestion.contains(">behind<"),
        "{ingestion}"
    );
    // The timeline marks the rollback.
    let prod = html(&site, "stage/cloud/prod.html");
    assert!(
        prod.contains("class=\"rollback\"") && prod.contains("error rate up"),
        "{prod}"
    );
    // The staging page shows the diff to prod.
    let staging = html(&site, "stage/cloud/staging.html");
    assert!(
        staging.contains("Diff to prod") && staging.contains("upgrade"),
        "{staging}"
    );
}

#[test]
fn findings_carry_their_rule_docs_and_filters() {
    let f = toured();
    let site = site_of(&f.root);
    let findings = html(&site, "findings.html");
    assert!(
        findings.contains("domain/not-promoted") && findings.contains("schema/unknown-field"),
        "{findings}"
    );
    assert!(
        findings.contains("data-filter=\"rule\"") && findings.contains("data-filter=\"severity\"")
    );
    let comp = html(&site, "c/ran/oam/ms-cell-config/index.html");
    assert!(
        comp.contains("id=\"rule-schema--unknown-field\""),
        "the rule's documentation is on the page"
    );
    assert!(comp.contains("What it checks"), "{comp}");
    let rule = site
        .page("findings/rule/domain--not-promoted.html")
        .expect("a page per rule");
    assert!(String::from_utf8_lossy(&rule.bytes).contains("core/platform/common-utils"));
    assert!(
        site.page("findings/team/ran-oam.html").is_some(),
        "a page per team"
    );
}

#[test]
fn rendering_is_deterministic() {
    let f = toured();
    let a = site_of(&f.root);
    let b = site_of(&f.root);
    assert_eq!(a, b);
    let repo = Repository::open(&f.root).expect("open");
    let first = build(&repo, &Options::new(f.out.clone())).expect("build");
    assert_eq!(first.write.written.len(), first.pages);
    let again = build(&repo, &Options::new(f.out.clone())).expect("build again");
    assert!(again.write.written.is_empty(), "{:?}", again.write.written);
    assert_eq!(again.write.unchanged, again.pages);
}

#[test]
fn a_change_rewrites_only_the_pages_it_affects() {
    let f = toured();
    let repo = Repository::open(&f.root).expect("open");
    let opts = Options::new(f.out.clone());
    build(&repo, &opts).expect("build");
    let mtime = |p: &str| {
        std::fs::metadata(f.out.join(p))
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let before = mtime("c/core/platform/common-utils/index.html");

    // One version's notes change: only that component's page.
    let meta = f
        .root
        .join("components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml");
    let text = std::fs::read_to_string(&meta)
        .expect("read")
        .replace("nightly", "hourly");
    std::fs::write(&meta, text).expect("edit");
    let s = build(&repo, &opts).expect("build");
    assert_eq!(s.write.written, vec!["c/cloud/dmp/ms-export/index.html"]);

    // A promotion: the component, the stage pages, the overview; no other component.
    let repo = Repository::open(&f.root).expect("open");
    promote(
        &repo,
        "core/prod",
        "common-utils",
        "1.2.0",
        "2026-11-28T11:00:00Z",
        Some("lars.n"),
        None,
    );
    let s = build(&repo, &opts).expect("build");
    assert!(
        s.write.written.contains(&"index.html".to_owned()),
        "{:?}",
        s.write.written
    );
    assert!(
        s.write.written.contains(&"stage/core/prod.html".to_owned()),
        "{:?}",
        s.write.written
    );
    assert!(
        s.write
            .written
            .contains(&"c/core/platform/common-utils/index.html".to_owned())
    );
    assert!(
        !s.write
            .written
            .iter()
            .any(|p| p.starts_with("c/ran/") || p.starts_with("c/cloud/")),
        "{:?}",
        s.write.written
    );
    assert_eq!(
        mtime("c/ran/oam/ms-alarm-relay/index.html"),
        mtime("c/ran/oam/ms-alarm-relay/index.html")
    );
    assert_ne!(before, mtime("c/core/platform/common-utils/index.html"));

    // A component that is gone: its page goes, nothing else of the site is removed.
    std::fs::remove_dir_all(f.root.join("components/ran/oam/ms-alarm-relay")).expect("rm");
    let repo = Repository::open(&f.root).expect("open");
    let s = build(&repo, &opts).expect("build");
    assert_eq!(s.write.removed, vec!["c/ran/oam/ms-alarm-relay/index.html"]);
    assert!(!f.out.join("c/ran/oam/ms-alarm-relay").exists());
    assert!(f.out.join("c/ran/oam/ms-cell-config/index.html").exists());
}

#[test]
fn odd_repositories_still_get_pages_that_say_what_is_wrong() {
    let f = example();
    // Metadata that does not parse, a stage file that does not parse, no owner.
    std::fs::write(
        f.root
            .join("components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml"),
        "architecture: [unclosed\n",
    )
    .expect("write");
    std::fs::write(
        f.root.join("index/domain-ran-lab.yaml"),
        "components: {{{\n",
    )
    .expect("write");
    std::fs::remove_file(f.root.join("components/ran/oam/ownership.yaml")).expect("rm");
    let site = site_of(&f.root);
    let export = html(&site, "c/cloud/dmp/ms-export/index.html");
    assert!(export.contains("metadata.yaml does not load"), "{export}");
    let lab = html(&site, "stage/ran/lab.html");
    assert!(lab.contains("The domain file does not load"), "{lab}");
    let relay = html(&site, "c/ran/oam/ms-alarm-relay/index.html");
    assert!(
        relay.contains("No ownership.yaml above this component"),
        "{relay}"
    );
}

/// Moves `rel` out of the tree, into `outside`, and leaves a symbolic link to it.
fn link_out(root: &Utf8Path, rel: &str, outside: &Utf8Path) {
    let target = outside.join(rel.replace('/', "_"));
    std::fs::rename(root.join(rel), &target).expect("move out");
    std::os::unix::fs::symlink(&target, root.join(rel)).expect("symlink");
}

#[test]
fn links_leading_out_of_the_tree_are_never_followed() {
    let f = example();
    let outside = f.out.join("elsewhere");
    std::fs::create_dir_all(&outside).expect("mkdir");
    // What lies outside carries a secret in every file a link points to.
    let meta = "components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml";
    let text = std::fs::read_to_string(f.root.join(meta)).expect("read");
    std::fs::write(
        f.root.join(meta),
        text.replace("Exports to the data lake nightly", "TOP-SECRET-NOTES"),
    )
    .expect("write");
    link_out(&f.root, meta, &outside);
    let own = "components/ran/oam/ownership.yaml";
    let text = std::fs::read_to_string(f.root.join(own)).expect("read");
    std::fs::write(
        f.root.join(own),
        text.replace("#ran-oam-alerts", "#top-secret-channel"),
    )
    .expect("write");
    link_out(&f.root, own, &outside);
    std::fs::write(
        outside.join("lab.yaml"),
        "components:\n  - name: ran/oam/ms-alarm-relay\n    version: 0.0.1-topsecret\n",
    )
    .expect("write");
    std::os::unix::fs::symlink(
        outside.join("lab.yaml"),
        f.root.join("index/domain-ran-lab.yaml"),
    )
    .expect("symlink");

    let site = site_of(&f.root);
    for p in &site.pages {
        let text = String::from_utf8_lossy(&p.bytes).to_lowercase();
        assert!(
            !text.contains("top-secret") && !text.contains("topsecret"),
            "{} shows what a link outside the tree points to",
            p.path
        );
    }
    let export = html(&site, "c/cloud/dmp/ms-export/index.html");
    assert!(export.contains("is a symbolic link"), "{export}");
    let lab = html(&site, "stage/ran/lab.html");
    assert!(lab.contains("is a symbolic link"), "{lab}");
    let relay = html(&site, "c/ran/oam/ms-alarm-relay/index.html");
    assert!(relay.contains("is a symbolic link"), "{relay}");
}

#[test]
fn text_from_the_repository_is_escaped() {
    let f = example();
    let meta = f
        .root
        .join("components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml");
    let text = std::fs::read_to_string(&meta).expect("read").replace(
        "Exports to the data lake nightly",
        "<script>alert(1)</script> & \\\"quotes\\\"",
    );
    std::fs::write(&meta, text).expect("write");
    let own = f.root.join("components/cloud/dmp/ownership.yaml");
    let text = std::fs::read_to_string(&own).expect("read").replace(
        "https://gitlab.com/yourorg/cloud-dmp/-/pipelines",
        "javascript:alert(2)",
    );
    std::fs::write(&own, text).expect("write");
    let site = site_of(&f.root);
    let page = html(&site, "c/cloud/dmp/ms-export/index.html");
    assert!(
        !page.contains("<script>alert"),
        "raw markup from a file must never reach the page"
    );
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("href=\"javascript:"),
        "only http(s) links become links"
    );
}

/// A synthetic repository: `n` components in groups of 20 over three domains, two
/// versions each, staging running the newer and prod the older for two in three.
fn synthetic(root: &Utf8Path, n: usize) {
    let w = |rel: String, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    w(
        "berth.toml".into(),
        "[domains.cloud]\nladder = [\"staging\", \"prod\"]\n[domains.core]\nladder = [\"staging\", \"prod\"]\n[domains.ran]\nladder = [\"staging\", \"prod\"]\n",
    );
    let domains = ["cloud", "core", "ran"];
    let mut index = String::from("components:\n");
    let mut stage_files: BTreeMap<String, String> = BTreeMap::new();
    let mut names = Vec::new();
    for i in 0..n {
        let d = domains[i % 3];
        let g = format!("grp{:04}", i / 20);
        names.push((format!("{d}/{g}/ms-svc{i:05}"), d, g));
    }
    names.sort();
    for (k, (path, d, g)) in names.iter().enumerate() {
        for v in ["1.0.0", "1.1.0"] {
            let dep = if k > 0 {
                format!("\ndependencies: [\"{} >=1.0.0\"]", names[0].0)
            } else {
                String::new()
            };
            w(
                format!("components/{path}/versions/{v}/metadata.yaml"),
                &format!(
                    "architecture: amd64\ndomains: [\"{d}\"]\nenvironments: [\"staging\", \"prod\"]{dep}\ngroup: {g}\nservice_name: {}\nteam: team-{g}\nlabels:\n  tier: gold\n",
                    path.rsplit('/').next().expect("name")
                ),
            );
        }
        let _ = writeln!(index, "  - name: {path}\n    latest_version: 1.1.0");
        let row = |v: &str| format!("  - name: {path}\n    version: {v}\n");
        stage_files
            .entry(format!("index/domain-{d}-staging.yaml"))
            .or_insert_with(|| "components:\n".into())
            .push_str(&row("1.1.0"));
        if k % 3 != 0 {
            stage_files
                .entry(format!("index/domain-{d}.yaml"))
                .or_insert_with(|| "components:\n".into())
                .push_str(&row("1.0.0"));
        }
    }
    for (path, _, g) in &names {
        let group = path.rsplit_once('/').expect("group").0;
        w(
            format!("components/{group}/ownership.yaml"),
            &format!(
                "owner_team: team-{g}\nproduct_owner: a@example.com\nslack_channel: \"#{g}\"\nsource_repo: https://gitlab.example/{g}\nci_pipeline: https://gitlab.example/{g}/-/pipelines\naudit_contact: audit@example.com\n"
            ),
        );
    }
    w("index/components.yaml".into(), &index);
    for (p, text) in stage_files {
        w(p, &text);
    }
}

#[test]
fn a_synthetic_2000_component_repository_stays_paginated_and_small() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(tmp.path().join("synth")).expect("utf-8");
    synthetic(&root, 2000);
    let site = site_of(&root);
    assert_eq!(site.components, 2000);
    const MIB: usize = 1 << 20;
    for p in &site.pages {
        assert!(p.bytes.len() < MIB, "{} is {} bytes", p.path, p.bytes.len());
    }
    // 200 rows per overview page: 10 pages, each with a pager.
    assert!(site.page("overview-10.html").is_some() && site.page("overview-11.html").is_none());
    let first = html(&site, "index.html");
    assert!(
        first.contains("aria-label=\"Overview pages\"")
            && first.contains("href=\"overview-2.html\"")
    );
    assert_eq!(first.matches("<tr data-component=").count(), 200);
    // Every component has a page; staging runs 667 per domain: two stage pages each.
    assert!(
        site.page("c/cloud/grp0000/ms-svc00000/index.html")
            .is_some()
    );
    assert!(site.page("stage/cloud/staging/page-2.html").is_some());
    // Hand-written domain files: one not-promoted finding per row, split into pages.
    assert!(site.findings > 1000, "{}", site.findings);
    assert!(
        site.page("findings/rule/domain--not-promoted/page-2.html")
            .is_some()
    );
    assert!(html(&site, "findings.html").contains("too many for one page"));
    // The search index is sharded.
    assert!(site.page("search/index-0.js").is_some());
    // The shared library has 1,999 dependents: the graph draws ten and says so.
    let lib = html(
        &site,
        &format!("c/{}/index.html", "cloud/grp0000/ms-svc00000"),
    );
    assert!(
        lib.contains("and 1989 more"),
        "the graph caps its neighbours"
    );
}

#[test]
fn nested_groups_follow_their_parent_and_can_be_folded() {
    let f = example();
    let dir = f
        .root
        .join("components/cloud/dmp/analytics/ms-report/versions/1.0.0");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("metadata.yaml"),
        "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"staging\", \"prod\"]\ngroup: analytics\nservice_name: ms-report\nteam: cloud-dmp\n",
    )
    .expect("write");
    let site = site_of(&f.root);
    let overview = html(&site, "index.html");
    let parent = overview
        .find("<tbody data-group=\"cloud/dmp\">")
        .expect("parent group");
    let nested = overview
        .find("<tbody data-group=\"cloud/dmp/analytics\" data-nested=\"cloud/dmp\">")
        .expect("nested group, marked with its parent");
    let next = overview
        .find("<tbody data-group=\"core/platform\"")
        .expect("next group");
    assert!(
        parent < nested && nested < next,
        "a nested group follows its parent"
    );
    assert!(
        overview.contains("data-fold=\"cloud/dmp\""),
        "the parent offers to fold its nested group"
    );
    assert!(
        site.page("c/cloud/dmp/analytics/ms-report/index.html")
            .is_some()
    );
}
