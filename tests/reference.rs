//! The committed reference run (results/reference/, written by scripts/regenerate-reference.sh) still comes out
//! of the model byte for byte: a model change fails here until the reference is regenerated on purpose.

use assert_cmd::Command;

#[test]
fn the_committed_reference_has_the_current_digest() {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read("results/reference/manifest.json").unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // The same arguments as scripts/regenerate-reference.sh.
    Command::cargo_bin("settlesim")
        .unwrap()
        .args([
            "run",
            "--quiet",
            "--set",
            "duration=7d",
            "--set",
            "limits.drain=7d",
            "--out",
        ])
        .arg(tmp.path())
        .assert()
        .success();
    let fresh: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        fresh["digest"], manifest["digest"],
        "the model's output changed: run scripts/regenerate-reference.sh and commit results/reference/ if intended"
    );
    for f in [
        "report/report.md",
        "report/report.html",
        "report/figures/latency-cdf.svg",
    ] {
        assert!(
            std::path::Path::new("results/reference").join(f).is_file(),
            "{f}"
        );
    }
}
