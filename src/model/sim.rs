//! The simulation of the traditional rails: demand arrives per corridor, each payment walks its route bank by bank
//! (business hours, processing, repair, screening, fees, FX, nostro settlement, message transit), then the last
//! mile over a domestic rail. A payment is a small state machine in an arena slot; the only event that drives it
//! is `Ev::Pay(slot)`, whose meaning is the payment's `phase`. Finished payments are handed to a `RecordSink`
//! and their slot is reused, so memory is bounded by the payments in flight, not by the payments simulated.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp, LogNormal};

use crate::engine::queue::EventQueue;
use crate::metrics::Metrics;
use crate::model::calendar::WaitReason;
use crate::model::chain::spec::{Consensus, FeeMarket};
use crate::model::chain::state::{ChainMetrics, ChainState};
use crate::model::fx::CurId;
use crate::model::ledger::{AccountId, AccountKind, Ledger, LedgerError};
use crate::model::record::{
    CostSplit, EndReason, Hold, PaymentRecord, Place, Status, Step, TraceStep,
};
use crate::model::station::{DeskQueue, Servers, StationStats};
use crate::model::world::{
    BankId, ChainId, ChargeBearer, CorridorId, Desk, DomKind, DomRailId, HopFunding, Mode,
    NostroId, RailId, RailKind, RouteId, World,
};
use crate::rng::{self, Stream};
use crate::units::US_PER_DAY;

/// The closed set of events, twelve bytes: the queue moves them by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    /// Next candidate arrival of a corridor's demand (thinned Poisson process).
    Arrival(CorridorId),
    /// Advance payment in arena slot `u32` according to its phase.
    Pay(u32),
    /// A nostro's daily top-up (index into the per-world nostro state).
    TopUp(u32),
    /// A chain's next block, slot or BFT height.
    ChainTick(u16),
    /// Nakamoto propagation: `block` reaches `node` of `chain`.
    BlockArrive { chain: u16, node: u32, block: u32 },
    /// A staffed desk (index into the per-world desks) opens with payments waiting.
    Desk(u32),
}

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
    /// Chain rails: the transfer's transaction, and whether its network fee was charged.
    tx: u32,
    fee_charged: bool,
    /// Chain rails: broadcast, first inclusion and deposit credit times (0 until they happen).
    broadcast_us: u64,
    included_us: u64,
    deposited_us: u64,
    /// A second submission of an order already paid (merchant QR): the platform refunds it.
    duplicate: bool,
    /// On-ramp withdrawal desk: 0 not seen, 1 limit checked, 2 batched.
    withdrawal_stage: u8,
    /// Why it will end as it does, when that is not the ordinary way (see `EndReason`).
    reason: EndReason,
    /// The service time drawn for the staffed desk the payment waits at (and which desk).
    desk_service_us: u64,
    desk: Desk,
    /// First bank's acceptance (0 until it happens; a payment is never accepted at time 0 by a later bank).
    accepted_us: u64,
    accepted: bool,
    /// The longest single hold so far and its kind.
    slowest_us: u64,
    slowest: Hold,
    cost: CostSplit,
}

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

struct DomState {
    servers: Servers,
    stream: Stream,
}

struct NostroState {
    account: AccountId,
    queue: VecDeque<u32>,
}

/// Account layout: fixed arithmetic instead of a map lookup per posting.
struct Accounts {
    ncur: usize,
    customers: usize,
    banks: usize,
    doms: usize,
}

const BANK_KINDS: [AccountKind; 4] = [
    AccountKind::Transit,
    AccountKind::Reserve,
    AccountKind::FeeIncome,
    AccountKind::FxPosition,
];

impl Accounts {
    fn open(ledger: &mut Ledger, world: &World) -> Accounts {
        let ncur = world.fx.currencies.len();
        let customers = 0;
        for c in 0..ncur {
            for kind in [
                AccountKind::Originators,
                AccountKind::Beneficiaries,
                AccountKind::Returns,
            ] {
                ledger.open(kind, CurId(c as u16), 0);
            }
        }
        let banks = 3 * ncur;
        for _ in 0..world.banks.len() {
            for c in 0..ncur {
                for kind in BANK_KINDS {
                    ledger.open(kind, CurId(c as u16), 0);
                }
            }
        }
        let doms = banks + world.banks.len() * ncur * 4;
        // Fee income of domestic rails, then of chains (miners and validators), per currency.
        for _ in 0..world.dom_rails.len() + world.chains.len() {
            for c in 0..ncur {
                ledger.open(AccountKind::FeeIncome, CurId(c as u16), 0);
            }
        }
        Accounts {
            ncur,
            customers,
            banks,
            doms,
        }
    }
    fn customer(&self, kind: usize, c: CurId) -> AccountId {
        AccountId((self.customers + c.0 as usize * 3 + kind) as u32)
    }
    fn originators(&self, c: CurId) -> AccountId {
        self.customer(0, c)
    }
    fn beneficiaries(&self, c: CurId) -> AccountId {
        self.customer(1, c)
    }
    fn returns(&self, c: CurId) -> AccountId {
        self.customer(2, c)
    }
    fn bank(&self, b: BankId, kind: usize, c: CurId) -> AccountId {
        AccountId((self.banks + (b.idx() * self.ncur + c.0 as usize) * 4 + kind) as u32)
    }
    fn transit(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 0, c)
    }
    fn reserve(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 1, c)
    }
    fn fees(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 2, c)
    }
    fn fx(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 3, c)
    }
    fn dom_fees(&self, d: DomRailId, c: CurId) -> AccountId {
        AccountId((self.doms + d.idx() * self.ncur + c.0 as usize) as u32)
    }
    fn chain_fees(&self, doms: usize, chain: ChainId, c: CurId) -> AccountId {
        AccountId((self.doms + (doms + chain.idx()) * self.ncur + c.0 as usize) as u32)
    }
}

struct Demand {
    stream: Stream,
    gap: Exp<f64>,
    lambda_max_per_us: f64,
    amount: LogNormal<f64>,
    share_total: f64,
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
    arena: Vec<Payment>,
    free: Vec<u32>,
    next_id: u64,
    next_demand: u64,
    demand: Vec<Demand>,
    /// `bank_streams[rail * banks + bank]`
    bank_streams: Vec<Stream>,
    rail_streams: Vec<Stream>,
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
        let rail_streams = w
            .rails
            .iter()
            .map(|r| rng::stream(seed, &format!("rail/{}", r.name)))
            .collect();
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
                ledger.transfer(acc.reserve(n.owner, n.currency), account, n.opening_minor);
                nostros.push(NostroState {
                    account,
                    queue: VecDeque::new(),
                });
            }
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
            arena: Vec::new(),
            free: Vec::new(),
            next_id: 0,
            next_demand: 0,
            demand,
            bank_streams,
            rail_streams,
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
        };
        sim.schedule_initial();
        sim
    }

    fn schedule_initial(&mut self) {
        for (i, c) in self.chains.iter_mut().enumerate() {
            c.start(&self.w.chains[self.chain_meta[i].0.idx()], &mut self.q);
        }
        for c in 0..self.w.corridors.len() {
            self.schedule_next_arrival(CorridorId(c as u16), 0);
        }
        let per_world = self.w.nostros.len();
        for (i, _) in self.nostros.iter().enumerate() {
            let n = &self.w.nostros[i % per_world];
            if n.daily_topup {
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
            self.now = t;
            events += 1;
            if events.is_multiple_of(PROGRESS_EVERY) {
                self.sink.progress(t);
            }
            match ev {
                Ev::Arrival(c) => self.on_arrival(c),
                Ev::Pay(slot) => self.on_pay(slot),
                Ev::TopUp(n) => self.on_topup(n),
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
        self.finish_in_flight();
        self.check_conservation()?;
        let stations = self.stations(end_us);
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
        };
        Ok((outcome, self.sink))
    }

    // ----- demand -----------------------------------------------------------------------------------------

    fn schedule_next_arrival(&mut self, c: CorridorId, from_us: u64) {
        let d = &mut self.demand[c.idx()];
        if d.lambda_max_per_us <= 0.0 {
            return;
        }
        let gap = d.gap.sample(&mut d.stream).ceil() as u64;
        let t = from_us.saturating_add(gap.max(1));
        if t < self.w.demand_end_us {
            self.q.push(t, Ev::Arrival(c));
        }
    }

    /// Thinning: a candidate at the peak rate is kept with probability λ(t)/λmax.
    fn on_arrival(&mut self, c: CorridorId) {
        let now = self.now;
        let corridor = &self.w.corridors[c.idx()];
        let factor = profile_factor(self.w, c, now);
        let peak =
            self.demand[c.idx()].lambda_max_per_us * US_PER_DAY as f64 / corridor.payments_per_day;
        let keep = rng::unit(&mut self.demand[c.idx()].stream) < factor / peak;
        if keep {
            self.create_demand(c);
        }
        self.schedule_next_arrival(c, now);
    }

    fn create_demand(&mut self, c: CorridorId) {
        let w = self.w;
        let corridor = &w.corridors[c.idx()];
        let d = &mut self.demand[c.idx()];
        let major = d.amount.sample(&mut d.stream);
        let scale = w.fx.currency(corridor.source).scale() as f64;
        let amount_minor = ((major * scale).round() as i64)
            .clamp(corridor.amount_min_minor, corridor.amount_max_minor);
        let demand_id = self.next_demand;
        self.next_demand += 1;
        match w.mode {
            Mode::Mirror => {
                for &r in &corridor.routes {
                    self.create_payment(r, demand_id, amount_minor);
                }
            }
            Mode::Split => {
                let mut pick = rng::unit(&mut d.stream) * d.share_total;
                // Rounding can leave `pick` at or above zero after the last subtraction: fall back to the last
                // route that has a share, never to one with share 0.
                let mut chosen = *corridor
                    .routes
                    .iter()
                    .rev()
                    .find(|&&r| w.route(r).share > 0.0)
                    .expect("validated: a split corridor has a positive share");
                for &r in &corridor.routes {
                    pick -= w.route(r).share;
                    if pick < 0.0 {
                        chosen = r;
                        break;
                    }
                }
                self.create_payment(chosen, demand_id, amount_minor);
            }
        }
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

    /// One payment of a demand draw on one route; on a chain rail with a duplicate rate, the customer's wallet
    /// may submit the same order twice (drawn from the rail's own stream, so demand is untouched).
    fn create_payment(&mut self, r: RouteId, demand_id: u64, amount_minor: i64) {
        let (_, order) = self.spawn_payment(r, demand_id, amount_minor, false);
        let rail = self.w.route(r).rail;
        if let RailKind::Chain { duplicate_rate, .. } = self.w.rails[rail.idx()].kind
            && duplicate_rate > 0.0
            && rng::unit(&mut self.rail_streams[rail.idx()]) < duplicate_rate
        {
            let (dup, _) = self.spawn_payment(r, demand_id, amount_minor, true);
            self.trace_step(dup, Place::Rail(rail), Step::DuplicateSubmitted { order });
        }
    }

    /// Creates a payment and starts it; returns its slot and id.
    fn spawn_payment(
        &mut self,
        r: RouteId,
        demand_id: u64,
        amount_minor: i64,
        duplicate: bool,
    ) -> (u32, u64) {
        let now = self.now;
        let route = self.w.route(r);
        let corridor = &self.w.corridors[route.corridor.idx()];
        let cur = corridor.source;
        let world = match self.w.mode {
            Mode::Mirror => route.rail.0,
            Mode::Split => 0,
        };
        let p = Payment {
            id: self.next_id,
            demand_id,
            route: r,
            rail: route.rail,
            corridor: route.corridor,
            phase: Phase::Accept,
            hop: 0,
            world,
            created_us: now,
            amount_minor,
            amount_usd_cents: self.w.fx.usd_cents(amount_minor, cur, now),
            transit_minor: amount_minor,
            cur,
            queued_since_us: 0,
            queued_for: Queued::Hop,
            tx: u32::MAX,
            fee_charged: false,
            broadcast_us: 0,
            included_us: 0,
            deposited_us: 0,
            duplicate,
            withdrawal_stage: 0,
            reason: EndReason::None,
            desk_service_us: 0,
            desk: Desk::Processing,
            accepted_us: 0,
            accepted: false,
            slowest_us: 0,
            slowest: Hold::None,
            cost: CostSplit::default(),
        };
        let id = self.next_id;
        self.next_id += 1;
        let first_bank = route.path[0];
        self.ledger.transfer(
            self.acc.originators(cur),
            self.acc.transit(first_bank, cur),
            amount_minor,
        );
        self.metrics.arrival(route.rail, now);
        let slot = self.alloc(p);
        self.trace_step(
            slot,
            Place::Rail(route.rail),
            Step::Created {
                amount_minor,
                currency: cur,
            },
        );
        match route.first_mile {
            Some(d) => {
                self.domestic_fee(slot, d);
                self.submit_domestic(slot, d, Phase::FirstMileDone);
            }
            None => self.arrive(slot),
        }
        (slot, id)
    }

    // ----- the payment state machine ----------------------------------------------------------------------

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
            Phase::NostroQueued | Phase::ChainPending | Phase::DeskQueued => {
                unreachable!("a queued or chain-pending payment has no pending event")
            }
        }
    }

    fn bank_at(&self, slot: u32) -> BankId {
        let p = &self.arena[slot as usize];
        self.w.route(p.route).path[p.hop as usize]
    }

    fn bank_stream(&mut self, slot: u32) -> &mut Stream {
        let p = &self.arena[slot as usize];
        let b = self.w.route(p.route).path[p.hop as usize];
        &mut self.bank_streams[p.rail.idx() * self.w.banks.len() + b.idx()]
    }

    /// Notes a hold of `us` of kind `what`; the payment keeps its longest.
    fn hold(&mut self, slot: u32, us: u64, what: Hold) {
        let p = &mut self.arena[slot as usize];
        if us > p.slowest_us && us != u64::MAX {
            p.slowest_us = us;
            p.slowest = what;
        }
    }

    fn schedule(&mut self, slot: u32, at_us: u64, phase: Phase) {
        self.arena[slot as usize].phase = phase;
        self.q.push(at_us, Ev::Pay(slot));
    }

    /// Arrival at the current hop's bank: work waits for business hours.
    fn arrive(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let cal = self.w.bank_calendar(b);
        let open = cal.next_open(self.now);
        if open > self.now {
            if self.is_traced(slot) {
                let reason = cal.wait_reason(self.now);
                self.trace_step(
                    slot,
                    Place::Bank(b),
                    Step::Waiting {
                        until_us: open,
                        reason,
                    },
                );
            }
            if open != u64::MAX {
                self.hold(slot, open - self.now, Hold::ClosedHours);
                self.schedule(slot, open, Phase::Accept);
            } else {
                self.arena[slot as usize].phase = Phase::Accept;
            }
        } else {
            self.accept(slot);
        }
    }

    fn accept(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        self.trace_step(slot, Place::Bank(b), Step::Accepted);
        let p = &mut self.arena[slot as usize];
        if !p.accepted {
            p.accepted = true;
            p.accepted_us = self.now;
        }
        self.bank_fee(slot, b);
        let bank = self.w.bank(b);
        let d = bank.processing.sample(self.bank_stream(slot));
        if self.staffed_desk(slot, Desk::Processing).is_some() {
            return self.desk_request(slot, Desk::Processing, d);
        }
        self.hold(slot, d, Hold::Processing);
        self.schedule(slot, self.now + d, Phase::Processed);
    }

    fn after_processing(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let bank = self.w.bank(b);
        self.trace_step(slot, Place::Bank(b), Step::Processed);
        let stp = bank.stp_rate >= 1.0 || rng::unit(self.bank_stream(slot)) < bank.stp_rate;
        if stp {
            self.screen(slot);
        } else {
            let start = self.w.bank_calendar(b).next_open(self.now);
            let d = bank.repair.sample(self.bank_stream(slot));
            if self.staffed_desk(slot, Desk::Repair).is_some() {
                return self.desk_request(slot, Desk::Repair, d);
            }
            let until = start.saturating_add(d);
            self.hold(slot, until - self.now, Hold::Repair);
            self.trace_step(slot, Place::Bank(b), Step::ManualRepair { until_us: until });
            self.schedule_or_stall(slot, until, Phase::Repaired);
        }
    }

    /// The index of the current bank's `desk` if it is staffed (a station), in the payment's world.
    fn staffed_desk(&self, slot: u32, desk: Desk) -> Option<usize> {
        let b = self.bank_at(slot);
        self.w.bank(b).staff[desk as usize]?;
        let world = self.arena[slot as usize].world as usize;
        Some((world * self.w.banks.len() + b.idx()) * 3 + desk as usize)
    }

    /// Queues the payment at a staffed desk with the service time already drawn (so the bank's stream is read
    /// in the same order as for an unlimited desk), then lets the desk start whoever is next.
    fn desk_request(&mut self, slot: u32, desk: Desk, service_us: u64) {
        let i = self.staffed_desk(slot, desk).expect("a staffed desk");
        let by_amount = self.w.bank(self.bank_at(slot)).desk_by_amount;
        let p = &mut self.arena[slot as usize];
        p.phase = Phase::DeskQueued;
        p.desk = desk;
        p.desk_service_us = service_us;
        p.queued_since_us = self.now;
        let key = if by_amount { p.amount_usd_cents } else { 0 };
        self.desks[i]
            .as_mut()
            .expect("staffed")
            .push(self.now, key, slot);
        self.desk_dispatch(i);
    }

    /// Starts waiting payments while clerks are free and the bank is open; when it is closed, wakes the desk
    /// at the next opening. A started payment is served to the end, even past the close (no pre-emption).
    fn desk_dispatch(&mut self, i: usize) {
        let bank = BankId(((i / 3) % self.w.banks.len()) as u16);
        let cal = self.w.bank_calendar(bank);
        let now = self.now;
        loop {
            let desk = self.desks[i].as_mut().expect("staffed");
            if desk.is_empty() || desk.busy >= desk.servers {
                return;
            }
            let open = cal.next_open(now);
            if open > now {
                if !desk.wake_pending && open != u64::MAX {
                    desk.wake_pending = true;
                    self.q.push(open, Ev::Desk(i as u32));
                }
                return;
            }
            let slot = desk.pop().expect("a waiting payment and a free clerk");
            let p = &self.arena[slot as usize];
            let (service, since, which) = (p.desk_service_us, p.queued_since_us, p.desk);
            desk.stats.leave(now, now - since, service);
            let until = now.saturating_add(service);
            self.hold(slot, now - since, Hold::DeskQueue);
            let kind = match which {
                Desk::Processing => Hold::Processing,
                Desk::Repair => Hold::Repair,
                Desk::Review => Hold::ComplianceReview,
            };
            self.hold(slot, service, kind);
            let phase = match which {
                Desk::Processing => Phase::Processed,
                Desk::Repair => {
                    self.trace_step(
                        slot,
                        Place::Bank(bank),
                        Step::ManualRepair { until_us: until },
                    );
                    Phase::Repaired
                }
                Desk::Review => {
                    self.trace_step(
                        slot,
                        Place::Bank(bank),
                        Step::ScreeningHit { until_us: until },
                    );
                    Phase::Reviewed
                }
            };
            self.schedule(slot, until, phase);
        }
    }

    /// Closes every station's window at `end_us` and names it.
    fn stations(&mut self, end_us: u64) -> Vec<StationOutcome> {
        let mirror = self.w.mode == Mode::Mirror;
        let world_rail = |world: usize| mirror.then_some(RailId(world as u16));
        let mut out = Vec::new();
        let nd = self.w.dom_rails.len().max(1);
        for (i, d) in self.doms.iter_mut().enumerate() {
            d.servers.close(end_us);
            let rail = &self.w.dom_rails[i % nd];
            out.push(StationOutcome {
                name: format!("domestic/{}", rail.name),
                rail: world_rail(i / nd),
                servers: Some(rail.servers),
                declared: rail.declared_station,
                stats: d.servers.stats.clone(),
            });
        }
        let nb = self.w.banks.len().max(1);
        for (i, desk) in self.desks.iter_mut().enumerate() {
            let Some(desk) = desk else { continue };
            desk.stats.close(end_us);
            out.push(StationOutcome {
                name: format!(
                    "bank/{}/{}",
                    self.w.banks[(i / 3) % nb].name,
                    Desk::ALL[i % 3].name()
                ),
                rail: world_rail(i / 3 / nb),
                servers: Some(desk.servers),
                declared: true,
                stats: desk.stats.clone(),
            });
        }
        out
    }

    fn schedule_or_stall(&mut self, slot: u32, at_us: u64, phase: Phase) {
        if at_us == u64::MAX {
            self.arena[slot as usize].phase = phase;
        } else {
            self.schedule(slot, at_us, phase);
        }
    }

    fn screen(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let Some(scr) = &self.w.bank(b).screening else {
            return self.bank_done(slot);
        };
        let hit = rng::unit(self.bank_stream(slot)) < scr.hit_rate;
        if !hit {
            return self.bank_done(slot);
        }
        let start = self.w.bank_calendar(b).next_open(self.now);
        let d = scr.review.sample(self.bank_stream(slot));
        if self.staffed_desk(slot, Desk::Review).is_some() {
            return self.desk_request(slot, Desk::Review, d);
        }
        let until = start.saturating_add(d);
        self.hold(slot, until - self.now, Hold::ComplianceReview);
        self.trace_step(slot, Place::Bank(b), Step::ScreeningHit { until_us: until });
        self.schedule_or_stall(slot, until, Phase::Reviewed);
    }

    fn after_review(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let scr = self
            .w
            .bank(b)
            .screening
            .as_ref()
            .expect("reviewed at a screening bank");
        let reject = rng::unit(self.bank_stream(slot)) < scr.reject_rate;
        if reject {
            self.trace_step(slot, Place::Bank(b), Step::Rejected);
            self.reject(slot);
        } else {
            self.trace_step(slot, Place::Bank(b), Step::ScreeningCleared);
            self.bank_done(slot);
        }
    }

    /// The bank has finished with the payment: convert if this is a conversion point, then pass it on.
    fn bank_done(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        if let Some(&(_, to)) = route.conversions.iter().find(|&&(h, _)| h == hop)
            && !self.try_convert(slot, to)
        {
            return; // queued on an inventory shortfall; the top-up or a credit resumes it
        }
        self.pass_on(slot);
    }

    fn pass_on(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        if p.hop as usize + 1 == route.path.len() {
            let b = route.path[p.hop as usize];
            if let Some(n) = self.w.bank(b).payout_days {
                // T+n: the platform pays the merchant's bank at the opening of the n-th business day after.
                let cal = self.w.bank_calendar(b);
                let at = if n == 0 {
                    cal.next_open(self.now)
                } else {
                    cal.add_business_days(self.now, n)
                };
                if at > self.now {
                    self.hold(slot, at - self.now, Hold::Payout);
                    self.trace_step(slot, Place::Bank(b), Step::PayoutScheduled { at_us: at });
                    self.schedule_or_stall(slot, at, Phase::PayoutDue);
                    return;
                }
            }
            self.payout(slot);
        } else {
            self.send_hop(slot);
        }
    }

    fn payout(&mut self, slot: u32) {
        let route = self.w.route(self.arena[slot as usize].route);
        match route.last_mile {
            Some(d) => {
                self.domestic_fee(slot, d);
                self.submit_domestic(slot, d, Phase::LastMileDone);
            }
            None => self.settle(slot),
        }
    }

    /// The bank's inventory in currency `to`, if it sells from one (a ramp).
    fn inventory(&self, slot: u32, b: BankId, c: CurId) -> Option<usize> {
        let n = self.w.bank(b).inventories.iter().find(|&&(x, _)| x == c)?.1;
        Some(self.nostro_index(slot, n))
    }

    fn converted_amount(&self, slot: u32, to: CurId) -> i64 {
        let p = &self.arena[slot as usize];
        let b = self.bank_at(slot);
        self.w.fx.convert(
            p.transit_minor,
            p.cur,
            to,
            self.now,
            self.w.bank(b).fx_spread_centi_bps,
        )
    }

    /// Converts, or queues when the bank sells from an inventory that cannot cover it (FIFO). Returns whether
    /// the conversion happened.
    fn try_convert(&mut self, slot: u32, to: CurId) -> bool {
        let b = self.bank_at(slot);
        if let Some(ni) = self.inventory(slot, b, to) {
            let y = self.converted_amount(slot, to);
            let balance = self.ledger.balance(self.nostros[ni].account);
            if !self.nostros[ni].queue.is_empty() || balance < y {
                self.enqueue(slot, ni, Queued::Convert(to), b, b, balance, y);
                return false;
            }
        }
        self.convert(slot, to);
        true
    }

    /// Conversion at the current bank: the customer's funds go into its FX book (or its inventory of that
    /// currency, for a ramp) and the converted amount comes out of its FX book (or inventory).
    fn convert(&mut self, slot: u32, to: CurId) {
        let now = self.now;
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let from = p.cur;
        let x = p.transit_minor;
        let y = self.converted_amount(slot, to);
        let inv_from = self.inventory(slot, b, from);
        let inv_to = self.inventory(slot, b, to);
        let into = inv_from.map_or(self.acc.fx(b, from), |ni| self.nostros[ni].account);
        let out_of = inv_to.map_or(self.acc.fx(b, to), |ni| self.nostros[ni].account);
        self.ledger.transfer(self.acc.transit(b, from), into, x);
        self.ledger.transfer(out_of, self.acc.transit(b, to), y);
        let spread = self.w.fx.usd_cents(x, from, now) - self.w.fx.usd_cents(y, to, now);
        let ramp = self.is_chain_rail(slot);
        let p = &mut self.arena[slot as usize];
        p.transit_minor = y;
        p.cur = to;
        if ramp {
            p.cost.ramp_spread += spread;
        } else {
            p.cost.fx_spread += spread;
        }
        self.trace_step(
            slot,
            Place::Bank(b),
            Step::Converted {
                from_minor: x,
                from,
                to_minor: y,
                to,
                spread_usd_cents: spread,
            },
        );
        if let Some(ni) = inv_from {
            self.drain_nostro_queue(ni);
        }
    }

    fn is_chain_rail(&self, slot: u32) -> bool {
        matches!(
            self.w.rails[self.arena[slot as usize].rail.idx()].kind,
            RailKind::Chain { .. }
        )
    }

    /// The fee of the bank at the current hop, taken when it accepts the payment (so a rejection keeps it).
    fn bank_fee(&mut self, slot: u32, b: BankId) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let bank = self.w.bank(b);
        let hop = p.hop as usize;
        let (role, usd) = if hop == 0 {
            ("sender", bank.send_fee_usd)
        } else if hop + 1 == route.path.len() {
            ("receiver", bank.receive_fee_usd)
        } else {
            ("intermediary", bank.lifting_fee_usd)
        };
        if usd <= 0.0 {
            return;
        }
        let bearer = self.w.rails[p.rail.idx()].bearer;
        let originator_pays = match bearer {
            ChargeBearer::Our => true,
            ChargeBearer::Sha => hop == 0,
            ChargeBearer::Ben => false,
        };
        let cents = self.charge(slot, usd, originator_pays, |acc, c| acc.fees(b, c), b);
        let ramp = self.is_chain_rail(slot);
        let p = &mut self.arena[slot as usize];
        match role {
            _ if ramp => p.cost.ramp_fees += cents,
            "sender" => p.cost.sender_fee += cents,
            "receiver" => p.cost.receiver_fee += cents,
            _ => p.cost.intermediary_fees += cents,
        }
    }

    fn domestic_fee(&mut self, slot: u32, d: DomRailId) {
        let usd = self.w.dom_rails[d.idx()].fee_usd;
        if usd <= 0.0 {
            return;
        }
        let p = &self.arena[slot as usize];
        let originator_pays = self.w.rails[p.rail.idx()].bearer == ChargeBearer::Our || p.hop == 0;
        let holder = self.bank_at(slot);
        let cents = self.charge(
            slot,
            usd,
            originator_pays,
            |acc, c| acc.dom_fees(d, c),
            holder,
        );
        self.arena[slot as usize].cost.domestic_fees += cents;
    }

    /// Takes a fee of `usd` either from the originator (in the source currency) or from the funds in transit at
    /// `holder` (in their current currency, never more than what is left). Returns its value in USD cents.
    fn charge(
        &mut self,
        slot: u32,
        usd: f64,
        originator_pays: bool,
        to: impl Fn(&Accounts, CurId) -> AccountId,
        holder: BankId,
    ) -> i64 {
        let now = self.now;
        let p = &self.arena[slot as usize];
        let (c, from, minor) = if originator_pays {
            let c = self.w.corridors[p.corridor.idx()].source;
            (c, self.acc.originators(c), self.w.fx.from_usd(usd, c, now))
        } else {
            let wanted = self.w.fx.from_usd(usd, p.cur, now);
            if wanted > 0 && wanted >= p.transit_minor {
                self.arena[slot as usize].reason = EndReason::FeesExceedAmount;
            }
            let p = &self.arena[slot as usize];
            (
                p.cur,
                self.acc.transit(holder, p.cur),
                wanted.min(p.transit_minor),
            )
        };
        self.ledger.transfer(from, to(&self.acc, c), minor);
        if !originator_pays {
            self.arena[slot as usize].transit_minor -= minor;
        }
        let cents = self.w.fx.usd_cents(minor, c, now);
        if self.is_traced(slot) {
            let role = if originator_pays {
                "paid by the originator"
            } else {
                "deducted from the amount"
            };
            let place = Place::Bank(holder);
            self.trace_step(
                slot,
                place,
                Step::Fee {
                    role: "fee",
                    minor,
                    currency: c,
                    usd_cents: cents,
                    paid_by: role,
                },
            );
        }
        cents
    }

    fn nostro_index(&self, slot: u32, n: NostroId) -> usize {
        self.arena[slot as usize].world as usize * self.w.nostros.len() + n.idx()
    }

    /// Settle the hop to the next bank over the nostro relationship (or queue on a shortfall: FIFO, a payment
    /// never overtakes one already waiting on the same account), or broadcast it on a chain.
    fn send_hop(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        match route.hops[hop] {
            HopFunding::SenderNostro(n) => {
                let ni = self.nostro_index(slot, n);
                let balance = self.ledger.balance(self.nostros[ni].account);
                if !self.nostros[ni].queue.is_empty() || balance < p.transit_minor {
                    let (need, owner, at) = (
                        p.transit_minor,
                        self.w.nostros[n.idx()].owner,
                        self.w.nostros[n.idx()].at,
                    );
                    self.enqueue(slot, ni, Queued::Hop, owner, at, balance, need);
                } else {
                    self.post_hop(slot);
                }
            }
            HopFunding::ReceiverNostro(_) => self.post_hop(slot),
            HopFunding::Chain(c) => self.withdraw(slot, c),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn enqueue(
        &mut self,
        slot: u32,
        ni: usize,
        what: Queued,
        owner: BankId,
        at: BankId,
        balance: i64,
        need: i64,
    ) {
        self.nostros[ni].queue.push_back(slot);
        let p = &mut self.arena[slot as usize];
        p.phase = Phase::NostroQueued;
        p.queued_since_us = self.now;
        p.queued_for = what;
        let b = self.bank_at(slot);
        self.trace_step(
            slot,
            Place::Bank(b),
            Step::NostroShortfall {
                owner,
                at,
                balance_minor: balance,
                needed_minor: need,
            },
        );
    }

    fn post_hop(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        let (a, b, c, x) = (route.path[hop], route.path[hop + 1], p.cur, p.transit_minor);
        let credited = match route.hops[hop] {
            HopFunding::Chain(_) => unreachable!("chain hops are broadcast, not posted"),
            HopFunding::SenderNostro(n) => {
                let acct = self.nostros[self.nostro_index(slot, n)].account;
                self.ledger
                    .transfer(self.acc.transit(a, c), self.acc.reserve(a, c), x);
                self.ledger.transfer(acct, self.acc.transit(b, c), x);
                None
            }
            HopFunding::ReceiverNostro(n) => {
                let ni = self.nostro_index(slot, n);
                let acct = self.nostros[ni].account;
                self.ledger.transfer(self.acc.transit(a, c), acct, x);
                self.ledger
                    .transfer(self.acc.reserve(b, c), self.acc.transit(b, c), x);
                Some(ni)
            }
        };
        let rail = self.arena[slot as usize].rail;
        let d = self.w.rails[rail.idx()]
            .message_delay
            .sample(&mut self.rail_streams[rail.idx()]);
        let arrives = self.now + d;
        self.hold(slot, d, Hold::Transit);
        self.trace_step(
            slot,
            Place::Bank(a),
            Step::Sent {
                to: b,
                arrives_us: arrives,
            },
        );
        self.schedule(slot, arrives, Phase::InTransit);
        if let Some(ni) = credited {
            self.drain_nostro_queue(ni);
        }
    }

    fn drain_nostro_queue(&mut self, ni: usize) {
        while let Some(&head) = self.nostros[ni].queue.front() {
            let queued_for = self.arena[head as usize].queued_for;
            let need = match queued_for {
                Queued::Hop => self.arena[head as usize].transit_minor,
                Queued::Convert(to) => self.converted_amount(head, to),
            };
            if self.ledger.balance(self.nostros[ni].account) < need {
                break;
            }
            self.nostros[ni].queue.pop_front();
            let waited = self.now - self.arena[head as usize].queued_since_us;
            self.hold(head, waited, Hold::NostroShortfall);
            let b = self.bank_at(head);
            self.trace_step(
                head,
                Place::Bank(b),
                Step::NostroFunded { waited_us: waited },
            );
            match queued_for {
                Queued::Hop => self.post_hop(head),
                Queued::Convert(to) => {
                    self.convert(head, to);
                    self.pass_on(head);
                }
            }
        }
    }

    fn on_topup(&mut self, ni: u32) {
        let ni = ni as usize;
        let n = &self.w.nostros[ni % self.w.nostros.len()];
        let acct = self.nostros[ni].account;
        let gap = n.opening_minor - self.ledger.balance(acct);
        if gap > 0 {
            self.ledger
                .transfer(self.acc.reserve(n.owner, n.currency), acct, gap);
            self.drain_nostro_queue(ni);
        }
        let next = self.w.bank_calendar(n.owner).add_business_days(self.now, 1);
        if next < self.w.max_time_us && next > self.now {
            self.q.push(next, Ev::TopUp(ni as u32));
        }
    }

    /// Submit to a domestic rail: business hours (or batch windows), a FIFO server at the rail's capacity, then
    /// the rail's latency.
    fn submit_domestic(&mut self, slot: u32, d: DomRailId, then: Phase) {
        let now = self.now;
        let rail = &self.w.dom_rails[d.idx()];
        let cal = self.w.calendar(rail.calendar);
        let si = self.arena[slot as usize].world as usize * self.w.dom_rails.len() + d.idx();
        let st = &mut self.doms[si];
        let service = if let Some(s) = &rail.service {
            s.sample(&mut st.stream)
        } else if rail.exp_service {
            (-(1.0 - rng::unit(&mut st.stream)).ln() * rail.service_us).round() as u64
        } else {
            rail.service_us.round() as u64
        };
        let ready = match rail.kind {
            DomKind::Ach => {
                let i = rail.batch_closes.partition_point(|&c| c < now);
                rail.batch_closes.get(i).copied().unwrap_or(u64::MAX)
            }
            DomKind::Rtgs | DomKind::Instant => cal.next_open(now),
        };
        let (server, free_us) = st.servers.earliest();
        let mut start = ready.max(free_us);
        if rail.kind != DomKind::Ach && start != u64::MAX && !cal.is_open(start) {
            start = cal.next_open(start);
        }
        if start == u64::MAX {
            self.arena[slot as usize].phase = then;
            return;
        }
        st.servers.book(now, server, ready, start, service);
        let latency = rail.latency.sample(&mut st.stream);
        let settle_delay = if rail.kind == DomKind::Ach {
            rail.settlement_delay_us
        } else {
            0
        };
        let done = start + service + settle_delay + latency;
        self.hold(slot, done - now, Hold::DomesticRail);
        if self.is_traced(slot) {
            if ready > now {
                let reason = if rail.kind == DomKind::Ach {
                    WaitReason::AchWindow
                } else {
                    cal.wait_reason(now)
                };
                self.trace_step(
                    slot,
                    Place::Domestic(d),
                    Step::Waiting {
                        until_us: ready,
                        reason,
                    },
                );
            }
            self.trace_step(
                slot,
                Place::Domestic(d),
                Step::DomesticSubmitted {
                    queue_wait_us: start - ready.min(start),
                    done_us: done,
                },
            );
        }
        self.schedule(slot, done, then);
    }

    fn chain_state(&self, slot: u32, c: ChainId) -> usize {
        let world = self.arena[slot as usize].world as usize;
        self.chain_state_of[world * self.w.chains.len() + c.idx()]
            .expect("a state exists for every chain a rail uses") as usize
    }

    /// The on-ramp's withdrawal desk: amounts over its limit wait for a manual review, then the withdrawal
    /// leaves with the next batch.
    fn withdraw(&mut self, slot: u32, c: ChainId) {
        let b = self.bank_at(slot);
        let bank = self.w.bank(b);
        let (stage, amount) = {
            let p = &self.arena[slot as usize];
            (p.withdrawal_stage, p.amount_usd_cents)
        };
        if stage == 0 {
            self.arena[slot as usize].withdrawal_stage = 1;
            if bank
                .withdrawal_limit_usd_cents
                .is_some_and(|limit| amount > limit)
            {
                let start = self.w.bank_calendar(b).next_open(self.now);
                let d = bank.repair.sample(self.bank_stream(slot));
                let until = start.saturating_add(d);
                self.trace_step(slot, Place::Bank(b), Step::ManualRepair { until_us: until });
                self.schedule_or_stall(slot, until, Phase::Withdrawal);
                return;
            }
        }
        if self.arena[slot as usize].withdrawal_stage == 1 {
            self.arena[slot as usize].withdrawal_stage = 2;
            if let Some(every) = bank.withdrawal_batch_us {
                let at = self.now.div_ceil(every) * every;
                if at > self.now {
                    self.trace_step(
                        slot,
                        Place::Bank(b),
                        Step::Waiting {
                            until_us: at,
                            reason: WaitReason::Batch,
                        },
                    );
                    self.schedule(slot, at, Phase::Withdrawal);
                    return;
                }
            }
        }
        self.broadcast(slot, c);
    }

    /// The on-ramp broadcasts the transfer: the funds are on the chain (held for the receiving ramp) until its
    /// deposit policy is met.
    fn broadcast(&mut self, slot: u32, c: ChainId) {
        let si = self.chain_state(slot, c);
        let spec = &self.w.chains[c.idx()];
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        let (a, b, cur, x) = (route.path[hop], route.path[hop + 1], p.cur, p.transit_minor);
        let RailKind::Chain {
            fee_bid,
            market_fee,
            ..
        } = self.w.rails[p.rail.idx()].kind
        else {
            unreachable!("a chain hop belongs to a chain rail")
        };
        let fee_bid = if market_fee {
            self.chains[si].market_bid(fee_bid)
        } else {
            fee_bid
        };
        let (bid, max_fee) = match spec.fee_market {
            FeeMarket::FirstPrice => (fee_bid, fee_bid),
            // The usual wallet rule: a max fee of twice the current base fee plus the tip.
            FeeMarket::Eip1559 { .. } => (
                fee_bid,
                self.chains[si]
                    .base_fee
                    .saturating_mul(2)
                    .saturating_add(fee_bid),
            ),
        };
        self.ledger
            .transfer(self.acc.transit(a, cur), self.acc.transit(b, cur), x);
        let tx = self.chains[si].submit(spec, slot, bid, max_fee);
        let p = &mut self.arena[slot as usize];
        p.tx = tx;
        p.fee_charged = false;
        p.broadcast_us = self.now;
        p.phase = Phase::ChainPending;
        self.trace_step(slot, Place::Bank(a), Step::ChainBroadcast { chain: c, bid });
        if self.w.bank(b).deposit_confirmations == 0 && !self.w.bank(b).deposit_finality {
            // Accepted at zero confirmations (a merchant at the till): the fee is what was bid; the transfer is
            // mined later like any other, and the double-spend risk is the receiver's (chains.csv).
            self.charge_network_fee(slot, si, tx, 0);
            self.chains[si].detach_payment(tx);
            self.arena[slot as usize].tx = u32::MAX;
            if self.arena[slot as usize].reason == EndReason::FeesExceedAmount {
                self.fail_fees_exceeded(slot);
                return;
            }
            self.deposit(slot, 0, false);
        }
    }

    fn chain_wakes(&mut self, si: usize) {
        while let Some((slot, tx)) = self.chains[si].ready.pop() {
            self.chain_wake(si, slot, tx);
        }
    }

    /// A payment's transaction was included, reorganised out, or may have enough confirmations.
    fn chain_wake(&mut self, si: usize, slot: u32, tx: u32) {
        let Some(p) = self.arena.get(slot as usize) else {
            return;
        };
        if p.phase != Phase::ChainPending || p.tx != tx {
            return; // a stale wake-up: the payment moved on
        }
        let fee_charged = p.fee_charged;
        let (chain, _) = self.chain_meta[si];
        let spec = &self.w.chains[chain.idx()];
        let Some(height) = self.chains[si].included_height(tx) else {
            if fee_charged {
                let b = self.bank_at(slot);
                self.trace_step(slot, Place::Bank(b), Step::ChainReorged);
            }
            return; // back in the mempool: its next inclusion wakes it again
        };
        if !fee_charged {
            self.charge_network_fee(slot, si, tx, height);
            if self.arena[slot as usize].reason == EndReason::FeesExceedAmount {
                // The transaction stays in its block (it was paid for); the payment no longer waits on it.
                self.chains[si].free_payment_tx(tx);
                self.arena[slot as usize].tx = u32::MAX;
                self.fail_fees_exceeded(slot);
                return;
            }
        }
        let p = &self.arena[slot as usize];
        let receiver = self.w.route(p.route).path[p.hop as usize + 1];
        let bank = self.w.bank(receiver);
        if bank.deposit_finality && matches!(spec.consensus, Consensus::Pos { .. }) {
            let at = self.chains[si].final_time(spec, tx).expect("included");
            if at > self.now {
                self.schedule(slot, at, Phase::ChainFinal);
            } else {
                self.chain_settled(slot);
            }
            return;
        }
        let need = height + bank.deposit_confirmations - 1;
        if self.chains[si].tip_height() >= need {
            self.chain_settled(slot);
        } else {
            self.chains[si].wait_for_height(need, slot, tx);
        }
    }

    /// The network fee, paid by the on-ramp in the native coin and passed on to the customer out of the
    /// amount (as exchanges do with withdrawal fees).
    fn charge_network_fee(&mut self, slot: u32, si: usize, tx: u32, height: u32) {
        let now = self.now;
        let (chain, _) = self.chain_meta[si];
        let spec = &self.w.chains[chain.idx()];
        let per_unit = self.chains[si].paid_per_unit(spec, tx) as u128;
        let native_minor =
            (per_unit * self.chains[si].tx_units(tx) as u128).min(i64::MAX as u128) as i64;
        let native = spec.native;
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let (a, b, cur) = (
            route.path[p.hop as usize],
            route.path[p.hop as usize + 1],
            p.cur,
        );
        let doms = self.w.dom_rails.len();
        self.ledger.transfer(
            self.acc.reserve(a, native),
            self.acc.chain_fees(doms, chain, native),
            native_minor,
        );
        let wanted = self.w.fx.convert(native_minor, native, cur, now, 0);
        let in_asset = wanted.min(p.transit_minor);
        let exceeded = wanted > 0 && wanted >= p.transit_minor;
        self.ledger
            .transfer(self.acc.transit(b, cur), self.acc.fees(a, cur), in_asset);
        let cents = self.w.fx.usd_cents(native_minor, native, now);
        let p = &mut self.arena[slot as usize];
        p.transit_minor -= in_asset;
        p.fee_charged = true;
        p.included_us = now;
        p.cost.network_fee = p.cost.network_fee.saturating_add(cents);
        if exceeded {
            p.reason = EndReason::FeesExceedAmount;
        }
        self.trace_step(
            slot,
            Place::Bank(a),
            Step::ChainIncluded {
                height,
                network_fee_usd_cents: cents,
            },
        );
    }

    /// The network fee took everything the transfer carried: nothing can reach the beneficiary, so the payment
    /// fails now, and what is left (nothing, or a rounding remainder) goes back to the originator.
    fn fail_fees_exceeded(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let b = self.w.route(p.route).path[p.hop as usize + 1];
        let (c, x) = (p.cur, p.transit_minor);
        self.ledger
            .transfer(self.acc.transit(b, c), self.acc.returns(c), x);
        self.trace_step(slot, Place::Bank(b), Step::Failed);
        self.finish(slot, Status::Failed, Some(self.now));
    }

    /// The receiving ramp credits the deposit: the payment arrives there.
    fn chain_settled(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let HopFunding::Chain(c) = route.hops[p.hop as usize] else {
            unreachable!("settling a chain hop")
        };
        let si = self.chain_state(slot, c);
        let receiver = route.path[p.hop as usize + 1];
        let bank = self.w.bank(receiver);
        let (confirmations, finality) = (bank.deposit_confirmations, bank.deposit_finality);
        self.chains[si].free_payment_tx(p.tx);
        self.arena[slot as usize].tx = u32::MAX;
        self.deposit(slot, confirmations, finality);
    }

    /// The receiving platform credits the deposit; a second submission of an order already paid is detected
    /// here and refunded.
    fn deposit(&mut self, slot: u32, confirmations: u32, finality: bool) {
        let p = &self.arena[slot as usize];
        let receiver = self.w.route(p.route).path[p.hop as usize + 1];
        let p = &mut self.arena[slot as usize];
        p.hop += 1;
        p.deposited_us = self.now;
        let on_chain = p.deposited_us - p.broadcast_us;
        self.hold(slot, on_chain, Hold::Chain);
        self.trace_step(
            slot,
            Place::Bank(receiver),
            Step::ChainDeposit {
                confirmations,
                finality,
            },
        );
        if self.arena[slot as usize].duplicate {
            self.trace_step(slot, Place::Bank(receiver), Step::DuplicateDetected);
            self.reject(slot);
        } else {
            self.arrive(slot);
        }
    }

    fn settle(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let (c, x) = (p.cur, p.transit_minor);
        if p.reason == EndReason::FeesExceedAmount {
            // Fees on the way took everything: nothing reaches the beneficiary, so this is a failure, whatever
            // is left (nothing, or a rounding remainder) goes back to the originator.
            self.ledger
                .transfer(self.acc.transit(b, c), self.acc.returns(c), x);
            self.trace_step(slot, Place::Bank(b), Step::Failed);
            self.finish(slot, Status::Failed, Some(self.now));
            return;
        }
        self.ledger
            .transfer(self.acc.transit(b, c), self.acc.beneficiaries(c), x);
        self.trace_step(
            slot,
            Place::Bank(b),
            Step::Settled {
                minor: x,
                currency: c,
            },
        );
        self.finish(slot, Status::Settled, Some(self.now));
    }

    /// A rejection at the first bank fails the payment on the spot (the funds never left); later, the funds
    /// travel back and the payment is returned.
    fn reject(&mut self, slot: u32) {
        let p = &mut self.arena[slot as usize];
        if p.reason == EndReason::None {
            p.reason = if p.duplicate {
                EndReason::DuplicateRefunded
            } else {
                EndReason::ComplianceReject
            };
        }
        let p = &self.arena[slot as usize];
        if p.hop == 0 {
            let b = self.bank_at(slot);
            let p = &self.arena[slot as usize];
            let (c, x) = (p.cur, p.transit_minor);
            self.ledger
                .transfer(self.acc.transit(b, c), self.acc.returns(c), x);
            self.trace_step(slot, Place::Bank(b), Step::Failed);
            self.finish(slot, Status::Failed, Some(self.now));
        } else {
            let rail = p.rail;
            let d = self.w.rails[rail.idx()]
                .return_delay
                .sample(&mut self.rail_streams[rail.idx()]);
            let at = self.now + d;
            self.hold(slot, d, Hold::Return);
            let b = self.bank_at(slot);
            self.trace_step(slot, Place::Bank(b), Step::ReturnStarted { arrives_us: at });
            self.schedule(slot, at, Phase::Returning);
        }
    }

    fn returned(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let (c, x) = (p.cur, p.transit_minor);
        self.ledger
            .transfer(self.acc.transit(b, c), self.acc.returns(c), x);
        self.trace_step(
            slot,
            Place::Rail(p.rail),
            Step::Returned {
                minor: x,
                currency: c,
            },
        );
        self.finish(slot, Status::Returned, Some(self.now));
    }

    fn record_of(&self, slot: u32, status: Status, ended_us: Option<u64>) -> PaymentRecord {
        let p = &self.arena[slot as usize];
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
            cost: p.cost,
            duplicate: p.duplicate,
            reason: p.reason,
            chain_inclusion_us: (p.included_us > 0).then(|| p.included_us - p.broadcast_us),
            chain_settlement_us: (p.deposited_us > 0).then(|| p.deposited_us - p.broadcast_us),
            accepted_us: p.accepted.then_some(p.accepted_us),
            slowest: p.slowest,
            slowest_us: p.slowest_us,
        }
    }

    fn finish(&mut self, slot: u32, status: Status, ended_us: Option<u64>) {
        let rec = self.record_of(slot, status, ended_us);
        self.metrics.record(&rec);
        self.sink.record(&rec);
        self.free.push(slot);
    }

    /// Payments still moving when the run stops are reported as in flight, in id order.
    fn finish_in_flight(&mut self) {
        let mut free = vec![false; self.arena.len()];
        for &s in &self.free {
            free[s as usize] = true;
        }
        let mut live: Vec<u32> = (0..self.arena.len() as u32)
            .filter(|&s| !free[s as usize])
            .collect();
        live.sort_by_key(|&s| self.arena[s as usize].id);
        for slot in live {
            let rec = self.record_of(slot, Status::InFlight, None);
            self.metrics.record(&rec);
            self.sink.record(&rec);
            self.free.push(slot);
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

    // ----- tracing ----------------------------------------------------------------------------------------

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

/// The demand profile's factor at time t: diurnal by local hour times weekday, in the corridor's zone.
fn profile_factor(w: &World, c: CorridorId, t_us: u64) -> f64 {
    use chrono::{Datelike, Timelike};
    let corridor = &w.corridors[c.idx()];
    let utc = w.start + chrono::Duration::microseconds(t_us as i64);
    let local = utc.with_timezone(&corridor.zone);
    corridor.diurnal[local.hour() as usize]
        * corridor.weekday[local.weekday().num_days_from_monday() as usize]
}

/// Runs a world to the end. The core entry point: no I/O, no clock, no threads.
pub fn run<S: RecordSink>(w: &World, sink: S, opts: &RunOptions) -> Result<(Outcome, S), SimError> {
    Sim::new(w, sink, opts).run()
}

type ChainStates = (
    Vec<ChainState>,
    Vec<(ChainId, Option<RailId>)>,
    Vec<Option<u16>>,
);

/// The name a world's random streams are keyed by: in mirror mode the rail whose copy of the infrastructure it
/// is, so inserting a rail anywhere shifts no other world's draws; otherwise the one shared world.
fn world_label(w: &World, world: usize) -> String {
    match w.mode {
        Mode::Mirror if world < w.rails.len() => format!("rail:{}", w.rails[world].name),
        _ => "shared".into(),
    }
}

/// One chain state per chain and per world that uses it: in mirror mode each rail that uses a chain gets its own
/// copy (a paired comparison must not share a mempool), a chain no rail uses runs once (a load test).
fn chain_states(w: &World, worlds: usize, seed: u64, hours: usize) -> ChainStates {
    let n = w.chains.len();
    let mut states = Vec::new();
    let mut meta = Vec::new();
    let mut state_of = vec![None; worlds * n];
    for (c, spec) in w.chains.iter().enumerate() {
        let chain = ChainId(c as u16);
        let users: Vec<RailId> = w
            .rails
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.kind, RailKind::Chain { chain: x, .. } if x == chain))
            .map(|(i, _)| RailId(i as u16))
            .collect();
        let instances: Vec<(usize, Option<RailId>)> = match (w.mode, users.is_empty()) {
            (Mode::Mirror, false) => users.iter().map(|&r| (r.idx(), Some(r))).collect(),
            _ => vec![(0, None)],
        };
        for (world, rail) in instances {
            let idx = states.len() as u16;
            let label = rail.map_or_else(|| "shared".to_string(), |r| world_label(w, r.idx()));
            states.push(ChainState::new(spec, idx, &label, seed, hours));
            meta.push((chain, rail));
            state_of[world * n + c] = Some(idx);
        }
    }
    (states, meta, state_of)
}
