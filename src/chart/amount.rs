//! Cost against amount: each rail's cost in bps of the amount, binned by payment size on a log axis (median and
//! the 10th–90th percentile band), from payments.csv. A fixed fee is a falling curve (it weighs more on a small
//! payment); a proportional fee is flat. A least-squares fit of cost = fixed + rate × amount per rail names both
//! parts in the legend. The G20 remittance target (3% at $200) is drawn where it is defined.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::data::Table;
use super::style::{self, REFERENCE, Style, rail_colour};
use super::{DrawResult, Figure, LegendMark, de, legend_row, marker, styled_line, titled};

/// Bins per decade of amount.
const BINS_PER_DECADE: f64 = 4.0;
/// A bin with fewer settled payments than this is not drawn (its percentiles would be noise).
pub const MIN_BIN: usize = 10;

/// Settled payments of one rail in one amount bin: the bin's geometric centre in USD and the cost percentiles.
#[derive(Clone, Debug, PartialEq)]
pub struct AmountBin {
    pub amount_usd: f64,
    pub n: usize,
    pub bps_p10: f64,
    pub bps_p50: f64,
    pub bps_p90: f64,
}

/// One rail's curve and its fitted fixed and proportional cost.
#[derive(Clone, Debug, PartialEq)]
pub struct AmountCurve {
    pub rail: String,
    pub colour: usize,
    pub bins: Vec<AmountBin>,
    /// Least-squares cost_usd = fixed_usd + rate_bps × amount / 10⁴ over the rail's settled payments.
    pub fixed_usd: f64,
    pub rate_bps: f64,
}

#[derive(Clone, Debug)]
pub struct AmountCost {
    pub curves: Vec<AmountCurve>,
}

/// The p-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Ordinary least squares of y on x: (intercept, slope); None with fewer than two distinct x.
pub fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((my - slope * mx, slope))
}

/// The curves of every rail (in `rails` order) from payments.csv: settled payments, excluding duplicates (a
/// duplicate is refunded, its cost is not the cost of a payment).
pub fn curves(payments: &Table, rails: &[String]) -> Vec<AmountCurve> {
    let mut out = Vec::new();
    for (colour, rail) in rails.iter().enumerate() {
        let rows: Vec<(f64, f64, f64)> = payments
            .filter("rail", rail)
            .filter(|r| payments.text(r, "status") == "settled")
            .filter(|r| payments.text(r, "duplicate") != "true")
            .filter_map(|r| {
                Some((
                    payments.num(r, "amount_usd")?,
                    payments.num(r, "cost_bps")?,
                    payments.num(r, "cost_total_usd")?,
                ))
            })
            .filter(|(a, _, _)| *a > 0.0)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let bin_of = |a: f64| (a.log10() * BINS_PER_DECADE).floor() as i64;
        let lo = rows.iter().map(|r| bin_of(r.0)).min().unwrap_or(0);
        let hi = rows.iter().map(|r| bin_of(r.0)).max().unwrap_or(0);
        let mut bins = Vec::new();
        for b in lo..=hi {
            let mut bps: Vec<f64> = rows
                .iter()
                .filter(|r| bin_of(r.0) == b)
                .map(|r| r.1)
                .collect();
            if bps.len() < MIN_BIN {
                continue;
            }
            bps.sort_by(f64::total_cmp);
            bins.push(AmountBin {
                amount_usd: 10_f64.powf((b as f64 + 0.5) / BINS_PER_DECADE),
                n: bps.len(),
                bps_p10: quantile(&bps, 0.1),
                bps_p50: quantile(&bps, 0.5),
                bps_p90: quantile(&bps, 0.9),
            });
        }
        let fit: Vec<(f64, f64)> = rows.iter().map(|r| (r.0, r.2)).collect();
        let (fixed_usd, slope) = least_squares(&fit).unwrap_or((0.0, 0.0));
        out.push(AmountCurve {
            rail: rail.clone(),
            colour,
            bins,
            fixed_usd,
            rate_bps: slope * 1e4,
        });
    }
    out
}

/// Labelled ticks of a log10 axis over [lo, hi] from a list of (value, label).
fn log_ticks(lo: f64, hi: f64, list: &[(f64, &str)]) -> Vec<f64> {
    list.iter()
        .map(|(v, _)| v.log10())
        .filter(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9)
        .collect()
}

fn label_of(v: f64, list: &[(f64, &str)]) -> String {
    list.iter()
        .min_by(|a, b| (a.0.log10() - v).abs().total_cmp(&(b.0.log10() - v).abs()))
        .map_or_else(String::new, |(_, l)| (*l).to_string())
}

const AMOUNT_TICKS: [(f64, &str); 8] = [
    (1.0, "$1"),
    (10.0, "$10"),
    (100.0, "$100"),
    (1e3, "$1k"),
    (1e4, "$10k"),
    (1e5, "$100k"),
    (1e6, "$1M"),
    (1e7, "$10M"),
];

const BPS_TICKS: [(f64, &str); 12] = [
    (1.0, "1 (0.01%)"),
    (3.0, "3"),
    (10.0, "10 (0.1%)"),
    (30.0, "30"),
    (100.0, "100 (1%)"),
    (300.0, "300 (3%)"),
    (1000.0, "1,000 (10%)"),
    (3000.0, "3,000"),
    (1e4, "10,000 (100%)"),
    (3e4, "30,000"),
    (1e5, "100,000"),
    (3e5, "300,000"),
];

/// "$1,234" for amounts, "$12.50" under $100.
pub fn usd(v: f64) -> String {
    if v.abs() < 100.0 {
        format!("${v:.2}")
    } else {
        let whole = format!("{:.0}", v.abs());
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{}${grouped}", if v < 0.0 { "-" } else { "" })
    }
}

impl Figure for AmountCost {
    fn name(&self) -> String {
        "cost-by-amount".into()
    }
    fn caption(&self) -> String {
        format!(
            "Cost in bps of the amount against the payment's size (USD, log axes), per rail: the median of settled \
payments in bins of a quarter decade (bins with fewer than {MIN_BIN} payments left out) with the 10th–90th \
percentile band. A falling curve is a fixed fee weighing on small payments; the legend gives each rail's least-squares \
fixed part and rate. The G20 remittance target is 3% at $200."
        )
    }
    fn message(&self) -> Option<String> {
        // The rail whose small payments pay the most relative to its large ones names the fixed-fee effect.
        fn spread(c: &AmountCurve) -> Option<(&AmountBin, &AmountBin, f64)> {
            let (a, b) = (c.bins.first()?, c.bins.last()?);
            (c.bins.len() >= 2 && b.bps_p50 > 0.0).then(|| (a, b, a.bps_p50 / b.bps_p50))
        }
        let (c, (small, large, ratio)) = self
            .curves
            .iter()
            .filter_map(|c| spread(c).map(|s| (c, s)))
            .max_by(|a, b| a.1.2.total_cmp(&b.1.2))?;
        let cheapest_small = self
            .curves
            .iter()
            .filter_map(|c| c.bins.first().map(|b| (c, b)))
            .min_by(|a, b| a.1.bps_p50.total_cmp(&b.1.bps_p50))?;
        if ratio < 1.5 {
            return Some(format!(
                "Cost hardly depends on size: {} costs {:.0} bps at {} and {:.0} bps at {}",
                c.rail,
                small.bps_p50,
                usd(small.amount_usd),
                large.bps_p50,
                usd(large.amount_usd)
            ));
        }
        Some(format!(
            "Fixed fees make small payments dear: {} charges {:.0} bps at {} but {:.0} bps at {}; cheapest for \
small payments: {}",
            c.rail,
            small.bps_p50,
            usd(small.amount_usd),
            large.bps_p50,
            usd(large.amount_usd),
            cheapest_small.0.rail
        ))
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(
            area,
            "Cost against payment size, per rail",
            "settled payments binned by amount: line the median, band the 10th–90th percentile; legend: \
least-squares fixed part + rate",
            s,
        )?;
        let mut legend: Vec<_> = self
            .curves
            .iter()
            .map(|c| {
                (
                    format!("{}: {} + {:.0} bps", c.rail, usd(c.fixed_usd), c.rate_bps),
                    rail_colour(c.colour),
                    LegendMark::Series {
                        marker: c.colour,
                        dash: c.colour,
                    },
                )
            })
            .collect();
        legend.push((
            "G20 remittances: 3% at $200".into(),
            REFERENCE,
            LegendMark::Dashed,
        ));
        let area = legend_row(&area, &legend, s)?;
        let bins = || self.curves.iter().flat_map(|c| c.bins.iter());
        let (amin, amax) = bins().fold((f64::INFINITY, 0.0_f64), |(lo, hi), b| {
            (lo.min(b.amount_usd), hi.max(b.amount_usd))
        });
        let (bmin, bmax) = bins().fold((f64::INFINITY, 0.0_f64), |(lo, hi), b| {
            (lo.min(b.bps_p10.max(0.5)), hi.max(b.bps_p90))
        });
        if !amin.is_finite() {
            return Ok(());
        }
        let x_lo = (amin.log10() - 0.25).floor().min(200_f64.log10() - 0.2);
        let x_hi = (amax.log10() + 0.25).ceil().max(200_f64.log10() + 0.2);
        // The 300 bps target stays on the axis even when every rail is far below it.
        let y_lo = (bmin.min(300.0).log10() - 0.1).floor();
        let y_hi = (bmax.max(300.0).log10() + 0.1).ceil();
        let mut chart = ChartBuilder::on(&area)
            .margin_left(s.px(12.0))
            .margin_right(s.px(28.0))
            .margin_top(s.px(10.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(104.0))
            .build_cartesian_2d(
                Ticked::new(x_lo..x_hi, log_ticks(x_lo, x_hi, &AMOUNT_TICKS)),
                Ticked::new(y_lo..y_hi, thin(log_ticks(y_lo, y_hi, &BPS_TICKS))),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("amount sent (USD, log scale)")
            .y_desc("cost (bps of the amount, log scale)")
            .x_label_formatter(&|v| label_of(*v, &AMOUNT_TICKS))
            .y_label_formatter(&|v| label_of(*v, &BPS_TICKS))
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        let g20 = 300_f64.log10();
        let x200 = 200_f64.log10();
        chart
            .draw_series(DashedLineSeries::new(
                [(x_lo, g20), (x_hi, g20)],
                s.px(6.0),
                s.px(4.0),
                s.thin(REFERENCE),
            ))
            .map_err(de)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(x200, y_lo), (x200, y_hi)],
                s.px(3.0),
                s.px(3.0),
                s.thin(REFERENCE),
            ))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "$200",
                (x200 + 0.03, y_hi - 0.02 * (y_hi - y_lo)),
                s.note().pos(Pos::new(HPos::Left, VPos::Top)),
            )))
            .map_err(de)?;
        let ly = |v: f64| v.max(0.5).log10().clamp(y_lo, y_hi);
        for c in self.curves.iter() {
            let colour = rail_colour(c.colour);
            let band: Vec<(f64, f64)> = c
                .bins
                .iter()
                .map(|b| (b.amount_usd.log10(), ly(b.bps_p90)))
                .chain(
                    c.bins
                        .iter()
                        .rev()
                        .map(|b| (b.amount_usd.log10(), ly(b.bps_p10))),
                )
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, colour.mix(0.12))))
                .map_err(de)?;
            let line: Vec<(f64, f64)> = c
                .bins
                .iter()
                .map(|b| (b.amount_usd.log10(), ly(b.bps_p50)))
                .collect();
            styled_line(&mut chart, line.clone(), c.colour, s.line(colour), s)?;
            chart
                .draw_series(line.iter().map(|p| marker(*p, c.colour, colour, true, s)))
                .map_err(de)?;
        }
        Ok(())
    }
}

/// Every other tick when a log axis has more than seven (the labels would crowd).
fn thin(ticks: Vec<f64>) -> Vec<f64> {
    if ticks.len() > 7 {
        ticks.into_iter().step_by(2).collect()
    } else {
        ticks
    }
}

impl AmountCost {
    /// True when no rail has a bin to draw (too few settled payments).
    pub fn is_empty(&self) -> bool {
        self.curves.iter().all(|c| c.bins.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_fee_is_recovered_by_the_fit_and_falls_in_bps() {
        // Cost = $5 + 50 bps: at $100 that is 550 bps, at $10,000 it is 55 bps.
        let mut csv = String::from("rail,status,duplicate,amount_usd,cost_bps,cost_total_usd\n");
        for k in 0..400 {
            let amount = 10_f64.powf(2.0 + 2.0 * k as f64 / 400.0);
            let cost = 5.0 + amount * 0.005;
            csv.push_str(&format!(
                "a,settled,false,{amount},{},{cost}\n",
                cost / amount * 1e4
            ));
        }
        // A failed payment and a duplicate are not costs of settled payments.
        csv.push_str("a,failed,false,100,99999,999\na,settled,true,100,99999,999\n");
        let t = Table::parse(csv.as_bytes()).unwrap();
        let c = &curves(&t, &["a".into(), "b".into()])[0];
        assert!((c.fixed_usd - 5.0).abs() < 1e-6, "{}", c.fixed_usd);
        assert!((c.rate_bps - 50.0).abs() < 1e-6, "{}", c.rate_bps);
        assert_eq!(c.bins.len(), 8);
        assert!(c.bins.windows(2).all(|w| w[1].bps_p50 < w[0].bps_p50));
        assert!(c.bins[0].bps_p50 > 400.0 && c.bins[7].bps_p50 < 70.0);
        let fig = AmountCost {
            curves: vec![c.clone()],
        };
        let m = fig.message().unwrap();
        assert!(
            m.starts_with("Fixed fees make small payments dear: a charges"),
            "{m}"
        );
    }

    #[test]
    fn dollar_amounts_are_grouped() {
        assert_eq!(usd(12.5), "$12.50");
        assert_eq!(usd(1234.4), "$1,234");
        assert_eq!(usd(-1_234_567.0), "-$1,234,567");
    }
}
