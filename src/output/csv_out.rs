//! CSV renderings: payments (streamed while the simulation runs), the per (rail, corridor) summary, and the hourly
//! time series. Floats are written with a fixed number of decimals so files are byte-identical across runs; a
//! statistic that does not exist (no settled payment) is an empty field, which pandas and R read as missing.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::model::metrics::{Cell, ChainFigures, Metrics};
use crate::model::record::{CostSplit, PaymentRecord, Stage, Status};
use crate::model::sim::capital::RailLiquidity;
use crate::model::sim::{ChainOutcome, Outcome, RecordSink, StationOutcome};
use crate::model::world::{RailId, World};
use crate::output::row::{IsoClock, Row, push_fixed, push_minor, push_secs3, push_u64};
use crate::units::{US_PER_DAY, US_PER_HOUR, format_minor};

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
    "network_fee_usd",
    "ramp_spread_usd",
    "ramp_fees_usd",
    "price_move_usd",
    "cost_total_usd",
    "cost_bps",
    "liquidity_cost_usd",
    "cost_total_with_liquidity_usd",
    "cost_bps_with_liquidity",
    "chain_inclusion_s",
    "chain_settlement_s",
    "duplicate",
    "latency_gpi_s",
    "slow_reason",
    "end_reason",
    "exposed_s",
    "ramp_price_move_usd",
    "fx_exposure_s",
    "stage_initiation_us",
    "stage_closed_hours_us",
    "stage_processing_us",
    "stage_repair_us",
    "stage_compliance_us",
    "stage_desk_queue_us",
    "stage_nostro_wait_us",
    "stage_transit_us",
    "stage_domestic_rail_us",
    "stage_ramp_us",
    "stage_chain_inclusion_us",
    "stage_confirmations_us",
    "stage_payout_us",
    "stage_return_us",
];

/// Streams payment records to `payments.csv` under its temporary name. I/O errors are kept and reported by
/// `finish`, since the simulation core cannot fail on I/O. Rows are rendered straight into bytes (`row`): no field
/// of a payment row ever needs CSV quoting (names match the safe-name pattern; the rest are numbers, codes and
/// fixed words), so the bytes are what a CSV writer would produce.
pub struct PaymentsCsv<'w> {
    world: &'w World,
    writer: Option<BufWriter<HashingFile>>,
    tmp: PathBuf,
    error: Option<io::Error>,
    /// The row being rendered, reused.
    line: Row,
    clock: IsoClock,
    pub on_progress: Option<Box<dyn FnMut(u64) + 'w>>,
}

impl<'w> PaymentsCsv<'w> {
    pub fn create(world: &'w World, dir: &Path) -> io::Result<PaymentsCsv<'w>> {
        let tmp = super::temp_path(dir, "payments.csv");
        let file = HashingFile {
            file: File::create(&tmp)?,
            sha: Sha256::new(),
        };
        let mut writer = BufWriter::with_capacity(1 << 16, file);
        writer.write_all(PAYMENT_COLUMNS.join(",").as_bytes())?;
        writer.write_all(b"\n")?;
        Ok(PaymentsCsv {
            world,
            writer: Some(writer),
            tmp,
            error: None,
            line: Row::default(),
            clock: IsoClock::new(world.start),
            on_progress: None,
        })
    }

    /// Flushes and renames into place. Returns the file's SHA-256 (hex), taken from the bytes as they were
    /// written: a large payments.csv is not read back to hash it (`output::digest_and_hashes` takes it).
    pub fn finish(mut self, dir: &Path) -> io::Result<String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let writer = self.writer.take().expect("finish is called once");
        let HashingFile { file, sha } = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, dir.join("payments.csv"))?;
        Ok(super::hex(&sha.finalize()))
    }
}

/// A file that hashes what is written to it (below the `BufWriter`, so in large chunks).
struct HashingFile {
    file: File,
    sha: Sha256,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// One `payments.csv` line (with its newline), in `PAYMENT_COLUMNS` order.
pub fn payment_row(out: &mut Row, clock: &mut IsoClock, w: &World, r: &PaymentRecord) {
    let cur = w.fx.currency(r.currency);
    let dcur = w.fx.currency(r.delivered_currency);
    let c: &CostSplit = &r.cost;
    let sep = |out: &mut Row| out.push(b',');
    push_u64(out, r.id);
    sep(out);
    push_u64(out, r.demand_id);
    sep(out);
    out.extend_from_slice(w.corridors[r.corridor.idx()].name.as_bytes());
    sep(out);
    out.extend_from_slice(w.rails[r.rail.idx()].name.as_bytes());
    sep(out);
    push_minor(out, r.amount_minor, cur.exponent);
    sep(out);
    out.extend_from_slice(cur.code().as_bytes());
    sep(out);
    push_minor(out, r.amount_usd_cents, 2);
    sep(out);
    clock.push(out, r.created_us);
    sep(out);
    if let Some(e) = r.ended_us.filter(|_| r.status == Status::Settled) {
        clock.push(out, e);
    }
    sep(out);
    if let Some(e) = r.ended_us {
        clock.push(out, e);
    }
    sep(out);
    if let Some(l) = r.latency_us() {
        push_secs3(out, l);
    }
    sep(out);
    out.extend_from_slice(r.status.as_str().as_bytes());
    sep(out);
    push_minor(out, r.delivered_minor, dcur.exponent);
    sep(out);
    out.extend_from_slice(dcur.code().as_bytes());
    let parts = c.parts();
    for x in parts.iter().copied().chain([c.total()]) {
        sep(out);
        push_minor(out, x, 2);
    }
    sep(out);
    push_fixed(out, r.cost_bps(), 2);
    sep(out);
    push_minor(out, c.liquidity, 2);
    sep(out);
    push_minor(out, c.total_with_liquidity(), 2);
    sep(out);
    push_fixed(out, r.cost_bps_with_liquidity(), 2);
    for us in [r.chain_inclusion_us, r.chain_settlement_us] {
        sep(out);
        if let Some(us) = us {
            push_secs3(out, us);
        }
    }
    sep(out);
    out.extend_from_slice(if r.duplicate { b"true" } else { b"false" });
    sep(out);
    if let Some(l) = r.latency_gpi_us() {
        push_secs3(out, l);
    }
    sep(out);
    if let Some(h) = r.slow_reason() {
        out.extend_from_slice(h.as_str().as_bytes());
    }
    sep(out);
    out.extend_from_slice(r.reason.as_str().as_bytes());
    sep(out);
    if let Some(us) = r.exposed_us {
        push_secs3(out, us);
    }
    sep(out);
    push_minor(out, r.ramp_price_move_cents, 2);
    sep(out);
    if let Some(us) = r.fx_exposure_us {
        push_secs3(out, us);
    }
    for us in r.stages_us {
        sep(out);
        push_u64(out, us);
    }
    out.push(b'\n');
}

impl RecordSink for PaymentsCsv<'_> {
    fn record(&mut self, r: &PaymentRecord) {
        if self.error.is_some() {
            return;
        }
        self.line.clear();
        payment_row(&mut self.line, &mut self.clock, self.world, r);
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.write_all(self.line.as_bytes())
        {
            self.error = Some(e);
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
    "network_fee_usd_total",
    "ramp_spread_usd_total",
    "ramp_fees_usd_total",
    "price_move_usd_total",
    "chain_inclusion_s_p50",
    "chain_inclusion_s_p99",
    "chain_settlement_s_p50",
    "chain_settlement_s_p99",
    "duplicates_refunded",
    "chain_stale_rate",
    "chain_reorgs",
    "chain_block_fullness_pct",
    "chain_tx_per_s",
    "chain_block_interval_s",
    "gpi_latency_s_p50",
    "gpi_within_30m_pct",
    "gpi_within_1h_pct",
    "gpi_within_6h_pct",
    "gpi_within_24h_pct",
    "stage_initiation_s_mean",
    "stage_initiation_s_p90",
    "stage_closed_hours_s_mean",
    "stage_closed_hours_s_p90",
    "stage_processing_s_mean",
    "stage_processing_s_p90",
    "stage_repair_s_mean",
    "stage_repair_s_p90",
    "stage_compliance_s_mean",
    "stage_compliance_s_p90",
    "stage_desk_queue_s_mean",
    "stage_desk_queue_s_p90",
    "stage_nostro_wait_s_mean",
    "stage_nostro_wait_s_p90",
    "stage_transit_s_mean",
    "stage_transit_s_p90",
    "stage_domestic_rail_s_mean",
    "stage_domestic_rail_s_p90",
    "stage_ramp_s_mean",
    "stage_ramp_s_p90",
    "stage_chain_inclusion_s_mean",
    "stage_chain_inclusion_s_p90",
    "stage_confirmations_s_mean",
    "stage_confirmations_s_p90",
    "stage_payout_s_mean",
    "stage_payout_s_p90",
    "stage_return_s_mean",
    "stage_return_s_p90",
    "funding_wait_pct",
    "funding_wait_s_p99",
    "rebalancings",
    "rebalanced_usd_total",
    "rebalancing_cost_usd_total",
    "liquidity_cost_usd_total",
    "cost_with_liquidity_bps_mean",
    "liquidity_mean_usd",
    "liquidity_peak_usd",
    "liquidity_per_1m_daily_flow_usd",
    "in_transit_mean_usd",
    "in_transit_peak_usd",
    "on_chain_mean_usd",
    "liquidity_idle_cost_usd",
    "fx_exposure_usd_days",
    "fx_exposure_peak_usd",
    "credit_exposure_usd_days",
    "credit_exposure_peak_usd",
];

/// One summary line: a (rail, corridor) cell, or a rail's `all` row.
pub struct SummaryRow {
    pub rail: String,
    pub corridor: String,
    pub cell: Cell,
    /// Chain rails: the figures of the chain this rail's payments used.
    pub chain: Option<crate::model::metrics::ChainFigures>,
    /// A rail's `all` row: its positions and settlement risk over the demand window.
    pub risk: Option<RailRisk>,
}

/// A rail's liquidity and settlement risk, for its `all` row.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RailRisk {
    pub liquidity: RailLiquidity,
    /// Days of demand (the denominator of the daily flow).
    pub window_days: f64,
    /// FX settlement exposure: ∫ dt in USD cents × µs, and its peak in cents.
    pub fx_cents_us: u128,
    pub fx_peak_cents: i64,
    /// Ledger rails: members' intraday credit exposure until net settlement, the same way.
    pub credit: Option<(u128, i64)>,
}

impl RailRisk {
    pub fn of(w: &World, o: &Outcome, rail: RailId) -> RailRisk {
        let fx = o.fx_exposure.iter().find(|x| x.rail == rail);
        RailRisk {
            liquidity: o.liquidity.rail(rail),
            window_days: w.demand_end_us.min(o.end_us) as f64 / US_PER_DAY as f64,
            fx_cents_us: fx.map_or(0, |x| x.usd_cents_us),
            fx_peak_cents: fx.map_or(0, |x| x.peak_usd_cents),
            credit: o
                .ledgers
                .iter()
                .find(|l| l.rail == rail)
                .map(|l| (l.usd_cents_us, l.peak_usd_cents)),
        }
    }
    /// Pre-funded liquidity (time-weighted mean, USD) per USD 1 M of the rail's daily flow (its payments' USD
    /// value over the days of demand).
    pub fn per_1m_daily_flow(&self, amount_usd_cents: i64) -> f64 {
        let flow = amount_usd_cents as f64 / 100.0 / self.window_days;
        if flow > 0.0 {
            self.liquidity.prefunded_mean_usd / flow * 1e6
        } else {
            f64::NAN
        }
    }
}

/// USD × days from USD cents × µs.
fn usd_days(cents_us: u128) -> f64 {
    cents_us as f64 / 100.0 / US_PER_DAY as f64
}

/// Rows in rail order, each rail's corridors in scenario order, then its `all` row.
pub fn summary_rows(w: &World, o: &Outcome) -> Vec<SummaryRow> {
    let mut o = SummarySource::Shared(o);
    rows_of(w, &mut o)
}

/// `summary_rows`, moving each cell out of the outcome's metrics instead of copying it (a cell holds 19 HDR
/// histograms, up to 200 kB each): for a caller that needs the outcome's cells no more.
pub fn summary_rows_taking(w: &World, o: &mut Outcome) -> Vec<SummaryRow> {
    let mut o = SummarySource::Owned(o);
    rows_of(w, &mut o)
}

enum SummarySource<'a> {
    Shared(&'a Outcome),
    Owned(&'a mut Outcome),
}

impl SummarySource<'_> {
    fn outcome(&self) -> &Outcome {
        match self {
            SummarySource::Shared(o) => o,
            SummarySource::Owned(o) => o,
        }
    }
    fn cell(&mut self, rail: RailId, corridor: usize) -> Cell {
        match self {
            SummarySource::Shared(o) => o.metrics.cell(rail, corridor).clone(),
            SummarySource::Owned(o) => o.metrics.take_cell(rail, corridor),
        }
    }
}

fn rows_of(w: &World, src: &mut SummarySource) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for (r, rail) in w.rails.iter().enumerate() {
        let rid = RailId(r as u16);
        let chain = match rail.kind {
            crate::model::world::RailKind::Chain { chain, .. }
            | crate::model::world::RailKind::Ledger(crate::model::world::LedgerRail {
                chain,
                ..
            }) => {
                let o = src.outcome();
                o.chains
                    .iter()
                    .find(|c| c.chain == chain && c.rail.is_none_or(|x| x == rid))
                    .map(|c| {
                        ChainFigures::of(&c.metrics, w.chains[chain.idx()].block_capacity, o.end_us)
                    })
            }
            crate::model::world::RailKind::Correspondent
            | crate::model::world::RailKind::IpsLink(_) => None,
        };
        // The `all` row first (it merges the corridor cells), pushed after them.
        let all = src.outcome().metrics.rail_total(rid);
        let risk = RailRisk::of(w, src.outcome(), rid);
        for (c, corridor) in w.corridors.iter().enumerate() {
            if corridor.routes.iter().any(|&x| w.route(x).rail == rid) {
                rows.push(SummaryRow {
                    rail: rail.name.clone(),
                    corridor: corridor.name.clone(),
                    cell: src.cell(rid, c),
                    chain,
                    risk: None,
                });
            }
        }
        rows.push(SummaryRow {
            rail: rail.name.clone(),
            corridor: "all".into(),
            cell: all,
            chain,
            risk: Some(risk),
        });
    }
    rows
}

/// One row per simulated chain (rail = the chain, or `chain@rail` in mirror mode; corridor = `chain`), with an
/// empty payment cell: sweeps summarise consensus load tests with these.
pub fn chain_summary_rows(w: &World, chains: &[ChainOutcome], span_us: u64) -> Vec<SummaryRow> {
    chains
        .iter()
        .map(|o| {
            let spec = &w.chains[o.chain.idx()];
            SummaryRow {
                rail: chain_label(w, o),
                corridor: "chain".into(),
                cell: Cell::new(w.demand_end_us),
                chain: Some(ChainFigures::of(&o.metrics, spec.block_capacity, span_us)),
                risk: None,
            }
        })
        .collect()
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
        cents(c.cost_cents[5]),
        cents(c.cost_cents[6]),
        cents(c.cost_cents[7]),
        cents(c.cost_cents[8]),
        fixed(Cell::chain_s(&c.chain_inclusion_ms, 0.5), 3),
        fixed(Cell::chain_s(&c.chain_inclusion_ms, 0.99), 3),
        fixed(Cell::chain_s(&c.chain_settlement_ms, 0.5), 3),
        fixed(Cell::chain_s(&c.chain_settlement_ms, 0.99), 3),
        c.duplicates.to_string(),
        row.chain
            .map(|f| fixed(f.stale_rate, 6))
            .unwrap_or_default(),
        row.chain.map(|f| f.reorgs.to_string()).unwrap_or_default(),
        row.chain
            .map(|f| fixed(f.fullness_pct, 2))
            .unwrap_or_default(),
        row.chain.map(|f| fixed(f.tx_per_s, 3)).unwrap_or_default(),
        row.chain
            .map(|f| fixed(f.interval_s, 3))
            .unwrap_or_default(),
        fixed(c.gpi_latency_s(0.5), 3),
        fixed(100.0 * c.gpi_share_within_s(1800.0), 2),
        fixed(100.0 * c.gpi_share_within_s(3600.0), 2),
        fixed(100.0 * c.gpi_share_within_s(6.0 * 3600.0), 2),
        fixed(100.0 * c.gpi_share_within_s(86_400.0), 2),
    ]
    .into_iter()
    .chain(
        Stage::ALL
            .iter()
            .flat_map(|&st| [fixed(c.stage_s_mean(st), 3), fixed(c.stage_s(st, 0.9), 3)]),
    )
    .chain([
        fixed(100.0 * c.funding_wait_share(), 2),
        fixed(c.funding_wait_s(0.99), 3),
        c.rebalancings.to_string(),
        cents(c.rebalanced_usd_cents),
        cents(c.rebalancing_cost_cents),
        cents(c.liquidity_cents),
        fixed(c.cost_with_liquidity_bps_mean(), 2),
    ])
    .chain(risk_fields(row.risk.as_ref(), c.amount_usd_cents))
    .collect()
}

/// The liquidity and settlement-risk fields of a rail's `all` row (empty on corridor rows).
fn risk_fields(risk: Option<&RailRisk>, amount_usd_cents: i64) -> Vec<String> {
    let Some(r) = risk else {
        return vec![String::new(); 11];
    };
    let l = &r.liquidity;
    vec![
        fixed(l.prefunded_mean_usd, 2),
        fixed(l.prefunded_peak_usd, 2),
        fixed(r.per_1m_daily_flow(amount_usd_cents), 2),
        fixed(l.in_transit_mean_usd, 2),
        fixed(l.in_transit_peak_usd, 2),
        fixed(l.on_chain_mean_usd, 2),
        fixed(l.idle_cost_usd, 2),
        fixed(usd_days(r.fx_cents_us), 2),
        format_minor(r.fx_peak_cents, 2),
        r.credit
            .map(|(x, _)| fixed(usd_days(x), 2))
            .unwrap_or_default(),
        r.credit
            .map(|(_, p)| format_minor(p, 2))
            .unwrap_or_default(),
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

pub const CHAIN_COLUMNS: &[&str] = &[
    "chain",
    "rail",
    "consensus",
    "blocks_produced",
    "canonical_blocks",
    "stale_blocks",
    "stale_rate",
    "reorgs",
    "reorg_depth_max",
    "missed_slots",
    "block_interval_s_mean",
    "txs_included",
    "throughput_tx_per_s",
    "block_fullness_pct",
    "fees_native_total",
    "fees_usd_total",
    "burned_native_total",
    "base_fee_min",
    "base_fee_max",
    "mempool_units_max",
    "evicted",
    "bft_rounds_per_block",
    "bft_messages_per_block",
    "receiver_confirmations",
    "reversal_risk",
    "reach50_s_mean",
    "reach95_s_mean",
    "gossip_messages_per_block",
    "finality_s_mean",
    "finality_s_p99",
    "attest_head_pct",
    "attest_next_slot_pct",
    "attest_included_pct",
    "tx_seen_s_p50",
    "tx_seen_s_p90",
    "tx_to_miners_s_p50",
    "tx_to_miners_s_p90",
];

/// One chain's row of chains.csv, with the typed figures the terminal table shows.
pub struct ChainRow {
    /// `tron`, or `tron@usdt` for the copy serving one rail in mirror mode.
    pub label: String,
    pub canonical_blocks: u64,
    pub figures: ChainFigures,
    pub fees_usd: f64,
    pub values: Vec<String>,
}

/// A simulated chain's name: the chain, or `chain@rail` for the copy serving one rail in mirror mode.
pub fn chain_label(w: &World, o: &ChainOutcome) -> String {
    let name = &w.chains[o.chain.idx()].name;
    match o.rail {
        Some(r) => format!("{name}@{}", w.rails[r.idx()].name),
        None => name.clone(),
    }
}

/// Native minor units as a decimal of the native asset.
fn native(minor: u128, decimals: u8) -> String {
    let scale = 10_u128.pow(decimals as u32);
    if decimals == 0 {
        return minor.to_string();
    }
    format!(
        "{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = decimals as usize
    )
}

/// One row per simulated chain; `rail` names the rail whose world it served in mirror mode (`all` when shared).
pub fn chain_rows(w: &World, chains: &[ChainOutcome], span_us: u64) -> Vec<ChainRow> {
    use crate::model::chain::spec::Consensus;
    chains
        .iter()
        .map(|o| {
            let (spec, m) = (&w.chains[o.chain.idx()], &o.metrics);
            let receiver = o.rail.and_then(|r| receiver_policy(w, r));
            let consensus = match spec.consensus {
                Consensus::Nakamoto { .. } => "nakamoto",
                Consensus::Pos { .. } => "pos",
                Consensus::Bft { .. } => "bft",
            };
            let produced = m.blocks_produced.max(1) as f64;
            let f = ChainFigures::of(m, spec.block_capacity, span_us);
            let fees_usd = m.fees_native_minor as f64 / 10_f64.powi(spec.native_decimals as i32)
                * spec.native_price_usd;
            let per_block = |x: u64| {
                if m.canonical_blocks == 0 {
                    f64::NAN
                } else {
                    x as f64 / m.canonical_blocks as f64
                }
            };
            let is_bft = matches!(spec.consensus, Consensus::Bft { .. });
            let is_1559 = matches!(
                spec.fee_market,
                crate::model::chain::spec::FeeMarket::Eip1559 { .. }
            );
            ChainRow {
                label: chain_label(w, o),
                canonical_blocks: m.canonical_blocks,
                figures: f,
                fees_usd,
                values: vec![
                    spec.name.clone(),
                    rail_label(w, o),
                    consensus.into(),
                    m.blocks_produced.to_string(),
                    m.canonical_blocks.to_string(),
                    m.stale_blocks.to_string(),
                    fixed(f.stale_rate, 6),
                    m.reorgs.to_string(),
                    m.reorg_depth_max.to_string(),
                    m.missed_slots.to_string(),
                    fixed(f.interval_s, 3),
                    m.txs_included.to_string(),
                    fixed(f.tx_per_s, 3),
                    fixed(f.fullness_pct, 2),
                    native(m.fees_native_minor, spec.native_decimals),
                    fixed(fees_usd, 2),
                    native(m.burned_native_minor, spec.native_decimals),
                    if is_1559 {
                        m.base_fee_min.to_string()
                    } else {
                        String::new()
                    },
                    if is_1559 {
                        m.base_fee_max.to_string()
                    } else {
                        String::new()
                    },
                    m.mempool_units_max.to_string(),
                    m.evicted.to_string(),
                    if is_bft {
                        fixed(per_block(m.bft_rounds), 3)
                    } else {
                        String::new()
                    },
                    if is_bft {
                        fixed(per_block(m.bft_messages), 1)
                    } else {
                        String::new()
                    },
                    receiver
                        .map(|(k, fin)| {
                            if fin {
                                "finality".into()
                            } else {
                                k.to_string()
                            }
                        })
                        .unwrap_or_default(),
                    receiver
                        .map(|(k, fin)| fixed(reversal_risk(spec, k, fin), 9))
                        .unwrap_or_default(),
                    mean_s(m.reach50_us_sum, m.reach50_blocks),
                    mean_s(m.reach95_us_sum, m.reach95_blocks),
                    if m.gossip_messages > 0 {
                        fixed(m.gossip_messages as f64 / produced, 1)
                    } else {
                        String::new()
                    },
                    if m.finality.count > 0 {
                        fixed(m.finality.mean_s(), 3)
                    } else {
                        String::new()
                    },
                    if m.finality.count > 0 {
                        fixed(m.finality.quantile_s(0.99), 3)
                    } else {
                        String::new()
                    },
                    attest_pct(m.attest.head, m.attest.expected),
                    attest_pct(m.attest.next_slot, m.attest.expected),
                    attest_pct(m.attest.included, m.attest.expected),
                    quantile_s(&m.tx_seen, 0.5),
                    quantile_s(&m.tx_seen, 0.9),
                    quantile_s(&m.tx_to_miners, 0.5),
                    quantile_s(&m.tx_to_miners, 0.9),
                ],
            }
        })
        .collect()
}

pub fn chains_csv(rows: &[ChainRow]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CHAIN_COLUMNS)?;
    for r in rows {
        w.write_record(&r.values)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Per simulated hour and chain: blocks, transactions included, mempool backlog and base fee at the hour's last block.
pub fn chain_timeseries_csv(w: &World, chains: &[ChainOutcome]) -> io::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "hour_utc",
        "hour",
        "chain",
        "rail",
        "blocks",
        "txs_included",
        "mempool_units",
        "base_fee",
    ])?;
    for o in chains {
        for (h, v) in o.metrics.hourly.iter().enumerate() {
            out.write_record([
                iso(w.start, h as u64 * US_PER_HOUR),
                h.to_string(),
                w.chains[o.chain.idx()].name.clone(),
                rail_label(w, o),
                v[0].to_string(),
                v[1].to_string(),
                v[2].to_string(),
                v[3].to_string(),
            ])?;
        }
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

fn rail_label(w: &World, o: &ChainOutcome) -> String {
    o.rail
        .map_or_else(|| "all".to_string(), |r| w.rails[r.idx()].name.clone())
}

/// The deposit policy of the receiving ramp of a rail's first route: (confirmations, at finality).
fn receiver_policy(w: &World, rail: RailId) -> Option<(u32, bool)> {
    let route = w.routes.iter().find(|r| r.rail == rail)?;
    let bank = w.bank(*route.path.last()?);
    Some((bank.deposit_confirmations, bank.deposit_finality))
}

/// Probability that a payment credited under the receiver's policy is reversed by a double spend: Rosenfeld's
/// exact catch-up probability for proof of work at the assumed attacker share; zero once final (PoS finality, a
/// BFT commit) unless a third of the stake is slashed, which is outside this model; unknown (empty) for proof of
/// stake credited before finality.
fn reversal_risk(spec: &crate::model::chain::spec::ChainSpec, k: u32, finality: bool) -> f64 {
    use crate::model::chain::spec::Consensus;
    match spec.consensus {
        Consensus::Nakamoto { .. } => crate::model::chain::risk::rosenfeld(spec.attacker_share, k),
        Consensus::Pos { .. } if !finality => f64::NAN,
        _ => 0.0,
    }
}

/// Mean of a sum of microseconds over `n` blocks, in seconds (empty when no block got there).
/// A quantile of a delay histogram in seconds (blank when nothing was recorded).
fn quantile_s(h: &crate::model::chain::gossip::DelayHist, p: f64) -> String {
    if h.count == 0 {
        String::new()
    } else {
        fixed(h.quantile_s(p), 3)
    }
}

/// A share of the attestations due, in percent (blank where none are modelled).
fn attest_pct(count: u64, expected: u64) -> String {
    if expected == 0 {
        String::new()
    } else {
        fixed(100.0 * count as f64 / expected as f64, 2)
    }
}

fn mean_s(sum_us: u128, n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        fixed(sum_us as f64 / n as f64 / 1e6, 3)
    }
}

pub const STATION_COLUMNS: &[&str] = &[
    "station",
    "rail",
    "servers",
    "arrivals",
    "started",
    "queued_at_end",
    "wait_share",
    "wait_s_mean",
    "arrivals_per_s",
    "queue_len_mean",
    "lambda_w",
    "little_gap",
    "utilisation",
];

/// One row per station (domestic rails, then staffed desks): the queue's own time-average length beside λ·W
/// from the payments' waits, so every run states how well Little's law holds (`little_gap` = L/(λW) − 1; it
/// departs from 0 only by payments still queued at the end of the window).
pub fn stations_csv(w: &World, stations: &[StationOutcome], span_us: u64) -> io::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(STATION_COLUMNS)?;
    for s in stations {
        let l = s.stats.little(span_us, s.servers);
        let gap = if l.lambda_w > 0.0 {
            // Rounded to the printed decimals so float noise around 0 does not print as "-0.000000".
            ((l.queue_len_mean / l.lambda_w - 1.0) * 1e6).round() / 1e6 + 0.0
        } else {
            f64::NAN
        };
        out.write_record([
            s.name.clone(),
            s.rail
                .map(|r| w.rails[r.idx()].name.clone())
                .unwrap_or_default(),
            s.servers.map(|c| c.to_string()).unwrap_or_default(),
            s.stats.arrivals.to_string(),
            s.stats.started.to_string(),
            s.stats.queued().to_string(),
            fixed(l.wait_share, 6),
            fixed(l.wait_s_mean, 6),
            fixed(l.arrivals_per_s, 6),
            fixed(l.queue_len_mean, 6),
            fixed(l.lambda_w, 6),
            fixed(gap, 6),
            fixed(l.utilisation.unwrap_or(f64::NAN), 6),
        ])?;
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

/// The columns of `exposure.csv`.
pub const EXPOSURE_COLUMNS: [&str; 9] = [
    "rail",
    "kind",
    "peak_exposure_usd",
    "mean_exposure_usd",
    "exposure_usd_days",
    "obligations_usd",
    "net_settlements",
    "payments_queued_on_limits",
    "payments_exposed",
];

/// Settlement risk per rail: a `fx_settlement` row for every rail (value paid in one currency while the other
/// leg is outstanding: zero on a PvP rail), and a `member_credit` row for every tokenised-deposit ledger rail
/// (the intraday exposure its members carried to each other until net settlement) — each as its peak, its
/// time-average over the run and its integral in USD × days.
pub fn exposure_csv(w: &World, o: &Outcome) -> io::Result<Vec<u8>> {
    let span_us = o.end_us;
    let mean = |cents_us: u128| fixed(cents_us as f64 / 100.0 / span_us.max(1) as f64, 2);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(EXPOSURE_COLUMNS)?;
    for (r, rail) in w.rails.iter().enumerate() {
        if let Some(x) = o.fx_exposure.iter().find(|x| x.rail.idx() == r) {
            out.write_record([
                rail.name.clone(),
                "fx_settlement".into(),
                format_minor(x.peak_usd_cents, 2),
                mean(x.usd_cents_us),
                fixed(usd_days(x.usd_cents_us), 2),
                String::new(),
                String::new(),
                String::new(),
                x.payments.to_string(),
            ])?;
        }
        if let Some(l) = o.ledgers.iter().find(|l| l.rail.idx() == r) {
            out.write_record([
                rail.name.clone(),
                "member_credit".into(),
                format_minor(l.peak_usd_cents, 2),
                mean(l.usd_cents_us),
                fixed(usd_days(l.usd_cents_us), 2),
                format_minor(l.obligations_usd_cents, 2),
                l.settlements.to_string(),
                l.queued_payments.to_string(),
                String::new(),
            ])?;
        }
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

/// The columns of `liquidity.csv`.
pub const LIQUIDITY_COLUMNS: [&str; 16] = [
    "day",
    "day_start_utc",
    "rail",
    "kind",
    "account",
    "currency",
    "balance_minor_us",
    "mean",
    "peak",
    "min",
    "mean_usd",
    "peak_usd",
    "min_usd",
    "rate_pct",
    "cost_usd",
    "hours",
];

/// One row per simulated day and position: the exact integral of its balance (minor units × µs), its
/// time-weighted mean, peak and minimum in its currency and in USD, and its cost of capital that day.
pub fn liquidity_csv(w: &World, o: &Outcome) -> io::Result<Vec<u8>> {
    let l = &o.liquidity;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(LIQUIDITY_COLUMNS)?;
    for row in &l.days {
        let p = &l.positions[row.position as usize];
        let cur = w.fx.currency(p.currency);
        let f = &row.figures;
        let scale = 10_f64.powi(cur.exponent as i32);
        let rate = w.rates.get(p.currency.0 as usize).copied().flatten();
        let costed = l.rates && p.kind != crate::model::sim::capital::PositionKind::Collection;
        out.write_record([
            row.day.to_string(),
            iso(w.start, row.start_us),
            p.rail
                .map_or_else(|| "shared".to_string(), |r| w.rails[r.idx()].name.clone()),
            p.kind.as_str().into(),
            p.account.clone(),
            cur.code().to_string(),
            f.integral.to_string(),
            fixed(
                f.integral as f64 / f.len_us.max(1) as f64 / scale,
                cur.exponent as usize + 2,
            ),
            format_minor(f.peak.minor, cur.exponent),
            format_minor(f.min.minor, cur.exponent),
            fixed(f.mean_usd(), 2),
            fixed(f.peak_usd, 2),
            fixed(f.min_usd, 2),
            if costed {
                rate.map(|r| fixed(r * 100.0, 4)).unwrap_or_default()
            } else {
                String::new()
            },
            if costed {
                fixed(f.cost_usd, 2)
            } else {
                String::new()
            },
            fixed(f.len_us as f64 / US_PER_HOUR as f64, 3),
        ])?;
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

pub const REBALANCING_COLUMNS: &[&str] = &[
    "requested_utc",
    "arrives_utc",
    "funding_s",
    "owner",
    "at",
    "currency",
    "world",
    "rail",
    "corridor",
    "balance",
    "waiting",
    "amount",
    "fee",
    "amount_usd",
    "fee_usd",
];

/// One row per rebalancing request of a threshold top-up policy, in the order made: when it left and arrived
/// (empty: after the run), how long the funding took, the position (`owner` at `at`; an inventory has owner =
/// at), whose copy of it (`world`: the rail in mirror mode, `shared` otherwise), what it is counted against (the
/// rail and corridor of the payment that triggered it), the balance and the payments waiting at the request, the
/// amount and the fee in the position's currency and in USD at the request's mid rate.
pub fn rebalancing_csv(
    w: &World,
    rebalances: &[crate::model::sim::Rebalance],
) -> io::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(REBALANCING_COLUMNS)?;
    for r in rebalances {
        let n = &w.nostros[r.position.idx()];
        let cur = w.fx.currency(r.currency);
        out.write_record([
            iso(w.start, r.requested_us),
            r.arrives_us.map(|t| iso(w.start, t)).unwrap_or_default(),
            r.arrives_us
                .map(|t| fixed((t - r.requested_us) as f64 / 1e6, 3))
                .unwrap_or_default(),
            w.bank(n.owner).name.clone(),
            w.bank(n.at).name.clone(),
            cur.code().to_string(),
            r.world_rail
                .map_or("shared".to_string(), |x| w.rails[x.idx()].name.clone()),
            w.rails[r.rail.idx()].name.clone(),
            w.corridors[r.corridor.idx()].name.clone(),
            format_minor(r.balance_minor, cur.exponent),
            r.waiting.to_string(),
            format_minor(r.amount_minor, cur.exponent),
            format_minor(r.fee_minor, cur.exponent),
            cents(r.amount_usd_cents),
            cents(r.fee_usd_cents),
        ])?;
    }
    out.into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}
