//! `settlesim report` on a sweep directory: each headline metric per grid point and rail as its mean over the
//! replications with the 95% confidence interval (points.csv), then the sweep's figures. A scenario swept with no
//! grid and `--replications N` gives one point: the way to quote a run's numbers with their uncertainty.

use crate::app::AppError;
use crate::app::chart::Loaded;
use crate::app::report::{Block, Grid};
use crate::chart::data::Table;
use crate::chart::labels::field_label;
use crate::chart::sweep::grid_axes;
use crate::output::verify::ResultDir;
use crate::units::human_duration_s;

/// The command line of the sweep, from its manifest's definition.
pub fn provenance(loaded: &Loaded) -> String {
    let def = &loaded.manifest["definition"];
    let mut cmd = "settlesim sweep".to_string();
    for s in def["scenarios"].as_array().into_iter().flatten() {
        cmd.push_str(&format!(" {}", s["name"].as_str().unwrap_or("")));
    }
    for s in def["set"].as_array().into_iter().flatten() {
        cmd.push_str(&format!(" --set {}", s.as_str().unwrap_or("")));
    }
    for g in def["grid"].as_array().into_iter().flatten() {
        let values: Vec<&str> = g["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        cmd.push_str(&format!(
            " --grid '{}={}'",
            g["path"].as_str().unwrap_or(""),
            values.join(",")
        ));
    }
    cmd.push_str(&format!(
        " --replications {} --seed {}",
        def["replications"], def["seed"]
    ));
    let p = &loaded.provenance;
    format!(
        "Provenance: `{cmd}` · scenarios {} sha256 {} · settlesim {} · results digest {}",
        p.scenario, p.scenario_sha256, p.version, p.digest
    )
}

/// "mean [lo – hi]" of a metric, written by `f`; the interval is left out with one replication.
fn with_interval(t: &Table, r: &[String], metric: &str, f: &dyn Fn(f64) -> String) -> String {
    let Some(mean) = t.num(r, &format!("{metric}_mean")) else {
        return "no value (nothing settled)".into();
    };
    match (
        t.num(r, &format!("{metric}_ci95_lo")),
        t.num(r, &format!("{metric}_ci95_hi")),
    ) {
        (Some(lo), Some(hi)) => format!("{} [{} – {}]", f(mean), f(lo.max(0.0)), f(hi)),
        _ => f(mean),
    }
}

/// The headline table of a sweep: one row per grid point and rail (all corridors).
pub(crate) fn headline(points: &Table) -> Grid {
    let axes = grid_axes(points);
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(axes.iter().map(|a| field_label(a)));
    header.extend(
        [
            "rail",
            "replications",
            "settled",
            "p50",
            "p99",
            "within 1 h",
            "cost, per-payment mean (bps)",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let dur = |v: f64| human_duration_s(v);
    let pct = |v: f64| format!("{v:.1}%");
    let bps = |v: f64| format!("{v:.0}");
    let rows = points
        .rows
        .iter()
        .filter(|r| points.text(r, "corridor") == "all")
        .map(|r| {
            let mut row = vec![points.text(r, "point").to_string()];
            row.extend(axes.iter().map(|a| points.text(r, a).to_string()));
            row.push(points.text(r, "rail").to_string());
            row.push(points.text(r, "replications").to_string());
            row.push(with_interval(points, r, "settled_pct", &pct));
            row.push(with_interval(points, r, "latency_s_p50", &dur));
            row.push(with_interval(points, r, "latency_s_p99", &dur));
            row.push(with_interval(points, r, "within_1h_pct", &pct));
            row.push(with_interval(points, r, "cost_bps_mean", &bps));
            row
        })
        .collect();
    Grid { header, rows }
}

pub(crate) fn blocks(
    dir: &ResultDir,
    loaded: &Loaded,
    render: &crate::app::chart::Render,
) -> Result<Vec<Block>, AppError> {
    let points = Table::parse(&dir.read("points.csv").map_err(AppError::Usage)?)
        .map_err(|e| AppError::Usage(format!("{}: points.csv: {e}", dir.display())))?;
    let def = &loaded.manifest["definition"];
    let mut b = vec![
        Block::Heading("What the sweep ran".into()),
        Block::Para(format!(
            "**{}**: {} grid point(s) × {} replications, each replication with its own derived seed. Every \
number is the mean over the replications with its 95% confidence interval in brackets (Student t); every figure \
is read from the sweep's result files; nothing is re-simulated.",
            loaded.provenance.scenario,
            points
                .rows
                .iter()
                .map(|r| points.text(r, "point"))
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            def["replications"],
        )),
        Block::Provenance,
        Block::Heading("Headline per grid point and rail (all corridors)".into()),
        Block::Table(headline(&points)),
        Block::Para(
            "\"no value\": no payment settled at that point in some replication (saturated or failed), so the \
metric is undefined there rather than averaged over the replications that had one."
                .into(),
        ),
        Block::Heading("Figures".into()),
    ];
    let footer = loaded.provenance.footer();
    b.extend(crate::app::report::figure_blocks(
        loaded,
        &footer,
        &loaded.figures,
        render,
    )?);
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_headline_carries_its_interval() {
        let t = Table::parse(
            b"point,scenario,load,rail,corridor,replications,settled_pct_mean,settled_pct_ci95_lo,settled_pct_ci95_hi,\
latency_s_p50_mean,latency_s_p50_ci95_lo,latency_s_p50_ci95_hi\n\
0,s,10,a,all,5,99.5,99.0,100.0,3600,3000,4200\n0,s,10,a,X,5,1,1,1,1,1,1\n1,s,20,a,all,5,0,0,0,,,\n",
        )
        .unwrap();
        let g = headline(&t);
        assert_eq!(g.rows.len(), 2);
        assert_eq!(g.header[1], "load");
        assert_eq!(g.rows[0][4], "99.5% [99.0% – 100.0%]");
        assert_eq!(g.rows[0][5], "1.0h [50.0min – 1.2h]");
        assert_eq!(g.rows[1][5], "no value (nothing settled)");
    }
}
