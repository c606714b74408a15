//! Sweep figures from points.csv: a metric against a swept parameter, one line per rail and value of the other
//! grid axes, with the 95% confidence band of the mean over replications (e.g. p99 latency against offered load:
//! the saturation curve). Latency metrics use the logarithmic time axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Ticked;

use super::axis::{fitted_log_time, time_label};
use super::data::{Table, grid_number, is_chain_row};
use super::labels::field_value;
use super::style::{self, Style, rail_colour};
use super::timeseries::compact;
use super::{DrawResult, Figure, LegendMark, de, legend_row, marker, noted, styled_line, titled};

/// One point of a band line: x, mean, and the 95% interval (absent with one replication).
#[derive(Clone, Debug, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub mean: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct BandLine {
    pub label: String,
    pub colour: usize,
    /// Marker shape and line style: lines of one rail at different values of the other axes differ by it.
    pub marker: usize,
    pub points: Vec<BandPoint>,
    /// x values where the grid point ran but the metric has no value (nothing settled: a saturated or failed
    /// cell). They are drawn as hollow markers on the axis floor, never dropped.
    pub failed: Vec<f64>,
}

/// How the y axis is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum YAxis {
    /// Seconds on the logarithmic time axis.
    LogTime,
    /// Linear, starting at zero.
    Linear,
    /// A fraction shown in percent, linear.
    Percent,
}

#[derive(Clone, Debug)]
pub struct BandFigure {
    pub name: String,
    pub title: String,
    pub subtitle: String,
    pub caption: String,
    pub x_desc: String,
    /// x values are log10 of the quantity (a trade-off over two orders of magnitude or more): ticks at 1, 3, 10,
    /// 30, ... and labels in the quantity's units.
    pub x_log: bool,
    pub y_desc: String,
    pub y_axis: YAxis,
    pub lines: Vec<BandLine>,
    /// Lines under the plot saying what was left out and why.
    pub notes: Vec<String>,
}

/// The grid axes of points.csv: the columns between `scenario` and `rail`.
pub fn grid_axes(points: &Table) -> Vec<String> {
    match (points.col("scenario"), points.col("rail")) {
        (Some(a), Some(b)) if b > a + 1 => points.header[a + 1..b].to_vec(),
        _ => Vec::new(),
    }
}

/// The grid axes whose every value is a number or a duration: the ones a metric can be drawn against.
pub fn numeric_axes(points: &Table) -> Vec<String> {
    grid_axes(points)
        .into_iter()
        .filter(|a| {
            !points.rows.is_empty()
                && points
                    .rows
                    .iter()
                    .all(|r| grid_number(points.text(r, a)).is_some())
        })
        .collect()
}

/// Lines of `metric` (a points.csv stem: `latency_s_p99` → `_mean`, `_ci95_lo`, `_ci95_hi`) against grid axis
/// `axis`. `chain` selects the chain rows (corridor `chain`, one line per chain) instead of the rails' `all` rows.
pub fn band_lines(points: &Table, metric: &str, axis: &str, chain: bool) -> Vec<BandLine> {
    band_lines_x(points, metric, axis, chain, &|r| {
        grid_number(points.text(r, axis))
    })
}

/// The liquidity–delay trade-off: `metric` per rail against the rail's time-weighted pre-funded liquidity
/// (points.csv `liquidity_mean_usd_mean`) measured at each value of the swept `liquidity.scale` (`axis`), so
/// that rails are compared at the liquidity they actually tie up, not at the factor. Rails without pre-funded
/// positions have no line.
/// x is log10 of the USD amount (draw with `x_log`): rails tie up from hundreds of dollars to tens of millions.
pub fn tradeoff_lines(points: &Table, metric: &str, axis: &str) -> Vec<BandLine> {
    band_lines_x(points, metric, axis, false, &|r| {
        points
            .num(r, "liquidity_mean_usd_mean")
            .filter(|x| *x > 0.0)
            .map(f64::log10)
    })
}

/// Lines of `metric` per rail (and value of the other grid axes), x given per points.csv row by `x_of`.
fn band_lines_x(
    points: &Table,
    metric: &str,
    axis: &str,
    chain: bool,
    x_of: &dyn Fn(&[String]) -> Option<f64>,
) -> Vec<BandLine> {
    let others: Vec<String> = grid_axes(points)
        .into_iter()
        .filter(|a| a != axis)
        .collect();
    let many_scenarios = points
        .rows
        .iter()
        .any(|r| points.text(r, "scenario") != points.text(&points.rows[0], "scenario"));
    let mut rails: Vec<String> = Vec::new();
    let mut other_values: Vec<String> = Vec::new();
    let mut lines: Vec<BandLine> = Vec::new();
    for r in &points.rows {
        if is_chain_row(points, r) != chain || (!chain && points.text(r, "corridor") != "all") {
            continue;
        }
        let Some(x) = x_of(r) else {
            continue;
        };
        let mean = points.num(r, &format!("{metric}_mean"));
        let rail = points.text(r, "rail").to_string();
        let mut rest: Vec<String> = others
            .iter()
            .map(|a| field_value(a, points.text(r, a)))
            .collect();
        if many_scenarios {
            rest.insert(0, points.text(r, "scenario").to_string());
        }
        let rest = rest.join(", ");
        let label = if rest.is_empty() {
            rail.clone()
        } else {
            format!("{rail} ({rest})")
        };
        if !rails.contains(&rail) {
            rails.push(rail.clone());
        }
        if !other_values.contains(&rest) {
            other_values.push(rest.clone());
        }
        let point = mean.map(|mean| BandPoint {
            x,
            mean,
            lo: points.num(r, &format!("{metric}_ci95_lo")),
            hi: points.num(r, &format!("{metric}_ci95_hi")),
        });
        let i = match lines.iter().position(|l| l.label == label) {
            Some(i) => i,
            None => {
                lines.push(BandLine {
                    label,
                    colour: rails.iter().position(|x| *x == rail).unwrap_or(0),
                    marker: other_values.iter().position(|x| *x == rest).unwrap_or(0),
                    points: Vec::new(),
                    failed: Vec::new(),
                });
                lines.len() - 1
            }
        };
        match point {
            Some(p) => lines[i].points.push(p),
            None => lines[i].failed.push(x),
        }
    }
    for l in &mut lines {
        l.points.sort_by(|a, b| a.x.total_cmp(&b.x));
        l.failed.sort_by(f64::total_cmp);
    }
    lines
}

impl BandFigure {
    /// An x value as its label: the quantity itself on a log axis.
    fn x_text(&self, x: f64) -> String {
        if self.x_log {
            compact(10f64.powf(x))
        } else {
            compact(x)
        }
    }
    /// Log axes: ticks at 1, 3, 10, 30, ... of the quantity inside the range; linear axes: plotters' own.
    fn x_ticks(&self, lo: f64, hi: f64) -> Vec<f64> {
        if !(self.x_log && lo.is_finite() && hi.is_finite()) {
            return Vec::new();
        }
        let mut t = Vec::new();
        let mut k = lo.floor();
        while k <= hi {
            for v in [k, k + 3f64.log10()] {
                if v >= lo && v <= hi {
                    t.push(v);
                }
            }
            k += 1.0;
        }
        t
    }
}

impl Figure for BandFigure {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn caption(&self) -> String {
        self.caption.clone()
    }
    fn message(&self) -> Option<String> {
        let value = |v: f64| match self.y_axis {
            YAxis::LogTime => crate::units::human_duration_s(v),
            YAxis::Percent => format!("{:.2}%", v * 100.0),
            YAxis::Linear => compact(v),
        };
        // The line that changes most (by ratio) from the first swept value to the last.
        let change = |l: &BandLine| {
            let (a, b) = (l.points.first()?, l.points.last()?);
            (l.points.len() >= 2 && a.mean > 0.0 && b.mean > 0.0)
                .then(|| (a.clone(), b.clone(), (b.mean / a.mean).ln().abs()))
        };
        let (line, (a, b, _)) = self
            .lines
            .iter()
            .filter_map(|l| change(l).map(|c| (l, c)))
            .max_by(|x, y| x.1.2.total_cmp(&y.1.2))?;
        let verb = if b.mean > a.mean * 1.02 {
            "rises"
        } else if b.mean < a.mean / 1.02 {
            "falls"
        } else {
            "stays"
        };
        let x_what = self.x_desc.split(" (").next().unwrap_or(&self.x_desc);
        let mut m = format!(
            "{}: {} {verb} from {} to {} as {x_what} goes from {} to {}",
            line.label,
            self.y_desc,
            value(a.mean),
            value(b.mean),
            self.x_text(a.x),
            self.x_text(b.x)
        );
        if let Some((l, x)) = self
            .lines
            .iter()
            .find_map(|l| l.failed.first().map(|x| (l, *x)))
        {
            m.push_str(&format!(
                "; {} settles nothing at {x_what} {}",
                l.label,
                compact(x)
            ));
        }
        Some(m)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(area, &self.title, &self.subtitle, s)?;
        let legend: Vec<_> = self
            .lines
            .iter()
            .map(|l| {
                (
                    l.label.clone(),
                    rail_colour(l.colour),
                    LegendMark::Series {
                        marker: l.marker,
                        dash: l.marker,
                    },
                )
            })
            .collect();
        let area = legend_row(&area, &legend, s)?;
        let failed: Vec<String> = self
            .lines
            .iter()
            .filter(|l| !l.failed.is_empty())
            .map(|l| {
                let xs: Vec<String> = l.failed.iter().map(|x| self.x_text(*x)).collect();
                format!("{} at x = {}", l.label, xs.join(", "))
            })
            .collect();
        let mut notes = self.notes.clone();
        if !failed.is_empty() {
            notes.push(format!(
                "Hollow markers on the axis floor: no payment settled at that point, so it has no value (saturated \
or failed; see settled_pct in points.csv): {}.",
                failed.join("; ")
            ));
        }
        let area = noted(&area, &notes, s)?;
        let xs = || {
            self.lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.x).chain(l.failed.iter().copied()))
        };
        let (x_min, x_max) = (
            xs().fold(f64::INFINITY, f64::min),
            xs().fold(f64::NEG_INFINITY, f64::max),
        );
        let (x_lo, x_hi) = if self.x_log && x_min <= x_max {
            (x_min - 0.15, x_max + 0.15)
        } else if x_min < x_max {
            let pad = (x_max - x_min) * 0.05;
            (x_min - pad, x_max + pad)
        } else if x_min.is_finite() {
            (
                x_min - 0.5_f64.max(x_min.abs() * 0.1),
                x_max + 0.5_f64.max(x_max.abs() * 0.1),
            )
        } else {
            (0.0, 1.0)
        };
        let ys = || {
            self.lines.iter().flat_map(|l| {
                l.points
                    .iter()
                    .flat_map(|p| [Some(p.mean), p.lo, p.hi])
                    .flatten()
            })
        };
        let y_max = ys().fold(0.0, f64::max);
        let y_min_pos = ys().filter(|y| *y > 0.0).fold(f64::INFINITY, f64::min);
        let (y_lo, y_hi, ticks) = match self.y_axis {
            YAxis::LogTime => fitted_log_time(y_min_pos, y_max),
            _ => {
                let hi = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
                (0.0, hi, Vec::new())
            }
        };
        let to_y = |v: f64| match self.y_axis {
            YAxis::LogTime => v.max(1e-3).log10().clamp(y_lo, y_hi),
            _ => v,
        };
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            .margin_right(s.px(28.0))
            .margin_top(s.px(12.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(80.0))
            .build_cartesian_2d(
                Ticked::new(x_lo..x_hi, self.x_ticks(x_lo, x_hi)),
                Ticked::new(y_lo..y_hi, ticks.clone()),
            )
            .map_err(de)?;
        let y_axis = self.y_axis;
        let y_format = move |v: &f64| match y_axis {
            YAxis::LogTime => time_label(*v),
            YAxis::Percent => format!("{:.1}%", v * 100.0),
            YAxis::Linear => compact(*v),
        };
        let x_format = |v: &f64| self.x_text(*v);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT);
        if ticks.is_empty() {
            mesh.y_labels(8);
        }
        mesh.draw().map_err(de)?;
        for l in &self.lines {
            let c = rail_colour(l.colour);
            let band: Vec<(f64, f64)> = l
                .points
                .iter()
                .filter_map(|p| Some((p.x, to_y(p.hi?))))
                .chain(
                    l.points
                        .iter()
                        .rev()
                        .filter_map(|p| Some((p.x, to_y(p.lo?.max(0.0))))),
                )
                .collect();
            if band.len() >= 2 * l.points.len() && l.points.len() > 1 {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))
                    .map_err(de)?;
            }
            for p in &l.points {
                if let (Some(lo), Some(hi)) = (p.lo, p.hi) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(p.x, to_y(lo.max(0.0))), (p.x, to_y(hi))],
                            s.thin(c),
                        )))
                        .map_err(de)?;
                }
            }
            styled_line(
                &mut chart,
                l.points.iter().map(|p| (p.x, to_y(p.mean))).collect(),
                l.marker,
                s.line(c),
                s,
            )?;
            chart
                .draw_series(
                    l.points
                        .iter()
                        .map(|p| marker((p.x, to_y(p.mean)), l.marker, c, true, s)),
                )
                .map_err(de)?;
            chart
                .draw_series(
                    l.failed
                        .iter()
                        .map(|x| marker((*x, y_lo), l.marker, c, false, s)),
                )
                .map_err(de)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINTS: &str = "point,scenario,load,banks,rail,corridor,replications,latency_s_p99_mean,latency_s_p99_ci95_lo,latency_s_p99_ci95_hi,stale_rate_mean,stale_rate_ci95_lo,stale_rate_ci95_hi
0,s,600s,2,a,all,3,10,9,11,,,
0,s,600s,2,a,X,3,99,99,99,,,
0,s,600s,2,btc@b,chain,3,,,,0.01,0.005,0.015
1,s,60s,2,a,all,3,20,18,22,,,
1,s,60s,2,btc@b,chain,3,,,,0.03,0.02,0.04
2,s,60s,x,a,all,3,30,,,,,
";

    #[test]
    fn axes_and_lines_of_a_two_axis_sweep() {
        let t = Table::parse(POINTS.as_bytes()).unwrap();
        assert_eq!(grid_axes(&t), vec!["load", "banks"]);
        assert_eq!(numeric_axes(&t), vec!["load"]);
        let lines = band_lines(&t, "latency_s_p99", "load", false);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].label, "a (banks 2)");
        // Sorted by x: 60 s before 600 s.
        assert_eq!(lines[0].points[0].x, 60.0);
        assert_eq!(lines[0].points[0].lo, Some(18.0));
        assert_eq!(lines[1].marker, 1);
        assert_eq!(lines[1].points[0].hi, None);
        assert!(lines[0].failed.is_empty());
        let chains = band_lines(&t, "stale_rate", "load", true);
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0].points.len(), 2);
    }
}
