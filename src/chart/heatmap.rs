//! Heatmap of a metric over two swept parameters: one cell per pair of grid values, coloured on a sequential
//! colour-blind-safe scale (viridis stops), labelled with its value in the metric's unit, with a colour bar. When
//! every cell's 95% interval overlaps every other's, the colours would dramatise noise: the cells are drawn in one
//! neutral colour and a note says no difference is resolved. A cell with no value (nothing settled) says so.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{Table, grid_number, is_chain_row};
use super::style::Style;
use super::{DrawResult, Figure, de, noted, titled};

/// The x values, the y values, and `values[y][x]`.
pub type Grid = (Vec<String>, Vec<String>, Vec<Vec<Option<f64>>>);

#[derive(Clone, Debug)]
pub struct Heatmap {
    pub name: String,
    pub title: String,
    pub subtitle: String,
    pub caption: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// `values[y][x]`; None where the point has no value.
    pub values: Vec<Vec<Option<f64>>>,
    /// The 95% intervals, `intervals[y][x]` (None with one replication).
    pub intervals: Vec<Vec<Option<(f64, f64)>>>,
    pub format: CellFormat,
    /// The colour bar's label, with the unit.
    pub unit: String,
}

/// How a cell's value is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellFormat {
    /// Seconds, written as a duration ("18.9h").
    Duration,
    /// A fraction, written in percent.
    Percent,
    /// A number with this many decimals.
    Number(usize),
}

impl CellFormat {
    pub fn text(self, v: f64) -> String {
        match self {
            CellFormat::Duration => crate::units::human_duration_s(v),
            CellFormat::Percent => format!("{:.2}%", v * 100.0),
            CellFormat::Number(d) => format!("{v:.d$}"),
        }
    }
}

impl Heatmap {
    /// Whether every cell's 95% interval overlaps every other's (some value lies in all of them): the differences
    /// between cells are then within replication noise. False without intervals.
    pub fn within_intervals(&self) -> bool {
        let all: Vec<(f64, f64)> = self.intervals.iter().flatten().flatten().copied().collect();
        let known = self.values.iter().flatten().flatten().count();
        if all.len() < 2 || all.len() < known {
            return false;
        }
        let lo = all.iter().map(|i| i.0).fold(f64::NEG_INFINITY, f64::max);
        let hi = all.iter().map(|i| i.1).fold(f64::INFINITY, f64::min);
        lo <= hi
    }

    /// Whether the heatmap has nothing to show: no value, or every value zero.
    pub fn is_empty_or_zero(&self) -> bool {
        self.values.iter().flatten().flatten().all(|v| *v == 0.0)
    }
}

/// The `_ci95_lo`/`_ci95_hi` of `metric` laid out like `grid`'s values.
pub fn grid_intervals(
    points: &Table,
    metric: &str,
    (x, y): (&str, &str),
    (xs, ys): (&[String], &[String]),
    rail: &str,
    chain: bool,
) -> Vec<Vec<Option<(f64, f64)>>> {
    let mut out = vec![vec![None; xs.len()]; ys.len()];
    for r in points.rows.iter().filter(|r| {
        is_chain_row(points, r) == chain
            && points.text(r, "rail") == rail
            && (chain || points.text(r, "corridor") == "all")
    }) {
        let (Some(i), Some(j)) = (
            xs.iter().position(|v| v == points.text(r, x)),
            ys.iter().position(|v| v == points.text(r, y)),
        ) else {
            continue;
        };
        if let (Some(lo), Some(hi)) = (
            points.num(r, &format!("{metric}_ci95_lo")),
            points.num(r, &format!("{metric}_ci95_hi")),
        ) {
            out[j][i] = Some((lo, hi));
        }
    }
    out
}

/// The values of `metric` (`_mean` column) for one row selector over the two grid axes `x` and `y`, each axis
/// ordered by its numeric value (or text when not numeric).
pub fn grid(
    points: &Table,
    metric: &str,
    x: &str,
    y: &str,
    rail: &str,
    chain: bool,
) -> Option<Grid> {
    let rows: Vec<&Vec<String>> = points
        .rows
        .iter()
        .filter(|r| {
            is_chain_row(points, r) == chain
                && points.text(r, "rail") == rail
                && (chain || points.text(r, "corridor") == "all")
        })
        .collect();
    let values_of = |axis: &str| {
        let mut v: Vec<String> = Vec::new();
        for r in &rows {
            let t = points.text(r, axis).to_string();
            if !v.contains(&t) {
                v.push(t);
            }
        }
        v.sort_by(|a, b| match (grid_number(a), grid_number(b)) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => a.cmp(b),
        });
        v
    };
    let (xs, ys) = (values_of(x), values_of(y));
    if xs.len() < 2 || ys.len() < 2 {
        return None;
    }
    let mut values = vec![vec![None; xs.len()]; ys.len()];
    for r in rows {
        let i = xs.iter().position(|v| v == points.text(r, x))?;
        let j = ys.iter().position(|v| v == points.text(r, y))?;
        values[j][i] = points.num(r, &format!("{metric}_mean"));
    }
    Some((xs, ys, values))
}

/// Viridis at t in [0, 1] (five stops, linear in between): dark blue for low, yellow for high.
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 5] = [
        (68, 1, 84),
        (59, 82, 139),
        (33, 145, 140),
        (94, 201, 98),
        (253, 231, 37),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Figure for Heatmap {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn caption(&self) -> String {
        self.caption.clone()
    }
    fn message(&self) -> Option<String> {
        let cells: Vec<(usize, usize, f64)> = self
            .values
            .iter()
            .enumerate()
            .flat_map(|(y, row)| {
                row.iter()
                    .enumerate()
                    .filter_map(move |(x, v)| v.map(|v| (x, y, v)))
            })
            .collect();
        let lo = cells.iter().min_by(|a, b| a.2.total_cmp(&b.2))?;
        let hi = cells.iter().max_by(|a, b| a.2.total_cmp(&b.2))?;
        let at = |c: &(usize, usize, f64)| {
            format!(
                "{} {}, {} {}",
                self.x_desc.split(" (").next().unwrap_or(""),
                self.x_labels.get(c.0).map_or("", String::as_str),
                self.y_desc.split(" (").next().unwrap_or(""),
                self.y_labels.get(c.1).map_or("", String::as_str)
            )
        };
        let what = self.title.split(" over ").next().unwrap_or(&self.title);
        Some(format!(
            "{what} from {} ({}) to {} ({})",
            self.format.text(lo.2),
            at(lo),
            self.format.text(hi.2),
            at(hi)
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(area, &self.title, &self.subtitle, s)?;
        let flat = self.within_intervals();
        let mut notes = Vec::new();
        if flat {
            notes.push(
                "Every cell lies within every other's 95% interval: the differences are replication noise, so \
the cells share one colour."
                    .to_string(),
            );
        }
        if self.values.iter().flatten().any(Option::is_none) {
            notes.push(
                "\"no value\": no payment settled in that cell (saturated or failed), so the metric is undefined."
                    .to_string(),
            );
        }
        let area = noted(&area, &notes, s)?;
        let (nx, ny) = (self.x_labels.len(), self.y_labels.len());
        let known: Vec<f64> = self.values.iter().flatten().flatten().copied().collect();
        let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (w, _) = area.dim_in_pixel();
        let (area, bar) = area.split_horizontally(w - s.px(if flat { 0.0 } else { 110.0 }));
        if !flat && hi.is_finite() {
            colour_bar(&bar, lo, hi, self.format, &self.unit, s)?;
        }
        let mut chart = ChartBuilder::on(&area)
            .margin(s.px(12.0))
            .x_label_area_size(s.px(44.0))
            .y_label_area_size(s.px(80.0))
            .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)
            .map_err(de)?;
        let xl = self.x_labels.clone();
        let yl = self.y_labels.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&|v| label_at(&xl, *v))
            .y_label_formatter(&|v| label_at(&yl, *v))
            .x_desc(self.x_desc.clone())
            .y_desc(self.y_desc.clone())
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .draw()
            .map_err(de)?;
        for (j, row) in self.values.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let (x, y) = (i as f64, j as f64);
                let (fill, text) = match v {
                    Some(v) if flat => (RGBColor(150, 170, 190), self.format.text(*v)),
                    Some(v) => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        (viridis(t), self.format.text(*v))
                    }
                    None => (RGBColor(235, 235, 235), "no value".to_string()),
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        fill.filled(),
                    )))
                    .map_err(de)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        WHITE.stroke_width(s.px(2.0)),
                    )))
                    .map_err(de)?;
                // Light text on the dark end of the scale, dark text on the light end.
                let luminance =
                    0.2126 * fill.0 as f64 + 0.7152 * fill.1 as f64 + 0.0722 * fill.2 as f64;
                let ink = if luminance < 128.0 { WHITE } else { BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x + 0.5, y + 0.5),
                        s.label()
                            .color(&ink)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .map_err(de)?;
            }
        }
        Ok(())
    }
}

/// A vertical colour bar from `lo` (bottom) to `hi` (top) with the two end values and the unit.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    format: CellFormat,
    unit: &str,
    s: &Style,
) -> DrawResult {
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = (s.px(48.0) as i32, h as i32 - s.px(60.0) as i32);
    let (x0, x1) = (s.px(8.0) as i32, s.px(24.0) as i32);
    let steps = 64;
    for k in 0..steps {
        let t = k as f64 / (steps - 1) as f64;
        let y1 = bottom - ((bottom - top) as f64 * k as f64 / steps as f64) as i32;
        let y0 = bottom - ((bottom - top) as f64 * (k + 1) as f64 / steps as f64) as i32;
        area.draw(&Rectangle::new([(x0, y0), (x1, y1)], viridis(t).filled()))
            .map_err(de)?;
    }
    let font = s.tick().pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new(
        format.text(hi),
        (x1 + s.px(4.0) as i32, top),
        font.clone(),
    ))
    .map_err(de)?;
    area.draw(&Text::new(
        format.text(lo),
        (x1 + s.px(4.0) as i32, bottom),
        font,
    ))
    .map_err(de)?;
    for (k, line) in super::wrap(area, unit, &s.note(), s.px(100.0))
        .into_iter()
        .enumerate()
    {
        area.draw(&Text::new(
            line,
            (x0, s.px(4.0) as i32 + k as i32 * s.px(13.0) as i32),
            s.note(),
        ))
        .map_err(de)?;
    }
    Ok(())
}

/// The label of the cell whose centre is at `v` (cell k spans [k, k + 1)); empty between cells.
fn label_at(labels: &[String], v: f64) -> String {
    let k = v - 0.5;
    if (k - k.round()).abs() < 1e-9 && k >= 0.0 {
        labels.get(k.round() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_land_where_their_grid_values_are() {
        let csv = "point,scenario,a,b,rail,corridor,replications,m_mean\n\
                   0,s,1,10,r,all,2,5.0\n1,s,1,20,r,all,2,6.0\n2,s,2,10,r,all,2,7.0\n3,s,2,20,r,all,2,8.0\n\
                   0,s,1,10,r,X,2,99\n";
        let t = Table::parse(csv.as_bytes()).unwrap();
        let (xs, ys, v) = grid(&t, "m", "a", "b", "r", false).unwrap();
        assert_eq!(
            (xs, ys),
            (
                vec!["1".to_string(), "2".into()],
                vec!["10".to_string(), "20".into()]
            )
        );
        assert_eq!(
            v,
            vec![vec![Some(5.0), Some(7.0)], vec![Some(6.0), Some(8.0)]]
        );
    }

    #[test]
    fn viridis_runs_dark_to_light() {
        let (a, b) = (viridis(0.0), viridis(1.0));
        let sum = |c: RGBColor| c.0 as u32 + c.1 as u32 + c.2 as u32;
        assert!(sum(a) < sum(b));
        assert_eq!(label_at(&["x".into(), "y".into()], 1.5), "y");
        assert_eq!(label_at(&["x".into(), "y".into()], 1.0), "");
    }
}
