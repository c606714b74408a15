//! Quantities over simulated time (days since the scenario start) with weekends shaded: payments settled per
//! hour per rail (small multiples, so cut-offs and weekends show on bank rails), the backlog in flight (one panel,
//! all rails), and per chain the mempool backlog and base fee.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Ticked;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::Table;
use super::style::{self, SHADE, Style, rail_colour};
use super::{DrawResult, Figure, LegendMark, de, legend_row, noted, styled_line, titled};

/// One line: (days since start, value).
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub colour: usize,
    pub points: Vec<(f64, f64)>,
}

/// A time figure: either one panel per line (`overlay = false`) or all lines in one panel.
#[derive(Clone, Debug)]
pub struct TimeFigure {
    pub name: String,
    pub title: String,
    pub subtitle: String,
    pub caption: String,
    pub y_desc: String,
    pub lines: Vec<Line>,
    pub overlay: bool,
    /// Saturday–Sunday spans (UTC) in days since start.
    pub weekends: Vec<(f64, f64)>,
    /// When demand stopped arriving (days since start): the drain after it is shaded, and the axis ends soon
    /// after the last hour with anything to show instead of running through empty days.
    pub demand_end: Option<f64>,
    /// Panels with nothing to show (all zero) are left out and named here instead; notes say why.
    pub notes: Vec<String>,
}

/// Removes lines that are zero throughout, returning the notes that name them.
pub fn drop_zero_lines(lines: &mut Vec<Line>, what: &str) -> Vec<String> {
    let zero: Vec<String> = lines
        .iter()
        .filter(|l| l.points.iter().all(|p| p.1 == 0.0))
        .map(|l| l.label.clone())
        .collect();
    lines.retain(|l| l.points.iter().any(|p| p.1 != 0.0));
    if zero.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "Not drawn: {} ({what} throughout).",
            zero.join("; ")
        )]
    }
}

/// Whole-day ticks for a span of `x_max` days: every day, 2 days, week or 2 weeks, at most about ten.
pub fn day_ticks(x_max: f64) -> Vec<f64> {
    let step = [1.0, 2.0, 7.0, 14.0, 28.0]
        .into_iter()
        .find(|st| x_max / st <= 10.0)
        .unwrap_or(56.0);
    (0..)
        .map(|k| k as f64 * step)
        .take_while(|d| *d <= x_max + 1e-9)
        .collect()
}

/// The last day on the axis: a little after the later of the demand's end and the last non-zero value, so a long
/// drain in which nothing happens is not drawn.
fn axis_end(lines: &[Line], demand_end: Option<f64>) -> f64 {
    let data_end = lines
        .iter()
        .filter_map(|l| l.points.last().map(|p| p.0))
        .fold(1.0 / 24.0, f64::max);
    let Some(end) = demand_end else {
        return data_end;
    };
    let active = lines
        .iter()
        .flat_map(|l| l.points.iter().filter(|p| p.1 != 0.0).map(|p| p.0))
        .fold(end, f64::max);
    (active + (active * 0.03).max(0.25)).min(data_end)
}

/// The weekend (Saturday 00:00 to Monday 00:00 UTC) spans within `hours` hours of `start`, in days since start.
pub fn weekend_spans(start: DateTime<Utc>, hours: usize) -> Vec<(f64, f64)> {
    let end = hours as f64 / 24.0;
    let mut spans = Vec::new();
    let midnight = start
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(start);
    let mut day = midnight;
    while (day - start).num_seconds() as f64 / 86_400.0 < end {
        if day.weekday() == Weekday::Sat {
            let a = (day - start).num_seconds() as f64 / 86_400.0;
            spans.push((a.max(0.0), (a + 2.0).min(end)));
        }
        day += Duration::days(1);
    }
    spans
}

/// The hourly series of `column` per rail from timeseries.csv, in `rails` order (colour = position).
pub fn rail_lines(ts: &Table, rails: &[String], column: &str) -> Vec<Line> {
    rails
        .iter()
        .enumerate()
        .map(|(i, rail)| Line {
            label: rail.clone(),
            colour: i,
            points: ts
                .filter("rail", rail)
                .filter_map(|r| Some((ts.num(r, "hour")? / 24.0, ts.num(r, column)?)))
                .collect(),
        })
        .collect()
}

/// The hourly series of `column` per chain of chain_timeseries.csv (`chain (rail)`), in file order; colour by
/// the rail's position in `rails`.
pub fn chain_lines(cts: &Table, rails: &[String], column: &str) -> Vec<Line> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in &cts.rows {
        let key = (
            cts.text(r, "chain").to_string(),
            cts.text(r, "rail").to_string(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(chain, rail)| Line {
            label: if rail.is_empty() {
                chain.clone()
            } else {
                format!("{chain} ({rail})")
            },
            colour: rails.iter().position(|x| *x == rail).unwrap_or(0),
            points: cts
                .rows
                .iter()
                .filter(|r| cts.text(r, "chain") == chain && cts.text(r, "rail") == rail)
                .filter_map(|r| Some((cts.num(r, "hour")? / 24.0, cts.num(r, column)?)))
                .collect(),
        })
        .collect()
}

impl Figure for TimeFigure {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn caption(&self) -> String {
        self.caption.clone()
    }
    fn message(&self) -> Option<String> {
        let cap = super::latency::capitalised;
        if self.name == "throughput" {
            // The longest run of hours in which a rail settled nothing, while demand was still arriving.
            let end = self.demand_end.unwrap_or(f64::INFINITY);
            let gap = |l: &Line| {
                let (mut run, mut best) = (0_u32, 0_u32);
                for p in l.points.iter().filter(|p| p.0 < end) {
                    run = if p.1 == 0.0 { run + 1 } else { 0 };
                    best = best.max(run);
                }
                best
            };
            let longest = self.lines.iter().max_by_key(|l| gap(l))?;
            let shortest = self.lines.iter().min_by_key(|l| gap(l))?;
            if gap(longest) == 0 {
                return Some(
                    "Every rail settles payments in every hour while demand arrives".into(),
                );
            }
            return Some(format!(
                "{} settles nothing for up to {} h at a stretch while demand arrives; {} for at most {} h",
                longest.label,
                gap(longest),
                shortest.label,
                gap(shortest)
            ));
        }
        let (line, peak) = self
            .lines
            .iter()
            .filter_map(|l| {
                l.points
                    .iter()
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|p| (l, *p))
            })
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1))?;
        Some(format!(
            "{} peaks at {} on {}, day {:.0}",
            cap(&self.y_desc),
            compact(peak.1),
            line.label,
            peak.0.floor()
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(area, &self.title, &self.subtitle, s)?;
        let mut legend = Vec::new();
        if self.overlay {
            legend.extend(self.lines.iter().enumerate().map(|(k, l)| {
                (
                    l.label.clone(),
                    rail_colour(l.colour),
                    LegendMark::Series { marker: k, dash: k },
                )
            }));
        }
        legend.push(("weekend (Sat–Sun, UTC)".to_string(), SHADE, LegendMark::Box));
        let x_max = axis_end(&self.lines, self.demand_end);
        let drain = self.demand_end.filter(|e| *e < x_max);
        if drain.is_some() {
            legend.push((
                "drain: demand has ended".to_string(),
                DRAIN,
                LegendMark::Box,
            ));
        }
        let area = legend_row(&area, &legend, s)?;
        let area = noted(&area, &self.notes, s)?;
        let panels: Vec<Vec<(usize, &Line)>> = if self.overlay {
            vec![self.lines.iter().enumerate().collect()]
        } else {
            self.lines.iter().enumerate().map(|l| vec![l]).collect()
        };
        // One scale for every panel, so panels compare by height.
        let y_max = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter(|p| p.0 <= x_max).map(|p| p.1))
            .fold(0.0, f64::max);
        let n = panels.len().max(1);
        let (_, h) = area.dim_in_pixel();
        let bottom = s.px(50.0);
        let per = (h.saturating_sub(bottom)) / n as u32;
        let mut rest = area;
        for (k, lines) in panels.iter().enumerate() {
            let last = k + 1 == n;
            let (panel, below) = if last {
                (rest.clone(), rest.clone())
            } else {
                rest.split_vertically(per)
            };
            draw_panel(&panel, self, lines, (x_max, y_max, drain), last, s)?;
            rest = below;
        }
        Ok(())
    }
}

/// The drain shading: a pale warm grey, distinct from the weekend's.
const DRAIN: RGBColor = RGBColor(250, 228, 200);

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &TimeFigure,
    lines: &[(usize, &Line)],
    (x_max, y_max, drain): (f64, f64, Option<f64>),
    last: bool,
    s: &Style,
) -> DrawResult {
    let y_top = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let single = lines.len() == 1 && !fig.overlay;
    let mut chart = ChartBuilder::on(area)
        .margin_left(s.px(12.0))
        .margin_right(s.px(20.0))
        .margin_top(s.px(if single { 4.0 } else { 12.0 }))
        .x_label_area_size(if last { s.px(50.0) } else { 0 })
        .y_label_area_size(s.px(if single { 52.0 } else { 64.0 }))
        .build_cartesian_2d(
            Ticked::new(0.0..x_max, day_ticks(x_max)),
            Ticked::new(0.0..y_top, Vec::new()),
        )
        .map_err(de)?;
    let mut mesh = chart.configure_mesh();
    mesh.y_labels(if single { 3 } else { 8 })
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| compact(*v))
        .label_style(s.tick())
        .axis_desc_style(s.label())
        .bold_line_style(s.thin(style::GRID))
        .light_line_style(TRANSPARENT);
    if last {
        mesh.x_desc("simulated time (days since the scenario start)");
    }
    if !single {
        mesh.y_desc(fig.y_desc.as_str());
    }
    mesh.draw().map_err(de)?;
    chart
        .draw_series(
            fig.weekends
                .iter()
                .filter(|(a, _)| *a < x_max)
                .map(|(a, b)| Rectangle::new([(*a, 0.0), (b.min(x_max), y_top)], SHADE.filled())),
        )
        .map_err(de)?;
    if let Some(d) = drain {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(d, 0.0), (x_max, y_top)],
                DRAIN.mix(0.6).filled(),
            )))
            .map_err(de)?;
    }
    let n = lines.len();
    for (k, l) in lines {
        // Overlaid lines: the first drawn widest and each later one thinner and in its own dash, so a line drawn
        // over another never hides it.
        let width = if fig.overlay {
            s.px(3.2 - 2.0 * *k as f64 / n.max(2) as f64).max(1)
        } else {
            s.px(1.2).max(1)
        };
        let pts: Vec<(f64, f64)> = l.points.iter().copied().filter(|p| p.0 <= x_max).collect();
        let dash = if fig.overlay { *k } else { 0 };
        styled_line(
            &mut chart,
            pts,
            dash,
            s.line(rail_colour(l.colour)).stroke_width(width),
            s,
        )?;
    }
    if single {
        let l = lines[0].1;
        chart
            .plotting_area()
            .draw(&Text::new(
                format!(
                    "{} — {} (max {})",
                    l.label,
                    fig.y_desc,
                    compact(l.points.iter().map(|p| p.1).fold(0.0, f64::max))
                ),
                (x_max * 0.995, y_top * 0.97),
                s.label().pos(Pos::new(HPos::Right, VPos::Top)),
            ))
            .map_err(de)?;
    }
    Ok(())
}

/// A tick label without needless digits: 1200 → "1.2k", 3500000 → "3.5M", 0.25 → "0.25".
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || a == 0.0 || (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekends_of_a_monday_start() {
        let start = "2026-03-02T00:00:00Z".parse::<DateTime<Utc>>().unwrap(); // Monday
        assert_eq!(
            weekend_spans(start, 24 * 14),
            vec![(5.0, 7.0), (12.0, 14.0)]
        );
        // A run that ends on Saturday noon is shaded to its end.
        assert_eq!(weekend_spans(start, 24 * 5 + 12), vec![(5.0, 5.5)]);
    }

    #[test]
    fn day_ticks_are_whole_days() {
        assert_eq!(day_ticks(7.0), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(day_ticks(28.5), vec![0.0, 7.0, 14.0, 21.0, 28.0]);
        assert!(day_ticks(49.0).iter().all(|d| d.fract() == 0.0));
    }

    #[test]
    fn the_axis_stops_after_the_drain_goes_quiet() {
        let line = Line {
            label: "a".into(),
            colour: 0,
            points: (0..49 * 24)
                .map(|h| (h as f64 / 24.0, if h < 30 * 24 { 1.0 } else { 0.0 }))
                .collect(),
        };
        let end = axis_end(std::slice::from_ref(&line), Some(28.0));
        assert!(end > 30.0 && end < 32.0, "{end}");
        assert!((axis_end(&[line], None) - (49.0 * 24.0 - 1.0) / 24.0).abs() < 1e-9);
    }

    #[test]
    fn compact_labels() {
        assert_eq!(compact(1200.0), "1200");
        assert_eq!(compact(35_000.0), "35k");
        assert_eq!(compact(3_500_000.0), "3.5M");
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(compact(4.0), "4");
    }

    #[test]
    fn rail_lines_take_hours_as_days() {
        let t = Table::parse(b"hour,rail,settled\n0,a,1\n12,a,2\n0,b,5\n").unwrap();
        let lines = rail_lines(&t, &["a".into(), "b".into()], "settled");
        assert_eq!(lines[0].points, vec![(0.0, 1.0), (0.5, 2.0)]);
        assert_eq!(lines[1].colour, 1);
    }
}
