//! Metrics: pure aggregation of payment records into per (rail, corridor) statistics — status counts, HDR
//! histograms of latency and cost, cost totals by component — and an hourly time series per rail. No I/O: the
//! output layer renders these to CSV and histogram files.

use hdrhistogram::Histogram;

use crate::model::fx::CurId;
use crate::model::record::{CostSplit, PaymentRecord, Stage, Status};
use crate::model::world::{RailId, World};
use crate::units::{US_PER_HOUR, US_PER_S};

/// Latency histograms hold milliseconds, from 1 ms to one year, with 3 significant digits.
pub const LATENCY_MS_MAX: u64 = 365 * 24 * 3_600_000;
/// Cost histograms hold hundredths of a basis point, up to 1,000,000 bps (they saturate there).
pub const COST_CBPS_MAX: u64 = 100_000_000;

/// An empty latency histogram with the bounds every cell uses, so histograms of different runs add exactly.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MS_MAX, 3).expect("valid histogram bounds")
}
/// A cell's histograms count in `u32` (no cell holds 4 billion payments in one bucket): half the memory of
/// `u64` counts, and the same V2 serialization (counts are written as integers, whatever their width).
pub type CellHistogram = Histogram<u32>;
fn cell_latency_histogram() -> CellHistogram {
    Histogram::new_with_bounds(1, LATENCY_MS_MAX, 3).expect("valid histogram bounds")
}
fn cost_histogram() -> CellHistogram {
    Histogram::new_with_bounds(1, COST_CBPS_MAX, 3).expect("valid histogram bounds")
}

/// The time settled payments spent in one stage, ms. Most stages are never used by a given rail (a payment
/// spends time in 3 to 6 of the 14), and a histogram with the cells' bounds is ~100 KB: zeros are counted
/// apart and the histogram is made at the first non-zero value. `histogram` gives what recording every value
/// into one histogram gives (recording a 0 moves only the 0 bucket's count and the total).
#[derive(Clone, Debug, Default)]
pub struct StageHistogram {
    zeros: u64,
    nonzero: Option<CellHistogram>,
}

impl StageHistogram {
    fn record(&mut self, ms: u64) {
        if ms == 0 {
            self.zeros += 1;
        } else {
            self.nonzero
                .get_or_insert_with(cell_latency_histogram)
                .saturating_record(ms);
        }
    }

    fn add(&mut self, other: &StageHistogram) {
        self.zeros += other.zeros;
        if let Some(h) = &other.nonzero {
            match &mut self.nonzero {
                Some(mine) => mine.add(h).expect("same bounds"),
                None => self.nonzero = Some(h.clone()),
            }
        }
    }

    /// Every value recorded, as one histogram with the cells' bounds.
    pub fn histogram(&self) -> CellHistogram {
        let mut h = self.nonzero.clone().unwrap_or_else(cell_latency_histogram);
        let mut zeros = self.zeros;
        while zeros > 0 {
            let n = zeros.min(u64::from(u32::MAX));
            h.saturating_record_n(0, n as u32);
            zeros -= n;
        }
        h
    }
}

/// Statistics of one (rail, corridor) cell, or of a rail's `all` row.
#[derive(Clone, Debug)]
pub struct Cell {
    pub counts: [u64; 4],
    /// End-to-end latency of settled payments, in ms.
    pub latency_ms: CellHistogram,
    pub latency_us_sum: u128,
    pub latency_us_max: u64,
    /// All-in cost of settled payments, in hundredths of a bp.
    pub cost_cbps: CellHistogram,
    pub cost_bps_sum: f64,
    /// Cost components over all ended payments (fees are kept on returns), USD cents.
    pub cost_cents: [i64; 9],
    /// The cost of capital allocated to the payments (`CostSplit::liquidity`), USD cents, all payments.
    pub liquidity_cents: i64,
    /// Settled payments: Σ cost in bps with the cost of capital.
    pub cost_bps_with_liquidity_sum: f64,
    pub amount_usd_cents: i64,
    /// Chain rails, ms: broadcast to inclusion, and broadcast to the receiver's deposit credit.
    pub chain_inclusion_ms: CellHistogram,
    /// Second submissions of an order, detected and refunded (merchant QR payments).
    pub duplicates: u64,
    pub chain_settlement_ms: CellHistogram,
    /// Payments settled while demand was still arriving (ended before `window_us`): the throughput numerator.
    pub settled_in_window: u64,
    /// The demand window, [0, window_us) of simulated time.
    pub window_us: u64,
    /// SWIFT gpi's basis (first bank's acceptance to the beneficiary bank's credit), settled payments, ms; and
    /// the payments the first bank accepted (its denominator).
    pub latency_gpi_ms: CellHistogram,
    pub gpi_accepted: u64,
    /// Settled payments: microseconds per stage summed (the stage means add up to the mean latency), and each
    /// stage's distribution in ms (`Stage::idx` order).
    pub stage_us_sum: [u128; Stage::COUNT],
    pub stage_ms: Vec<StageHistogram>,
    /// Every payment (any status, in flight included): how many waited for funding (a nostro or inventory
    /// shortfall, a ledger member's limit: the `nostro_wait` stage) at all, and the distribution of that wait in
    /// ms, zeros included.
    pub funding_waited: u64,
    pub funding_wait_ms: CellHistogram,
    /// Rebalancing requests counted against this cell (the rail and corridor of the payment that triggered
    /// them), the value they moved and what they cost, USD cents.
    pub rebalancings: u64,
    pub rebalanced_usd_cents: i64,
    pub rebalancing_cost_cents: i64,
}

impl Cell {
    pub fn new(window_us: u64) -> Cell {
        Cell {
            counts: [0; 4],
            latency_ms: cell_latency_histogram(),
            latency_us_sum: 0,
            latency_us_max: 0,
            cost_cbps: cost_histogram(),
            cost_bps_sum: 0.0,
            cost_cents: [0; 9],
            liquidity_cents: 0,
            cost_bps_with_liquidity_sum: 0.0,
            amount_usd_cents: 0,
            chain_inclusion_ms: cell_latency_histogram(),
            duplicates: 0,
            chain_settlement_ms: cell_latency_histogram(),
            settled_in_window: 0,
            window_us,
            latency_gpi_ms: cell_latency_histogram(),
            gpi_accepted: 0,
            stage_us_sum: [0; Stage::COUNT],
            stage_ms: vec![StageHistogram::default(); Stage::COUNT],
            funding_waited: 0,
            funding_wait_ms: cell_latency_histogram(),
            rebalancings: 0,
            rebalanced_usd_cents: 0,
            rebalancing_cost_cents: 0,
        }
    }

    /// A cell with tiny histograms, left where a cell was moved out (`Metrics::take_cell`).
    fn placeholder(window_us: u64) -> Cell {
        let tiny = || Histogram::new(1).expect("valid histogram");
        Cell {
            counts: [0; 4],
            latency_ms: tiny(),
            latency_us_sum: 0,
            latency_us_max: 0,
            cost_cbps: tiny(),
            cost_bps_sum: 0.0,
            cost_cents: [0; 9],
            liquidity_cents: 0,
            cost_bps_with_liquidity_sum: 0.0,
            amount_usd_cents: 0,
            chain_inclusion_ms: tiny(),
            duplicates: 0,
            chain_settlement_ms: tiny(),
            settled_in_window: 0,
            window_us,
            latency_gpi_ms: tiny(),
            gpi_accepted: 0,
            stage_us_sum: [0; Stage::COUNT],
            stage_ms: Vec::new(),
            funding_waited: 0,
            funding_wait_ms: tiny(),
            rebalancings: 0,
            rebalanced_usd_cents: 0,
            rebalancing_cost_cents: 0,
        }
    }

    fn add(&mut self, rec: &PaymentRecord) {
        self.counts[status_index(rec.status)] += 1;
        // Money totals saturate rather than wrap: validated bounds keep real runs far below i64, and an absurd
        // input then shows as the largest value, never as a negative total.
        self.amount_usd_cents = self.amount_usd_cents.saturating_add(rec.amount_usd_cents);
        for (t, c) in self.cost_cents.iter_mut().zip(rec.cost.parts()) {
            *t = t.saturating_add(c);
        }
        self.liquidity_cents = self.liquidity_cents.saturating_add(rec.cost.liquidity);
        self.duplicates += u64::from(rec.duplicate);
        let wait_us = rec.stages_us[Stage::NostroWait.idx()];
        self.funding_waited += u64::from(wait_us > 0);
        self.funding_wait_ms.saturating_record(wait_us / 1000);
        if let Some(us) = rec.chain_inclusion_us {
            self.chain_inclusion_ms.saturating_record(us / 1000);
        }
        if let Some(us) = rec.chain_settlement_us {
            self.chain_settlement_ms.saturating_record(us / 1000);
        }
        if rec.accepted_us.is_some() {
            self.gpi_accepted += 1;
            if rec.status == Status::Settled
                && let Some(us) = rec.latency_gpi_us()
            {
                self.latency_gpi_ms.saturating_record(us / 1000);
            }
        }
        if rec.status == Status::Settled {
            let lat = rec.latency_us().unwrap_or(0);
            self.latency_ms.saturating_record(lat / 1000);
            self.latency_us_sum += lat as u128;
            self.latency_us_max = self.latency_us_max.max(lat);
            let bps = rec.cost_bps();
            self.cost_cbps
                .saturating_record((bps * 100.0).round().max(0.0) as u64);
            self.cost_bps_sum += bps;
            self.cost_bps_with_liquidity_sum += rec.cost_bps_with_liquidity();
            if rec.ended_us.is_some_and(|e| e < self.window_us) {
                self.settled_in_window += 1;
            }
            for ((sum, h), &us) in self
                .stage_us_sum
                .iter_mut()
                .zip(&mut self.stage_ms)
                .zip(&rec.stages_us)
            {
                *sum += us as u128;
                h.record(us / 1000);
            }
        }
    }

    fn merge(&mut self, other: &Cell) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        self.latency_ms.add(&other.latency_ms).expect("same bounds");
        self.latency_us_sum += other.latency_us_sum;
        self.latency_us_max = self.latency_us_max.max(other.latency_us_max);
        self.cost_cbps.add(&other.cost_cbps).expect("same bounds");
        self.cost_bps_sum += other.cost_bps_sum;
        for (a, b) in self.cost_cents.iter_mut().zip(other.cost_cents) {
            *a = a.saturating_add(b);
        }
        self.liquidity_cents = self.liquidity_cents.saturating_add(other.liquidity_cents);
        self.cost_bps_with_liquidity_sum += other.cost_bps_with_liquidity_sum;
        self.amount_usd_cents = self.amount_usd_cents.saturating_add(other.amount_usd_cents);
        self.duplicates += other.duplicates;
        self.chain_inclusion_ms
            .add(&other.chain_inclusion_ms)
            .expect("same bounds");
        self.chain_settlement_ms
            .add(&other.chain_settlement_ms)
            .expect("same bounds");
        self.settled_in_window += other.settled_in_window;
        self.latency_gpi_ms
            .add(&other.latency_gpi_ms)
            .expect("same bounds");
        self.gpi_accepted += other.gpi_accepted;
        for (a, b) in self.stage_us_sum.iter_mut().zip(other.stage_us_sum) {
            *a += b;
        }
        for (a, b) in self.stage_ms.iter_mut().zip(&other.stage_ms) {
            a.add(b);
        }
        self.funding_waited += other.funding_waited;
        self.funding_wait_ms
            .add(&other.funding_wait_ms)
            .expect("same bounds");
        self.rebalancings += other.rebalancings;
        self.rebalanced_usd_cents = self
            .rebalanced_usd_cents
            .saturating_add(other.rebalanced_usd_cents);
        self.rebalancing_cost_cents = self
            .rebalancing_cost_cents
            .saturating_add(other.rebalancing_cost_cents);
        debug_assert_eq!(self.window_us, other.window_us);
    }

    pub fn count(&self, s: Status) -> u64 {
        self.counts[status_index(s)]
    }
    pub fn payments(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// Latency quantile of settled payments, in seconds (NaN when none settled).
    pub fn latency_s(&self, q: f64) -> f64 {
        if self.latency_ms.is_empty() {
            return f64::NAN;
        }
        self.latency_ms.value_at_quantile(q) as f64 / 1000.0
    }
    /// A quantile of a chain-step histogram, in seconds (NaN when the rail has no chain step).
    pub fn chain_s(h: &CellHistogram, q: f64) -> f64 {
        if h.is_empty() {
            return f64::NAN;
        }
        h.value_at_quantile(q) as f64 / 1000.0
    }
    pub fn latency_s_mean(&self) -> f64 {
        let n = self.count(Status::Settled);
        if n == 0 {
            return f64::NAN;
        }
        self.latency_us_sum as f64 / n as f64 / US_PER_S as f64
    }
    /// Mean seconds settled payments spent in `stage` (NaN when none settled); the means of all stages add up
    /// to `latency_s_mean`.
    pub fn stage_s_mean(&self, stage: Stage) -> f64 {
        let n = self.count(Status::Settled);
        if n == 0 {
            return f64::NAN;
        }
        self.stage_us_sum[stage.idx()] as f64 / n as f64 / US_PER_S as f64
    }
    /// A quantile of the time settled payments spent in `stage`, in seconds (NaN when none settled).
    pub fn stage_s(&self, stage: Stage, q: f64) -> f64 {
        let h = self.stage_ms[stage.idx()].histogram();
        if h.is_empty() {
            return f64::NAN;
        }
        h.value_at_quantile(q) as f64 / 1000.0
    }
    pub fn latency_s_max(&self) -> f64 {
        if self.count(Status::Settled) == 0 {
            return f64::NAN;
        }
        self.latency_us_max as f64 / US_PER_S as f64
    }
    pub fn cost_bps_mean(&self) -> f64 {
        let n = self.count(Status::Settled);
        if n == 0 {
            return f64::NAN;
        }
        self.cost_bps_sum / n as f64
    }
    /// Mean cost of settled payments in bps with the cost of capital of the positions they used.
    pub fn cost_with_liquidity_bps_mean(&self) -> f64 {
        let n = self.count(Status::Settled);
        if n == 0 {
            return f64::NAN;
        }
        self.cost_bps_with_liquidity_sum / n as f64
    }
    pub fn cost_bps(&self, q: f64) -> f64 {
        if self.cost_cbps.is_empty() {
            return f64::NAN;
        }
        self.cost_cbps.value_at_quantile(q) as f64 / 100.0
    }
    /// On SWIFT gpi's basis: share of the payments the first bank accepted that were credited within `secs` of
    /// that acceptance.
    pub fn gpi_share_within_s(&self, secs: f64) -> f64 {
        if self.gpi_accepted == 0 {
            return f64::NAN;
        }
        let ms = (secs * 1000.0) as u64;
        self.latency_gpi_ms.count_between(0, ms) as f64 / self.gpi_accepted as f64
    }
    pub fn gpi_latency_s(&self, q: f64) -> f64 {
        if self.latency_gpi_ms.is_empty() {
            return f64::NAN;
        }
        self.latency_gpi_ms.value_at_quantile(q) as f64 / 1000.0
    }
    /// Share of settled payments within `secs` of creation (of all payments, so returns count as misses).
    pub fn share_within_s(&self, secs: f64) -> f64 {
        let n = self.payments();
        if n == 0 {
            return f64::NAN;
        }
        let ms = (secs * 1000.0) as u64;
        self.latency_ms.count_between(0, ms) as f64 / n as f64
    }
    /// Settled payments per simulated day while demand was arriving: settlements completed inside the demand
    /// window divided by its length. Under overload this is the rail's capacity, not the arrival rate.
    pub fn throughput_per_day(&self) -> f64 {
        if self.window_us == 0 {
            return f64::NAN;
        }
        self.settled_in_window as f64 / (self.window_us as f64 / (86_400.0 * US_PER_S as f64))
    }
    /// Share of all payments (any status) that waited for funding at all (NaN without payments).
    pub fn funding_wait_share(&self) -> f64 {
        let n = self.payments();
        if n == 0 {
            return f64::NAN;
        }
        self.funding_waited as f64 / n as f64
    }
    /// Share of all payments whose wait for funding was at most `secs` (NaN without payments).
    pub fn funding_wait_within_s(&self, secs: f64) -> f64 {
        let n = self.payments();
        if n == 0 {
            return f64::NAN;
        }
        let ms = (secs * 1000.0) as u64;
        self.funding_wait_ms.count_between(0, ms) as f64 / n as f64
    }
    /// A quantile of the wait for funding over all payments (zeros included), in seconds.
    pub fn funding_wait_s(&self, q: f64) -> f64 {
        if self.funding_wait_ms.is_empty() {
            return f64::NAN;
        }
        self.funding_wait_ms.value_at_quantile(q) as f64 / 1000.0
    }
    pub fn fees_cents(&self) -> i64 {
        split_of(&self.cost_cents).fees()
    }
    /// FX spreads, at banks and at ramps.
    pub fn fx_cents(&self) -> i64 {
        self.cost_cents[3] + self.cost_cents[6]
    }
}

fn split_of(parts: &[i64; 9]) -> CostSplit {
    CostSplit {
        sender_fee: parts[0],
        intermediary_fees: parts[1],
        receiver_fee: parts[2],
        fx_spread: parts[3],
        domestic_fees: parts[4],
        network_fee: parts[5],
        ramp_spread: parts[6],
        ramp_fees: parts[7],
        price_move: parts[8],
        liquidity: 0,
    }
}

fn status_index(s: Status) -> usize {
    match s {
        Status::Settled => 0,
        Status::Returned => 1,
        Status::Failed => 2,
        Status::InFlight => 3,
    }
}

/// Hourly counts for one rail: arrivals, settlements, and all payments that ended (settled, returned or failed)
/// in each hour.
#[derive(Clone, Debug)]
pub struct Series {
    pub arrivals: Vec<u64>,
    pub settled: Vec<u64>,
    pub ended: Vec<u64>,
}

#[derive(Clone, Debug)]
pub struct Metrics {
    rails: usize,
    corridors: usize,
    /// `cells[rail * corridors + corridor]`
    cells: Vec<Cell>,
    window_us: u64,
    pub series: Vec<Series>,
    /// Reconciliation sums by currency: [settled delivered, returned+failed delivered, in-flight transit].
    money: Vec<[i64; 3]>,
}

impl Metrics {
    pub fn new(w: &World) -> Metrics {
        let hours = (w.max_time_us / US_PER_HOUR + 1) as usize;
        Metrics {
            rails: w.rails.len(),
            corridors: w.corridors.len(),
            cells: (0..w.rails.len() * w.corridors.len())
                .map(|_| Cell::new(w.demand_end_us))
                .collect(),
            window_us: w.demand_end_us,
            series: (0..w.rails.len())
                .map(|_| Series {
                    arrivals: vec![0; hours],
                    settled: vec![0; hours],
                    ended: vec![0; hours],
                })
                .collect(),
            money: vec![[0; 3]; w.fx.currencies.len()],
        }
    }

    pub fn arrival(&mut self, rail: RailId, t_us: u64) {
        let s = &mut self.series[rail.idx()];
        let h = ((t_us / US_PER_HOUR) as usize).min(s.arrivals.len() - 1);
        s.arrivals[h] += 1;
    }

    pub fn record(&mut self, rec: &PaymentRecord) {
        self.cells[rec.rail.idx() * self.corridors + rec.corridor.idx()].add(rec);
        let m = &mut self.money[rec.delivered_currency.0 as usize];
        match rec.status {
            Status::Settled => m[0] += rec.delivered_minor,
            Status::Returned | Status::Failed => m[1] += rec.delivered_minor,
            Status::InFlight => m[2] += rec.delivered_minor,
        }
        if let Some(end) = rec.ended_us {
            let s = &mut self.series[rec.rail.idx()];
            let h = ((end / US_PER_HOUR) as usize).min(s.ended.len() - 1);
            s.ended[h] += 1;
            if rec.status == Status::Settled {
                s.settled[h] += 1;
            }
        }
    }

    /// A rebalancing request, counted against the (rail, corridor) of the payment that triggered it.
    pub fn rebalanced(&mut self, rail: RailId, corridor: usize, amount_cents: i64, fee_cents: i64) {
        let c = &mut self.cells[rail.idx() * self.corridors + corridor];
        c.rebalancings += 1;
        c.rebalanced_usd_cents = c.rebalanced_usd_cents.saturating_add(amount_cents);
        c.rebalancing_cost_cents = c.rebalancing_cost_cents.saturating_add(fee_cents);
    }

    pub fn cell(&self, rail: RailId, corridor: usize) -> &Cell {
        &self.cells[rail.idx() * self.corridors + corridor]
    }

    /// Moves a cell out, leaving an empty placeholder (with one-bucket histograms) that must not be read.
    pub fn take_cell(&mut self, rail: RailId, corridor: usize) -> Cell {
        let window_us = self.window_us;
        std::mem::replace(
            &mut self.cells[rail.idx() * self.corridors + corridor],
            Cell::placeholder(window_us),
        )
    }

    /// The `all` row of a rail: every corridor merged (exact HDR addition).
    pub fn rail_total(&self, rail: RailId) -> Cell {
        let mut all = Cell::new(self.window_us);
        for c in 0..self.corridors {
            all.merge(self.cell(rail, c));
        }
        all
    }

    pub fn rails(&self) -> usize {
        self.rails
    }

    pub fn settled_minor(&self, c: CurId) -> i64 {
        self.money[c.0 as usize][0]
    }
    pub fn returned_minor(&self, c: CurId) -> i64 {
        self.money[c.0 as usize][1]
    }
    pub fn in_flight_minor(&self, c: CurId) -> i64 {
        self.money[c.0 as usize][2]
    }
}

/// A chain's headline figures over one run: what summary.csv, chains.csv and sweeps report for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainFigures {
    pub stale_rate: f64,
    /// Blocks produced: the trials behind the stale rate.
    pub blocks: u64,
    pub reorgs: u64,
    pub fullness_pct: f64,
    pub tx_per_s: f64,
    pub interval_s: f64,
}

impl ChainFigures {
    pub fn of(
        m: &crate::model::chain::state::ChainMetrics,
        block_capacity: u64,
        span_us: u64,
    ) -> ChainFigures {
        let ratio = |a: f64, b: f64| if b == 0.0 { f64::NAN } else { a / b };
        ChainFigures {
            stale_rate: ratio(m.stale_blocks as f64, m.blocks_produced as f64),
            blocks: m.blocks_produced,
            reorgs: m.reorgs,
            fullness_pct: 100.0
                * ratio(
                    m.units_used as f64,
                    (m.canonical_blocks * block_capacity) as f64,
                ),
            tx_per_s: m.txs_included as f64 / (span_us.max(1) as f64 / 1e6),
            interval_s: if m.canonical_blocks > 1 {
                (m.last_block_us - m.first_block_us) as f64 / 1e6 / (m.canonical_blocks - 1) as f64
            } else {
                f64::NAN
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stage histogram, built from zeros counted apart and merged, is the histogram of every value recorded.
    #[test]
    fn a_stage_histogram_is_every_value_recorded_in_one() {
        let values: Vec<u64> = (0..2_000_u64)
            .map(|i| (i * i * 7_919) % 5_000 / 3 * (i % 3))
            .collect();
        let (left, right) = values.split_at(700);
        let mut whole = cell_latency_histogram();
        let (mut a, mut b) = (StageHistogram::default(), StageHistogram::default());
        for &v in left {
            whole.saturating_record(v);
            a.record(v);
        }
        for &v in right {
            whole.saturating_record(v);
            b.record(v);
        }
        a.add(&b);
        let h = a.histogram();
        assert_eq!(h, whole);
        assert_eq!(h.value_at_quantile(0.5), whole.value_at_quantile(0.5));
        let mut only_zeros = StageHistogram::default();
        only_zeros.record(0);
        assert!(only_zeros.nonzero.is_none());
        assert_eq!(only_zeros.histogram().len(), 1);
        assert!(StageHistogram::default().histogram().is_empty());
    }
}
