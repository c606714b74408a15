//! The validated model: every entity of a scenario in an arena, referred to by a typed id. Built once by
//! `scenario::validate`; read-only while the simulation runs (mutable state lives in `sim::State`).

use chrono::{DateTime, Utc};

use crate::model::calendar::Calendar;
use crate::model::fx::{CurId, FxTable};
use crate::rng::Delay;

pub use crate::model::ids::{
    BankId, CalId, ChainId, CorridorId, DomRailId, NostroId, RailId, RouteId,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Mirror,
    Split,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeBearer {
    /// The sender pays every fee; the beneficiary receives the full amount.
    Our,
    /// The sender pays its own bank; later fees are deducted on the way.
    Sha,
    /// Every fee, the sender bank's included, is deducted from the amount.
    Ben,
}

#[derive(Clone, Debug)]
pub struct Screening {
    pub hit_rate: f64,
    pub review: Delay,
    pub reject_rate: f64,
}

#[derive(Clone, Debug)]
pub struct Bank {
    pub name: String,
    pub country: String,
    pub calendar: CalId,
    pub processing: Delay,
    pub stp_rate: f64,
    pub repair: Delay,
    pub screening: Option<Screening>,
    pub send_fee_usd: f64,
    pub lifting_fee_usd: f64,
    pub receive_fee_usd: f64,
    /// In hundredths of a basis point.
    pub fx_spread_centi_bps: i64,
    /// As a receiving ramp: confirmations before a deposit is credited, or credit at finality.
    pub deposit_confirmations: u32,
    pub deposit_finality: bool,
    /// As the last bank: pay out T+n business days (None: at once).
    pub payout_days: Option<u32>,
    /// As an on-ramp: withdrawal batch interval (µs) and the amount above which a withdrawal is reviewed.
    pub withdrawal_batch_us: Option<u64>,
    pub withdrawal_limit_usd_cents: Option<i64>,
    /// Inventories this bank sells from when it converts (ramps), by currency.
    pub inventories: Vec<(CurId, NostroId)>,
    /// Staff at each desk (processing, repair, compliance review), indexed by `Desk`; `None` is unlimited (a
    /// pure delay, every payment served at once).
    pub staff: [Option<u32>; 3],
    /// Staffed desks serve the largest amount first instead of first come, first served.
    pub desk_by_amount: bool,
}

/// A bank's desks, each a station when staffed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Desk {
    Processing = 0,
    Repair = 1,
    Review = 2,
}

impl Desk {
    pub const ALL: [Desk; 3] = [Desk::Processing, Desk::Repair, Desk::Review];
    pub fn name(self) -> &'static str {
        match self {
            Desk::Processing => "processing",
            Desk::Repair => "repair",
            Desk::Review => "review",
        }
    }
}

/// A pre-funded position: a nostro (`owner`'s balance at `at`) or a ramp's inventory (`at == owner`).
#[derive(Clone, Debug)]
pub struct Nostro {
    pub owner: BankId,
    pub at: BankId,
    pub currency: CurId,
    pub opening_minor: i64,
    pub topup: TopUp,
}

impl Nostro {
    pub fn daily_topup(&self) -> bool {
        matches!(self.topup, TopUp::Daily)
    }
    pub fn is_inventory(&self) -> bool {
        self.owner == self.at
    }
}

/// How a position is funded again once payments drain it.
#[derive(Clone, Debug, PartialEq)]
pub enum TopUp {
    /// Nothing restores it (only payments credited to it).
    None,
    /// Restored to the opening balance at the owner's opening time each business day, at once and free.
    Daily,
    /// Requested from outside when it runs low, arriving later on the funding rail's calendar, at a cost.
    Threshold(Rebalancing),
}

/// A threshold top-up policy: the rules of rebalancing one position.
#[derive(Clone, Debug, PartialEq)]
pub struct Rebalancing {
    /// A request is made when the balance falls below this (minor units of the position's currency)...
    pub threshold_minor: i64,
    /// ...for the amount that brings it back to this level once the payments waiting on it are served.
    pub target_minor: i64,
    /// Funding time, counted in the open hours of `calendar` (24/7 when `None`).
    pub delay_us: u64,
    pub calendar: Option<CalId>,
    /// Fixed fee per request in USD cents, and a fee on the amount in hundredths of a basis point.
    pub fee_usd_cents: i64,
    pub fee_centi_bps: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomKind {
    Rtgs,
    Ach,
    Instant,
}

#[derive(Clone, Debug)]
pub struct DomRail {
    pub name: String,
    pub kind: DomKind,
    pub calendar: CalId,
    pub fee_usd: f64,
    /// Service time per payment at one server, in µs (servers/capacity).
    pub service_us: f64,
    pub exp_service: bool,
    /// Parallel servers (FIFO, each at `capacity / servers`); 1 unless the scenario says otherwise.
    pub servers: u32,
    /// A service-time distribution per server that replaces `service_us`/`exp_service` when given.
    pub service: Option<Delay>,
    /// Whether the scenario declared `servers` or `service_time` (then the run reports its stations).
    pub declared_station: bool,
    pub latency: Delay,
    /// ACH: batch closes as simulated times, sorted.
    pub batch_closes: Vec<u64>,
    pub settlement_delay_us: u64,
}

#[derive(Clone, Debug)]
pub struct Rail {
    pub name: String,
    pub bearer: ChargeBearer,
    pub message_delay: Delay,
    pub return_delay: Delay,
    pub kind: RailKind,
}

#[derive(Clone, Debug)]
pub enum RailKind {
    /// Correspondent banking: hops settle over nostro accounts.
    Correspondent,
    /// A chain rail: the first bank of a route buys `asset` (on-ramp), the transfer crosses `chain`, the last
    /// bank sells it (off-ramp) once its deposit policy is met.
    Chain {
        chain: ChainId,
        asset: CurId,
        fee_bid: u64,
        /// Bid from recent blocks (never below `fee_bid`) instead of a fixed bid.
        market_fee: bool,
        /// Share of payments whose wallet submits the transfer twice (merchant QR payments).
        duplicate_rate: f64,
        /// Who bears the asset's price move between the on-ramp's purchase and the off-ramp's sale.
        price_risk: PriceRisk,
        /// Payment versus payment: the platform settles the transfer and the receiving bank's conversion into
        /// the destination currency in one commit (a multi-CBDC platform with FX on the platform), so no value
        /// is ever paid in one currency while the other leg is outstanding.
        pvp: bool,
    },
    /// Linked domestic instant payment systems (Nexus-like): each hop goes over an instant system (`via`), the
    /// payment crosses a gateway between two systems, an FX provider on the path converts out of balances it
    /// pre-funds in both systems.
    IpsLink(IpsLink),
    /// A permissioned ledger of tokenised deposits run by its members (a BFT chain): transfers commit in
    /// seconds, 24/7, and the receiving member credits at once; the interbank funds move later, by net settlement
    /// at a settlement bank, so members carry intraday exposure to each other until then.
    Ledger(LedgerRail),
}

/// The rules of a tokenised-deposit ledger.
#[derive(Clone, Debug)]
pub struct LedgerRail {
    /// The ledger (a BFT chain).
    pub chain: ChainId,
    /// Bid per size unit in the ledger's native units (its operator's fee).
    pub fee_bid: u64,
    /// Net settlement times follow this calendar (the settlement bank's).
    pub settlement_calendar: CalId,
    /// `Some(n)`: every n µs while the settlement bank is open (and at its opening); `None`: at each business
    /// day's cut-off.
    pub settle_every_us: Option<u64>,
    /// A member's unsettled net debit cap in USD cents: past it, its payments queue (FIFO) until the next net
    /// settlement.
    pub member_limit_usd_cents: Option<i64>,
}

impl RailKind {
    /// The chain a rail's transfers go over (a chain rail's chain, a ledger rail's ledger).
    pub fn chain(&self) -> Option<ChainId> {
        match self {
            RailKind::Chain { chain, .. } => Some(*chain),
            RailKind::Ledger(l) => Some(l.chain),
            RailKind::Correspondent | RailKind::IpsLink(_) => None,
        }
    }
}

/// The scheme rules of a link between instant payment systems.
#[derive(Clone, Debug)]
pub struct IpsLink {
    /// Per-transaction limit in major units of the payment's source currency.
    pub tx_limit: Option<f64>,
    /// Outward value a sending participant may send over the link per local calendar day, in major units of the
    /// source currency.
    pub daily_limit: Option<f64>,
    /// The gateway between two systems (message translation, routing, quote check).
    pub link_delay: Delay,
    /// The scheme's fee per payment, in USD, charged when the payment crosses the gateway.
    pub link_fee_usd: f64,
    /// Sanctions screening must finish within this budget; a review that would take longer is handled by
    /// `timeout_returns`.
    pub screening_budget_us: Option<u64>,
    /// Past the budget: `true` rejects the payment (returned to the originator), `false` sends it to manual
    /// review (it completes, late).
    pub timeout_returns: bool,
}

/// Who bears a chain rail's price move (the `price_risk` field).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PriceRisk {
    /// The off-ramp sells at the price of the sale: the customer gains or loses (`price_move` in the cost).
    #[default]
    Customer,
    /// The on-ramp's quote is locked: the off-ramp pays out at the purchase price and keeps the gain or loss.
    Ramp,
}

/// How a hop from path[i] to path[i+1] settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopFunding {
    /// The sender holds an account at the receiver; the receiver debits it (a shortfall queues the payment).
    SenderNostro(NostroId),
    /// The receiver holds an account at the sender; the sender credits it (no limit).
    ReceiverNostro(NostroId),
    /// A transfer on a chain from the sender's wallet to the receiver's.
    Chain(ChainId),
    /// A transfer between two members of a domestic instant payment system, settled in central-bank money as it
    /// clears (no nostro).
    Instant(DomRailId),
    /// A transfer of tokenised deposits between two members of a ledger (a BFT chain).
    Ledger(ChainId),
}

#[derive(Clone, Debug)]
pub struct Route {
    pub rail: RailId,
    pub corridor: CorridorId,
    pub share: f64,
    pub path: Vec<BankId>,
    /// Where currency changes: (index in `path`, currency after). The bank converts when it is done with the
    /// payment. Correspondent routes convert at most once; chain routes buy the asset at the on-ramp and sell it
    /// at the off-ramp.
    pub conversions: Vec<(usize, CurId)>,
    /// `hops[i]` settles the move from path[i] to path[i+1].
    pub hops: Vec<HopFunding>,
    pub first_mile: Option<DomRailId>,
    pub last_mile: Option<DomRailId>,
}

#[derive(Clone, Debug)]
pub struct Corridor {
    pub name: String,
    pub source: CurId,
    pub dest: CurId,
    pub payments_per_day: f64,
    pub zone: chrono_tz::Tz,
    pub diurnal: [f64; 24],
    pub weekday: [f64; 7],
    /// ln of the median amount in major units, and σ.
    pub amount_mu: f64,
    pub amount_sigma: f64,
    pub amount_min_minor: i64,
    pub amount_max_minor: i64,
    pub routes: Vec<RouteId>,
}

#[derive(Clone, Debug)]
pub struct World {
    pub name: String,
    pub start: DateTime<Utc>,
    pub seed: u64,
    pub mode: Mode,
    /// Demand arrives in [0, demand_end_us).
    pub demand_end_us: u64,
    /// The run stops at this simulated time at the latest.
    pub max_time_us: u64,
    pub max_events: u64,
    pub fx: FxTable,
    pub calendars: Vec<Calendar>,
    pub calendar_names: Vec<String>,
    pub banks: Vec<Bank>,
    pub nostros: Vec<Nostro>,
    pub dom_rails: Vec<DomRail>,
    pub rails: Vec<Rail>,
    pub corridors: Vec<Corridor>,
    pub routes: Vec<Route>,
    pub chains: Vec<crate::model::chain::spec::ChainSpec>,
    /// `[liquidity] scale`: already applied to every pre-funded level above; kept for reports.
    pub liquidity_scale: f64,
    /// Cost of capital: each currency's annual rate as a fraction (`[rates]`, 4.33% = 0.0433), by `CurId`;
    /// `None` where the scenario gives none. Empty when the scenario has no `[rates]` (no cost of capital).
    pub rates: Vec<Option<f64>>,
}

impl World {
    pub fn bank(&self, b: BankId) -> &Bank {
        &self.banks[b.idx()]
    }
    pub fn calendar(&self, c: CalId) -> &Calendar {
        &self.calendars[c.idx()]
    }
    pub fn bank_calendar(&self, b: BankId) -> &Calendar {
        self.calendar(self.bank(b).calendar)
    }
    pub fn route(&self, r: RouteId) -> &Route {
        &self.routes[r.idx()]
    }
    pub fn currency_ids(&self) -> Vec<CurId> {
        (0..self.fx.currencies.len() as u16).map(CurId).collect()
    }
}
