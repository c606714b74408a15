//! `settlesim report DIR`: a publishable report of one run, from its result files only: `report.md` (figures as
//! SVG files beside it) and a self-contained `report.html` (figures inline as SVG). What the scenario models, a
//! headline table per rail with the G20 targets, the figures, for the flagship a claims-vs-measured table, and
//! the provenance (command line, scenario sha256, seed, version, digest) under every figure and table.

use std::path::{Path, PathBuf};

use crate::app::AppError;
use crate::app::chart::{self, DirKind, Loaded};
use crate::chart::data::{COST_COMPONENTS, Table};
use crate::output::staging::{Kind, Staged};
use crate::output::verify::ResultDir;
use crate::output::write_atomic;
use crate::units::human_duration_s;

#[derive(Clone, Debug)]
pub struct ReportArgs {
    pub dir: PathBuf,
    pub out: Option<PathBuf>,
    /// Check the manifest and the hash of every file read (off with `--no-verify`).
    pub verify: bool,
    /// Replace `--out` even if it is a directory settlesim did not write.
    pub force: bool,
    /// Page size and titles of the figures (`--size`, `--publication`).
    pub render: chart::Render,
}

/// A table: header and rows of cells (plain text).
pub(crate) struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One section of the report, rendered to Markdown and HTML alike.
pub(crate) enum Block {
    Heading(String),
    Para(String),
    Table(Grid),
    Figure {
        name: String,
        caption: String,
        svg: String,
    },
    Provenance,
}

pub fn report(args: &ReportArgs) -> Result<String, AppError> {
    let loaded = chart::load(&args.dir, args.verify)?;
    let results = ResultDir::open(&args.dir, args.verify).map_err(AppError::Usage)?;
    let target = args.out.clone().unwrap_or_else(|| args.dir.join("report"));
    let staged = Staged::begin(&target, Kind::Figures, args.force)?;
    let out = staged.dir().to_path_buf();
    let figures_dir = out.join("figures");
    std::fs::create_dir_all(&figures_dir)
        .map_err(|e| AppError::Io(format!("{}: cannot create: {e}", figures_dir.display())))?;
    let figure_files = chart::write_figures(&loaded, &figures_dir, true, false, &args.render)?;
    let (blocks, provenance) = if loaded.kind == DirKind::Run {
        (
            blocks(&results, &loaded, &args.render)?,
            provenance_lines(&loaded),
        )
    } else {
        (
            crate::app::sweep_report::blocks(&results, &loaded, &args.render)?,
            crate::app::sweep_report::provenance(&loaded),
        )
    };
    let md = markdown(&blocks, &provenance);
    let html = html(&blocks, &provenance, &title(&loaded));
    put(&out, "report.md", md.as_bytes())?;
    put(&out, "report.html", html.as_bytes())?;
    let mut files = vec!["report.md".to_string(), "report.html".to_string()];
    files.extend(figure_files.iter().map(|f| format!("figures/{f}")));
    chart::write_index(&out, &loaded, &files)?;
    staged.commit()?;
    Ok(format!(
        "report in {}: report.md, report.html, figures/ ({} figures)",
        target.display(),
        loaded.figures.len()
    ))
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), AppError> {
    write_atomic(dir, name, bytes)
        .map_err(|e| AppError::Io(format!("{}: cannot write {name}: {e}", dir.display())))
}

fn title(loaded: &Loaded) -> String {
    format!("settlesim report: {}", loaded.provenance.scenario)
}

/// The command line that produced the run, from its manifest.
pub fn command_line(manifest: &serde_json::Value) -> String {
    let mut cmd = "settlesim run".to_string();
    let source = manifest["scenario_source"].as_str().unwrap_or("");
    if !source.starts_with("<embedded") {
        cmd.push(' ');
        cmd.push_str(source);
    }
    for o in manifest["overrides"].as_array().into_iter().flatten() {
        cmd.push_str(&format!(" --set {}", o.as_str().unwrap_or("")));
    }
    cmd
}

fn provenance_lines(loaded: &Loaded) -> String {
    let p = &loaded.provenance;
    format!(
        "Provenance: `{}` · scenario {} sha256 {} · seed {} · settlesim {} · results digest {}",
        command_line(&loaded.manifest),
        p.scenario,
        p.scenario_sha256,
        p.seed,
        p.version,
        p.digest
    )
}

fn blocks(
    dir: &ResultDir,
    loaded: &Loaded,
    render: &chart::Render,
) -> Result<Vec<Block>, AppError> {
    let scenario_text = if dir.has("scenario.toml") {
        String::from_utf8_lossy(&dir.read("scenario.toml").map_err(AppError::Usage)?).into_owned()
    } else {
        String::new()
    };
    let scenario: toml::Table = scenario_text.parse().unwrap_or_default();
    let description = scenario
        .get("description")
        .and_then(|v| v.as_str())
        .unwrap_or("(no description in scenario.toml)");
    // payments.csv is optional (a sweep's runs and trimmed directories drop it): the claims that need single
    // payments say so when it is missing.
    let payments = if dir.has("payments.csv") {
        Some(
            Table::parse(&dir.read("payments.csv").map_err(AppError::Usage)?)
                .map_err(|e| AppError::Usage(format!("{}: payments.csv: {e}", dir.display())))?,
        )
    } else {
        None
    };
    let m = &loaded.manifest;
    let summary = &loaded.summary;
    let rails = crate::chart::data::rails(summary);
    let mut b = vec![
        Block::Heading("What the scenario models".into()),
        Block::Para(format!(
            "**{}**: {description}. Simulated span {} from {}, ended by {}. {} Every figure and number below is \
read from the run's result files; none is re-simulated.",
            loaded.provenance.scenario,
            m["simulated_span"].as_str().unwrap_or(""),
            m["start_utc"].as_str().unwrap_or(""),
            m["ended_by"].as_str().unwrap_or(""),
            demand_sentence(m, summary, &scenario, &rails),
        )),
        Block::Provenance,
        Block::Heading("Headline per rail and corridor".into()),
        Block::Table(headline(summary)),
        Block::Para(
            "Counts are payment records: settled, returned (refunded to the sender, duplicates included), failed, \
still in flight when the run ended. Latency is end to end (initiation to credit of the beneficiary) of settled \
payments; the shares are of all payments. \"Within 1 day\" is 24 hours of calendar time, stricter than the G20's \
\"1 business day\" over weekends. Two cost definitions, both in bps of the amount: the **per-payment mean** \
(summary.csv `cost_bps_mean`: each payment's cost over its amount, averaged; small payments paying fixed fees \
weigh as much as large ones) and the **amount-weighted** cost (total cost over total amount, as in the cost \
figure). G20 speed target (FSB 2021, 2027): 75% credited within 1 hour. These are one run's numbers (one \
seed, no interval): a sweep of the scenario with no grid and `--replications N`, reported with `settlesim report`, \
gives each with its 95% interval."
                .into(),
        ),
    ];
    b.push(Block::Heading(
        "G20 cost targets at the sizes they are defined for".into(),
    ));
    match &payments {
        Some(p) => {
            b.push(Block::Table(g20_table(p, &rails)));
            b.push(Block::Para(
                "The remittance target (3% by 2030) is defined for sending $200: it is applied to settled payments \
of $150–$250. The retail target (1% by 2027) is an average over payments: it is applied to the per-payment mean \
of all settled payments."
                    .into(),
            ));
        }
        None => b.push(Block::Para(
            "Not assessed: the G20 remittance target is defined for $200 payments, and this directory has no \
payments.csv to select them from."
                .into(),
        )),
    }
    if summary.header.iter().any(|h| h == "liquidity_mean_usd") {
        b.push(Block::Heading(
            "Liquidity, cost of capital and settlement risk".into(),
        ));
        b.push(Block::Table(capital_table(summary)));
        b.push(Block::Para(capital_note(&scenario)));
    }
    b.push(Block::Heading("Claims vs measured".into()));
    b.push(Block::Table(claims(
        summary,
        payments.as_ref(),
        &scenario,
        description,
    )));
    b.push(Block::Para(claims_note(summary, payments.is_some())));
    b.push(Block::Heading("Figures".into()));
    let footer = loaded.provenance.footer();
    // The headline figures first (end-to-end latency, cost), then the chain step and the time series.
    let order = |name: &str| {
        [
            "latency-cdf",
            "cost",
            "chain-credit-cdf",
            "throughput",
            "backlog",
        ]
        .iter()
        .position(|n| *n == name)
        .unwrap_or(9)
    };
    let mut figures: Vec<&crate::chart::AnyFigure> = loaded.figures.iter().collect();
    figures.sort_by_key(|f| order(&f.name()));
    b.extend(figure_blocks(loaded, &footer, figures, render)?);
    Ok(b)
}

/// Each figure as an inline SVG block, in the given order, then what was left out and why.
pub(crate) fn figure_blocks<'a>(
    loaded: &Loaded,
    footer: &str,
    figures: impl IntoIterator<Item = &'a crate::chart::AnyFigure>,
    render: &chart::Render,
) -> Result<Vec<Block>, AppError> {
    let mut b = Vec::new();
    for fig in figures {
        let svg = fig
            .svg(footer, &render.style(fig, false))
            .map_err(|e| AppError::Io(format!("figure {}: {e}", fig.name())))?;
        b.push(Block::Figure {
            name: fig.name(),
            caption: fig.caption(),
            svg,
        });
    }
    if !loaded.notes.is_empty() {
        b.push(Block::Para(format!(
            "Left out: {}.",
            loaded.notes.join("; ")
        )));
    }
    Ok(b)
}

/// Demand payments against payment records: in mirror mode every demand payment is replayed on every rail.
fn demand_sentence(
    m: &serde_json::Value,
    summary: &Table,
    scenario: &toml::Table,
    rails: &[String],
) -> String {
    let records = m["payments"].as_u64().unwrap_or(0);
    let mirror = scenario.get("mode").and_then(|v| v.as_str()) == Some("mirror");
    // Per corridor: its rails and its demand (the fewest records of any of its rails: a rail's count exceeds the
    // demand by the duplicates submitted on it).
    let mut corridors: Vec<(String, usize, f64)> = Vec::new();
    for r in &summary.rows {
        let c = summary.text(r, "corridor");
        if c == "all" {
            continue;
        }
        let n = summary.num(r, "payments").unwrap_or(0.0);
        match corridors.iter_mut().find(|(x, _, _)| x == c) {
            Some(e) => {
                e.1 += 1;
                e.2 = e.2.min(n);
            }
            None => corridors.push((c.to_string(), 1, n)),
        }
    }
    if mirror && rails.len() > 1 {
        let demand: f64 = corridors.iter().map(|c| c.2).sum();
        let same = corridors.windows(2).all(|w| w[0].1 == w[1].1);
        let on = if same {
            format!(
                "the {} rails",
                corridors.first().map_or(rails.len(), |c| c.1)
            )
        } else {
            format!(
                "every rail of its corridor ({})",
                corridors
                    .iter()
                    .map(|(c, n, _)| format!("{c} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "{records} payment records: {demand:.0} demand payments, each replayed on {on} (mirror mode; a rail's \
record count differs from the demand by the duplicates submitted on it)."
        )
    } else {
        format!("{records} payment records, each a demand payment routed to one rail.")
    }
}

fn dur(t: &Table, row: &[String], col: &str) -> String {
    t.num(row, col).map_or_else(|| "–".into(), human_duration_s)
}

fn pct(t: &Table, row: &[String], col: &str) -> String {
    t.num(row, col)
        .map_or_else(|| "–".into(), |v| format!("{v:.1}%"))
}

fn yes_no(ok: Option<bool>) -> String {
    match ok {
        Some(true) => "met".into(),
        Some(false) => "not met".into(),
        None => "–".into(),
    }
}

fn count(t: &Table, row: &[String], col: &str) -> String {
    t.num(row, col)
        .map_or_else(|| "–".into(), |v| format!("{v:.0}"))
}

fn headline(summary: &Table) -> Grid {
    let header = [
        "rail",
        "corridor",
        "payments",
        "settled",
        "returned",
        "failed",
        "in flight",
        "p50",
        "p90",
        "p99",
        "within 1 h",
        "within 1 day",
        "cost, per-payment mean (bps)",
        "cost, amount-weighted (bps)",
        "with the cost of capital, per-payment mean (bps)",
        "G20 speed (75% in 1 h)",
    ];
    let rows = summary
        .rows
        .iter()
        .map(|r| {
            let h1 = summary.num(r, "within_1h_pct");
            let amount = summary.num(r, "amount_usd_total").unwrap_or(0.0);
            let weighted = cost_usd(summary, r)
                .filter(|_| amount > 0.0)
                .map(|c| c / amount * 1e4);
            vec![
                summary.text(r, "rail").to_string(),
                summary.text(r, "corridor").to_string(),
                count(summary, r, "payments"),
                count(summary, r, "settled"),
                count(summary, r, "returned"),
                count(summary, r, "failed"),
                count(summary, r, "in_flight"),
                dur(summary, r, "latency_s_p50"),
                dur(summary, r, "latency_s_p90"),
                dur(summary, r, "latency_s_p99"),
                pct(summary, r, "within_1h_pct"),
                pct(summary, r, "within_1d_pct"),
                summary
                    .num(r, "cost_bps_mean")
                    .map_or_else(|| "–".into(), |c| format!("{c:.0}")),
                weighted.map_or_else(|| "–".into(), |c| format!("{c:.0}")),
                summary
                    .num(r, "cost_with_liquidity_bps_mean")
                    .map_or_else(|| "–".into(), |c| format!("{c:.0}")),
                yes_no(h1.map(|v| v >= 75.0)),
            ]
        })
        .collect();
    Grid {
        header: header.iter().map(|s| s.to_string()).collect(),
        rows,
    }
}

/// A summary row's total cost in USD: the components of `COST_COMPONENTS` (the FX column includes the ramp
/// spreads, which have their own column, so they are not counted twice).
fn cost_usd(summary: &Table, row: &[String]) -> Option<f64> {
    let mut total = 0.0;
    for (_, col) in COST_COMPONENTS {
        total += summary.num(row, col)?;
    }
    Some(total - summary.num(row, "ramp_spread_usd_total").unwrap_or(0.0))
}

fn g20_table(payments: &Table, rails: &[String]) -> Grid {
    let bps = |v: Option<f64>| v.map_or_else(|| "–".into(), |c| format!("{c:.0}"));
    let rows = crate::app::claims::g20_costs(payments, rails)
        .into_iter()
        .map(|(rail, n, near, all)| {
            vec![
                rail,
                n.to_string(),
                bps(near),
                yes_no(near.map(|c| c <= 300.0)),
                bps(all),
                yes_no(all.map(|c| c <= 100.0)),
            ]
        })
        .collect();
    Grid {
        header: [
            "rail",
            "settled payments of $150–$250",
            "their cost, per-payment mean (bps)",
            "G20 remittances: ≤ 3% at $200",
            "all settled, per-payment mean (bps)",
            "G20 retail: ≤ 1% average",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
    }
}

/// Every claim of the seeds, one row per rail, each verdict against the baseline rail.
/// Per rail: the liquidity its positions tie up, what that capital costs, and its settlement risk.
fn capital_table(summary: &Table) -> Grid {
    use crate::app::claims::usd;
    let rows = crate::app::claims::capital_figures(summary)
        .into_iter()
        .map(|f| {
            let r = summary
                .filter("corridor", "all")
                .find(|r| summary.text(r, "rail") == f.rail);
            let num = |c: &str| r.and_then(|r| summary.num(r, c));
            let pair = |a: Option<f64>, b: Option<f64>| format!("{} / {}", usd(a), usd(b));
            vec![
                f.rail.clone(),
                usd(f.prefunded_mean),
                usd(num("liquidity_peak_usd")),
                usd(f.per_1m),
                usd(f.in_transit_mean),
                usd(num("on_chain_mean_usd")),
                usd(num("liquidity_cost_usd_total")),
                usd(num("liquidity_idle_cost_usd")),
                pair(f.per_payment, f.per_payment_with),
                format!("{:.0} / {:.0}", f.bps, f.bps_with),
                pair(f.fx_usd_days, f.fx_peak),
                if f.credit_usd_days.is_some() {
                    pair(f.credit_usd_days, f.credit_peak)
                } else {
                    "–".into()
                },
            ]
        })
        .collect();
    Grid {
        header: [
            "rail",
            "pre-funded liquidity, mean",
            "pre-funded, sum of peaks",
            "pre-funded per $1 M of daily flow",
            "funds in flight, mean",
            "of it on a chain",
            "cost of capital (liquidity), allocated",
            "cost of capital, idle",
            "cost per payment: without / with capital",
            "amount-weighted bps: without / with capital",
            "FX settlement exposure: USD × days / peak",
            "members' credit until net settlement: USD × days / peak",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
    }
}

fn capital_note(scenario: &toml::Table) -> String {
    let rates: Vec<String> = scenario
        .get("rates")
        .and_then(|v| v.as_table())
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            Some(format!(
                "{k} {:.2}%",
                v.as_float().or(v.as_integer().map(|i| i as f64))?
            ))
        })
        .collect();
    let rates = if rates.is_empty() {
        "The scenario gives no [rates]: nothing is charged for capital.".to_string()
    } else {
        format!(
            "Rates (scenario.toml [rates], annual, ACT/365, with their sources in the scenario's comments): {}.",
            rates.join(", ")
        )
    };
    format!(
        "Balances come from the ledger's postings (liquidity.csv has every position day by day, exact integrals \
in minor units × µs). Pre-funded liquidity is what a rail's positions hold so that payments can be paid — \
senders' nostros, ramps' and FX providers' inventories, CBDC holdings, a ledger member's advances until net \
settlement — as a time-weighted mean over the demand window, in USD at each hour's mid rate; per $1 M of daily \
flow it is divided by the rail's payments' USD value per day of demand. Accounts that only collect receipts \
(a receiving bank's nostro, the currency a ramp buys) are listed in liquidity.csv as `collection` and not \
counted. Funds in flight are the payments' own value in transit (at banks, ramps and on chains). Cost of capital \
(the `liquidity` component): each hour a position costs ∫ balance dt × its currency's rate; that cost is shared \
among the payments in flight on a route through it, pro rata amount × time in the hour (an hour with no such \
payment passes its cost to the next one; what is left when demand ends is idle). It is not a charge to the \
customer, so costs are shown without and with it. {rates} FX settlement exposure runs from the moment the value \
to be converted into the destination currency is paid to the bank that converts it until that conversion; a \
PvP platform converts in the commit that delivers the transfer, so its exposure is zero by construction."
    )
}

fn claims(
    summary: &Table,
    payments: Option<&Table>,
    scenario: &toml::Table,
    description: &str,
) -> Grid {
    use crate::app::claims as c;
    let mut rows = c::seconds(summary);
    rows.extend(c::cheaper(summary));
    rows.extend(c::liquidity(summary));
    rows.extend(c::settlement_risk(summary));
    if let Some(p) = payments {
        let base = c::baseline(summary);
        rows.extend(c::always_on(
            p,
            &c::corridor_hours(scenario),
            base.as_deref(),
        ));
        rows.extend(c::duplicates(p, summary));
    }
    let merchant = {
        let d = description.to_lowercase();
        d.contains("merchant") || d.contains("qr")
    };
    if merchant {
        rows.extend(c::qr_merchant(summary));
    }
    Grid {
        header: ["claim", "rail", "measured", "verdict"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: rows
            .into_iter()
            .map(|r| vec![r.claim.to_string(), r.rail, r.measured, r.verdict])
            .collect(),
    }
}

fn claims_note(summary: &Table, have_payments: bool) -> String {
    let base = crate::app::claims::baseline(summary);
    let mut s = format!(
        "Baseline rail: {}. Claims from DOMAIN.md \"Claims worth testing\". Business hours are the sending bank's \
calendar (local open to cut-off, Monday–Friday, less holidays). The merchant claim is tested on scenarios that \
describe merchant or QR payments: time at the till is the platform's credit of the deposit (the chain step), the \
fiat arrives in the merchant's bank account at the end-to-end time.",
        base.as_deref().unwrap_or("none (no rail without a chain)")
    );
    if !have_payments {
        s.push_str(
            " The 24/7 and duplicate claims need payments.csv, which this directory does not have: not assessed.",
        );
    }
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn markdown(blocks: &[Block], provenance: &str) -> String {
    let mut out = String::new();
    out.push_str("# settlesim report\n\n");
    for b in blocks {
        match b {
            Block::Heading(h) => out.push_str(&format!("## {h}\n\n")),
            Block::Para(p) => out.push_str(&format!("{p}\n\n")),
            Block::Table(g) => {
                out.push_str(&format!("| {} |\n", g.header.join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(g.header.len())));
                for r in &g.rows {
                    let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                    out.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                out.push('\n');
            }
            Block::Figure { name, caption, .. } => {
                out.push_str(&format!(
                    "![{caption}](figures/{name}.svg)\n\n*{caption}*\n\n"
                ));
            }
            Block::Provenance => out.push_str(&format!("<sub>{provenance}</sub>\n\n")),
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Markdown's `**bold**` and `` `code` `` in our own paragraphs, as HTML (input already escaped).
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split("**").enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<strong>{part}</strong>"));
        } else {
            out.push_str(part);
        }
    }
    let mut html = String::new();
    for (i, part) in out.split('`').enumerate() {
        if i % 2 == 1 {
            html.push_str(&format!("<code>{part}</code>"));
        } else {
            html.push_str(part);
        }
    }
    html
}

fn html(blocks: &[Block], provenance: &str, title: &str) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
body {{ font-family: 'DejaVu Sans', sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #111; }}\n\
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}\n\
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}\n\
th {{ background: #f2f2f2; }}\n\
figure {{ margin: 1.5em 0; }} figure svg {{ max-width: 100%; height: auto; }}\n\
figcaption {{ font-style: italic; margin-top: 0.3em; }}\n\
.provenance {{ font-size: 0.75em; color: #555; }}\n\
</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(title),
        esc(title)
    );
    let prov = format!("<p class=\"provenance\">{}</p>\n", inline(&esc(provenance)));
    for b in blocks {
        match b {
            Block::Heading(h) => out.push_str(&format!("<h2>{}</h2>\n", esc(h))),
            Block::Para(p) => out.push_str(&format!("<p>{}</p>\n", inline(&esc(p)))),
            Block::Table(g) => {
                out.push_str("<table>\n<tr>");
                for h in &g.header {
                    out.push_str(&format!("<th>{}</th>", esc(h)));
                }
                out.push_str("</tr>\n");
                for r in &g.rows {
                    out.push_str("<tr>");
                    for c in r {
                        out.push_str(&format!("<td>{}</td>", esc(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Figure { name, caption, svg } => out.push_str(&format!(
                "<figure id=\"fig-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                esc(name),
                svg,
                esc(caption)
            )),
            Block::Provenance => out.push_str(&prov),
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_from_manifest() {
        let m: serde_json::Value = serde_json::json!({
            "scenario_source": "<embedded default: scenarios/claims.toml>",
            "overrides": ["duration=7d", "seed=3"]
        });
        assert_eq!(
            command_line(&m),
            "settlesim run --set duration=7d --set seed=3"
        );
        let m = serde_json::json!({"scenario_source": "a.toml", "overrides": []});
        assert_eq!(command_line(&m), "settlesim run a.toml");
    }

    #[test]
    fn inline_markup_and_escaping() {
        assert_eq!(
            inline(&esc("**a** `b<c`")),
            "<strong>a</strong> <code>b&lt;c</code>"
        );
    }
}
