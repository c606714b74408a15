//! Chain figures from a sweep: the stale (orphan) block rate against the measured mean block interval, one line
//! per chain, with 95% confidence intervals over replications.

use super::data::Table;
use super::labels::field_value;
use super::sweep::{BandFigure, BandLine, BandPoint, YAxis, grid_axes};

/// Stale rate against the mean block interval of each chain row of points.csv, one line per chain and value of
/// the other grid axes (a block-capacity axis gives one line per capacity, never a zig-zag through them); chains
/// that never produced a stale block are left out, and the figure's notes say so.
pub fn stale_rate(points: &Table) -> Option<BandFigure> {
    let others: Vec<String> = grid_axes(points)
        .into_iter()
        .filter(|a| !a.ends_with("block_interval"))
        .collect();
    let mut lines: Vec<BandLine> = Vec::new();
    let mut rails: Vec<String> = Vec::new();
    let mut rests: Vec<String> = Vec::new();
    for r in points
        .rows
        .iter()
        .filter(|r| points.text(r, "corridor") == "chain")
    {
        let (Some(x), Some(mean)) = (
            points.num(r, "block_interval_s_mean"),
            points.num(r, "stale_rate_mean"),
        ) else {
            continue;
        };
        let chain = points.text(r, "rail").to_string();
        let rest = others
            .iter()
            .map(|a| field_value(a, points.text(r, a)))
            .collect::<Vec<_>>()
            .join(", ");
        if !rests.contains(&rest) {
            rests.push(rest.clone());
        }
        let label = if rest.is_empty() {
            chain.clone()
        } else {
            format!("{chain} ({rest})")
        };
        let p = BandPoint {
            x,
            mean,
            lo: points.num(r, "stale_rate_ci95_lo"),
            hi: points.num(r, "stale_rate_ci95_hi"),
        };
        // The colour follows the rail (the part after '@'), as in every other figure.
        let rail = chain.rsplit('@').next().unwrap_or("").to_string();
        if !rails.contains(&rail) {
            rails.push(rail.clone());
        }
        match lines.iter_mut().find(|l| l.label == label) {
            Some(l) => l.points.push(p),
            None => lines.push(BandLine {
                label,
                colour: 0,
                marker: rests.iter().position(|x| *x == rest).unwrap_or(0),
                points: vec![p],
                failed: Vec::new(),
            }),
        }
    }
    let zero: Vec<String> = lines
        .iter()
        .filter(|l| l.points.iter().all(|p| p.mean <= 0.0))
        .map(|l| l.label.clone())
        .collect();
    lines.retain(|l| l.points.iter().any(|p| p.mean > 0.0));
    if lines.is_empty() {
        return None;
    }
    for l in &mut lines {
        l.points.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    Some(BandFigure {
        name: "chain-stale-rate".into(),
        title: "Stale block rate against block interval".into(),
        subtitle: "mean over replications with 95% intervals; x is the measured mean interval".into(),
        caption: "Share of produced blocks that ended off the canonical chain, against the chain's measured mean \
block interval: shorter intervals leave less time for propagation and fork more."
            .into(),
        x_desc: "mean block interval (s)".into(),
        x_log: false,
        y_desc: "stale blocks (% of produced)".into(),
        y_axis: YAxis::Percent,
        lines,
        notes: if zero.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "Not drawn: {} (no stale block at any point).",
                zero.join("; ")
            )]
        },
    })
}

/// Gives chain lines the colour of their rail, by the rail order of the rails' rows.
pub fn colour_by_rail(fig: &mut BandFigure, rails: &[String]) {
    for l in &mut fig.lines {
        let chain = l.label.split(' ').next().unwrap_or("");
        let rail = chain.rsplit('@').next().unwrap_or("");
        l.colour = rails.iter().position(|r| r == rail).unwrap_or(0);
    }
}
