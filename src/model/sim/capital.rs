//! Liquidity and the cost of capital. A *position* is a series of the ledger (`model::liquidity`): a nostro a
//! route draws on, a ramp's or FX provider's inventory, a ledger member's advances, a rail's funds in transit in
//! one currency, a rail's transfers on a chain. Its balance over time comes from the ledger's postings alone.
//!
//! The simulation closes every position at each hour, at the end of demand and at the end of the run
//! (`Sim::close_until`): hours are summed into the days of `liquidity.csv` and into the demand window of the
//! summary.
//!
//! **Cost of capital and its allocation.** Over each hour of the demand window a position costs
//! ∫ balance dt × its currency's annual rate ÷ 365 days, valued in USD at the hour's midpoint. That cost is
//! shared among the payments *using* the position in that hour — a payment uses every position on its route
//! from its creation to its end — pro rata amount × time: a payment of USD amount a in flight for t of the hour
//! bears cost × a·t ÷ Σ a·t over the position's users. An hour with no user carries its cost to the position's
//! next hour with users (the position waited for them); what is still carried when demand ends is *idle* cost,
//! reported per position and never allocated. A payment's share is known once the hour it ended in is closed,
//! so when rates are given a finished payment's record waits (in order) for that close: at most an hour of
//! records. Positions that only collect receipts (a receiving bank's nostro, the inventory of the currency a
//! ramp buys) are reported but carry no cost: they are not liquidity provided to pay.

use std::collections::BTreeMap;

use crate::model::fx::CurId;
use crate::model::ledger::{AccountId, Ledger};
use crate::model::liquidity::{Extreme, Span};
use crate::model::world::{BankId, HopFunding, Mode, NostroId, RailId, RouteId, World};
use crate::units::{US_PER_DAY, US_PER_HOUR};

use super::accounts::Accounts;

/// Days in a year for an annual rate (ACT/365).
pub const DAYS_PER_YEAR: f64 = 365.0;

/// What kind of position a series is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PositionKind {
    /// A bank's balance at a correspondent that payments are paid out of.
    Nostro,
    /// A ramp's or FX provider's inventory of a currency it sells (or a bank's holding on a platform).
    Inventory,
    /// What a tokenised-deposit ledger member advanced to other members, until net settlement.
    LedgerAdvance,
    /// An account that only collects receipts (a receiving bank's nostro, an inventory of a bought currency).
    Collection,
    /// A rail's payments in flight, in one currency, at banks and ramps and between them.
    InTransit,
    /// A rail's transfers on a chain or ledger, from broadcast to the receiver's credit.
    OnChain,
}

impl PositionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PositionKind::Nostro => "nostro",
            PositionKind::Inventory => "inventory",
            PositionKind::LedgerAdvance => "ledger_advance",
            PositionKind::Collection => "collection",
            PositionKind::InTransit => "in_transit",
            PositionKind::OnChain => "on_chain",
        }
    }
    /// Liquidity provided so that payments can be paid: the pre-funded positions.
    pub fn prefunded(self) -> bool {
        matches!(
            self,
            PositionKind::Nostro | PositionKind::Inventory | PositionKind::LedgerAdvance
        )
    }
    /// Funds of payments in flight (in transit or on a chain).
    pub fn in_flight(self) -> bool {
        matches!(self, PositionKind::InTransit | PositionKind::OnChain)
    }
}

/// One position: what it is, whose rail it serves (`None`: shared by several rails in split mode), its name and
/// currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub kind: PositionKind,
    pub rail: Option<RailId>,
    /// `owner@at` for a nostro, the owner for an inventory, the member for advances, the chain for transfers on
    /// it, `payments` for funds in transit.
    pub account: String,
    pub currency: CurId,
}

/// A position over a span of time (a day, the demand window).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    /// Exact ∫ balance dt (minor units × µs), over `len_us`.
    pub integral: i128,
    pub len_us: u64,
    pub peak: Extreme,
    pub min: Extreme,
    /// ∫ balance dt in USD × µs, each hour valued at its midpoint's mid rate.
    pub usd_us: f64,
    /// The peak and the minimum valued at the mid rate of the moment they began.
    pub peak_usd: f64,
    pub min_usd: f64,
    /// Cost of capital over the span, USD.
    pub cost_usd: f64,
}

impl Figures {
    pub fn mean_usd(&self) -> f64 {
        if self.len_us == 0 {
            f64::NAN
        } else {
            self.usd_us / self.len_us as f64
        }
    }
}

/// One row of liquidity.csv: a position over one day (the last one may be partial).
#[derive(Clone, Debug, PartialEq)]
pub struct DayRow {
    pub day: u32,
    pub start_us: u64,
    pub position: u32,
    pub figures: Figures,
}

/// What a run measured about liquidity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiquidityOutcome {
    pub positions: Vec<Position>,
    /// Day by day, positions in order within a day.
    pub days: Vec<DayRow>,
    /// Per position, over the demand window (up to the end of the run if it stopped earlier).
    pub window: Vec<Figures>,
    /// Per position, cost of capital not allocated to any payment (no payment used the position after it), USD.
    pub idle_cost_usd: Vec<f64>,
    /// Per position, its balance when the run ended (minor units).
    pub end_minor: Vec<i64>,
    /// Whether the scenario gives rates (`[rates]`): otherwise nothing costs anything.
    pub rates: bool,
}

/// A rail's positions over the demand window, summed (valued in USD as `Figures`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RailLiquidity {
    /// Pre-funded positions (nostros, inventories, ledger advances): time-weighted mean, and the sum of each
    /// position's peak (what pre-funding had to cover, position by position).
    pub prefunded_mean_usd: f64,
    pub prefunded_peak_usd: f64,
    /// Funds of payments in flight (in transit at banks and ramps and on chains): mean, and the sum over
    /// currencies of each one's peak; `on_chain_mean_usd` is the part on a chain or ledger.
    pub in_transit_mean_usd: f64,
    pub in_transit_peak_usd: f64,
    pub on_chain_mean_usd: f64,
    /// Cost of capital of the rail's positions over the window, and the part no payment used (idle), USD.
    pub cost_usd: f64,
    pub idle_cost_usd: f64,
}

impl LiquidityOutcome {
    /// The positions that serve rail `r` alone, summed over the demand window.
    pub fn rail(&self, r: RailId) -> RailLiquidity {
        let mut out = RailLiquidity::default();
        for (i, p) in self.positions.iter().enumerate() {
            if p.rail != Some(r) {
                continue;
            }
            let f = &self.window[i];
            if p.kind.prefunded() {
                out.prefunded_mean_usd += f.mean_usd();
                out.prefunded_peak_usd += f.peak_usd;
            }
            if p.kind.in_flight() {
                out.in_transit_mean_usd += f.mean_usd();
                out.in_transit_peak_usd += f.peak_usd;
            }
            if p.kind == PositionKind::OnChain {
                out.on_chain_mean_usd += f.mean_usd();
            }
            out.cost_usd += f.cost_usd;
            out.idle_cost_usd += self.idle_cost_usd[i];
        }
        out
    }
}

/// The users of a position: their amounts (USD cents) and its integral over the current hour.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    cents: i64,
    since_us: u64,
    integral: i128,
}

impl Usage {
    fn add(&mut self, now_us: u64, cents: i64) {
        self.integral += self.cents as i128 * (now_us - self.since_us) as i128;
        self.since_us = now_us;
        self.cents += cents;
    }
    fn close(&mut self, t_us: u64) -> i128 {
        self.add(t_us, 0);
        std::mem::take(&mut self.integral)
    }
}

/// A position's running aggregates (the day and the window) and its carried cost.
#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    span: Span,
    usd_us: f64,
    cost_usd: f64,
}

impl Acc {
    fn figures(&self, usd: impl Fn(Extreme) -> f64) -> Figures {
        let none = Extreme::default();
        let peak = self.span.peak.unwrap_or(none);
        let min = self.span.min.unwrap_or(none);
        Figures {
            integral: self.span.integral,
            len_us: self.span.len_us,
            peak,
            min,
            usd_us: self.usd_us,
            peak_usd: usd(peak),
            min_usd: usd(min),
            cost_usd: self.cost_usd,
        }
    }
}

/// The liquidity state of a run.
pub(super) struct Capital {
    positions: Vec<Position>,
    /// Per position: annual rate as a fraction (0 for collections and currencies without a rate).
    rate: Vec<f64>,
    users: Vec<Usage>,
    day: Vec<Acc>,
    window: Vec<Acc>,
    /// Cost carried to the next hour with users, USD.
    pool: Vec<f64>,
    /// Per route: the positions its payments use.
    route_pos: Vec<Vec<u32>>,
    /// Per route and hour of the demand window: Σ over its positions of cost ÷ Σ a·t (USD per cent·µs), and its
    /// running sum weighted by the hours' lengths (`q[r][p]` = Σ over hours before p).
    k: Vec<Vec<f64>>,
    q: Vec<Vec<f64>>,
    window_end_us: u64,
    pub(super) last_close_us: u64,
    pub(super) next_close_us: u64,
    days: Vec<DayRow>,
    day_start_us: u64,
    pub(super) allocating: bool,
    /// Scratch: each position's cost per cent·µs in the hour being closed.
    kappa: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// (world, nostro)
    Nostro(u16, u32),
    /// (rail, member, currency)
    Advance(u16, u16, u16),
    /// (rail, currency)
    InTransit(u16, u16),
    /// (rail, currency)
    OnChain(u16, u16),
}

/// How a route uses its positions, before they are series.
struct Uses {
    /// key → (drawn on, rails that use it)
    keys: BTreeMap<Key, (bool, Vec<RailId>)>,
    route_keys: Vec<Vec<Key>>,
}

/// The world a route's payments run in.
fn world_of(w: &World, r: RouteId) -> u16 {
    match w.mode {
        Mode::Mirror => w.route(r).rail.0,
        Mode::Split => 0,
    }
}

/// The currency a payment holds when it leaves bank `k` of the route: after the conversions at banks up to k.
fn currency_after(w: &World, r: RouteId, k: usize) -> CurId {
    let route = w.route(r);
    let mut c = w.corridors[route.corridor.idx()].source;
    for &(at, to) in &route.conversions {
        if at <= k {
            c = to;
        }
    }
    c
}

fn inventory_of(w: &World, b: BankId, c: CurId) -> Option<NostroId> {
    w.bank(b)
        .inventories
        .iter()
        .find(|&&(x, _)| x == c)
        .map(|&(_, n)| n)
}

fn uses(w: &World) -> Uses {
    let mut keys: BTreeMap<Key, (bool, Vec<RailId>)> = BTreeMap::new();
    let mut route_keys = Vec::new();
    for ri in 0..w.routes.len() {
        let r = RouteId(ri as u16);
        let route = w.route(r);
        let (world, rail) = (world_of(w, r), route.rail);
        let mut mine: Vec<(Key, bool)> = Vec::new();
        let source = w.corridors[route.corridor.idx()].source;
        mine.push((Key::InTransit(rail.0, source.0), false));
        for &(_, to) in &route.conversions {
            mine.push((Key::InTransit(rail.0, to.0), false));
        }
        for (k, hop) in route.hops.iter().enumerate() {
            let cur = currency_after(w, r, k);
            match *hop {
                HopFunding::SenderNostro(n) => mine.push((Key::Nostro(world, n.0), true)),
                HopFunding::ReceiverNostro(n) => mine.push((Key::Nostro(world, n.0), false)),
                HopFunding::Chain(_) => mine.push((Key::OnChain(rail.0, cur.0), false)),
                HopFunding::Ledger(_) => {
                    mine.push((Key::OnChain(rail.0, cur.0), false));
                    let member = route.path[k + 1];
                    mine.push((Key::Advance(rail.0, member.0, cur.0), true));
                }
                HopFunding::Instant(_) => {}
            }
        }
        for &(at, to) in &route.conversions {
            let b = route.path[at];
            let from = if at == 0 {
                source
            } else {
                currency_after(w, r, at - 1)
            };
            if let Some(n) = inventory_of(w, b, to) {
                mine.push((Key::Nostro(world, n.0), true));
            }
            if let Some(n) = inventory_of(w, b, from) {
                mine.push((Key::Nostro(world, n.0), false));
            }
        }
        let mut list = Vec::new();
        for (key, drawn) in mine {
            let e = keys.entry(key).or_insert((false, Vec::new()));
            e.0 |= drawn;
            if !e.1.contains(&rail) {
                e.1.push(rail);
            }
            if !list.contains(&key) {
                list.push(key);
            }
        }
        route_keys.push(list);
    }
    Uses { keys, route_keys }
}

impl Capital {
    /// Defines the positions of world `w` and joins their accounts to ledger series. `nostro_accounts[world *
    /// nostros + n]` is each world's copy of nostro (or inventory) n. Call before any posting to them.
    pub(super) fn new(
        w: &World,
        ledger: &mut Ledger,
        acc: &Accounts,
        nostro_accounts: &[AccountId],
    ) -> Capital {
        let uses = uses(w);
        // Positions in a fixed order: rails in scenario order (split mode: shared positions first), each rail's
        // nostros and inventories in scenario order, its ledger advances, funds in transit, transfers on chains.
        let mut order: Vec<(u32, Key)> = uses
            .keys
            .iter()
            .map(|(&k, (_, rails))| {
                let rail = if rails.len() == 1 {
                    rails[0].0 as u32
                } else {
                    0
                };
                let rank = match (w.mode, k) {
                    (Mode::Split, Key::Nostro(..)) if rails.len() > 1 => 0,
                    _ => rail + 1,
                };
                (rank, k)
            })
            .collect();
        order.sort();
        let mut series_of_key = BTreeMap::new();
        let mut positions = Vec::new();
        let mut rate = Vec::new();
        for &(_, key) in &order {
            let (drawn, rails) = &uses.keys[&key];
            let rail = (rails.len() == 1).then(|| rails[0]);
            let s = ledger.add_series();
            debug_assert_eq!(s as usize, positions.len());
            series_of_key.insert(key, s);
            let (kind, account, currency) = match key {
                Key::Nostro(world, n) => {
                    let nostro = &w.nostros[n as usize];
                    let a = nostro_accounts[world as usize * w.nostros.len() + n as usize];
                    ledger.track(a, s);
                    let inventory = nostro.owner == nostro.at;
                    let kind = match (drawn, inventory) {
                        (false, _) => PositionKind::Collection,
                        (true, false) => PositionKind::Nostro,
                        (true, true) => PositionKind::Inventory,
                    };
                    let owner = &w.bank(nostro.owner).name;
                    let name = if inventory {
                        owner.clone()
                    } else {
                        format!("{owner}@{}", w.bank(nostro.at).name)
                    };
                    (kind, name, nostro.currency)
                }
                Key::Advance(r, b, c) => {
                    ledger.track(acc.advance(RailId(r), BankId(b), CurId(c)), s);
                    (
                        PositionKind::LedgerAdvance,
                        w.bank(BankId(b)).name.clone(),
                        CurId(c),
                    )
                }
                Key::InTransit(r, c) => {
                    for b in 0..w.banks.len() {
                        ledger.track(acc.transit(RailId(r), BankId(b as u16), CurId(c)), s);
                    }
                    (PositionKind::InTransit, "payments".to_string(), CurId(c))
                }
                Key::OnChain(r, c) => {
                    ledger.track(acc.on_chain(RailId(r), CurId(c)), s);
                    let chain = w.rails[r as usize]
                        .kind
                        .chain()
                        .map(|ch| w.chains[ch.idx()].name.clone())
                        .unwrap_or_default();
                    (PositionKind::OnChain, chain, CurId(c))
                }
            };
            let annual = if kind == PositionKind::Collection {
                0.0
            } else {
                w.rates
                    .get(currency.0 as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(0.0)
            };
            rate.push(annual);
            positions.push(Position {
                kind,
                rail,
                account,
                currency,
            });
        }
        let route_pos: Vec<Vec<u32>> = uses
            .route_keys
            .iter()
            .map(|keys| keys.iter().map(|k| series_of_key[k]).collect())
            .collect();
        Capital::from_parts(
            positions,
            rate,
            route_pos,
            w.demand_end_us,
            !w.rates.is_empty(),
        )
    }

    /// The state for `positions` (series 0..n of the ledger, in order) with their annual rates, the positions
    /// each route uses, and the end of demand; `allocating` when the scenario gives rates.
    pub(super) fn from_parts(
        positions: Vec<Position>,
        rate: Vec<f64>,
        route_pos: Vec<Vec<u32>>,
        window_end_us: u64,
        allocating: bool,
    ) -> Capital {
        let n = positions.len();
        let hours = window_end_us.div_ceil(US_PER_HOUR) as usize;
        let per_route = |x: usize| {
            (0..route_pos.len())
                .map(|_| Vec::with_capacity(if allocating { x } else { 0 }))
                .collect::<Vec<Vec<f64>>>()
        };
        let mut q = per_route(hours + 1);
        for v in &mut q {
            v.push(0.0);
        }
        Capital {
            positions,
            rate,
            users: vec![Usage::default(); n],
            day: vec![Acc::default(); n],
            window: vec![Acc::default(); n],
            pool: vec![0.0; n],
            k: per_route(hours),
            q,
            route_pos,
            window_end_us,
            last_close_us: 0,
            next_close_us: US_PER_HOUR.min(window_end_us),
            days: Vec::new(),
            day_start_us: 0,
            allocating,
            kappa: vec![0.0; n],
        }
    }

    /// A payment of `cents` (USD at creation) on route `r` starts or stops using its route's positions.
    pub(super) fn use_route(&mut self, r: RouteId, now_us: u64, cents: i64) {
        for &s in &self.route_pos[r.0 as usize] {
            self.users[s as usize].add(now_us, cents);
        }
    }

    /// Closes every position at `t_us`: the period since the last close enters the day and (inside the demand
    /// window) the window and the cost pools. `value(c, t)` is USD per minor unit of c at t; a period is
    /// valued at its midpoint.
    pub(super) fn close(
        &mut self,
        t_us: u64,
        ledger: &mut Ledger,
        value: &dyn Fn(CurId, u64) -> f64,
    ) {
        let start = self.last_close_us;
        debug_assert!(t_us > start);
        let len = t_us - start;
        let mid = start + len / 2;
        let mut valued: Vec<(CurId, f64)> = Vec::new();
        let in_window = t_us <= self.window_end_us;
        let tracker = ledger.tracker_mut();
        for (s, pos) in self.positions.iter().enumerate() {
            let period = tracker.series[s].close(t_us);
            let per_minor = match valued.iter().find(|(c, _)| *c == pos.currency) {
                Some(&(_, v)) => v,
                None => {
                    let v = value(pos.currency, mid);
                    valued.push((pos.currency, v));
                    v
                }
            };
            let usd_us = period.integral as f64 * per_minor;
            let cost = usd_us * self.rate[s] / (DAYS_PER_YEAR * US_PER_DAY as f64);
            let day = &mut self.day[s];
            day.span.add(&period, len);
            day.usd_us += usd_us;
            day.cost_usd += cost;
            let weight = self.users[s].close(t_us);
            if in_window {
                let win = &mut self.window[s];
                win.span.add(&period, len);
                win.usd_us += usd_us;
                win.cost_usd += cost;
                self.pool[s] += cost;
                self.kappa[s] = if weight > 0 {
                    std::mem::take(&mut self.pool[s]) / weight as f64
                } else {
                    0.0
                };
            }
        }
        if in_window && self.allocating {
            for (r, pos) in self.route_pos.iter().enumerate() {
                let k: f64 = pos.iter().map(|&s| self.kappa[s as usize]).sum();
                let q = *self.q[r].last().expect("starts with 0");
                self.k[r].push(k);
                self.q[r].push(q + k * len as f64);
            }
        }
        self.last_close_us = t_us;
        if t_us.is_multiple_of(US_PER_DAY) {
            self.end_day(t_us, value);
        }
        let next_hour = (t_us / US_PER_HOUR + 1) * US_PER_HOUR;
        self.next_close_us = if t_us < self.window_end_us {
            next_hour.min(self.window_end_us)
        } else {
            next_hour
        };
    }

    /// Emits a row per position for the day that ends at `t_us` (the last may be partial).
    fn end_day(&mut self, t_us: u64, value: &dyn Fn(CurId, u64) -> f64) {
        if t_us == self.day_start_us {
            return;
        }
        let day = (self.day_start_us / US_PER_DAY) as u32;
        for (s, pos) in self.positions.iter().enumerate() {
            let c = pos.currency;
            let figures = self.day[s].figures(|e| e.minor as f64 * value(c, e.at_us));
            self.days.push(DayRow {
                day,
                start_us: self.day_start_us,
                position: s as u32,
                figures,
            });
            self.day[s] = Acc::default();
        }
        self.day_start_us = t_us;
    }

    /// The cost of capital allocated to a payment of `cents` on route `r` in flight from `created_us` to
    /// `ended_us`, in USD cents: Σ over the hours it overlapped of its amount × overlap × its route's cost per
    /// cent·µs. Needs every hour up to its end (or the window's) closed.
    pub(super) fn allocated_cents(
        &self,
        r: RouteId,
        cents: i64,
        created_us: u64,
        ended_us: u64,
    ) -> i64 {
        if !self.allocating {
            return 0;
        }
        let until = ended_us.min(self.window_end_us).min(self.last_close_us);
        if until <= created_us {
            return 0;
        }
        let (k, q) = (&self.k[r.0 as usize], &self.q[r.0 as usize]);
        let h = US_PER_HOUR;
        let (pc, pe) = ((created_us / h) as usize, ((until - 1) / h) as usize);
        let per_cent = if pc == pe {
            k[pc] * (until - created_us) as f64
        } else {
            k[pc] * ((pc as u64 + 1) * h - created_us) as f64
                + (q[pe] - q[pc + 1])
                + k[pe] * (until - pe as u64 * h) as f64
        };
        (per_cent * cents as f64 * 100.0).round() as i64
    }

    /// Whether a payment that ended at `ended_us` can be priced now (every hour it used is closed).
    pub(super) fn priced_by(&self, ended_us: u64) -> bool {
        !self.allocating || ended_us.min(self.window_end_us) <= self.last_close_us
    }

    /// The figures of the run, once the last period is closed at `end_us`.
    pub(super) fn finish(
        mut self,
        end_us: u64,
        end_minor: Vec<i64>,
        value: &dyn Fn(CurId, u64) -> f64,
    ) -> LiquidityOutcome {
        self.end_day(end_us, value);
        let window = self
            .positions
            .iter()
            .enumerate()
            .map(|(s, pos)| {
                let c = pos.currency;
                self.window[s].figures(|e| e.minor as f64 * value(c, e.at_us))
            })
            .collect();
        LiquidityOutcome {
            positions: self.positions,
            days: self.days,
            window,
            idle_cost_usd: self.pool,
            end_minor,
            rates: self.allocating,
        }
    }
}

/// USD per minor unit of `c` at the mid rate of `t_us`.
pub fn usd_per_minor(w: &World, c: CurId, t_us: u64) -> f64 {
    let usd = CurId(0);
    let scale = 10_f64.powi(w.fx.currency(c).exponent as i32);
    w.fx.mid_f64(c, usd, t_us) / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ledger::AccountKind;

    const MIN: u64 = 60_000_000;

    /// A rail's liquidity sums its own positions by kind: pre-funded (nostro, inventory, ledger advance), in
    /// flight (in transit, on chain; on chain also alone), every position's cost and idle cost; a shared position
    /// (no rail) and another rail's are left out. Hand-set figures with distinct powers of two, so each sum names
    /// the positions in it.
    #[test]
    fn a_rails_liquidity_sums_its_own_positions_by_kind() {
        use PositionKind::*;
        let kinds = [
            (Nostro, Some(0)),
            (Inventory, Some(0)),
            (LedgerAdvance, Some(0)),
            (Collection, Some(0)),
            (InTransit, Some(0)),
            (OnChain, Some(0)),
            (Nostro, None),
            (InTransit, Some(1)),
        ];
        let positions = kinds
            .iter()
            .map(|&(kind, rail)| Position {
                kind,
                rail: rail.map(RailId),
                account: kind.as_str().into(),
                currency: CurId(0),
            })
            .collect();
        let bit = |i: usize| f64::from(1_u32 << i);
        let window = (0..kinds.len())
            .map(|i| Figures {
                len_us: 4,
                usd_us: 4.0 * bit(i),
                peak_usd: 2.0 * bit(i),
                cost_usd: 3.0 * bit(i),
                ..Figures::default()
            })
            .collect();
        let l = LiquidityOutcome {
            positions,
            window,
            idle_cost_usd: (0..kinds.len()).map(|i| 5.0 * bit(i)).collect(),
            ..LiquidityOutcome::default()
        };
        // Rail 0 holds positions 0-5: pre-funded 0, 1, 2 (1 + 2 + 4 = 7); in flight 4, 5 (16 + 32 = 48).
        let want = RailLiquidity {
            prefunded_mean_usd: 7.0,
            prefunded_peak_usd: 14.0,
            in_transit_mean_usd: 48.0,
            in_transit_peak_usd: 96.0,
            on_chain_mean_usd: 32.0,
            cost_usd: 3.0 * 63.0,
            idle_cost_usd: 5.0 * 63.0,
        };
        assert_eq!(l.rail(RailId(0)), want);
        let other = l.rail(RailId(1));
        assert_eq!((other.in_transit_mean_usd, other.cost_usd), (128.0, 384.0));
        assert_eq!(other.prefunded_mean_usd, 0.0);
    }

    /// The allocation rule by hand. One USD position holds $876,000 throughout at 3.65% a year: it costs
    /// 876,000 × 0.0365 / 8,760 = $3.65 an hour. Payment 1 ($100) is in flight from 0:00 to 0:30, payment 2
    /// ($300) from 0:15 to 1:45; demand ends at 3:00.
    ///   hour 0: weights 100 × 30 min and 300 × 45 min, 2/11 and 9/11 of $3.65: $0.6636 and $2.9864;
    ///   hour 1: payment 2 alone: $3.65;
    ///   hour 2: nobody uses the position: $3.65 is idle.
    /// So payment 1 bears 66 cents, payment 2 $6.6364 → 664 cents, and $3.65 of the $10.95 stays unallocated.
    #[test]
    fn two_payments_share_an_hour_pro_rata_amount_times_time() {
        let usd = CurId(0);
        let mut ledger = Ledger::default();
        let reserve = ledger.open(AccountKind::Reserve, usd, 0);
        let nostro = ledger.open(AccountKind::Nostro, usd, 0);
        let s = ledger.add_series();
        ledger.track(nostro, s);
        ledger.transfer(reserve, nostro, 87_600_000);
        let position = Position {
            kind: PositionKind::Nostro,
            rail: Some(RailId(0)),
            account: "a@b".into(),
            currency: usd,
        };
        let mut cap =
            Capital::from_parts(vec![position], vec![0.0365], vec![vec![0]], 180 * MIN, true);
        let value = |_: CurId, _: u64| 0.01;
        let route = RouteId(0);
        cap.use_route(route, 0, 10_000);
        cap.use_route(route, 15 * MIN, 30_000);
        cap.use_route(route, 30 * MIN, -10_000);
        assert!(!cap.priced_by(30 * MIN), "its hour is not closed yet");
        cap.close(60 * MIN, &mut ledger, &value);
        assert!(cap.priced_by(30 * MIN));
        cap.use_route(route, 105 * MIN, -30_000);
        cap.close(120 * MIN, &mut ledger, &value);
        cap.close(180 * MIN, &mut ledger, &value);
        assert_eq!(cap.allocated_cents(route, 10_000, 0, 30 * MIN), 66);
        assert_eq!(cap.allocated_cents(route, 30_000, 15 * MIN, 105 * MIN), 664);
        let out = cap.finish(180 * MIN, vec![87_600_000], &value);
        assert!((out.window[0].cost_usd - 10.95).abs() < 1e-9);
        assert!((out.idle_cost_usd[0] - 3.65).abs() < 1e-9);
        assert!((out.window[0].mean_usd() - 876_000.0).abs() < 1e-6);
    }

    /// Without rates nothing is allocated and a record never waits for its hour.
    #[test]
    fn without_rates_records_are_priced_at_once() {
        let cap = Capital::from_parts(Vec::new(), Vec::new(), vec![Vec::new()], MIN, false);
        assert!(cap.priced_by(MIN / 2));
        assert_eq!(cap.allocated_cents(RouteId(0), 1_000, 0, MIN), 0);
    }

    #[test]
    fn usage_integrates_users_amounts() {
        let mut u = Usage::default();
        u.add(0, 100);
        u.add(10, 300);
        u.add(15, -100);
        assert_eq!(u.close(20), 100 * 10 + 400 * 5 + 300 * 5);
        assert_eq!(u.close(30), 300 * 10);
    }
}
