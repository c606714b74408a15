//! Cost per rail as stacked bars in basis points of the amount, one segment per cost component, with the G20
//! cost targets (retail 1%, remittances 3%) as reference lines. The cost of capital of the positions the payments
//! used (liquidity) sits on top as a hatched segment of its own, labelled, and each bar states its total without
//! and with it: the customer pays the first, the rail's operators carry the second.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Ticked;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{COST_COMPONENTS, CostBar, LIQUIDITY_COMPONENT};
use super::style::{OKABE_ITO, REFERENCE, Style};
use super::{DrawResult, Figure, LegendMark, de, legend_row, titled};

#[derive(Clone, Debug)]
pub struct CostStack {
    pub bars: Vec<CostBar>,
}

/// A colour per component, in `COST_COMPONENTS` order (all eight Okabe–Ito colours, then grey for the price
/// move, which is no fee).
const COMPONENT_COLOUR: [usize; 8] = [5, 6, 1, 2, 7, 3, 4, 0];
const PRICE_MOVE: RGBColor = RGBColor(160, 160, 160);
/// The cost of capital: a dark slate, drawn hatched so it never reads as one more fee.
pub const LIQUIDITY: RGBColor = RGBColor(70, 80, 110);

pub fn component_colour(i: usize) -> RGBColor {
    COMPONENT_COLOUR
        .get(i)
        .map_or(PRICE_MOVE, |&c| OKABE_ITO[c])
}

const TARGETS: [(f64, &str); 2] = [(100.0, "G20 retail: 1%"), (300.0, "G20 remittances: 3%")];

impl Figure for CostStack {
    fn name(&self) -> String {
        "cost".into()
    }
    fn caption(&self) -> String {
        "All-in cost per rail in basis points of the amount sent (all corridors, all ended payments), split by \
component; the hatched top segment is the cost of capital of the positions the payments used (liquidity), not a \
charge to the customer; each bar gives its total without and with it; dashed lines are the G20 targets."
            .into()
    }
    fn message(&self) -> Option<String> {
        let cheap = self
            .bars
            .iter()
            .min_by(|a, b| a.total().total_cmp(&b.total()))?;
        let dear = self
            .bars
            .iter()
            .max_by(|a, b| a.total().total_cmp(&b.total()))?;
        // The component that makes the dearest rail dear.
        let (k, part) = dear
            .bps
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        let share = if dear.total() > 0.0 {
            part / dear.total() * 100.0
        } else {
            0.0
        };
        let capital = if self.bars.iter().any(|b| b.liquidity_bps != 0.0) {
            format!(
                " (with the cost of capital: {:.0} and {:.0} bps)",
                cheap.with_capital(),
                dear.with_capital()
            )
        } else {
            String::new()
        };
        Some(format!(
            "{} costs least, {:.0} bps of the amount; {} costs {:.0} bps, {share:.0}% of it {}{capital}",
            cheap.rail,
            cheap.total(),
            dear.rail,
            dear.total(),
            COST_COMPONENTS[k].0
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let capital = self.bars.iter().any(|b| b.liquidity_bps != 0.0);
        let subtitle = format!(
            "amount-weighted: Σ cost ÷ Σ amount sent over each rail's corridors (summary.csv's cost_bps_mean is the per-payment mean, higher where small payments pay fixed fees); 100 bps = 1%{}",
            if capital {
                "; slate: total with the cost of capital"
            } else {
                ""
            }
        );
        let area = titled(
            area,
            "Cost per rail by component (bps of the amount)",
            &subtitle,
            s,
        )?;
        let used: Vec<usize> = (0..COST_COMPONENTS.len())
            .filter(|&i| self.bars.iter().any(|b| b.bps[i] != 0.0))
            .collect();
        let legend: Vec<_> = used
            .iter()
            .map(|&i| {
                (
                    COST_COMPONENTS[i].0.to_string(),
                    component_colour(i),
                    LegendMark::Box,
                )
            })
            .chain(self.bars.iter().any(|b| b.liquidity_bps != 0.0).then(|| {
                (
                    LIQUIDITY_COMPONENT.0.to_string(),
                    LIQUIDITY,
                    LegendMark::Box,
                )
            }))
            .chain(std::iter::once((
                "G20 targets".to_string(),
                REFERENCE,
                LegendMark::Dashed,
            )))
            .collect();
        let area = legend_row(&area, &legend, s)?;
        let n = self.bars.len().max(1);
        let top = self
            .bars
            .iter()
            .map(|b| b.total().max(b.with_capital()))
            .fold(300.0, f64::max)
            * 1.18;
        // A rail that serves only some corridors is labelled "rail (X only)": the name under the bar, the scopes in
        // the axis title ("rail (corridors: btc, cbdc USD-MXN, EUR-NGN; others all)"), so that neighbouring tick labels never
        // collide.
        let split = |label: &str| -> (String, Option<String>) {
            match label.split_once(" (") {
                Some((name, scope)) => (
                    name.to_string(),
                    Some(scope.trim_end_matches(')').to_string()),
                ),
                None => (label.to_string(), None),
            }
        };
        let names: Vec<String> = self.bars.iter().map(|b| split(&b.rail).0).collect();
        let mut scopes: Vec<(String, Vec<String>)> = Vec::new();
        for b in &self.bars {
            if let (name, Some(scope)) = split(&b.rail) {
                match scopes.iter_mut().find(|(s, _)| *s == scope) {
                    Some((_, rails)) => rails.push(name),
                    None => scopes.push((scope, vec![name])),
                }
            }
        }
        let x_desc = if scopes.is_empty() {
            "rail".to_string()
        } else {
            let parts: Vec<String> = scopes
                .iter()
                .map(|(scope, rails)| {
                    format!("{} {}", rails.join(", "), scope.trim_end_matches(" only"))
                })
                .collect();
            format!("rail (corridors: {}; others all)", parts.join("; "))
        };
        let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            .margin_right(s.px(28.0))
            .margin_top(s.px(12.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(70.0))
            .build_cartesian_2d(
                // Room right of the last bar for the target labels, so they never cover a bar.
                Ticked::new(-0.5..n as f64 + 0.3, keys),
                Ticked::new(0.0..top, Vec::new()),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(x_desc.as_str())
            .y_desc("cost (bps of the amount)")
            .x_label_formatter(&|v| {
                names
                    .get(v.round().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default()
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(super::style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        // A text line and a bar's slot in pixels, for the two-line labels.
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let line = f64::from(s.line_h(13.0, 1.25)) * top / f64::from((yr.end - yr.start).max(1));
        let slot_px = f64::from(xr.end - xr.start) / (n as f64 + 0.8);
        for (i, bar) in self.bars.iter().enumerate() {
            let x = i as f64;
            let mut base = 0.0;
            for (k, v) in bar.bps.iter().enumerate() {
                if *v < 0.0 {
                    // A signed component (the price move) that was a gain: an outline over the top of the stack,
                    // which the total above it nets out.
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - 0.3, (base + v).max(0.0)), (x + 0.3, base)],
                            component_colour(k).stroke_width(s.px(1.5)),
                        )))
                        .map_err(de)?;
                    base += v;
                    continue;
                }
                if *v == 0.0 {
                    continue;
                }
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.3, base), (x + 0.3, base + v)],
                        component_colour(k).filled(),
                    )))
                    .map_err(de)?;
                base += v;
            }
            let label = if bar.liquidity_bps > 0.0 {
                // Hatched: diagonal lines inside an outline, so the cost of capital never reads as a fee.
                let (lo, hi) = (base.max(0.0), base.max(0.0) + bar.liquidity_bps);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.3, lo), (x + 0.3, hi)],
                        LIQUIDITY.stroke_width(s.px(1.5)),
                    )))
                    .map_err(de)?;
                let steps = 6;
                chart
                    .draw_series((0..steps).map(|j| {
                        let f = |k: f64| lo + (hi - lo) * k / steps as f64;
                        PathElement::new(
                            [(x - 0.3, f(j as f64)), (x + 0.3, f(j as f64 + 1.0))],
                            LIQUIDITY.stroke_width(s.px(1.0)),
                        )
                    }))
                    .map_err(de)?;
                base = hi;
                // Two lines, so a label never runs past its bar's slot: the total the customer pays, and above it,
                // in the segment's colour, the total with the cost of capital (in words where the slot is wide
                // enough: a character of DejaVu Sans is about 0.6 em).
                let long = format!("{:.0} with capital", bar.with_capital());
                let text = if long.chars().count() as f64 * 0.6 * s.note_px() < slot_px {
                    long
                } else {
                    format!("{:.0}", bar.with_capital())
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x, base + top * 0.01 + line),
                        s.note()
                            .color(&LIQUIDITY)
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )))
                    .map_err(de)?;
                format!("{:.0} bps", bar.total())
            } else {
                format!("{:.0} bps", bar.total())
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    label,
                    (x, base + top * 0.01),
                    s.label().pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(de)?;
        }
        for (bps, label) in TARGETS {
            chart
                .draw_series(DashedLineSeries::new(
                    [(-0.5, bps), (n as f64 + 0.3, bps)],
                    s.px(6.0),
                    s.px(4.0),
                    s.line(REFERENCE),
                ))
                .map_err(de)?;
            let label = Text::new(
                label.to_string(),
                (n as f64 - 0.62, bps + top * 0.008),
                s.note().pos(Pos::new(HPos::Left, VPos::Bottom)),
            );
            chart.draw_series(std::iter::once(label)).map_err(de)?;
        }
        Ok(())
    }
}
