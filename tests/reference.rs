//! The committed reference run (results/reference/, written by scripts/regenerate-reference.sh) still comes out
//! of the model byte for byte: a model change fails here until the reference is regenerated on purpose. The
//! failure says which files differ and which summary figures moved, so the change can be explained first.

use std::path::Path;

use assert_cmd::Command;

const REFERENCE: &str = "results/reference";

#[test]
fn the_committed_reference_has_the_current_digest() {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(REFERENCE).join("manifest.json")).unwrap())
            .unwrap();
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
    if fresh["digest"] != manifest["digest"] {
        panic!("{}", explain(&manifest, tmp.path()));
    }
    for f in [
        "report/report.md",
        "report/report.html",
        "report/figures/latency-cdf.svg",
    ] {
        assert!(Path::new(REFERENCE).join(f).is_file(), "{f}");
    }
}

/// The failure message: the files that differ from the committed ones, the summary figures that moved, and
/// what to do about it.
fn explain(manifest: &serde_json::Value, fresh: &Path) -> String {
    let mut msg = String::from(
        "the model's output no longer matches the committed reference (results/reference).\n",
    );
    let files = manifest["files"].as_array().cloned().unwrap_or_default();
    let mut differ = Vec::new();
    for f in files.iter().filter_map(|f| f.as_str()) {
        let old = std::fs::read(Path::new(REFERENCE).join(f));
        let new = std::fs::read(fresh.join(f));
        match (old, new) {
            (Ok(a), Ok(b)) if a == b => {}
            // payments.csv is not committed (too large); only the digest covers it.
            (Err(_), Ok(_)) if f == "payments.csv" => {}
            _ => differ.push(f.to_string()),
        }
    }
    msg += &format!("files that differ: {}\n", differ.join(", "));
    let moved = summary_moves(
        &std::fs::read_to_string(Path::new(REFERENCE).join("summary.csv")).unwrap_or_default(),
        &std::fs::read_to_string(fresh.join("summary.csv")).unwrap_or_default(),
    );
    if !moved.is_empty() {
        msg += "summary figures that moved (rail, corridor, column: reference → now):\n";
        for m in moved.iter().take(25) {
            msg += &format!("  {m}\n");
        }
        if moved.len() > 25 {
            msg += &format!("  … and {} more\n", moved.len() - 25);
        }
    }
    msg += "Do not regenerate yet: first make sure a behaviour test (tests/behaviour.rs, chain_rail.rs, …) \
            explains this change, i.e. fails without it and passes with it. Only then run \
            scripts/regenerate-reference.sh and commit results/reference/ on its own, in a commit whose message \
            starts with \"Reference regenerated:\" and says why.";
    msg
}

/// Every (rail, corridor, column) whose value differs between two renderings of summary.csv, or a note that a
/// row appeared or disappeared.
fn summary_moves(old: &str, new: &str) -> Vec<String> {
    let rows = |text: &str| -> (Vec<String>, Vec<Vec<String>>) {
        let mut lines = text
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
        let header = lines.next().unwrap_or_default();
        (header, lines.collect())
    };
    let ((header, a), (_, b)) = (rows(old), rows(new));
    let key = |r: &[String]| format!("{}, {}", r[0], r.get(1).map_or("", |s| s.as_str()));
    let mut out = Vec::new();
    for ra in &a {
        match b.iter().find(|rb| key(rb) == key(ra)) {
            None => out.push(format!("{}: row gone", key(ra))),
            Some(rb) => {
                for (i, col) in header.iter().enumerate().skip(2) {
                    let (x, y) = (ra.get(i), rb.get(i));
                    if x != y {
                        let s = |v: Option<&String>| v.map_or("-".to_string(), |v| v.clone());
                        out.push(format!("{}, {col}: {} → {}", key(ra), s(x), s(y)));
                    }
                }
            }
        }
    }
    for rb in b.iter().filter(|rb| !a.iter().any(|ra| key(ra) == key(rb))) {
        out.push(format!("{}: new row", key(rb)));
    }
    out
}

#[test]
fn summary_moves_names_the_figures_that_changed() {
    let old = "rail,corridor,payments,latency_s_p50\nswift,USD-MXN,10,5.0\nusdt,all,3,1.0\n";
    let new = "rail,corridor,payments,latency_s_p50\nswift,USD-MXN,10,6.0\nbtc,all,3,1.0\n";
    assert_eq!(
        summary_moves(old, new),
        [
            "swift, USD-MXN, latency_s_p50: 5.0 → 6.0",
            "usdt, all: row gone",
            "btc, all: new row"
        ]
    );
}
