//! `berth site` in a real browser: the site of a toured copy of `examples/repo` is served
//! from 127.0.0.1 and driven in headless Chromium through chromedriver. The overview
//! matrix must say what `berth deployed` says for every stage, every internal link must
//! resolve, no page may log a console error, axe-core must find no serious or critical
//! violation, search and the row filter must filter, and screenshots of every page type
//! at desktop and phone widths are kept under `target/site-screenshots/` (a CI artifact).

mod site_support;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use berth_tests::{berth, example_repo, require_tool, workspace};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value, json};
use site_support::{Driver, Session, StaticServer, http_status, read_text};

/// Where the axe-core script is (`npm install --prefix /opt/berth-test axe-core@4`).
fn axe_js() -> Utf8PathBuf {
    let p = std::env::var("BERTH_AXE_JS")
        .unwrap_or_else(|_| "/opt/berth-test/node_modules/axe-core/axe.min.js".to_owned());
    let p = Utf8PathBuf::from(p);
    assert!(
        p.is_file(),
        "axe-core is needed by this test: npm install --prefix /opt/berth-test axe-core@4 (or run .ci/setup), or set BERTH_AXE_JS to its axe.min.js"
    );
    p
}

/// Runs berth in `root` as `ci-bot`; must succeed.
fn ok(root: &Utf8Path, args: &[&str]) -> String {
    let out = berth(root)
        .env("BERTH_ACTOR", "ci-bot")
        .args(args)
        .output()
        .expect("berth runs");
    assert!(
        out.status.success(),
        "berth {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The README's tour: promotions through cloud, a rollback, a RAN lab promotion, a
/// hand-edited domain file (a finding), and a component in a group nested in cloud/dmp.
fn tour(root: &Utf8Path) {
    ok(
        root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
        ],
    );
    ok(
        root,
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
    ok(
        root,
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
    );
    ok(
        root,
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
    ok(
        root,
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
    );
    ok(
        root,
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
        ],
    );
    ok(
        root,
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
    ok(
        root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "ran",
            "--env",
            "lab",
        ],
    );
    std::fs::write(
        root.join("index/domain-core-staging.yaml"),
        "components:\n  - name: core/platform/common-utils\n    version: 1.2.0\n",
    )
    .expect("hand edit");
    let nested = root.join("components/cloud/dmp/analytics/ms-report/versions/1.0.0");
    std::fs::create_dir_all(&nested).expect("mkdir");
    std::fs::write(
        nested.join("metadata.yaml"),
        "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"staging\", \"prod\"]\ngroup: analytics\nservice_name: ms-report\nteam: cloud-dmp\n",
    )
    .expect("nested component");
}

/// Every row's cells on one overview page: (component, stage) → (data-version, shown text).
fn cells(s: &Session) -> BTreeMap<(String, String), (String, String)> {
    let v = s.exec(
        "return Array.from(document.querySelectorAll('#matrix tr[data-component]')).flatMap(function (tr) {
           return Array.from(tr.querySelectorAll('td[data-stage]')).map(function (td) {
             var v = td.querySelector('.v');
             return [tr.getAttribute('data-component'), td.getAttribute('data-stage'),
                     td.getAttribute('data-version'), v ? v.textContent.trim() : ''];
           });
         });",
        json!([]),
    );
    let mut out = BTreeMap::new();
    for row in v.as_array().expect("rows") {
        let f = |i: usize| row[i].as_str().unwrap_or_default().to_owned();
        out.insert((f(0), f(1)), (f(2), f(3)));
    }
    out
}

/// Runs axe-core on the loaded page; returns the serious and critical violations.
fn axe(s: &Session, source: &str) -> Vec<String> {
    s.exec(&format!("{source}\n;return typeof axe;"), json!([]));
    let v = s.exec_async(
        "var done = arguments[arguments.length - 1];
         axe.run(document, {resultTypes: ['violations']}).then(function (r) {
           done(r.violations.map(function (x) {
             return {id: x.id, impact: x.impact, help: x.help,
                     nodes: x.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })};
           }));
         }).catch(function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]); });",
        json!([]),
    );
    v.as_array()
        .expect("violations")
        .iter()
        .filter(|x| matches!(x["impact"].as_str(), Some("serious" | "critical")))
        .map(Value::to_string)
        .collect()
}

/// Console entries at SEVERE level.
fn console_errors(s: &Session) -> Vec<String> {
    s.logs()
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// PNG width and height from the IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG"
    );
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    (be(16), be(20))
}

#[test]
fn the_site_works_in_chromium() {
    require_tool("chromium", "chromium");
    require_tool("chromedriver", "chromium-driver");
    let axe_source = read_text(&axe_js());
    let (_g, root) = example_repo();
    tour(&root);
    let out = root.parent().expect("temp dir").join("public");
    let summary = ok(&root, &["site", "--out", out.as_str()]);
    assert!(summary.contains("6 components"), "{summary}");

    let server = StaticServer::start(&out);
    let driver = Driver::start();
    let desktop = driver.session(1280, 1100, false);
    let phone = driver.session(390, 844, true);

    // Crawl from index.html: every internal link answers 200; every page loads without
    // console errors and passes axe-core; fragment links point at ids that exist.
    let mut queue = VecDeque::from([format!("{}index.html", server.base)]);
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut fragments: Vec<(String, String, String)> = Vec::new(); // (from, page, id)
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut html_pages = Vec::new();
    let mut problems = Vec::new();
    while let Some(url) = queue.pop_front() {
        let status = http_status(&url);
        if status != 200 {
            problems.push(format!("{url}: HTTP {status}"));
            continue;
        }
        if !url.ends_with(".html") {
            continue;
        }
        html_pages.push(url.clone());
        desktop.goto(&url);
        let links = desktop.exec(
            "return {links: Array.from(document.querySelectorAll('a[href], link[href], script[src]'))
                       .map(function (e) { return e.href || e.src; }),
                     ids: Array.from(document.querySelectorAll('[id]')).map(function (e) { return e.id; })};",
            json!([]),
        );
        ids.insert(
            url.clone(),
            links["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        );
        for l in links["links"].as_array().expect("links") {
            let Some(l) = l.as_str() else { continue };
            if !l.starts_with(&server.base) {
                continue; // external (source repositories, pipelines) and data: URLs
            }
            let (page, frag) = l.split_once('#').unwrap_or((l, ""));
            if !frag.is_empty() {
                fragments.push((url.clone(), page.to_owned(), frag.to_owned()));
            }
            if seen.insert(page.to_owned()) {
                queue.push_back(page.to_owned());
            }
        }
        for e in console_errors(&desktop) {
            problems.push(format!("{url}: console error: {e}"));
        }
        for v in axe(&desktop, &axe_source) {
            problems.push(format!("{url}: axe: {v}"));
        }
    }
    for (from, page, id) in &fragments {
        if !ids.get(page).is_some_and(|s| s.contains(id)) {
            problems.push(format!("{from}: link to {page}#{id}: no such id"));
        }
    }
    let nf = server.not_found.lock().expect("lock").clone();
    assert!(nf.is_empty(), "the browser asked for missing files: {nf:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for want in [
        "index.html",
        "c/cloud/dmp/ms-ingestion/index.html",
        "stage/cloud/prod.html",
        "findings.html",
        "findings/rule/domain--not-promoted.html",
        "search.html",
    ] {
        assert!(
            html_pages.contains(&format!("{}{want}", server.base)),
            "the crawl reached {want}: {html_pages:?}"
        );
    }

    // The matrix says what `berth deployed` says, for every component and every stage.
    let repo = berth_model::Repository::open(&root).expect("open");
    let stages = berth_model::Stage::all(repo.config());
    let comps = repo.components().expect("components");
    let mut matrix = BTreeMap::new();
    for p in html_pages.iter().filter(|u| {
        let name = u.rsplit('/').next().unwrap_or_default();
        u.matches('/').count() == server.base.matches('/').count()
            && (name == "index.html" || name.starts_with("overview-"))
    }) {
        desktop.goto(p);
        matrix.extend(cells(&desktop));
    }
    assert_eq!(matrix.len(), comps.len() * stages.len(), "{matrix:?}");
    for s in &stages {
        let text = ok(
            &root,
            &[
                "deployed",
                "--domain",
                s.domain.as_str(),
                "--env",
                s.env.as_str(),
                "--format",
                "json",
            ],
        );
        let d: Value = serde_json::from_str(&text).expect("deployed JSON");
        let runs: BTreeMap<&str, &str> = d["components"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default(),
                    r["version"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        for c in &comps {
            let want = runs.get(c.as_str()).copied().unwrap_or_default();
            let (data, shown) = &matrix[&(c.to_string(), s.to_string())];
            assert_eq!((data.as_str(), shown.as_str()), (want, want), "{c} in {s}");
        }
    }

    // The row filter of the overview and the search page filter as a person types.
    desktop.goto(&format!("{}index.html", server.base));
    let visible = |s: &Session| {
        s.exec(
            "return Array.from(document.querySelectorAll('#matrix tr[data-component]'))
               .filter(function (tr) { return tr.offsetParent !== null; }).length;",
            json!([]),
        )
        .as_u64()
        .expect("count")
    };
    // The nested group starts folded; its parent's button unfolds it.
    assert_eq!(visible(&desktop), 5, "cloud/dmp/analytics starts folded");
    let expanded = |s: &Session| {
        s.exec(
            "return document.querySelector('button[data-fold=\"cloud/dmp\"]').getAttribute('aria-expanded');",
            json!([]),
        )
    };
    assert_eq!(expanded(&desktop), json!("false"));
    desktop.click("button[data-fold=\"cloud/dmp\"]");
    assert_eq!(visible(&desktop), 6, "unfolded");
    assert_eq!(expanded(&desktop), json!("true"));
    desktop.type_into("#row-filter", "ran-oam");
    assert_eq!(
        visible(&desktop),
        2,
        "the row filter keeps ran/oam's two components"
    );
    desktop.goto(&format!("{}search.html", server.base));
    let count = |s: &Session| {
        s.exec(
            "var st = document.getElementById('search-status');
             return [Number(st.getAttribute('data-count')),
                     document.querySelectorAll('#search-results li').length];",
            json!([]),
        )
    };
    assert_eq!(
        count(&desktop),
        json!([6, 6]),
        "every component before a query"
    );
    desktop.type_into("#q-name", "ingestion");
    assert_eq!(count(&desktop), json!([1, 1]));
    let first = desktop.exec(
        "return document.querySelector('#search-results a').getAttribute('href');",
        json!([]),
    );
    assert_eq!(first, json!("c/cloud/dmp/ms-ingestion/index.html"));
    desktop.type_into("#q-name", "");
    desktop.type_into("#q-team", "ran-oam");
    assert_eq!(count(&desktop), json!([2, 2]));
    desktop.type_into("#q-team", "");
    desktop.type_into("#q-label", "no-such=label");
    assert_eq!(count(&desktop), json!([0, 0]));
    assert!(console_errors(&desktop).is_empty());

    // Screenshots of each page type at desktop and phone widths.
    let shots = workspace().join("target/site-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    for (kind, page) in [
        ("overview", "index.html"),
        ("component", "c/cloud/dmp/ms-ingestion/index.html"),
        ("stage", "stage/cloud/prod.html"),
        ("findings", "findings.html"),
        ("search", "search.html?team=cloud"),
    ] {
        for (width, s) in [(1280, &desktop), (390, &phone)] {
            s.goto(&format!("{}{page}", server.base));
            let png = s.screenshot();
            let (w, h) = png_size(&png);
            assert_eq!(w, width, "{kind} at {width}: {w}x{h}");
            assert!(
                png.len() > 8_000,
                "{kind} at {width}: a nearly empty picture ({} bytes)",
                png.len()
            );
            let name = if width == 1280 { "desktop" } else { "phone" };
            std::fs::write(shots.join(format!("{kind}-{name}.png")), &png).expect("write PNG");
        }
        if kind == "overview" {
            // On a phone the matrix scrolls inside its labelled region, not the page.
            let v = phone.exec(
                "var r = document.querySelector('.table-wrap');
                 return [document.documentElement.scrollWidth <= window.innerWidth + 1,
                         r.scrollWidth > r.clientWidth, r.getAttribute('role')];",
                json!([]),
            );
            assert_eq!(
                v,
                json!([true, true, "region"]),
                "phone layout of the matrix"
            );
        }
    }
    assert!(console_errors(&phone).is_empty());
}

#[test]
fn the_command_reports_what_it_wrote_and_refuses_the_repository() {
    let (_g, root) = example_repo();
    let out = root.parent().expect("temp dir").join("site");
    let run = |args: &[&str]| {
        let o = berth(&root).args(args).output().expect("berth runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&["--format", "json", "site", "--out", out.as_str()]);
    assert_eq!(code, Some(0));
    let first: Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(first["components"], 5);
    assert_eq!(
        first["written"].as_array().map(Vec::len),
        first["pages"].as_u64().map(|n| n as usize)
    );
    let (code, stdout, _) = run(&["--format", "json", "site", "--out", out.as_str()]);
    assert_eq!(code, Some(0));
    let again: Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(
        again["written"],
        json!([]),
        "an unchanged tree rewrites nothing"
    );
    // Never into a repository.
    let (code, _, stderr) = run(&["site", "--out", root.as_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("berth.toml"), "{stderr}");
    // Nor into its tree, which only the store writes.
    let before = berth_tests::tree_digest(&root);
    let inside = root.join("index/site");
    let (code, _, stderr) = run(&["site", "--out", inside.as_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("inside the repository's index/"),
        "{stderr}"
    );
    assert_eq!(before, berth_tests::tree_digest(&root), "nothing written");
}
