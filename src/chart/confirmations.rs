//! Confirmations against reversal risk and waiting time, for proof-of-work chains: left, the probability that an
//! attacker with the chain's assumed hash share (`attacker_share`, Rosenfeld 2014's exact catch-up probability, as
//! in chains.csv's `reversal_risk` and `settlesim risk`) reverses a payment credited after z confirmations; right,
//! the expected wait for z confirmations at the chain's measured block interval, with the run's measured median
//! credit time at the receiver's own depth. Chains with finality (proof of stake, BFT) have no such trade-off and
//! are named in a note.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::data::Table;
use super::style::{self, Style, rail_colour};
use super::{DrawResult, Figure, LegendMark, de, legend_row, marker, noted, styled_line, titled};
use crate::model::chain::risk::rosenfeld;
use crate::units::human_duration_s;

/// Confirmations drawn: 0 to this.
pub const Z_MAX: u32 = 12;
/// Risks below this are drawn on the floor of the log axis (one in a billion).
const RISK_FLOOR: f64 = 1e-9;

/// One proof-of-work chain (per rail in mirror mode).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainRisk {
    pub chain: String,
    pub rail: String,
    pub colour: usize,
    pub attacker_share: f64,
    /// Measured mean block interval, seconds.
    pub interval_s: f64,
    /// The receiving platform's confirmations.
    pub receiver_z: Option<u32>,
    /// The rail's measured median broadcast-to-credit time (summary.csv `chain_settlement_s_p50`).
    pub credit_p50_s: Option<f64>,
    /// Reversal risk at z = 0..=Z_MAX.
    pub risk: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Confirmations {
    pub chains: Vec<ChainRisk>,
    /// Chains with finality, one sentence each.
    pub notes: Vec<String>,
}

/// The figure's data from chains.csv (one row per chain and rail), summary.csv (the credit time) and each
/// chain's attacker share (`share(chain)`: from the scenario, 0.1 by default). `rails` fixes the colours.
pub fn from_tables(
    chains: &Table,
    summary: &Table,
    rails: &[String],
    share: &dyn Fn(&str) -> f64,
) -> Confirmations {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for r in &chains.rows {
        let chain = chains.text(r, "chain").to_string();
        let rail = chains.text(r, "rail").to_string();
        let credit_p50_s = summary
            .filter("corridor", "all")
            .find(|s| summary.text(s, "rail") == rail)
            .and_then(|s| summary.num(s, "chain_settlement_s_p50"));
        if chains.text(r, "consensus") != "nakamoto" {
            notes.push(format!(
                "{chain} ({rail}, {}): credited at finality, reversal risk 0 once final{}.",
                chains.text(r, "consensus"),
                credit_p50_s.map_or_else(String::new, |t| format!(
                    "; median credit {}",
                    human_duration_s(t)
                ))
            ));
            continue;
        }
        let Some(interval_s) = chains.num(r, "block_interval_s_mean") else {
            continue;
        };
        let q = share(&chain);
        out.push(ChainRisk {
            colour: rails.iter().position(|x| *x == rail).unwrap_or(0),
            chain,
            rail,
            attacker_share: q,
            interval_s,
            receiver_z: chains.text(r, "receiver_confirmations").parse::<u32>().ok(),
            credit_p50_s,
            risk: (0..=Z_MAX).map(|z| rosenfeld(q, z)).collect(),
        });
    }
    Confirmations { chains: out, notes }
}

/// A probability as text: "5.6%", "0.024%", "3e-7".
pub fn risk_text(p: f64) -> String {
    if p >= 0.01 {
        format!("{:.1}%", p * 100.0)
    } else if p >= 1e-4 {
        format!("{:.2}%", p * 100.0)
    } else if p >= 1e-5 {
        format!("{:.3}%", p * 100.0)
    } else {
        format!("{p:.0e}")
    }
}

/// A power of ten (log10 `v`) as a probability: "100%", "1%", "0.01%", "1e-6".
fn decade_text(v: f64) -> String {
    let e = v.round() as i32;
    if e >= -4 {
        let pct = 10_f64.powi(e + 2);
        let decimals = (-(e + 2)).max(0) as usize;
        format!("{pct:.decimals$}%")
    } else {
        format!("1e{e}")
    }
}

impl Figure for Confirmations {
    fn name(&self) -> String {
        "confirmations".into()
    }
    fn caption(&self) -> String {
        "Left: the probability that a double-spending attacker with the chain's assumed hash share reverses a \
payment credited after z confirmations (Rosenfeld 2014, log scale). Right: the expected wait for z confirmations \
at the measured block interval; the filled marker is the run's median broadcast-to-credit time at the receiver's \
own depth."
            .into()
    }
    fn message(&self) -> Option<String> {
        let c = self.chains.first()?;
        let z = c.receiver_z?;
        let risk_at = |z: u32| c.risk.get(z as usize).copied();
        let mut m = format!(
            "{} credits after {z} confirmation{} ({}): a {:.0}% attacker reverses {} of such payments",
            c.chain,
            if z == 1 { "" } else { "s" },
            c.credit_p50_s.map_or_else(
                || format!("about {}", human_duration_s(z as f64 * c.interval_s)),
                |t| format!("median {}", human_duration_s(t))
            ),
            c.attacker_share * 100.0,
            risk_text(risk_at(z)?)
        );
        if z < 6 {
            m.push_str(&format!(
                "; 6 (about {}) would cut it to {}",
                human_duration_s(6.0 * c.interval_s),
                risk_text(risk_at(6)?)
            ));
        }
        Some(m)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let area = titled(
            area,
            "Confirmations: reversal risk against waiting time",
            "proof-of-work chains at their assumed attacker share; marker: the receiver's own depth",
            s,
        )?;
        let legend: Vec<_> = self
            .chains
            .iter()
            .map(|c| {
                (
                    format!(
                        "{} ({}): attacker {:.0}%, block every {}",
                        c.chain,
                        c.rail,
                        c.attacker_share * 100.0,
                        human_duration_s(c.interval_s)
                    ),
                    rail_colour(c.colour),
                    LegendMark::Series {
                        marker: c.colour,
                        dash: c.colour,
                    },
                )
            })
            .collect();
        let area = legend_row(&area, &legend, s)?;
        let area = noted(&area, &self.notes, s)?;
        let (w, _) = area.dim_in_pixel();
        let (left, right) = area.split_horizontally(w / 2);
        self.draw_risk(&left, s)?;
        self.draw_wait(&right, s)
    }
}

impl Confirmations {
    fn draw_risk<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: &Style,
    ) -> DrawResult {
        let min = self
            .chains
            .iter()
            .flat_map(|c| c.risk.iter().copied())
            .fold(1.0, f64::min)
            .max(RISK_FLOOR);
        let lo = min.log10().floor();
        let step = ((-lo) / 5.0).ceil().max(1.0);
        let ticks: Vec<f64> = (0..)
            .map(|k| -(k as f64) * step)
            .take_while(|v| *v >= lo)
            .collect();
        let mut chart = ChartBuilder::on(area)
            .margin_left(s.px(8.0))
            .margin_right(s.px(14.0))
            .margin_top(s.px(10.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(64.0))
            .build_cartesian_2d(
                Ticked::new(-0.3..Z_MAX as f64 + 0.3, Vec::new()),
                Ticked::new(lo..0.1, ticks),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("confirmations z")
            .y_desc("reversal risk (log scale)")
            .x_labels(7)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| decade_text(*v))
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        for c in self.chains.iter() {
            let colour = rail_colour(c.colour);
            let pts: Vec<(f64, f64)> = c
                .risk
                .iter()
                .enumerate()
                .map(|(z, p)| (z as f64, p.max(RISK_FLOOR).log10().max(lo)))
                .collect();
            styled_line(&mut chart, pts.clone(), c.colour, s.line(colour), s)?;
            if let Some(z) = c.receiver_z
                && let Some(p) = pts.get(z as usize)
            {
                chart
                    .draw_series(std::iter::once(marker(*p, c.colour, colour, true, s)))
                    .map_err(de)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("z = {z}: {}", risk_text(c.risk[z as usize])),
                        (p.0 + 0.4, p.1),
                        s.note().pos(Pos::new(HPos::Left, VPos::Bottom)),
                    )))
                    .map_err(de)?;
            }
        }
        Ok(())
    }

    fn draw_wait<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: &Style,
    ) -> DrawResult {
        let top = self
            .chains
            .iter()
            .flat_map(|c| [c.interval_s * Z_MAX as f64, c.credit_p50_s.unwrap_or(0.0)])
            .fold(60.0, f64::max);
        // Minutes up to four hours, hours beyond (with a decimal, so ticks never repeat).
        let (unit, unit_s, decimals) = if top > 4.0 * 3600.0 {
            ("h", 3600.0, 1)
        } else {
            ("min", 60.0, 0)
        };
        let mut chart = ChartBuilder::on(area)
            .margin_left(s.px(8.0))
            .margin_right(s.px(20.0))
            .margin_top(s.px(10.0))
            .margin_bottom(s.px(8.0))
            .x_label_area_size(s.px(52.0))
            .y_label_area_size(s.px(56.0))
            .build_cartesian_2d(
                Ticked::new(-0.3..Z_MAX as f64 + 0.3, Vec::new()),
                Ticked::new(0.0..top * 1.08 / unit_s, Vec::new()),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("confirmations z")
            .y_desc(format!("expected wait ({unit})"))
            .x_labels(7)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .label_style(s.tick())
            .axis_desc_style(s.label())
            .bold_line_style(s.thin(style::GRID))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(de)?;
        for c in self.chains.iter() {
            let colour = rail_colour(c.colour);
            let pts: Vec<(f64, f64)> = (0..=Z_MAX)
                .map(|z| (z as f64, z as f64 * c.interval_s / unit_s))
                .collect();
            styled_line(&mut chart, pts, c.colour, s.line(colour), s)?;
            if let (Some(z), Some(t)) = (c.receiver_z, c.credit_p50_s) {
                let at = (z as f64, t / unit_s);
                chart
                    .draw_series(std::iter::once(marker(at, c.colour, colour, true, s)))
                    .map_err(de)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("measured p50 {}", human_duration_s(t)),
                        (at.0 + 0.4, at.1),
                        s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                    )))
                    .map_err(de)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_of_work_rows_become_curves_and_finality_rows_notes() {
        let chains = Table::parse(
            b"chain,rail,consensus,block_interval_s_mean,receiver_confirmations\n\
bitcoin,btc,nakamoto,600,2\ntron,usdt,pos,3,19\n",
        )
        .unwrap();
        let summary = Table::parse(
            b"rail,corridor,chain_settlement_s_p50\nusdt,all,57\nbtc,all,1000\nbtc,X,5\n",
        )
        .unwrap();
        let f = from_tables(&chains, &summary, &["usdt".into(), "btc".into()], &|_| 0.1);
        assert_eq!(f.chains.len(), 1);
        let c = &f.chains[0];
        assert_eq!(
            (c.colour, c.receiver_z, c.credit_p50_s),
            (1, Some(2), Some(1000.0))
        );
        assert_eq!(c.risk.len(), Z_MAX as usize + 1);
        assert_eq!(c.risk[0], 1.0);
        assert!(c.risk.windows(2).all(|w| w[1] < w[0]));
        assert_eq!(f.notes.len(), 1);
        assert!(f.notes[0].starts_with("tron (usdt, pos)"), "{:?}", f.notes);
        let m = f.message().unwrap();
        assert!(
            m.starts_with(
                "bitcoin credits after 2 confirmations (median 16.7min): a 10% attacker reverses"
            ),
            "{m}"
        );
    }

    #[test]
    fn risks_print_as_percent_or_powers() {
        assert_eq!(risk_text(0.056), "5.6%");
        assert_eq!(risk_text(0.00024), "0.02%");
        assert_eq!(risk_text(3e-7), "3e-7");
        assert_eq!(decade_text(0.0), "100%");
        assert_eq!(decade_text(-2.0), "1%");
        assert_eq!(decade_text(-4.0), "0.01%");
        assert_eq!(decade_text(-6.0), "1e-6");
    }
}
