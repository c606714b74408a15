//! `settlesim report DIR`: a publishable report of one run, from its result files only: `report.md` (figures as
//! SVG files beside it) and a self-contained `report.html` (figures inline as SVG). What the scenario models, a
//! headline table per rail with the G20 targets, the figures, for the flagship a claims-vs-measured table, and
//! the provenance (command line, scenario sha256, seed, version, digest) under every figure and table.

use std::path::{Path, PathBuf};

use crate::app::AppError;
use crate::app::chart::{self, DirKind, Loaded};
use crate::chart::data::{COST_COMPONENTS, Table, cost_bars};
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
}

/// A table: header and rows of cells (plain text).
struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// One section of the report, rendered to Markdown and HTML alike.
enum Block {
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
    if loaded.kind != DirKind::Run {
        return Err(AppError::Usage(format!(
            "{}: a report is written from a `settlesim run` directory; for a sweep use `settlesim chart`",
            args.dir.display()
        )));
    }
    let target = args.out.clone().unwrap_or_else(|| args.dir.join("report"));
    let staged = Staged::begin(&target, Kind::Figures, args.force)?;
    let out = staged.dir().to_path_buf();
    let figures_dir = out.join("figures");
    std::fs::create_dir_all(&figures_dir)
        .map_err(|e| AppError::Io(format!("{}: cannot create: {e}", figures_dir.display())))?;
    let figure_files = chart::write_figures(&loaded, &figures_dir, true, false)?;
    let blocks = blocks(&results, &loaded)?;
    let provenance = provenance_lines(&loaded);
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

fn blocks(dir: &ResultDir, loaded: &Loaded) -> Result<Vec<Block>, AppError> {
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
    let m = &loaded.manifest;
    let mut b = vec![
        Block::Heading("What the scenario models".into()),
        Block::Para(format!(
            "**{}**: {description}. Simulated span {} from {} ({} payments, ended by {}). Every figure and \
number below is read from the run's result files; none is re-simulated.",
            loaded.provenance.scenario,
            m["simulated_span"].as_str().unwrap_or(""),
            m["start_utc"].as_str().unwrap_or(""),
            m["payments"],
            m["ended_by"].as_str().unwrap_or("")
        )),
        Block::Heading("Headline per rail".into()),
        Block::Table(headline(&loaded.summary)),
        Block::Para(
            "Latency is end to end (initiation to credit of the beneficiary) of settled payments; the shares are of \
all payments. \"Within 1 day\" is 24 hours of calendar time, stricter than the G20's \"1 business day\" over \
weekends. Cost is the per-payment mean in bps of the amount. G20 targets (FSB 2021): speed, 75% within 1 hour \
(2027); cost, 1% retail (2027) and 3% remittances (2030)."
                .into(),
        ),
        Block::Provenance,
    ];
    if loaded.provenance.scenario == "claims" {
        b.push(Block::Heading("Claims vs measured".into()));
        b.push(Block::Table(claims(&loaded.summary)));
        b.push(Block::Provenance);
    }
    b.push(Block::Heading("Figures".into()));
    let footer = loaded.provenance.footer();
    for fig in &loaded.figures {
        let svg = fig
            .svg(&footer)
            .map_err(|e| AppError::Io(format!("figure {}: {e}", fig.name())))?;
        b.push(Block::Figure {
            name: fig.name(),
            caption: fig.caption(),
            svg,
        });
        b.push(Block::Provenance);
    }
    Ok(b)
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

fn headline(summary: &Table) -> Grid {
    let header = [
        "rail",
        "p50",
        "p90",
        "p99",
        "within 1 h",
        "within 1 day",
        "mean cost (bps)",
        "G20 speed (75% in 1 h)",
        "G20 retail cost (≤ 1%)",
        "G20 remittance cost (≤ 3%)",
    ];
    let rows = summary
        .filter("corridor", "all")
        .map(|r| {
            let h1 = summary.num(r, "within_1h_pct");
            let cost = summary.num(r, "cost_bps_mean");
            vec![
                summary.text(r, "rail").to_string(),
                dur(summary, r, "latency_s_p50"),
                dur(summary, r, "latency_s_p90"),
                dur(summary, r, "latency_s_p99"),
                pct(summary, r, "within_1h_pct"),
                pct(summary, r, "within_1d_pct"),
                cost.map_or_else(|| "–".into(), |c| format!("{c:.0}")),
                yes_no(h1.map(|v| v >= 75.0)),
                yes_no(cost.map(|c| c <= 100.0)),
                yes_no(cost.map(|c| c <= 300.0)),
            ]
        })
        .collect();
    Grid {
        header: header.iter().map(|s| s.to_string()).collect(),
        rows,
    }
}

/// The flagship's claims against what the run measured, one row per (claim, rail).
fn claims(summary: &Table) -> Grid {
    let bars = cost_bars(summary);
    let mut rows = Vec::new();
    for r in summary.filter("corridor", "all") {
        let rail = summary.text(r, "rail");
        let p50 = summary.num(r, "latency_s_p50");
        let p99 = summary.num(r, "latency_s_p99");
        let chain = summary.num(r, "chain_settlement_s_p50");
        let mut measured = format!(
            "end to end p50 {}, p99 {}",
            dur(summary, r, "latency_s_p50"),
            dur(summary, r, "latency_s_p99")
        );
        if chain.is_some() {
            measured.push_str(&format!(
                "; on-chain part alone p50 {}",
                dur(summary, r, "chain_settlement_s_p50")
            ));
        }
        let verdict = match (p50, p99) {
            (Some(a), Some(b)) if b <= 60.0 => {
                format!("holds (p99 {})", human_duration_s(b.max(a)))
            }
            (Some(a), _) if a <= 60.0 => "holds for the median, not the tail".to_string(),
            (Some(_), _) => "does not hold end to end".to_string(),
            _ => "–".to_string(),
        };
        rows.push(vec![
            "settles in seconds instead of days".into(),
            rail.to_string(),
            measured,
            verdict,
        ]);
    }
    for bar in &bars {
        let total = bar.total();
        let intermediary = bar.bps[1];
        let (big_i, big) =
            bar.bps.iter().enumerate().fold(
                (0, 0.0),
                |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc },
            );
        let measured = format!(
            "{total:.0} bps amount-weighted; intermediary fees {intermediary:.0} bps; largest part {} {big:.0} bps",
            COST_COMPONENTS[big_i].0
        );
        let verdict = if intermediary > 0.0 {
            "uses intermediaries".to_string()
        } else if big_i == 1 {
            "–".to_string()
        } else {
            format!(
                "no intermediary fees, but {} ({:.0}% of the cost) remain",
                COST_COMPONENTS[big_i].0,
                100.0 * big / total.max(1e-9)
            )
        };
        rows.push(vec![
            "cheaper because intermediaries are removed".into(),
            bar.rail.clone(),
            measured,
            verdict,
        ]);
    }
    Grid {
        header: ["claim", "rail", "measured", "verdict"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows,
    }
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
