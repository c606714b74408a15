//! Every committed scenario still produces the digest recorded in tests/fixtures/scenario-digests.txt: a
//! refactoring of the core (such as splitting the rails into modules) must not move a single byte of any
//! scenario's outputs. A model change fails here on purpose; `scripts/regenerate-reference.sh` rewrites the
//! file, and the commit says which scenarios moved and why.

use std::path::Path;

use assert_cmd::Command;

const DIGESTS: &str = "tests/fixtures/scenario-digests.txt";

/// `scenario-file digest` per line, in file-name order.
fn recorded() -> Vec<(String, String)> {
    std::fs::read_to_string(DIGESTS)
        .unwrap_or_else(|e| panic!("{DIGESTS}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (f, d) = l.split_once(' ').expect("`file digest`");
            (f.to_string(), d.trim().to_string())
        })
        .collect()
}

fn digest_of(scenario: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    Command::cargo_bin("settlesim")
        .unwrap()
        .args(["run", "--quiet", scenario, "--out"])
        .arg(&out)
        .assert()
        .success();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    manifest["digest"].as_str().expect("a digest").to_string()
}

#[test]
fn every_committed_scenario_is_listed() {
    let mut files: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    let listed: Vec<String> = recorded().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        listed, files,
        "{DIGESTS} lists every scenario in scenarios/ (scripts/regenerate-reference.sh rewrites it)"
    );
}

#[test]
fn every_committed_scenario_has_its_recorded_digest() {
    let mut moved = Vec::new();
    for (file, want) in recorded() {
        assert!(Path::new(&file).is_file(), "{file} is listed but missing");
        let got = digest_of(&file);
        if got != want {
            moved.push(format!("{file}: recorded {want}, now {got}"));
        }
    }
    assert!(
        moved.is_empty(),
        "scenario outputs moved:\n{}\nIf the model changed on purpose, run scripts/regenerate-reference.sh and \
         say in the commit which outputs changed and why.",
        moved.join("\n")
    );
}
