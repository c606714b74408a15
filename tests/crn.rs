//! Common random numbers in sweeps: replication r replays the same demand and component streams at every grid
//! point, so a rail the swept field does not touch gives byte-identical rows across points, and points.csv
//! carries the paired difference against the scenario's first point. `--independent` keeps separate seeds.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// The flagship, short: a sweep of Bitcoin's block interval, which only the `btc` rail uses.
fn sweep(out: &Path, extra: &[&str]) {
    Command::cargo_bin("settlesim")
        .expect("binary builds")
        .args([
            "sweep",
            "scenarios/claims.toml",
            "--set",
            "duration=1d",
            "--set",
            "limits.drain=2d",
            "--grid",
            "chains[1].block_interval=5m,10m",
            "-r",
            "3",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// runs.csv rows of `rail` (all corridors), keyed by (point, replication) → the summary fields.
fn rows(dir: &Path, rail: &str) -> Vec<(String, String, String)> {
    let text = fs::read_to_string(dir.join("runs.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (point, rep, seed, r) = (col("point"), col("replication"), col("seed"), col("rail"));
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[r] == rail).then(|| {
                (
                    format!("{}/{}", f[point], f[rep]),
                    f[seed].to_string(),
                    // Everything after the seed: the run's figures.
                    f[seed + 1..].join(","),
                )
            })
        })
        .collect()
}

#[test]
fn an_untouched_rail_repeats_exactly_across_points_and_the_swept_one_moves() {
    let tmp = tempfile::tempdir().unwrap();
    let crn = tmp.path().join("crn");
    sweep(&crn, &[]);
    let swift = rows(&crn, "swift");
    assert!(
        !swift.is_empty() && swift.len().is_multiple_of(6),
        "2 points × 3 replications × rows"
    );
    let half = swift.len() / 2;
    for (a, b) in swift[..half].iter().zip(&swift[half..]) {
        assert_eq!(a.1, b.1, "same seed for the same replication");
        assert_eq!(
            a.2, b.2,
            "swift is byte-identical across points ({} vs {})",
            a.0, b.0
        );
    }
    let btc = rows(&crn, "btc");
    let half = btc.len() / 2;
    assert!(
        btc[..half]
            .iter()
            .zip(&btc[half..])
            .any(|(a, b)| a.2 != b.2),
        "the swept chain's rail changes"
    );
    // points.csv: the untouched rail's paired difference is exactly 0, flagged as constant, not as certainty.
    let points = fs::read_to_string(crn.join("points.csv")).unwrap();
    let header: Vec<&str> = points.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row = points
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| {
            f[col("point")] == "1" && f[col("rail")] == "swift" && f[col("corridor")] == "all"
        })
        .unwrap();
    assert_eq!(row[col("latency_s_p99_diff")].parse::<f64>().unwrap(), 0.0);
    assert_eq!(row[col("latency_s_p99_diff_ci95_lo")], "");
    assert!(row[col("constant")].contains("latency_s_p99_diff"));

    let ind = tmp.path().join("independent");
    sweep(&ind, &["--independent"]);
    let swift = rows(&ind, "swift");
    let half = swift.len() / 2;
    assert!(
        swift[..half]
            .iter()
            .zip(&swift[half..])
            .all(|(a, b)| a.1 != b.1),
        "--independent: a different seed at every point"
    );
}
