//! The embedding examples compile (cargo test builds them) and work.

use berth_tests::{example_repo, workspace};

#[test]
fn list_components_lists_the_example_repository() {
    let (_g, root) = example_repo();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "-p",
            "berth-examples",
            "--example",
            "list_components",
            "--",
        ])
        .arg(root.as_str())
        .current_dir(workspace())
        .output()
        .expect("cargo run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines.contains(&"cloud/dmp/ms-ingestion\t1.0.2,1.0.3\tcloud-dmp"),
        "{text}"
    );
    assert!(
        lines.contains(&"core/platform/common-utils\t1.2.0,1.3.0\tcore-platform"),
        "{text}"
    );
}
