//! CSV renderings: payments (streamed while the simulation runs), the per (rail, corridor) summary, and the hourly
//! time series. Floats are written with a fixed number of decimals so files are byte-identical across runs; a
//! statistic that does not exist (no settled payment) is an empty field, which pandas and R read as missing.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::metrics::{Cell, Metrics};
use crate::model::record::{CostSplit, PaymentRecord, Status};
use crate::model::sim::RecordSink;
use crate::model::world::{RailId, World};
use crate::units::{US_PER_HOUR, format_minor};

/// A float with fixed decimals; NaN becomes an empty field.
pub fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

/// An ISO 8601 UTC timestamp of simulated time, to the millisecond.
pub fn iso(start: DateTime<Utc>, t_us: u64) -> String {
    let t = start + chrono::Duration::microseconds(t_us as i64);
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn cents(c: i64) -> String {
    format_minor(c, 2)
}

pub const PAYMENT_COLUMNS: &[&str] = &[
    "id",
    "demand_id",
    "corridor",
    "rail",
    "amount",
    "currency",
    "amount_usd",
    "created_utc",
    "settled_utc",
    "ended_utc",
    "latency_s",
    "status",
    "delivered_amount",
    "delivered_currency",
    "sender_fee_usd",
    "intermediary_fees_usd",
    "receiver_fee_usd",
    "fx_spread_usd",
    "domestic_fees_usd",
    "cost_total_usd",
    "cost_bps",
];

/// Streams payment records to `payments.csv` under its temporary name. I/O errors are kept and reported by
/// `finish`, since the simulation core cannot fail on I/O.
pub struct PaymentsCsv<'w> {
    world: &'w World,
    writer: Option<csv::Writer<BufWriter<File>>>,
    tmp: PathBuf,
    error: Option<io::Error>,
    pub on_progress: Option<Box<dyn FnMut(u64) + 'w>>,
}

impl<'w> PaymentsCsv<'w> {
    pub fn create(world: &'w World, dir: &Path) -> io::Result<PaymentsCsv<'w>> {
        let tmp = super::temp_path(dir, "payments.csv");
        let mut writer =
            csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, File::create(&tmp)?));
        writer.write_record(PAYMENT_COLUMNS)?;
        Ok(PaymentsCsv {
            world,
            writer: Some(writer),
            tmp,
            error: None,
            on_progress: None,
        })
    }

    /// Flushes and renames into place.
    pub fn finish(mut self, dir: &Path) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let writer = self.writer.take().expect("finish is called once");
        let buf = writer
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, dir.join("payments.csv"))
    }
}

pub fn payment_row(w: &World, r: &PaymentRecord) -> Vec<String> {
    let cur = w.fx.currency(r.currency);
    let dcur = w.fx.currency(r.delivered_currency);
    let c: &CostSplit = &r.cost;
    vec![
        r.id.to_string(),
        r.demand_id.to_string(),
        w.corridors[r.corridor.idx()].name.clone(),
        w.rails[r.rail.idx()].name.clone(),
        cur.format_minor(r.amount_minor),
        cur.to_string(),
        cents(r.amount_usd_cents),
        iso(w.start, r.created_us),
        r.ended_us
            .filter(|_| r.status == Status::Settled)
            .map(|e| iso(w.start, e))
            .unwrap_or_default(),
        r.ended_us.map(|e| iso(w.start, e)).unwrap_or_default(),
        r.latency_us()
            .map(|l| fixed(l as f64 / 1e6, 3))
            .unwrap_or_default(),
        r.status.as_str().to_string(),
        dcur.format_minor(r.delivered_minor),
        dcur.to_string(),
        cents(c.sender_fee),
        cents(c.intermediary_fees),
        cents(c.receiver_fee),
        cents(c.fx_spread),
        cents(c.domestic_fees),
        cents(c.total()),
        fixed(r.cost_bps(), 2),
    ]
}

impl RecordSink for PaymentsCsv<'_> {
    fn record(&mut self, r: &PaymentRecord) {
        if self.error.is_some() {
            return;
        }
        let row = payment_row(self.world, r);
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.write_record(&row)
        {
            self.error = Some(io::Error::other(e.to_string()));
        }
    }
    fn progress(&mut self, now_us: u64) {
        if let Some(f) = self.on_progress.as_mut() {
            f(now_us);
        }
    }
}

pub const SUMMARY_COLUMNS: &[&str] = &[
    "rail",
    "corridor",
    "payments",
    "settled",
    "returned",
    "failed",
    "in_flight",
    "settled_pct",
    "latency_s_mean",
    "latency_s_p50",
    "latency_s_p90",
    "latency_s_p99",
    "latency_s_max",
    "within_1h_pct",
    "within_1d_pct",
    "cost_bps_mean",
    "cost_bps_p50",
    "cost_bps_p90",
    "amount_usd_total",
    "fees_usd_total",
    "fx_cost_usd_total",
    "sender_fee_usd_total",
    "intermediary_fees_usd_total",
    "receiver_fee_usd_total",
    "domestic_fees_usd_total",
];

/// One summary line: a (rail, corridor) cell, or a rail's `all` row.
pub struct SummaryRow {
    pub rail: String,
    pub corridor: String,
    pub cell: Cell,
}

/// Rows in rail order, each rail's corridors in scenario order, then its `all` row.
pub fn summary_rows(w: &World, m: &Metrics) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for (r, rail) in w.rails.iter().enumerate() {
        let rid = RailId(r as u16);
        for (c, corridor) in w.corridors.iter().enumerate() {
            if corridor.routes.iter().any(|&x| w.route(x).rail == rid) {
                rows.push(SummaryRow {
                    rail: rail.name.clone(),
                    corridor: corridor.name.clone(),
                    cell: m.cell(rid, c).clone(),
                });
            }
        }
        rows.push(SummaryRow {
            rail: rail.name.clone(),
            corridor: "all".into(),
            cell: m.rail_total(rid),
        });
    }
    rows
}

pub fn summary_csv(rows: &[SummaryRow]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SUMMARY_COLUMNS)?;
    for row in rows {
        w.write_record(summary_record(row))?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// The fields of one summary line, in `SUMMARY_COLUMNS` order (shared by `run`'s summary.csv and a sweep's
/// runs.csv, so both always agree).
pub fn summary_record(row: &SummaryRow) -> Vec<String> {
    let c = &row.cell;
    let n = c.payments();
    let pct = |x: u64| {
        if n == 0 {
            String::new()
        } else {
            fixed(100.0 * x as f64 / n as f64, 2)
        }
    };
    vec![
        row.rail.clone(),
        row.corridor.clone(),
        n.to_string(),
        c.count(Status::Settled).to_string(),
        c.count(Status::Returned).to_string(),
        c.count(Status::Failed).to_string(),
        c.count(Status::InFlight).to_string(),
        pct(c.count(Status::Settled)),
        fixed(c.latency_s_mean(), 3),
        fixed(c.latency_s(0.5), 3),
        fixed(c.latency_s(0.9), 3),
        fixed(c.latency_s(0.99), 3),
        fixed(c.latency_s_max(), 3),
        fixed(100.0 * c.share_within_s(3600.0), 2),
        fixed(100.0 * c.share_within_s(86_400.0), 2),
        fixed(c.cost_bps_mean(), 2),
        fixed(c.cost_bps(0.5), 2),
        fixed(c.cost_bps(0.9), 2),
        cents(c.amount_usd_cents),
        cents(c.fees_cents()),
        cents(c.fx_cents()),
        cents(c.cost_cents[0]),
        cents(c.cost_cents[1]),
        cents(c.cost_cents[2]),
        cents(c.cost_cents[4]),
    ]
}

/// Per simulated hour and rail: arrivals, settlements, all ended payments (settled, returned or failed), and the
/// backlog in flight at the end of the hour.
pub fn timeseries_csv(w: &World, m: &Metrics) -> io::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "hour_utc", "hour", "rail", "arrivals", "settled", "ended", "backlog",
    ])?;
    for (r, rail) in w.rails.iter().enumerate() {
        let s = &m.series[r];
        let mut backlog: i64 = 0;
        for h in 0..s.arrivals.len() {
            backlog += s.arrivals[h] as i64 - s.ended[h] as i64;
            out.write_record([
                iso(w.start, h as u64 * US_PER_HOUR),
                h.to_string(),
                rail.name.clone(),
                s.arrivals[h].to_string(),
                s.settled[h].to_string(),
                s.ended[h].to_string(),
                backlog.to_string(),
            ])?;
        }
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}
