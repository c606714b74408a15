//! The payment state machine. Demand arrives per corridor (`demand`); each payment walks its route bank by bank
//! (`bank`: hours, processing, repair, screening, fees, conversion points), and each hop between two banks is
//! settled by the module of its kind: nostro accounts (`correspondent`), or a chain transfer out of an on-ramp
//! (`ramp`, `chain`); first and last mile go over domestic rails (`domestic`); merchant QR specifics live in `qr`,
//! staffed desks in `desk`, the ledger's account layout in `accounts`.
//!
//! A payment is a small state machine in an arena slot; the only event that drives it is `Ev::Pay(slot)`, whose
//! meaning is the payment's `phase`. The interface between the machine and a rail kind is small: a rail kind
//! adds a `HopFunding` variant and the module that settles it, registers it in `send_hop` (how a hop of its kind
//! starts) and its phases in `on_pay` (what its wake-ups do), and hands the payment back with `arrive` at the next
//! bank (or ends it with `settle`, `reject` or a failure). Finished payments are handed to a `RecordSink` and
//! their slot is reused, so memory is bounded by the payments in flight, not by the payments simulated.

mod accounts;
mod bank;
pub mod capital;
mod chain;
mod correspondent;
mod demand;
mod desk;
mod domestic;
mod exposure;
mod funding;
mod ips;
mod ledger;
mod pending;
mod qr;
mod ramp;
mod tally;

use accounts::Accounts;
use capital::{Capital, LiquidityOutcome};
use chain::chain_states;
use correspondent::NostroState;
use demand::Demand;
use domestic::DomState;
pub use exposure::FxExposure;
use exposure::FxRisk;
pub use funding::Rebalance;
pub use ledger::LedgerOutcome;
use pending::Pending;
use tally::{Part, Tally};

use std::collections::VecDeque;

use rand_distr::{Exp, LogNormal};

use crate::engine::queue::EventQueue;
use crate::engine::slab::Slab;
use crate::model::chain::state::{ChainMetrics, ChainState};
pub use crate::model::event::Ev;
use crate::model::fx::CurId;
use crate::model::ledger::{AccountKind, Ledger, LedgerError};
use crate::model::metrics::Metrics;
use crate::model::record::{EndReason, Hold, PaymentRecord, Place, Stage, Status, Step, TraceStep};
use crate::model::station::{DeskQueue, Servers, StationStats};
use crate::model::world::{
    ChainId, CorridorId, Desk, HopFunding, Mode, RailId, RouteId, TopUp, World,
};
use crate::rng::{self, Stream};
use crate::units::US_PER_DAY;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// At `hop`'s bank, waiting for business hours; on the event it is accepted.
    Accept,
    /// Straight-through processing done.
    Processed,
    /// Manual repair done.
    Repaired,
    /// Screening review done.
    Reviewed,
    /// Message and funds in transit to the next bank; on the event it arrives there.
    InTransit,
    /// Queued on a nostro shortfall: no event pending, woken by a credit.
    NostroQueued,
    /// First-mile domestic transfer done; arrives at the first bank.
    FirstMileDone,
    /// Last-mile domestic transfer done: settled.
    LastMileDone,
    /// Funds travelling back to the originator.
    Returning,
    /// A chain transfer waiting for inclusion and for the receiver's confirmations; woken by the chain.
    ChainPending,
    /// A chain transfer waiting for finality at a known time.
    ChainFinal,
    /// Funds ready at the last bank, paid out T+n.
    PayoutDue,
    /// At the on-ramp's withdrawal desk (review or batch done).
    Withdrawal,
    /// Waiting at a staffed desk: no event pending, started by the desk when a clerk is free.
    DeskQueued,
    /// At the gateway between two instant payment systems; on the event it enters the next system.
    AtLink,
    /// Screening ran out of the link's time budget; on the event the payment is rejected.
    ScreeningTimedOut,
    /// Queued on a ledger member's limit: no event pending, released by a net settlement.
    LedgerQueued,
}

#[derive(Clone, Debug)]
struct Payment {
    id: u64,
    demand_id: u64,
    route: RouteId,
    rail: RailId,
    corridor: CorridorId,
    phase: Phase,
    hop: u8,
    /// Mirror mode gives each rail its own copy of liquidity and queues: the paired comparison stays paired.
    world: u16,
    created_us: u64,
    amount_minor: i64,
    amount_usd_cents: i64,
    /// The funds currently in transit, in `cur`.
    transit_minor: i64,
    cur: CurId,
    queued_since_us: u64,
    /// What a payment queued on a nostro or inventory waits to do.
    queued_for: Queued,
    /// A second submission of an order already paid (merchant QR): the platform refunds it.
    duplicate: bool,
    /// Its chain leg in `Sim::legs` (`NO_LEG` until it needs one).
    leg: u32,
    /// Why it will end as it does, when that is not the ordinary way (see `EndReason`).
    reason: EndReason,
    /// First bank's acceptance.
    accepted_us: MaybeUs,
    /// The longest single hold so far and its kind.
    slowest_us: u64,
    slowest: Hold,
    /// The stage the payment is in since `stage_since_us`.
    stage: Stage,
    stage_since_us: u64,
    /// Its costs so far and the time spent in each earlier stage.
    tally: Tally,
    /// FX settlement exposure: open since when, or closed after how long; and its value in USD cents.
    fx: FxLeg,
    fx_cents: i64,
}

/// A payment's FX settlement exposure in one word: never opened, open since a time, or closed after a length
/// (simulated times and durations stay below 2^50 µs, so the top bit can tell open from closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FxLeg(u64);

impl FxLeg {
    const NEVER: FxLeg = FxLeg(u64::MAX);
    const OPEN: u64 = 1 << 63;
    fn open(since_us: u64) -> FxLeg {
        assert!(
            since_us < 1 << 62,
            "a time below 2^62 µs (all ones is never opened)"
        );
        FxLeg(FxLeg::OPEN + since_us)
    }
    fn closed(length_us: u64) -> FxLeg {
        assert!(length_us < 1 << 62, "a duration below 2^62 µs");
        FxLeg(length_us)
    }
    /// Since when it is open, if it is.
    fn since(self) -> Option<u64> {
        (self != FxLeg::NEVER && self.0 & FxLeg::OPEN != 0).then_some(self.0 & !FxLeg::OPEN)
    }
    /// How long it was open, once closed.
    fn length(self) -> Option<u64> {
        (self.0 & FxLeg::OPEN == 0).then_some(self.0)
    }
}

/// What a payment on a chain rail carries from its on-ramp to its record. It lives in a side arena
/// (`Sim::legs`), allocated on first use and freed when the payment ends, so that payments that never touch a
/// chain (and chain payments still on their first mile) do not carry it: the payment arena holds every payment
/// in flight.
#[derive(Clone, Debug)]
struct ChainLeg {
    /// The transfer's transaction (`u32::MAX`: none), and whether its network fee was charged.
    tx: u32,
    fee_charged: bool,
    /// On-ramp withdrawal desk: 0 not seen, 1 limit checked, 2 batched.
    withdrawal_stage: u8,
    /// Broadcast, first inclusion and deposit credit times (0 until they happen).
    broadcast_us: u64,
    included_us: u64,
    deposited_us: u64,
    /// When the on-ramp bought an asset whose price moves (the start of the exposure), until the off-ramp
    /// sells it; and how long that was, once sold.
    bought_us: MaybeUs,
    exposed_us: MaybeUs,
    /// What the price move cost the off-ramp when it bears the price risk (USD cents, negative: a gain).
    ramp_price_move: i64,
}

/// A payment without a chain leg.
const NO_LEG: u32 = u32::MAX;

impl ChainLeg {
    /// The leg of a payment that has not used a chain yet.
    const NEW: ChainLeg = ChainLeg {
        tx: u32::MAX,
        fee_charged: false,
        withdrawal_stage: 0,
        broadcast_us: 0,
        included_us: 0,
        deposited_us: 0,
        bought_us: MaybeUs::NONE,
        exposed_us: MaybeUs::NONE,
        ramp_price_move: 0,
    };
}

/// An optional time or duration in 8 bytes where `Option<u64>` takes 16 (the arena holds every payment in
/// flight): `u64::MAX` is none. Simulated times and durations stay below 2^50 µs (validation caps a run at
/// twenty years), so it is never a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MaybeUs(u64);

impl MaybeUs {
    const NONE: MaybeUs = MaybeUs(u64::MAX);
    fn some(us: u64) -> MaybeUs {
        assert!(us != u64::MAX, "a time below 2^64 - 1 µs");
        MaybeUs(us)
    }
    fn get(self) -> Option<u64> {
        (self.0 != u64::MAX).then_some(self.0)
    }
}

/// The arena holds a `Payment` per payment in flight (~146 k at the scale input's peak): keep it from
/// silently regrowing (it was 408 bytes with dense stage times and `Option<u64>` times, 296 with a chain
/// rail's fields in every payment).
const _: () = assert!(size_of::<Payment>() <= 200);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queued {
    Hop,
    /// Conversion into this currency from the bank's inventory.
    Convert(CurId),
}

/// Receives each finished payment (and, at the end, each one still in flight).
pub trait RecordSink {
    fn record(&mut self, rec: &PaymentRecord);
    /// Called every `PROGRESS_EVERY` events with the simulated time, for progress bars at the edge.
    fn progress(&mut self, _now_us: u64) {}
}

/// How often (in events) the sink hears about progress.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// A sink that keeps nothing (benchmarks, sweeps).
pub struct NullSink;
impl RecordSink for NullSink {
    fn record(&mut self, _rec: &PaymentRecord) {}
}

impl<F: FnMut(&PaymentRecord)> RecordSink for F {
    fn record(&mut self, rec: &PaymentRecord) {
        self(rec)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndedBy {
    /// Every event was processed: nothing left in flight that could move.
    Drained,
    MaxTime,
    MaxEvents,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Drained => "drained",
            EndedBy::MaxTime => "max_time",
            EndedBy::MaxEvents => "max_events",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub events: u64,
    pub end_us: u64,
    pub ended_by: EndedBy,
    pub payments: u64,
    pub postings: u64,
    pub metrics: Metrics,
    pub chains: Vec<ChainOutcome>,
    pub trace: Vec<TraceStep>,
    /// Every station's queue accounting: domestic rails, then staffed desks.
    pub stations: Vec<StationOutcome>,
    /// Tokenised-deposit ledgers: members' exposure to each other until net settlement.
    pub ledgers: Vec<LedgerOutcome>,
    /// Every rebalancing request of a threshold top-up policy, in the order made.
    pub rebalances: Vec<Rebalance>,
    /// Balances of every position over time, per day and over the demand window, and their cost of capital.
    pub liquidity: LiquidityOutcome,
    /// Per rail: FX settlement exposure.
    pub fx_exposure: Vec<FxExposure>,
}

/// What a station measured (for Little's law and the queueing checks).
#[derive(Clone, Debug)]
pub struct StationOutcome {
    /// `domestic/<rail>` or `bank/<bank>/<desk>`.
    pub name: String,
    /// The rail whose world it served (mirror mode), if any.
    pub rail: Option<RailId>,
    /// Servers, or None for a pure delay.
    pub servers: Option<u32>,
    /// Whether the scenario declared it (servers, service_time or a staff count).
    pub declared: bool,
    pub stats: StationStats,
}

/// What one simulated chain measured; `rail` is the rail whose world it served (mirror mode), if any.
#[derive(Clone, Debug)]
pub struct ChainOutcome {
    pub chain: ChainId,
    pub rail: Option<RailId>,
    pub metrics: ChainMetrics,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("money conservation failed (seed {seed}): {source}")]
    Ledger { seed: u64, source: LedgerError },
}

/// Options that do not change the model: which payment to trace.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub trace_payment: Option<u64>,
}

pub struct Sim<'w, S: RecordSink> {
    w: &'w World,
    q: EventQueue<Ev>,
    now: u64,
    ledger: Ledger,
    acc: Accounts,
    /// Payments in flight, by slot; a slot is reused when its payment ends. Chunked: memory follows the peak
    /// number in flight, without a doubling `Vec`'s slack.
    arena: Slab<Payment>,
    free: Vec<u32>,
    /// Chain legs of the payments in flight that have one (`Payment::leg`), and the free slots among them.
    legs: Slab<ChainLeg>,
    free_legs: Vec<u32>,
    next_id: u64,
    next_demand: u64,
    demand: Vec<Demand>,
    /// `bank_streams[rail * banks + bank]`
    bank_streams: Vec<Stream>,
    /// One stream per (rail, corridor); `route_stream[route]` is the route's.
    rail_streams: Vec<Stream>,
    route_stream: Vec<u32>,
    /// `doms[world * dom_rails + d]`
    doms: Vec<DomState>,
    /// `nostros[world * nostros + n]`
    nostros: Vec<NostroState>,
    /// `desks[(world * banks + bank) * 3 + desk]`, `None` where the desk is unstaffed (unlimited).
    desks: Vec<Option<DeskQueue>>,
    metrics: Metrics,
    chains: Vec<ChainState>,
    /// Which chain each chain state simulates, and for which rail's world (mirror mode) if any.
    chain_meta: Vec<(ChainId, Option<RailId>)>,
    /// `chain_state_of[world * chains + chain]`: the state a payment of that world uses.
    chain_state_of: Vec<Option<u16>>,
    sink: S,
    trace_id: u64,
    trace: Vec<TraceStep>,
    /// Tokenised-deposit ledgers: members' unsettled obligations, queues and exposure.
    ledgers: ledger::Ledgers,
    /// IPS links' daily limits: `ips_used[rail][bank]` = (local day, value sent that day).
    ips_used: Vec<Vec<(i64, i64)>>,
    /// Rebalancing requests so far (a few a day per position: rare, not per payment).
    rebalances: Vec<Rebalance>,
    /// Positions over time and the cost of capital (`capital`).
    capital: Capital,
    /// Finished payments waiting for the hour they ended in to be closed (their cost of capital), in order,
    /// packed (`pending`).
    pending: Pending,
    /// Per rail: FX settlement exposure.
    fx_risk: Vec<FxRisk>,
}

impl<'w, S: RecordSink> Sim<'w, S> {
    pub fn new(w: &'w World, sink: S, opts: &RunOptions) -> Sim<'w, S> {
        let mut ledger = Ledger::default();
        let acc = Accounts::open(&mut ledger, w);
        let seed = w.seed;
        let demand = w
            .corridors
            .iter()
            .map(|c| {
                let peak = c.diurnal.iter().cloned().fold(0.0, f64::max)
                    * c.weekday.iter().cloned().fold(0.0, f64::max);
                let lambda_max_per_us = c.payments_per_day * peak / US_PER_DAY as f64;
                Demand {
                    stream: rng::stream(seed, &format!("demand/{}", c.name)),
                    gap: Exp::new(lambda_max_per_us.max(1e-30)).expect("positive rate"),
                    lambda_max_per_us,
                    amount: LogNormal::new(c.amount_mu, c.amount_sigma).expect("valid lognormal"),
                    share_total: c.routes.iter().map(|&r| w.route(r).share).sum(),
                }
            })
            .collect();
        let mut bank_streams = Vec::with_capacity(w.rails.len() * w.banks.len());
        for r in &w.rails {
            for b in &w.banks {
                bank_streams.push(rng::stream(
                    seed,
                    &format!("rail/{}/bank/{}", r.name, b.name),
                ));
            }
        }
        // A rail's own draws (message, link and return delays, duplicate submissions) come from one stream per
        // (rail, corridor), so adding a corridor to a rail does not shift its draws on the other corridors.
        let mut rail_streams: Vec<Stream> = Vec::new();
        let mut route_stream = Vec::with_capacity(w.routes.len());
        let mut labels: Vec<String> = Vec::new();
        for route in &w.routes {
            let label = format!(
                "rail/{}/corridor/{}",
                w.rails[route.rail.idx()].name,
                w.corridors[route.corridor.idx()].name
            );
            let k = labels.iter().position(|l| *l == label).unwrap_or_else(|| {
                rail_streams.push(rng::stream(seed, &label));
                labels.push(label);
                labels.len() - 1
            });
            route_stream.push(k as u32);
        }
        let worlds = match w.mode {
            Mode::Mirror => w.rails.len().max(1),
            Mode::Split => 1,
        };
        let mut doms = Vec::new();
        let mut nostros = Vec::new();
        for world in 0..worlds {
            let label = world_label(w, world);
            for d in &w.dom_rails {
                doms.push(DomState {
                    servers: Servers::new(d.servers),
                    stream: rng::stream(seed, &format!("world/{label}/domestic/{}", d.name)),
                });
            }
            for n in &w.nostros {
                let account = ledger.open(AccountKind::Nostro, n.currency, 0);
                let funding = matches!(n.topup, TopUp::Threshold(_))
                    .then(|| ledger.open(AccountKind::Funding, n.currency, 0));
                nostros.push(NostroState {
                    account,
                    queue: VecDeque::new(),
                    funding,
                    requested_minor: 0,
                    trigger: (RailId(0), CorridorId(0)),
                });
            }
        }
        // Positions are tracked from their opening balance on.
        let nostro_accounts: Vec<_> = nostros.iter().map(|n| n.account).collect();
        let capital = Capital::new(w, &mut ledger, &acc, &nostro_accounts);
        for (i, st) in nostros.iter().enumerate() {
            let n = &w.nostros[i % w.nostros.len()];
            ledger.transfer(
                acc.reserve(n.owner, n.currency),
                st.account,
                n.opening_minor,
            );
        }
        let desks = (0..worlds)
            .flat_map(|_| w.banks.iter())
            .flat_map(|b| b.staff.iter().map(|s| s.map(DeskQueue::new)))
            .collect();
        let metrics = Metrics::new(w);
        let hours = (w.max_time_us / crate::units::US_PER_HOUR + 1) as usize;
        let (chains, chain_meta, chain_state_of) = chain_states(w, worlds, seed, hours);
        let mut sim = Sim {
            w,
            q: EventQueue::with_capacity(1024),
            now: 0,
            ledger,
            acc,
            arena: Slab::new(),
            free: Vec::new(),
            legs: Slab::new(),
            free_legs: Vec::new(),
            next_id: 0,
            next_demand: 0,
            demand,
            bank_streams,
            rail_streams,
            route_stream,
            doms,
            nostros,
            desks,
            metrics,
            chains,
            chain_meta,
            chain_state_of,
            sink,
            trace_id: opts.trace_payment.unwrap_or(u64::MAX),
            trace: Vec::new(),
            ips_used: vec![vec![(i64::MIN, 0); w.banks.len()]; w.rails.len()],
            ledgers: ledger::Ledgers::default(),
            rebalances: Vec::new(),
            capital,
            pending: Pending::default(),
            fx_risk: vec![FxRisk::default(); w.rails.len()],
        };
        sim.schedule_initial();
        sim
    }

    fn schedule_initial(&mut self) {
        self.schedule_net_settlements();
        for (i, c) in self.chains.iter_mut().enumerate() {
            c.start(&self.w.chains[self.chain_meta[i].0.idx()], &mut self.q);
        }
        for c in 0..self.w.corridors.len() {
            self.schedule_next_arrival(CorridorId(c as u16), 0);
        }
        let per_world = self.w.nostros.len();
        for (i, _) in self.nostros.iter().enumerate() {
            let n = &self.w.nostros[i % per_world];
            if n.daily_topup() {
                let cal = self.w.bank_calendar(n.owner);
                let first = cal.add_business_days(0, 1);
                if first < self.w.max_time_us {
                    self.q.push(first, Ev::TopUp(i as u32));
                }
            }
        }
    }

    /// Runs to the end and checks conservation. The sink has seen every payment when this returns.
    pub fn run(mut self) -> Result<(Outcome, S), SimError> {
        let mut events = 0_u64;
        let ended_by = loop {
            if events >= self.w.max_events {
                break EndedBy::MaxEvents;
            }
            let Some((t, ev)) = self.q.pop() else {
                break EndedBy::Drained;
            };
            if t > self.w.max_time_us {
                break EndedBy::MaxTime;
            }
            self.close_until(t);
            self.now = t;
            self.ledger.set_now(t);
            events += 1;
            if events.is_multiple_of(PROGRESS_EVERY) {
                self.sink.progress(t);
            }
            match ev {
                Ev::Arrival(c) => self.on_arrival(c),
                Ev::Pay(slot) => self.on_pay(slot),
                Ev::TopUp(n) => self.on_topup(n),
                Ev::Funded(n) => self.on_funded(n),
                Ev::ChainTick(c) => {
                    let spec = &self.w.chains[self.chain_meta[c as usize].0.idx()];
                    let hours = spec.hours.map(|h| self.w.calendar(h));
                    self.chains[c as usize].on_tick(spec, hours, t, &mut self.q);
                    self.chain_wakes(c as usize);
                }
                Ev::BlockArrive { chain, node, block } => {
                    let spec = &self.w.chains[self.chain_meta[chain as usize].0.idx()];
                    self.chains[chain as usize].on_arrive(
                        spec,
                        t,
                        node as usize,
                        block,
                        &mut self.q,
                    );
                    self.chain_wakes(chain as usize);
                }
                Ev::NetSettle(r) => self.on_net_settle(r),
                Ev::Desk(i) => {
                    let desk = self.desks[i as usize]
                        .as_mut()
                        .expect("only staffed desks wake");
                    desk.wake_pending = false;
                    self.desk_dispatch(i as usize);
                }
            }
        };
        let end_us = match ended_by {
            EndedBy::MaxTime => self.w.max_time_us,
            _ => self.now,
        };
        self.close_until(end_us);
        if end_us > self.capital.last_close_us {
            self.close_period(end_us);
        }
        self.release_pending();
        self.finish_in_flight(end_us);
        // Every payment has ended or been reported in flight: each gave its chain leg back.
        assert_eq!(
            self.free_legs.len(),
            self.legs.len(),
            "a chain leg outlived its payment"
        );
        self.check_conservation()?;
        let stations = self.stations(end_us);
        let ledgers = self.ledger_outcomes(end_us);
        let fx_exposure = self.fx_outcomes(end_us);
        for c in &mut self.chains {
            c.finish();
        }
        let outcome = Outcome {
            events,
            end_us,
            ended_by,
            payments: self.next_id,
            postings: self.ledger.postings(),
            metrics: self.metrics,
            chains: self
                .chains
                .into_iter()
                .zip(self.chain_meta)
                .map(|(c, (chain, rail))| ChainOutcome {
                    chain,
                    rail,
                    metrics: c.metrics,
                })
                .collect(),
            trace: self.trace,
            stations,
            ledgers,
            rebalances: self.rebalances,
            liquidity: {
                let w = self.w;
                let balances = self
                    .ledger
                    .tracker()
                    .series
                    .iter()
                    .map(|i| i.balance)
                    .collect();
                self.capital
                    .finish(end_us, balances, &|c, t| capital::usd_per_minor(w, c, t))
            },
            fx_exposure,
        };
        Ok((outcome, self.sink))
    }

    fn alloc(&mut self, p: Payment) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.arena[slot as usize] = p;
                slot
            }
            None => {
                self.arena.push(p);
                self.arena.len() as u32 - 1
            }
        }
    }

    /// The payment's chain leg (`ChainLeg::NEW` while it has none).
    #[inline]
    fn leg(&self, slot: u32) -> &ChainLeg {
        match self.arena[slot as usize].leg {
            NO_LEG => &ChainLeg::NEW,
            l => &self.legs[l as usize],
        }
    }

    /// The payment's chain leg, given one if it has none.
    #[inline]
    fn leg_mut(&mut self, slot: u32) -> &mut ChainLeg {
        let mut l = self.arena[slot as usize].leg;
        if l == NO_LEG {
            l = self.new_leg(slot);
        }
        &mut self.legs[l as usize]
    }

    #[cold]
    fn new_leg(&mut self, slot: u32) -> u32 {
        let l = match self.free_legs.pop() {
            Some(l) => {
                self.legs[l as usize] = ChainLeg::NEW;
                l
            }
            None => {
                self.legs.push(ChainLeg::NEW);
                self.legs.len() as u32 - 1
            }
        };
        self.arena[slot as usize].leg = l;
        l
    }

    /// A payment that ends gives its slot back, and its chain leg with it.
    fn free_slot(&mut self, slot: u32) {
        let p = &mut self.arena[slot as usize];
        if p.leg != NO_LEG {
            self.free_legs.push(p.leg);
            p.leg = NO_LEG;
        }
        self.free.push(slot);
    }

    fn on_pay(&mut self, slot: u32) {
        let phase = self.arena[slot as usize].phase;
        let finished_desk = match phase {
            Phase::Processed => Some(Desk::Processing),
            Phase::Repaired => Some(Desk::Repair),
            Phase::Reviewed => Some(Desk::Review),
            _ => None,
        };
        if let Some(desk) = finished_desk
            && let Some(i) = self.staffed_desk(slot, desk)
        {
            self.desks[i].as_mut().expect("staffed").release();
            self.desk_dispatch(i);
        }
        match phase {
            Phase::Accept => self.accept(slot),
            Phase::Processed => self.after_processing(slot),
            Phase::Repaired => self.screen(slot),
            Phase::Reviewed => self.after_review(slot),
            Phase::InTransit => {
                self.arena[slot as usize].hop += 1;
                self.arrive(slot);
            }
            Phase::FirstMileDone => self.arrive(slot),
            Phase::LastMileDone => self.settle(slot),
            Phase::Returning => self.returned(slot),
            Phase::ChainFinal => self.chain_settled(slot),
            Phase::PayoutDue => self.payout(slot),
            Phase::Withdrawal => {
                let p = &self.arena[slot as usize];
                let HopFunding::Chain(c) = self.w.route(p.route).hops[p.hop as usize] else {
                    unreachable!("a withdrawal is a chain hop")
                };
                self.withdraw(slot, c)
            }
            Phase::AtLink => {
                let p = &self.arena[slot as usize];
                let HopFunding::Instant(d) = self.w.route(p.route).hops[p.hop as usize] else {
                    unreachable!("only an instant hop crosses a link")
                };
                self.submit_instant(slot, d)
            }
            Phase::ScreeningTimedOut => self.reject(slot),
            Phase::NostroQueued | Phase::ChainPending | Phase::DeskQueued | Phase::LedgerQueued => {
                unreachable!("a queued or chain-pending payment has no pending event")
            }
        }
    }

    /// Notes a hold of `us` of kind `what` starting now; the payment keeps its longest, and enters the hold's
    /// stage.
    fn hold(&mut self, slot: u32, us: u64, what: Hold) {
        self.note_hold(slot, us, what);
        self.enter_stage(slot, self.now, Stage::of_hold(what));
    }

    /// Notes a hold of `us` of kind `what` that ends now (a queue left, a chain deposit credited): its stage is
    /// dated back to when it began.
    fn held(&mut self, slot: u32, us: u64, what: Hold) {
        self.note_hold(slot, us, what);
        self.enter_stage(slot, self.now - us, Stage::of_hold(what));
    }

    fn note_hold(&mut self, slot: u32, us: u64, what: Hold) {
        let p = &mut self.arena[slot as usize];
        if us > p.slowest_us && us != u64::MAX {
            p.slowest_us = us;
            p.slowest = what;
        }
    }

    /// The payment is in `stage` from `at_us` on: the time since the current stage began is booked to it. A start
    /// before that (a wait dated back across a later stage change) counts from the change, so no microsecond is
    /// booked twice and the stages always sum to the time since creation.
    fn enter_stage(&mut self, slot: u32, at_us: u64, stage: Stage) {
        let p = &mut self.arena[slot as usize];
        let at = at_us.max(p.stage_since_us);
        p.tally.add_stage(p.stage, at - p.stage_since_us);
        p.stage_since_us = at;
        p.stage = stage;
    }

    fn schedule(&mut self, slot: u32, at_us: u64, phase: Phase) {
        self.arena[slot as usize].phase = phase;
        self.q.push(at_us, Ev::Pay(slot));
    }

    fn schedule_or_stall(&mut self, slot: u32, at_us: u64, phase: Phase) {
        if at_us == u64::MAX {
            self.arena[slot as usize].phase = phase;
        } else {
            self.schedule(slot, at_us, phase);
        }
    }

    /// Sends the payment over its current hop: the registration of hop kinds, each settled by its rail's module
    /// (nostro hops in `correspondent`, chain transfers through the on-ramp's withdrawal desk in `ramp` and
    /// `chain`).
    fn send_hop(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        match self.w.route(p.route).hops[p.hop as usize] {
            HopFunding::SenderNostro(n) => self.send_sender_nostro(slot, n),
            HopFunding::ReceiverNostro(_) => self.post_hop(slot),
            HopFunding::Chain(c) => self.withdraw(slot, c),
            HopFunding::Instant(d) => self.send_instant(slot, d),
            HopFunding::Ledger(c) => self.send_ledger(slot, c),
        }
    }

    fn record_of(&self, slot: u32, status: Status, ended_us: Option<u64>) -> PaymentRecord {
        let p = &self.arena[slot as usize];
        let leg = self.leg(slot);
        let corridor = &self.w.corridors[p.corridor.idx()];
        PaymentRecord {
            id: p.id,
            demand_id: p.demand_id,
            corridor: p.corridor,
            rail: p.rail,
            amount_minor: p.amount_minor,
            currency: corridor.source,
            amount_usd_cents: p.amount_usd_cents,
            created_us: p.created_us,
            ended_us,
            status,
            delivered_minor: p.transit_minor,
            delivered_currency: p.cur,
            cost: p.tally.costs(),
            duplicate: p.duplicate,
            reason: p.reason,
            chain_inclusion_us: (leg.included_us > 0).then(|| leg.included_us - leg.broadcast_us),
            chain_settlement_us: (leg.deposited_us > 0)
                .then(|| leg.deposited_us - leg.broadcast_us),
            accepted_us: p.accepted_us.get(),
            slowest: p.slowest,
            slowest_us: p.slowest_us,
            exposed_us: leg.exposed_us.get(),
            ramp_price_move_cents: leg.ramp_price_move,
            fx_exposure_us: p.fx.length(),
            stages_us: {
                // The current stage runs to the end (or to now, in flight).
                let mut st = p.tally.stages();
                let end = ended_us.unwrap_or(self.now).max(p.stage_since_us);
                st[p.stage.idx()] += end - p.stage_since_us;
                st
            },
        }
    }

    fn finish(&mut self, slot: u32, status: Status, ended_us: Option<u64>) {
        self.fx_delivered(slot);
        let rec = self.record_of(slot, status, ended_us);
        let p = &self.arena[slot as usize];
        let route = p.route;
        self.capital.use_route(route, self.now, -p.amount_usd_cents);
        self.free_slot(slot);
        // A payment's cost of capital is known once the hour it ended in is closed; records leave in order.
        if self.pending.is_empty() && self.capital.priced_by(self.now) {
            self.release(rec, route);
        } else {
            self.pending.push(&rec, route);
        }
    }

    /// A finished payment's record, with its cost of capital, to the metrics and the sink.
    fn release(&mut self, mut rec: PaymentRecord, route: RouteId) {
        let ended = rec.ended_us.unwrap_or(self.capital.last_close_us);
        rec.cost.liquidity =
            self.capital
                .allocated_cents(route, rec.amount_usd_cents, rec.created_us, ended);
        self.metrics.record(&rec);
        self.sink.record(&rec);
    }

    fn release_pending(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.drain(|rec, route| self.release(rec, route));
        self.pending = pending;
    }

    /// Closes every period whose boundary is at or before `t` (before the events of time `t` run).
    fn close_until(&mut self, t: u64) {
        while self.capital.next_close_us <= t {
            let at = self.capital.next_close_us;
            self.close_period(at);
        }
    }

    fn close_period(&mut self, at: u64) {
        self.ledger.set_now(at);
        let w = self.w;
        self.capital.close(at, &mut self.ledger, &|c, t| {
            capital::usd_per_minor(w, c, t)
        });
        if !self.pending.is_empty() {
            self.release_pending();
        }
    }

    /// Payments still moving when the run stops are reported as in flight, in id order.
    fn finish_in_flight(&mut self, end_us: u64) {
        let mut free = vec![false; self.arena.len()];
        for &s in &self.free {
            free[s as usize] = true;
        }
        let mut live: Vec<u32> = (0..self.arena.len() as u32)
            .filter(|&s| !free[s as usize])
            .collect();
        live.sort_by_key(|&s| self.arena[s as usize].id);
        for slot in live {
            // A payment still queued for funding has waited since it queued: that wait is otherwise booked only
            // when it ends, and one that never ends would show as time in the stage before it.
            let p = &self.arena[slot as usize];
            if matches!(p.phase, Phase::NostroQueued | Phase::LedgerQueued) {
                let since = p.queued_since_us;
                self.enter_stage(slot, since, Stage::NostroWait);
            }
            let mut rec = self.record_of(slot, Status::InFlight, None);
            let p = &self.arena[slot as usize];
            if let Some(since) = p.fx.since() {
                rec.fx_exposure_us = Some(end_us - since);
            }
            let route = p.route;
            self.release(rec, route);
            self.free_slot(slot);
        }
    }

    /// Conservation per currency, then reconciliation: the money the ledger shows with beneficiaries, returned
    /// to originators and still in transit equals what the payment records say, currency by currency.
    fn check_conservation(&self) -> Result<(), SimError> {
        let currencies = self.w.currency_ids();
        let name = |c: CurId| self.w.fx.currency(c).to_string();
        let seed = self.w.seed;
        self.ledger
            .check_balanced(&currencies, name)
            .map_err(|source| SimError::Ledger { seed, source })?;
        self.ledger
            .check_series()
            .map_err(|source| SimError::Ledger { seed, source })?;
        for &c in &currencies {
            let checks = [
                (
                    "beneficiaries",
                    AccountKind::Beneficiaries,
                    self.metrics.settled_minor(c),
                ),
                (
                    "returns",
                    AccountKind::Returns,
                    self.metrics.returned_minor(c),
                ),
                (
                    "funds in transit",
                    AccountKind::Transit,
                    self.metrics.in_flight_minor(c),
                ),
            ];
            for (what, kind, payments) in checks {
                let ledger = self.ledger.total(kind, c);
                if ledger != payments {
                    return Err(SimError::Ledger {
                        seed,
                        source: LedgerError::Mismatch {
                            currency: name(c),
                            what,
                            ledger,
                            payments,
                        },
                    });
                }
            }
        }
        Ok(())
    }

    fn is_traced(&self, slot: u32) -> bool {
        self.arena[slot as usize].id == self.trace_id
    }

    fn trace_step(&mut self, slot: u32, place: Place, step: Step) {
        if self.is_traced(slot) {
            self.trace.push(TraceStep {
                t_us: self.now,
                place,
                step,
            });
        }
    }
}

/// Runs a world to the end. The core entry point: no I/O, no clock, no threads.
pub fn run<S: RecordSink>(w: &World, sink: S, opts: &RunOptions) -> Result<(Outcome, S), SimError> {
    Sim::new(w, sink, opts).run()
}

/// The name a world's random streams are keyed by: in mirror mode the rail whose copy of the infrastructure it
/// is, so inserting a rail anywhere shifts no other world's draws; otherwise the one shared world.
fn world_label(w: &World, world: usize) -> String {
    match w.mode {
        Mode::Mirror if world < w.rails.len() => format!("rail:{}", w.rails[world].name),
        _ => "shared".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An exposure never opened, open since a time, or closed after a length reads back as exactly that, at
    /// both ends of the range of times.
    #[test]
    fn fx_leg_tells_never_open_and_closed_apart() {
        assert_eq!((FxLeg::NEVER.since(), FxLeg::NEVER.length()), (None, None));
        for t in [0, 1, 7_000_000, (1 << 50) - 1, (1 << 62) - 1] {
            let (open, closed) = (FxLeg::open(t), FxLeg::closed(t));
            assert_eq!(
                (open.since(), open.length()),
                (Some(t), None),
                "open since {t}"
            );
            assert_eq!(
                (closed.since(), closed.length()),
                (None, Some(t)),
                "closed after {t}"
            );
            assert_ne!(open, FxLeg::NEVER);
        }
    }
}
