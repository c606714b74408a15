//! Rails side by side by corridor: for each corridor, one row per rail with a bar from its median to its p99
//! end-to-end latency on a log time axis (the scorecard: who is fast at the median, who has the long tail), from
//! summary.csv's corridor rows.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{Ticked, log_time_range, log_time_ticks, time_label};
use super::data::Table;
use super::style::{self, Style, rail_colour};
use super::waterfall::label_area_css;
use super::{DrawResult, Figure, LegendMark, de, fit_ticks, legend_row, marker, titled};

/// One rail on one corridor: p50 and p99 in seconds (None when nothing settled).
#[derive(Clone, Debug, PartialEq)]
pub struct Bell {
    pub corridor: String,
    pub rail: String,
    pub colour: usize,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Dumbbell {
    pub bells: Vec<Bell>,
    /// The rail the others are compared with in the message title (the first rail without a chain).
    pub baseline: Option<String>,
}

/// The corridor rows of summary.csv (not `all`), corridors in file order, rails in `rails` order within each.
pub fn bells(summary: &Table, rails: &[String]) -> Vec<Bell> {
    let mut corridors: Vec<String> = Vec::new();
    for r in &summary.rows {
        let c = summary.text(r, "corridor");
        if c != "all" && !corridors.iter().any(|x| x == c) {
            corridors.push(c.to_string());
        }
    }
    let mut out = Vec::new();
    for c in &corridors {
        for (i, rail) in rails.iter().enumerate() {
            if let Some(r) = summary
                .filter("corridor", c)
                .find(|r| summary.text(r, "rail") == rail)
            {
                out.push(Bell {
                    corridor: c.clone(),
                    rail: rail.clone(),
                    colour: i,
                    p50: summary.num(r, "latency_s_p50"),
                    p99: summary.num(r, "latency_s_p99"),
                });
            }
        }
    }
    out
}

impl Figure for Dumbbell {
    fn name(&self) -> String {
        "corridor-scorecard".into()
    }
    fn caption(&self) -> String {
        "End-to-end latency per corridor and rail: the dot is the median, the bar runs to the p99 (log time axis)."
            .into()
    }
    fn message(&self) -> Option<String> {
        let base = self.baseline.as_deref()?;
        let d = crate::units::human_duration_s;
        let base_p50 = |corridor: &str| {
            self.bells
                .iter()
                .find(|b| b.corridor == corridor && b.rail == base)
                .and_then(|b| b.p50)
        };
        // Each rail on each corridor against the baseline there: the ratio of medians.
        let ratios: Vec<(&Bell, f64, f64)> = self
            .bells
            .iter()
            .filter(|b| b.rail != base)
            .filter_map(|b| {
                let (mine, theirs) = (b.p50?, base_p50(&b.corridor)?);
                (theirs > 0.0).then_some((b, mine / theirs, theirs))
            })
            .collect();
        let slowest = ratios.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let fastest = ratios.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
        let corridor = |c: &str| c.replace('-', "→");
        let mut m = if slowest.1 > 1.0 {
            format!(
                "{} settles {} slower than {} at the median ({} against {})",
                slowest.0.rail,
                corridor(&slowest.0.corridor),
                base,
                d(slowest.0.p50?),
                d(slowest.2)
            )
        } else {
            format!("Every rail is at least as fast as {base} at the median on every corridor")
        };
        if fastest.1 < 1.0 {
            m.push_str(&format!(
                "; {} beats it most on {} ({} against {})",
                fastest.0.rail,
                corridor(&fastest.0.corridor),
                d(fastest.0.p50?),
                d(fastest.2)
            ));
        }
        Some(m)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(
            area,
            "Rails side by side by corridor: median to p99 end-to-end latency",
            "dot: p50, bar end: p99, of settled payments; rows grouped by corridor",
            s,
        )?;
        let legend = vec![
            (
                "p50".to_string(),
                style::REFERENCE,
                LegendMark::Series { marker: 0, dash: 0 },
            ),
            (
                "p99".to_string(),
                style::REFERENCE,
                LegendMark::Series { marker: 2, dash: 0 },
            ),
        ];
        let area = legend_row(&area, &legend, s)?;
        let values = || self.bells.iter().flat_map(|b| [b.p50, b.p99]).flatten();
        let min = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        let max = values().fold(0.0, f64::max);
        // A margin on each side, so a median at a whole tick (10.1 min on a 10 min axis edge) is not cut in half.
        let (lo, hi) = log_time_range(min / 1.6, max * 1.3);
        let (aw, _) = area.dim_in_pixel();
        let ticks = fit_ticks(
            &area,
            log_time_ticks(lo, hi),
            (lo, hi),
            aw.saturating_sub(s.px(186.0)),
            &time_label,
            s,
        );
        let n = self.bells.len().max(1);
        let labels: Vec<String> = self
            .bells
            .iter()
            .map(|b| format!("{} · {}", b.corridor, b.rail))
            .collect();
        let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            .margin_right(s.px(24.0))
            .margin_top(s.px(8.0))
            .x_label_area_size(s.px(44.0))
            .y_label_area_size(s.px(label_area_css(&labels)))
            .build_cartesian_2d(
                Ticked::new(lo..hi, ticks),
                // Row i sits at y = n − 1 − i, so the first row is at the top.
                Ticked::new(-0.5..n as f64 - 0.5, keys),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("time from initiation to credit of the beneficiary (log scale)")
            .x_label_formatter(&|v| time_label(*v))
            .y_label_formatter(&|v| {
                let k = v.round().max(0.0) as usize;
                labels
                    .get(n.saturating_sub(1).saturating_sub(k))
                    .cloned()
                    .unwrap_or_default()
            })
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        let to_x = |v: f64| v.max(1e-3).log10().clamp(lo, hi);
        for (i, b) in self.bells.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let c = rail_colour(b.colour);
            match (b.p50, b.p99) {
                (Some(p50), Some(p99)) => {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(to_x(p50), y), (to_x(p99), y)],
                            s.line(c).stroke_width(s.px(3.0)),
                        )))
                        .map_err(de)?;
                    chart
                        .draw_series([
                            marker((to_x(p50), y), 0, c, true, s),
                            marker((to_x(p99), y), 2, c, true, s),
                        ])
                        .map_err(de)?;
                }
                _ => {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            "nothing settled",
                            (lo, y),
                            s.note().pos(Pos::new(HPos::Left, VPos::Center)),
                        )))
                        .map_err(de)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bell_per_corridor_and_rail_without_the_all_rows() {
        let t = Table::parse(
            b"rail,corridor,latency_s_p50,latency_s_p99\na,X,10,100\na,all,10,100\nb,X,20,\nb,all,20,\n",
        )
        .unwrap();
        let b = bells(&t, &["a".into(), "b".into()]);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].p50, b[0].p99), (Some(10.0), Some(100.0)));
        assert_eq!((b[1].rail.as_str(), b[1].colour, b[1].p99), ("b", 1, None));
    }
}
