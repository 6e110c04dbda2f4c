//! The map is the territory: ARCHITECTURE.md's table of which crate depends on which is
//! exactly what the Cargo.toml files say (`cargo metadata`), and no crate lists a
//! dependency its code never names.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use berth_tests::workspace;
use camino::{Utf8Path, Utf8PathBuf};

struct Package {
    name: String,
    dir: Utf8PathBuf,
    /// (dependency name, kind: "normal" | "dev" | "build")
    deps: Vec<(String, String)>,
}

fn packages() -> Vec<Package> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    m["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| Package {
            name: p["name"].as_str().expect("name").to_owned(),
            dir: Utf8Path::new(p["manifest_path"].as_str().expect("path"))
                .parent()
                .expect("dir")
                .to_owned(),
            deps: p["dependencies"]
                .as_array()
                .expect("deps")
                .iter()
                .map(|d| {
                    (
                        d["name"].as_str().expect("dep").to_owned(),
                        d["kind"].as_str().unwrap_or("normal").to_owned(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The "crate | depends on" table of ARCHITECTURE.md: crate → berth crates it depends on.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).expect("read");
    let start = text
        .find("<!-- dependency-table -->")
        .expect("ARCHITECTURE.md has a <!-- dependency-table --> section");
    let mut out = BTreeMap::new();
    for line in text[start..].lines().skip(1) {
        let line = line.trim();
        if line.is_empty() || line.starts_with("<!--") {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 2 || cells[0].starts_with("crate") || cells[0].starts_with("---") {
            continue;
        }
        let name = cells[0].trim_matches('`').to_owned();
        let deps = cells[1]
            .split(',')
            .map(|d| d.trim().trim_matches('`').to_owned())
            .filter(|d| !d.is_empty() && d != "—")
            .collect();
        out.insert(name, deps);
    }
    out
}

#[test]
fn the_documented_dependency_map_is_the_cargo_one() {
    let actual: BTreeMap<String, BTreeSet<String>> = packages()
        .into_iter()
        .filter(|p| {
            p.name.starts_with("berth-") && p.name != "berth-tests" && p.name != "berth-examples"
        })
        .map(|p| {
            let deps = p
                .deps
                .iter()
                .filter(|(d, k)| d.starts_with("berth-") && k == "normal")
                .map(|(d, _)| d.clone())
                .collect();
            (p.name, deps)
        })
        .collect();
    assert_eq!(
        documented(),
        actual,
        "ARCHITECTURE.md's dependency table must say what the Cargo.toml files say"
    );
    // Dependencies point one way: no library depends on the CLI.
    for (c, deps) in &actual {
        assert!(!deps.contains("berth-cli"), "{c} depends on berth-cli");
    }
}

/// Every source file below `dir`, concatenated.
fn sources(dir: &Utf8Path) -> String {
    let mut out = String::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let e = e.expect("entry");
        let p = Utf8PathBuf::from_path_buf(e.path()).expect("utf-8");
        let name = p.file_name().unwrap_or_default();
        if e.file_type().expect("type").is_dir() {
            if name != "target" && name != "fixtures" && name != "repo" {
                out.push_str(&sources(&p));
            }
        } else if p.extension() == Some("rs") {
            let text = std::fs::read_to_string(&p).expect("read");
            // A module included from elsewhere (`#[path = "…"] mod support;`) counts too.
            for line in text.lines() {
                if let Some(rest) = line.trim().strip_prefix("#[path = \"")
                    && let Some(rel) = rest.strip_suffix("\"]")
                    && let Some(dir) = p.parent()
                {
                    out.push_str(&std::fs::read_to_string(dir.join(rel)).unwrap_or_default());
                }
            }
            out.push_str(&text);
        }
    }
    out
}

#[test]
fn no_crate_lists_a_dependency_it_does_not_use() {
    let mut unused = Vec::new();
    for p in packages() {
        let lib = sources(&p.dir.join("src"));
        let mut all = lib.clone();
        for d in ["tests", "benches", "examples"] {
            all.push_str(&sources(&p.dir.join(d)));
        }
        all.push_str(&sources(&p.dir)); // examples crate: sources at its root
        for (dep, kind) in &p.deps {
            let ident = dep.replace('-', "_");
            let hay = if kind == "normal" { &lib } else { &all };
            // examples/ and tests/ packages keep their code outside src/.
            let hay = if p.name == "berth-examples" || p.name == "berth-tests" {
                &all
            } else {
                hay
            };
            let used = [
                format!("{ident}::"),
                format!("use {ident}"),
                format!("{ident}!"),
            ]
            .iter()
            .any(|needle| hay.contains(needle.as_str()));
            if !used {
                unused.push(format!("{} ({kind}): {dep}", p.name));
            }
        }
    }
    assert!(unused.is_empty(), "dependencies no code names: {unused:#?}");
}
