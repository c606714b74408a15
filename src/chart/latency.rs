//! Latency CDF per rail on a logarithmic time axis, with marks at 1 minute, 1 hour and 1 day and the G20 2027
//! speed target (75% of payments credited within 1 hour) as a shaded target zone.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Ticked;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{log_time_range, log_time_ticks, time_label};
use super::style::{self, REFERENCE, Style, rail_colour};
use super::{
    DrawResult, Figure, LegendMark, de, fit_ticks, legend_row, marker, noted, styled_line, titled,
};

/// One rail's curve: (seconds, share of all payments settled within).
#[derive(Clone, Debug)]
pub struct RailCdf {
    pub rail: String,
    pub colour: usize,
    pub points: Vec<(f64, f64)>,
}

#[derive(Clone, Debug)]
pub struct LatencyCdf {
    pub rails: Vec<RailCdf>,
    /// What the curves are of (e.g. "all corridors").
    pub subtitle: String,
    /// End to end (with the G20 target zone), or the chain step only (broadcast to the receiver's credit).
    pub chain_step: bool,
}

const G20_SHARE: f64 = 0.75;
const HOUR_S: f64 = 3600.0;

impl Figure for LatencyCdf {
    fn name(&self) -> String {
        if self.chain_step {
            "chain-credit-cdf".into()
        } else {
            "latency-cdf".into()
        }
    }
    fn caption(&self) -> String {
        if self.chain_step {
            return "Time from broadcast to the receiving platform crediting the deposit (its confirmations or \
finality), per chain rail (log time axis)."
                .into();
        }
        "Share of payments credited within a given time, per rail (log time axis). The shaded corner is the G20 \
2027 target: a curve passing through it credits at least 75% within 1 hour."
            .into()
    }
    fn message(&self) -> Option<String> {
        let medians: Vec<(&str, f64)> = self
            .rails
            .iter()
            .filter_map(|r| Some((r.rail.as_str(), quantile(&r.points, 0.5)?)))
            .collect();
        let fast = medians.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
        let slow = medians.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let d = crate::units::human_duration_s;
        if self.chain_step {
            return Some(format!(
                "On chain, {} credits half its transfers within {} of broadcast, {} within {}",
                fast.0,
                d(fast.1),
                slow.0,
                d(slow.1)
            ));
        }
        // The share each rail credits within the G20's hour, from the step function.
        let within_hour = |r: &RailCdf| {
            r.points
                .iter()
                .take_while(|p| p.0 <= HOUR_S)
                .last()
                .map_or(0.0, |p| p.1)
        };
        let meeting: Vec<&str> = self
            .rails
            .iter()
            .filter(|r| within_hour(r) >= G20_SHARE)
            .map(|r| r.rail.as_str())
            .collect();
        let best_hour = self
            .rails
            .iter()
            .map(|r| (r.rail.as_str(), within_hour(r)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        let g20 = if meeting.is_empty() {
            format!(
                "no rail meets the G20's 75% within 1 h (best: {} {:.0}%)",
                best_hour.0,
                best_hour.1 * 100.0
            )
        } else {
            format!("{} meet the G20's 75% within 1 h", meeting.join(", "))
        };
        Some(format!(
            "{} credits half its payments within {}, {} takes {}; {g20}",
            fast.0,
            d(fast.1),
            slow.0,
            d(slow.1)
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let title = if self.chain_step {
            "On-chain step: share of transfers credited by the receiver within t of broadcast"
        } else {
            "End-to-end latency: share of payments credited within t"
        };
        let area = titled(area, title, &self.subtitle, s)?;
        let mut legend: Vec<_> = self
            .rails
            .iter()
            .enumerate()
            .map(|(k, r)| {
                (
                    r.rail.clone(),
                    rail_colour(r.colour),
                    LegendMark::Series { marker: k, dash: k },
                )
            })
            .collect();
        if !self.chain_step {
            legend.push((
                "G20 2027 target zone: ≥ 75% within 1 h".into(),
                G20_FILL,
                LegendMark::Box,
            ));
        }
        let area = legend_row(&area, &legend, s)?;
        let area = noted(&area, &self.notes(), s)?;
        let max_s = self
            .rails
            .iter()
            .filter_map(|r| r.points.last().map(|p| p.0))
            .fold(0.0, f64::max);
        // The smallest positive time: sub-second credits (a fast chain, zero-conf) must be on the axis, not
        // piled on its left edge.
        let min_s = self
            .rails
            .iter()
            .flat_map(|r| r.points.iter().map(|p| p.0).filter(|t| *t > 0.0))
            .fold(f64::INFINITY, f64::min);
        let (lo, hi) = if self.chain_step {
            log_time_range(min_s, max_s.max(min_s * 10.0))
        } else {
            log_time_range(min_s.min(1.0), max_s.max(86_400.0))
        };
        let (aw, _) = area.dim_in_pixel();
        let ticks = fit_ticks(
            &area,
            log_time_ticks(lo, hi),
            (lo, hi),
            aw.saturating_sub(s.px(110.0)),
            &time_label,
            s,
        );
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            // Room for half of the last tick label ("4 weeks") right of the axis end.
            .margin_right(s.px(36.0))
            .margin_top(s.px(18.0))
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
            .x_desc(if self.chain_step {
                "broadcast to the receiver's credit (log scale)"
            } else {
                "time to the beneficiary's credit (log scale)"
            })
            .y_desc(if self.chain_step {
                "transfers credited (% of chain transfers)"
            } else {
                "payments credited (% of all)"
            })
            .x_label_formatter(&|v| time_label(*v))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .y_labels(if s.compact() { 6 } else { 11 })
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        let hour = HOUR_S.log10();
        if !self.chain_step {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, G20_SHARE), (hour, 1.0)],
                    G20_FILL.filled(),
                )))
                .map_err(de)?;
        }
        for (secs, label) in [(60.0, "1 min"), (HOUR_S, "1 h"), (86_400.0, "1 day")] {
            let x = f64::log10(secs);
            if x <= lo || x >= hi {
                continue;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, 0.0), (x, 1.0)],
                    s.px(5.0),
                    s.px(4.0),
                    s.thin(REFERENCE),
                ))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    label.to_string(),
                    (x + 0.012 * (hi - lo), 0.02),
                    s.note().pos(Pos::new(HPos::Left, VPos::Bottom)),
                )))
                .map_err(de)?;
        }
        let n = self.rails.len();
        for (k, r) in self.rails.iter().enumerate() {
            let c = rail_colour(r.colour);
            // Each rail in its own dash and a little thinner than the one before, so coinciding curves stay
            // visible on top of each other.
            let width = s.px(2.6 - 1.4 * k as f64 / n.max(2) as f64).max(1);
            styled_line(
                &mut chart,
                steps(&r.points, lo, hi),
                k,
                s.line(c).stroke_width(width),
                s,
            )?;
            let pts = steps(&r.points, lo, hi);
            if let Some(at) = pts.iter().rev().find(|p| p.0 < hi - 0.02 * (hi - lo)) {
                chart
                    .draw_series(std::iter::once(marker(*at, k, c, true, s)))
                    .map_err(de)?;
            }
        }
        // On a small page the legend's target entry is enough: the label would cover the curves.
        if !self.chain_step && !s.compact() {
            chart
                .plotting_area()
                .draw(&Text::new(
                    "G20 2027: 75% within 1 h",
                    (lo + 0.02 * (hi - lo), 0.97),
                    s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                ))
                .map_err(de)?;
        }
        Ok(())
    }
}

impl LatencyCdf {
    /// Notes under the plot: credits at exactly 0 s (drawn at the left edge of a log axis), and curves that
    /// coincide (so a reader does not look for a missing line).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let zero: Vec<String> = self
            .rails
            .iter()
            .filter_map(|r| {
                // Below half a percent the step is invisible and the note would only say "0%".
                let p = r.points.first().filter(|p| p.0 <= 0.0 && p.1 >= 0.005)?;
                Some(format!("{} {:.0}%", r.rail, p.1 * 100.0))
            })
            .collect();
        if !zero.is_empty() {
            notes.push(format!(
                "Credited at 0 s (before any block: zero-conf), drawn as the step at the left edge: {}.",
                zero.join(", ")
            ));
        }
        for group in coinciding(&self.rails) {
            notes.push(format!(
                "{} coincide: at every decile their times are within 2% of each other, so the curves lie on \
top of each other (each is drawn in its own dash).",
                group.join(", ")
            ));
        }
        notes
    }
}

/// A rail name at the start of a sentence.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The time at which a CDF first reaches `q` (None if it never does).
fn quantile(points: &[(f64, f64)], q: f64) -> Option<f64> {
    points.iter().find(|p| p.1 >= q).map(|p| p.0)
}

/// Groups of rails (two or more) whose curves coincide: deciles within 2% (or 1 ms) of the group's first rail.
fn coinciding(rails: &[RailCdf]) -> Vec<Vec<String>> {
    let deciles = |r: &RailCdf| -> Vec<Option<f64>> {
        (1..10)
            .map(|k| quantile(&r.points, k as f64 / 10.0))
            .collect()
    };
    let mut taken = vec![false; rails.len()];
    let mut groups = Vec::new();
    for i in 0..rails.len() {
        if taken[i] || rails[i].points.is_empty() {
            continue;
        }
        let di = deciles(&rails[i]);
        let mut group = vec![rails[i].rail.clone()];
        for j in i + 1..rails.len() {
            let dj = deciles(&rails[j]);
            let same = di.iter().zip(&dj).all(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= (0.02 * a.max(*b)).max(0.001),
                (None, None) => true,
                _ => false,
            });
            if same && !taken[j] {
                taken[j] = true;
                group.push(rails[j].rail.clone());
            }
        }
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

/// A pale green for the target zone (the Okabe–Ito bluish green, lightened).
const G20_FILL: RGBColor = RGBColor(204, 236, 226);

/// The CDF as a step function in (log10 seconds, share), clamped to the axis and extended to its right end.
fn steps(points: &[(f64, f64)], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len() + 2);
    let mut prev = 0.0;
    out.push((lo, 0.0));
    for &(secs, share) in points {
        let x = secs.max(1e-3).log10().clamp(lo, hi);
        out.push((x, prev));
        out.push((x, share));
        prev = share;
    }
    out.push((hi, prev));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_curves_are_named_and_zero_conf_credits_noted() {
        let cdf = |rail: &str, pts: Vec<(f64, f64)>| RailCdf {
            rail: rail.into(),
            colour: 0,
            points: pts,
        };
        let fig = LatencyCdf {
            rails: vec![
                cdf("a", vec![(0.0, 0.3), (10.0, 0.6), (100.0, 1.0)]),
                cdf("b", vec![(1.0, 0.5), (1000.0, 1.0)]),
                cdf("c", vec![(0.0, 0.3), (10.1, 0.6), (100.5, 1.0)]),
            ],
            subtitle: String::new(),
            chain_step: true,
        };
        let notes = fig.notes();
        assert!(
            notes[0].contains("a 30%") && notes[0].contains("c 30%"),
            "{notes:?}"
        );
        assert!(notes[1].starts_with("a, c coincide"), "{notes:?}");
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn steps_start_at_zero_and_end_at_the_last_share() {
        let s = super::steps(&[(1.0, 0.5), (100.0, 0.9)], -1.0, 3.0);
        assert_eq!(s.first(), Some(&(-1.0, 0.0)));
        assert_eq!(s.last(), Some(&(3.0, 0.9)));
        assert_eq!(s[1], (0.0, 0.0));
        assert_eq!(s[2], (0.0, 0.5));
    }
}
