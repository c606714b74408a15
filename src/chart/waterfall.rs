//! Where the time goes: per corridor and rail, the mean end-to-end latency of settled payments split into stages
//! (summary.csv `stage_<name>_s_mean`, which add up to `latency_s_mean`), as horizontal stacked bars on one time
//! axis. The fourteen stages of the model are drawn in eight groups so each has a colour-blind-safe colour.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::data::Table;
use super::style::{self, OKABE_ITO, Style};
use super::{DrawResult, Figure, LegendMark, de, legend_row, titled};
use crate::units::human_duration_s;

/// Stage groups drawn: (label, the stages of summary.csv in it, Okabe–Ito colour index).
pub const GROUPS: [(&str, &[&str], usize); 8] = [
    ("bank closed (hours, cut-offs)", &["closed_hours"], 7),
    (
        "bank processing and repair",
        &["processing", "repair", "desk_queue"],
        5,
    ),
    ("compliance review", &["compliance"], 6),
    (
        "nostro wait and interbank transit",
        &["nostro_wait", "transit"],
        2,
    ),
    ("domestic rail (first and last mile)", &["domestic_rail"], 1),
    ("ramps", &["ramp"], 4),
    (
        "chain: inclusion and confirmations",
        &["chain_inclusion", "confirmations"],
        3,
    ),
    (
        "payout, return, initiation",
        &["payout", "return", "initiation"],
        0,
    ),
];

/// One bar: a corridor's rail, with seconds per group (`GROUPS` order).
#[derive(Clone, Debug, PartialEq)]
pub struct StageBar {
    pub corridor: String,
    pub rail: String,
    pub group_s: Vec<f64>,
}

impl StageBar {
    pub fn total(&self) -> f64 {
        self.group_s.iter().sum()
    }
}

#[derive(Clone, Debug)]
pub struct Waterfall {
    pub bars: Vec<StageBar>,
    /// The rail the message compares with (the first rail without a chain).
    pub baseline: Option<String>,
}

/// The bars of summary.csv's corridor rows (corridors in file order, rails in `rails` order); None when the
/// summary has no stage columns (results of an older settlesim).
pub fn bars(summary: &Table, rails: &[String]) -> Option<Vec<StageBar>> {
    summary.col("stage_processing_s_mean")?;
    let mut corridors: Vec<String> = Vec::new();
    for r in &summary.rows {
        let c = summary.text(r, "corridor");
        if c != "all" && c != "chain" && !corridors.iter().any(|x| x == c) {
            corridors.push(c.to_string());
        }
    }
    let mut out = Vec::new();
    for c in &corridors {
        for rail in rails {
            let Some(row) = summary
                .filter("corridor", c)
                .find(|r| summary.text(r, "rail") == rail)
            else {
                continue;
            };
            let group_s: Vec<f64> = GROUPS
                .iter()
                .map(|(_, stages, _)| {
                    stages
                        .iter()
                        .filter_map(|st| summary.num(row, &format!("stage_{st}_s_mean")))
                        .sum()
                })
                .collect();
            if group_s.iter().any(|v| *v > 0.0) {
                out.push(StageBar {
                    corridor: c.clone(),
                    rail: rail.clone(),
                    group_s,
                });
            }
        }
    }
    Some(out)
}

impl Figure for Waterfall {
    fn name(&self) -> String {
        "where-the-time-goes".into()
    }
    fn caption(&self) -> String {
        "Where the time goes: the mean end-to-end latency of settled payments per corridor and rail, split into the \
stages of the model (summary.csv stage_*_s_mean, which add up to the mean latency)."
            .into()
    }
    fn message(&self) -> Option<String> {
        let base = self.baseline.as_deref()?;
        let base_total = |c: &str| {
            self.bars
                .iter()
                .find(|b| b.corridor == c && b.rail == base)
                .map(StageBar::total)
        };
        let (bar, theirs) = self
            .bars
            .iter()
            .filter(|b| b.rail != base)
            .filter_map(|b| Some((b, base_total(&b.corridor)?)))
            .filter(|(_, t)| *t > 0.0)
            .max_by(|a, b| (a.0.total() / a.1).total_cmp(&(b.0.total() / b.1)))?;
        let (k, part) = bar
            .group_s
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        let corridor = bar.corridor.replace('-', "→");
        let compare = if bar.total() > theirs {
            "slower than"
        } else {
            "no slower than"
        };
        Some(format!(
            "{} settles {corridor} {compare} {base} on average ({} against {}): {} of it is {}",
            bar.rail,
            human_duration_s(bar.total()),
            human_duration_s(theirs),
            human_duration_s(*part),
            GROUPS[k].0
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(
            area,
            "Where the time goes, per corridor and rail",
            "mean end-to-end latency of settled payments split by stage; the stages add up to the mean",
            s,
        )?;
        let used: Vec<usize> = (0..GROUPS.len())
            .filter(|&k| self.bars.iter().any(|b| b.group_s[k] > 0.0))
            .collect();
        let legend: Vec<_> = used
            .iter()
            .map(|&k| {
                (
                    GROUPS[k].0.to_string(),
                    OKABE_ITO[GROUPS[k].2],
                    LegendMark::Box,
                )
            })
            .collect();
        let area = legend_row(&area, &legend, s)?;
        let n = self.bars.len().max(1);
        let top_s = self.bars.iter().map(StageBar::total).fold(60.0, f64::max);
        // Hours, or days past three days.
        let (unit, unit_s) = if top_s > 3.0 * 86_400.0 {
            ("days", 86_400.0)
        } else {
            ("h", 3600.0)
        };
        let top = top_s / unit_s * 1.18;
        let labels: Vec<String> = self
            .bars
            .iter()
            .map(|b| format!("{} · {}", b.corridor, b.rail))
            .collect();
        let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            .margin_right(s.px(24.0))
            .margin_top(s.px(8.0))
            .x_label_area_size(s.px(54.0))
            .y_label_area_size(s.px(label_area_css(&labels)))
            .build_cartesian_2d(
                Ticked::new(0.0..top, Vec::new()),
                Ticked::new(-0.5..n as f64 - 0.5, keys),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(format!("mean time to the beneficiary's credit ({unit})"))
            .x_labels(if s.compact() { 5 } else { 8 })
            .x_label_formatter(&|v| format!("{v:.0}"))
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
        for (i, b) in self.bars.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let mut x = 0.0;
            for (k, v) in b.group_s.iter().enumerate() {
                if *v <= 0.0 {
                    continue;
                }
                let w = v / unit_s;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y - 0.32), (x + w, y + 0.32)],
                        OKABE_ITO[GROUPS[k].2].filled(),
                    )))
                    .map_err(de)?;
                x += w;
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    human_duration_s(b.total()),
                    (x + top * 0.01, y),
                    s.note().pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(de)?;
        }
        Ok(())
    }
}

/// Width of the y-label area in CSS px for bar labels such as "SGD-THB · paynow_promptpay": about 7 px a
/// character at the tick font, at least 150, so a long rail name is never cut at the left edge.
pub(crate) fn label_area_css(labels: &[String]) -> f64 {
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (chars as f64 * 7.2 + 16.0).max(150.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_grouped_and_the_slowest_rail_named_with_its_biggest_stage() {
        let t = Table::parse(
            b"rail,corridor,stage_processing_s_mean,stage_repair_s_mean,stage_domestic_rail_s_mean,stage_closed_hours_s_mean\n\
b,X,3600,0,0,3600\nu,X,600,0,18000,0\nu,all,1,1,1,1\nz,X,0,0,0,0\n",
        )
        .unwrap();
        let bars = bars(&t, &["b".into(), "u".into(), "z".into()]).unwrap();
        // z spent no time anywhere (nothing settled): no bar.
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].group_s[0], 3600.0);
        assert_eq!(bars[1].group_s[4], 18000.0);
        assert_eq!(bars[1].total(), 18600.0);
        let fig = Waterfall {
            bars,
            baseline: Some("b".into()),
        };
        assert_eq!(
            fig.message().unwrap(),
            "u settles X slower than b on average (5.2h against 2.0h): 5.0h of it is domestic rail (first and last mile)"
        );
        assert!(super::bars(&Table::parse(b"rail,corridor\n").unwrap(), &[]).is_none());
    }
}
