//! The paired difference of each rail against a baseline rail, payment by payment: in mirror mode every demand
//! payment is replayed on every rail, so joining payments.csv on `demand_id` gives, for the same payment, the
//! rail's end-to-end latency minus the baseline's. The figure is the distribution of that difference (a CDF on a
//! symmetric log time axis): left of zero the rail was faster, and the curve's height at zero is the share of
//! payments on which the baseline was at least as fast.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::data::Table;
use super::style::{self, REFERENCE, Style, rail_colour};
use super::{
    DrawResult, Figure, LegendMark, de, fit_ticks, legend_row, marker, noted, styled_line, titled,
};
use crate::units::human_duration_s;

/// Points kept per curve: the difference at each of this many evenly spaced shares.
const CURVE_POINTS: usize = 400;

/// One rail against the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedRail {
    pub rail: String,
    pub colour: usize,
    /// Pairs in which both the rail and the baseline settled the demand payment.
    pub pairs: usize,
    /// Demand payments of the rail without a pair (one side not settled): left out and counted in a note.
    pub unpaired: usize,
    /// Share of pairs on which the rail was strictly faster.
    pub faster: f64,
    /// Median difference (rail − baseline), seconds.
    pub median_s: f64,
    /// (difference in seconds, cumulative share), at most `CURVE_POINTS` + 1 points.
    pub curve: Vec<(f64, f64)>,
}

#[derive(Clone, Debug)]
pub struct PairedDiff {
    pub baseline: String,
    pub rails: Vec<PairedRail>,
}

/// Settled, non-duplicate latencies of `rail` by demand id.
fn settled_by_demand(payments: &Table, rail: &str) -> (BTreeMap<u64, f64>, usize) {
    let mut map = BTreeMap::new();
    let mut demand = 0;
    for r in payments.filter("rail", rail) {
        if payments.text(r, "duplicate") == "true" {
            continue;
        }
        demand += 1;
        if payments.text(r, "status") != "settled" {
            continue;
        }
        if let (Some(id), Some(l)) = (
            payments.text(r, "demand_id").parse::<u64>().ok(),
            payments.num(r, "latency_s"),
        ) {
            map.insert(id, l);
        }
    }
    (map, demand)
}

/// Each rail of `rails` other than `baseline` (in order; `colour` its position) against the baseline. A rail with
/// no pair (not a mirror-mode run) is left out.
pub fn paired(payments: &Table, rails: &[String], baseline: &str) -> PairedDiff {
    let (base, _) = settled_by_demand(payments, baseline);
    let mut out = Vec::new();
    for (colour, rail) in rails.iter().enumerate() {
        if rail == baseline {
            continue;
        }
        let (mine, demand) = settled_by_demand(payments, rail);
        let mut diffs: Vec<f64> = mine
            .iter()
            .filter_map(|(id, l)| base.get(id).map(|b| l - b))
            .collect();
        if diffs.is_empty() {
            continue;
        }
        diffs.sort_by(f64::total_cmp);
        let n = diffs.len();
        let at = |q: f64| diffs[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        let curve = (0..=CURVE_POINTS)
            .map(|k| {
                let q = k as f64 / CURVE_POINTS as f64;
                (at(q.max(1.0 / n as f64)), q)
            })
            .collect();
        out.push(PairedRail {
            rail: rail.clone(),
            colour,
            pairs: n,
            unpaired: demand.saturating_sub(n),
            faster: diffs.iter().filter(|d| **d < 0.0).count() as f64 / n as f64,
            median_s: at(0.5),
            curve,
        });
    }
    PairedDiff {
        baseline: baseline.to_string(),
        rails: out,
    }
}

/// The symmetric log of a difference in seconds: sign × log10(1 + |d| / 1 min), linear within a minute of zero
/// (where no two rails differ meaningfully), logarithmic beyond.
pub fn symlog(d: f64) -> f64 {
    d.signum() * (1.0 + d.abs() / 60.0).log10()
}

const DIFF_TICKS: [(f64, &str); 7] = [
    (0.0, "0"),
    (600.0, "10 min"),
    (3600.0, "1 h"),
    (6.0 * 3600.0, "6 h"),
    (86_400.0, "1 day"),
    (7.0 * 86_400.0, "1 week"),
    (28.0 * 86_400.0, "4 weeks"),
];

/// A signed difference in words: "35.2min sooner", "2.0h later", "the same".
pub fn sooner_later(d: f64) -> String {
    if d < 0.0 {
        format!("{} sooner", human_duration_s(-d))
    } else if d > 0.0 {
        format!("{} later", human_duration_s(d))
    } else {
        "the same time".into()
    }
}

impl Figure for PairedDiff {
    fn name(&self) -> String {
        "paired-difference".into()
    }
    fn caption(&self) -> String {
        format!(
            "For the same demand payment replayed on each rail (joined on demand_id), the rail's end-to-end \
latency minus {}'s, as a cumulative distribution on a symmetric log time axis; left of zero the rail was faster. \
Only payments settled on both rails are paired.",
            self.baseline
        )
    }
    fn message(&self) -> Option<String> {
        let best = self
            .rails
            .iter()
            .max_by(|a, b| a.faster.total_cmp(&b.faster))?;
        let others: Vec<String> = self
            .rails
            .iter()
            .filter(|r| r.rail != best.rail)
            .map(|r| format!("{} {:.0}%", r.rail, r.faster * 100.0))
            .collect();
        let mut m = if best.faster >= 0.5 {
            format!(
                "Payment by payment, {} beats {} on {:.0}% of the same payments (median {})",
                best.rail,
                self.baseline,
                best.faster * 100.0,
                sooner_later(best.median_s)
            )
        } else {
            format!(
                "Payment by payment, {} is at least as fast on most payments: the best rail, {}, is faster on \
only {:.0}% (median {})",
                self.baseline,
                best.rail,
                best.faster * 100.0,
                sooner_later(best.median_s)
            )
        };
        if !others.is_empty() {
            m.push_str(&format!("; faster share: {}", others.join(", ")));
        }
        Some(m)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(
            area,
            &format!("Each rail against {}, payment by payment", self.baseline),
            &format!(
                "latency on the rail minus latency on {} for the same demand payment; left of 0: the rail was faster",
                self.baseline
            ),
            s,
        )?;
        let legend: Vec<_> = self
            .rails
            .iter()
            .map(|r| {
                (
                    format!(
                        "{}: faster on {:.0}% of {}",
                        r.rail,
                        r.faster * 100.0,
                        r.pairs
                    ),
                    rail_colour(r.colour),
                    LegendMark::Series {
                        marker: r.colour,
                        dash: r.colour,
                    },
                )
            })
            .collect();
        let area = legend_row(&area, &legend, s)?;
        let unpaired: Vec<String> = self
            .rails
            .iter()
            .filter(|r| r.unpaired > 0)
            .map(|r| format!("{} {}", r.rail, r.unpaired))
            .collect();
        let notes = if unpaired.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "Not paired (not settled on the rail or on {}): {}.",
                self.baseline,
                unpaired.join(", ")
            )]
        };
        let area = noted(&area, &notes, s)?;
        let ends = self
            .rails
            .iter()
            .flat_map(|r| r.curve.iter().map(|p| symlog(p.0)));
        let (lo, hi) = ends.fold((0.0_f64, 0.0_f64), |(a, b), x| (a.min(x), b.max(x)));
        let (lo, hi) = ((lo - 0.2).min(-1.0), (hi + 0.2).max(1.0));
        let ticks: Vec<f64> = DIFF_TICKS
            .iter()
            .flat_map(|(t, _)| [symlog(-t), symlog(*t)])
            .filter(|v| *v >= lo && *v <= hi)
            .collect();
        let mut ticks = ticks;
        ticks.sort_by(f64::total_cmp);
        ticks.dedup();
        let label = |v: f64| {
            let (t, label) = DIFF_TICKS
                .iter()
                .min_by(|a, b| {
                    (symlog(a.0) - v.abs())
                        .abs()
                        .total_cmp(&(symlog(b.0) - v.abs()).abs())
                })
                .copied()
                .unwrap_or((0.0, "0"));
            if t == 0.0 {
                label.to_string()
            } else if v < 0.0 {
                format!("−{label}")
            } else {
                format!("+{label}")
            }
        };
        let (aw, _) = area.dim_in_pixel();
        let ticks = fit_ticks(
            &area,
            ticks,
            (lo, hi),
            aw.saturating_sub(s.px(110.0)),
            &label,
            s,
        );
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            .margin_right(s.px(28.0))
            .margin_top(s.px(10.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(70.0))
            .build_cartesian_2d(
                Ticked::new(lo..hi, ticks),
                Ticked::new(0.0..1.0, Vec::new()),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "latency difference, rail − {} (symmetric log scale)",
                self.baseline
            ))
            .y_desc("paired payments (%)")
            .x_label_formatter(&|v| label(*v))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .y_labels(if s.compact() { 6 } else { 11 })
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (0.0, 1.0)],
                s.thin(REFERENCE).stroke_width(s.px(1.5).max(1)),
            )))
            .map_err(de)?;
        for (text, x, anchor) in [
            ("← rail faster", -0.1, HPos::Right),
            (&*format!("{} faster →", self.baseline), 0.1, HPos::Left),
        ] {
            chart
                .draw_series(std::iter::once(Text::new(
                    text.to_string(),
                    (x, 0.97),
                    s.note().pos(Pos::new(anchor, VPos::Top)),
                )))
                .map_err(de)?;
        }
        for r in self.rails.iter() {
            let c = rail_colour(r.colour);
            let pts: Vec<(f64, f64)> = r.curve.iter().map(|(d, q)| (symlog(*d), *q)).collect();
            styled_line(&mut chart, pts, r.colour, s.line(c), s)?;
            chart
                .draw_series(std::iter::once(marker(
                    (symlog(r.median_s), 0.5),
                    r.colour,
                    c,
                    true,
                    s,
                )))
                .map_err(de)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_join_on_demand_id_and_skip_duplicates_and_unsettled() {
        let t = Table::parse(
            b"demand_id,rail,status,duplicate,latency_s\n\
1,base,settled,false,100\n2,base,settled,false,100\n3,base,failed,false,\n4,base,settled,false,50\n\
1,r,settled,false,40\n2,r,settled,false,160\n3,r,settled,false,10\n4,r,settled,false,50\n4,r,returned,true,1\n",
        )
        .unwrap();
        let p = paired(&t, &["base".into(), "r".into()], "base");
        assert_eq!(p.rails.len(), 1);
        let r = &p.rails[0];
        assert_eq!((r.pairs, r.unpaired, r.colour), (3, 1, 1));
        // Differences −60, 0, +60: faster on one of three; the median is 0.
        assert!((r.faster - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.median_s, 0.0);
        assert_eq!(r.curve.first().unwrap().0, -60.0);
        assert_eq!(r.curve.last().unwrap(), &(60.0, 1.0));
        assert_eq!(
            p.message().unwrap(),
            "Payment by payment, base is at least as fast on most payments: the best rail, r, is faster on only \
33% (median the same time)"
        );
    }

    #[test]
    fn symlog_is_odd_and_logarithmic() {
        assert_eq!(symlog(0.0), 0.0);
        assert_eq!(symlog(-5940.0), -2.0);
        assert!((symlog(59_940.0) - 3.0).abs() < 1e-12);
    }
}
