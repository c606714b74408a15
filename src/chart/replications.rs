//! Spread across replications: for one headline metric, each rail's value in every replication of a sweep point
//! (runs.csv) as a dot, with the mean and its 95% confidence interval (points.csv), drawn as the deviation from the
//! mean in percent so that rails of very different magnitudes share one axis. Each row is labelled with the mean and
//! interval in the metric's own unit.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::data::{Table, is_chain_row};
use super::style::{self, REFERENCE, Style, rail_colour};
use super::{DrawResult, Figure, de, marker, noted, titled};
use crate::units::human_duration_s;

/// Rows drawn at most; a larger sweep is summarised in a note.
pub const MAX_ROWS: usize = 12;

/// One rail at one sweep point.
#[derive(Clone, Debug, PartialEq)]
pub struct SpreadRow {
    pub label: String,
    pub colour: usize,
    /// The metric in each replication, in run order.
    pub values: Vec<f64>,
    pub mean: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Spread {
    /// points.csv stem of the metric (`latency_s_p99`).
    pub metric: String,
    /// The metric in words (`p99 end-to-end latency`).
    pub what: String,
    /// Values are seconds (shown as durations) rather than bps.
    pub duration: bool,
    pub replications: usize,
    pub rows: Vec<SpreadRow>,
    pub notes: Vec<String>,
}

/// The rows of `metric` for every (point, rail) of a sweep with at least two replications, from points.csv
/// (mean, interval) and runs.csv (the replications), corridor `all`, rails only. `rails` fixes the colours; with
/// more than one point the label names the point's grid values (`axes`).
pub fn rows(
    points: &Table,
    runs: &Table,
    metric: &str,
    rails: &[String],
    axes: &[String],
) -> Vec<SpreadRow> {
    let mut out = Vec::new();
    for p in points
        .filter("corridor", "all")
        .filter(|r| !is_chain_row(points, r))
    {
        let point = points.text(p, "point");
        let rail = points.text(p, "rail");
        let Some(mean) = points.num(p, &format!("{metric}_mean")) else {
            continue;
        };
        let values: Vec<f64> = runs
            .filter("point", point)
            .filter(|r| runs.text(r, "rail") == rail && runs.text(r, "corridor") == "all")
            .filter_map(|r| runs.num(r, metric))
            .collect();
        if values.len() < 2 {
            continue;
        }
        let grid: Vec<String> = axes
            .iter()
            .map(|a| format!("{}={}", super::labels::field_name(a), points.text(p, a)))
            .collect();
        out.push(SpreadRow {
            label: if grid.is_empty() {
                rail.to_string()
            } else {
                format!("{rail} · {}", grid.join(", "))
            },
            colour: rails.iter().position(|x| x == rail).unwrap_or(0),
            values,
            mean,
            lo: points.num(p, &format!("{metric}_ci95_lo")),
            hi: points.num(p, &format!("{metric}_ci95_hi")),
        });
    }
    out
}

impl Spread {
    fn value_text(&self, v: f64) -> String {
        if self.duration {
            human_duration_s(v)
        } else {
            format!("{v:.0} bps")
        }
    }
    /// Deviation of `v` from the row's mean in percent.
    fn dev(row: &SpreadRow, v: f64) -> f64 {
        if row.mean == 0.0 {
            0.0
        } else {
            (v / row.mean - 1.0) * 100.0
        }
    }
    /// Half the 95% interval in percent of the mean.
    fn half_width(row: &SpreadRow) -> Option<f64> {
        let (lo, hi) = (row.lo?, row.hi?);
        (row.mean != 0.0).then(|| (hi - lo) / 2.0 / row.mean.abs() * 100.0)
    }
}

impl Figure for Spread {
    fn name(&self) -> String {
        format!("replications-{}", self.metric.replace('_', "-"))
    }
    fn caption(&self) -> String {
        format!(
            "{} in each of {} replications (dots) as the deviation from the mean, with the 95% confidence \
interval of the mean (bar); each row gives the mean and interval in its own unit.",
            capitalise(&self.what),
            self.replications
        )
    }
    fn message(&self) -> Option<String> {
        let widest = self
            .rows
            .iter()
            .filter_map(|r| Self::half_width(r).map(|h| (r, h)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        Some(format!(
            "{} replications pin every rail's {} to within ±{:.1}% of its mean (95% interval; widest: {})",
            self.replications, self.what, widest.1, widest.0.label
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(
            area,
            &format!(
                "Spread across {} replications: {}",
                self.replications, self.what
            ),
            "dots: one replication each; bar: 95% confidence interval of the mean; x: deviation from the mean",
            s,
        )?;
        let area = noted(&area, &self.notes, s)?;
        let reach = self
            .rows
            .iter()
            .flat_map(|r| {
                r.values
                    .iter()
                    .map(|v| Self::dev(r, *v))
                    .chain(r.lo.map(|v| Self::dev(r, v)))
                    .chain(r.hi.map(|v| Self::dev(r, v)))
                    .collect::<Vec<_>>()
            })
            .fold(1.0_f64, |m, d| m.max(d.abs()))
            * 1.15;
        let n = self.rows.len().max(1);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(14.0))
            .margin_right(s.px(28.0))
            .margin_top(s.px(6.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(0.0))
            .build_cartesian_2d(
                Ticked::new(-reach..reach, Vec::new()),
                Ticked::new(-0.5..n as f64 - 0.5, Vec::new()),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc("deviation from the mean (%)")
            .x_label_formatter(&|v| {
                if v.abs() < 1e-9 {
                    "0%".to_string()
                } else {
                    format!("{v:+.0}%")
                }
            })
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                s.thin(REFERENCE),
            )))
            .map_err(de)?;
        for (i, r) in self.rows.iter().enumerate() {
            // Row i at y = n − 1 − i (the first row on top): its label above, its dots and bar below.
            let y = (n - 1 - i) as f64;
            let c = rail_colour(r.colour);
            let interval = match (r.lo, r.hi) {
                (Some(lo), Some(hi)) => {
                    format!(" [95%: {} – {}]", self.value_text(lo), self.value_text(hi))
                }
                _ => String::new(),
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{}: mean {}{interval}", r.label, self.value_text(r.mean)),
                    (-reach, y + 0.42),
                    s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                )))
                .map_err(de)?;
            // The replications as hollow dots on one line, the interval as a bar just under them.
            let (yd, yb) = (y - 0.02, y - 0.26);
            if let (Some(lo), Some(hi)) = (r.lo, r.hi) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(Self::dev(r, lo), yb), (Self::dev(r, hi), yb)],
                        c.stroke_width(s.px(4.0)),
                    )))
                    .map_err(de)?;
            }
            chart
                .draw_series(
                    r.values
                        .iter()
                        .map(|v| marker((Self::dev(r, *v), yd), 0, c, false, s)),
                )
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, yb - 0.1), (0.0, yd + 0.1)],
                    BLACK.stroke_width(s.px(2.0)),
                )))
                .map_err(de)?;
        }
        Ok(())
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pair_points_with_their_replications() {
        let points = Table::parse(
            b"point,rail,corridor,latency_s_p99_mean,latency_s_p99_ci95_lo,latency_s_p99_ci95_hi\n\
0,a,all,100,90,110\n0,a,X,1,1,1\n0,c,chain,5,5,5\n0,b,all,10,,\n",
        )
        .unwrap();
        let runs = Table::parse(
            b"run,point,rail,corridor,latency_s_p99\n0,0,a,all,95\n0,0,a,X,1\n0,0,b,all,10\n1,0,a,all,105\n",
        )
        .unwrap();
        let r = rows(
            &points,
            &runs,
            "latency_s_p99",
            &["b".into(), "a".into()],
            &[],
        );
        // b has one replication: no spread to draw.
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].values, vec![95.0, 105.0]);
        assert_eq!(
            (r[0].colour, r[0].lo, r[0].hi),
            (1, Some(90.0), Some(110.0))
        );
        let fig = Spread {
            metric: "latency_s_p99".into(),
            what: "p99 latency".into(),
            duration: true,
            replications: 2,
            rows: r,
            notes: Vec::new(),
        };
        assert_eq!(Spread::half_width(&fig.rows[0]), Some(10.0));
        assert_eq!(
            fig.message().unwrap(),
            "2 replications pin every rail's p99 latency to within ±10.0% of its mean (95% interval; widest: a)"
        );
    }
}
