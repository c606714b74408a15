//! The scenario file as written: serde structs that mirror the TOML one to one. Every struct denies unknown fields,
//! so a typo is an error with a position rather than a silently ignored setting. Defaults live here, next to the
//! field they belong to, and `scenarios/example.toml` documents each of them. Nothing here is validated beyond its
//! type: `validate` turns these into the typed model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Start instant, UTC (`2026-03-02T00:00:00Z`, quoted or as a TOML datetime).
    pub start: StartInstant,
    /// How long demand arrives, e.g. `"30d"`.
    pub duration: String,
    #[serde(default)]
    pub seed: i64,
    /// `"mirror"`: every payment is replayed on every rail of its corridor (a paired comparison).
    /// `"split"`: each payment goes to one rail, drawn by the routes' shares.
    #[serde(default = "default_mode")]
    pub mode: String,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarDef>,
    #[serde(default)]
    pub fx: Vec<FxDef>,
    #[serde(default)]
    pub banks: Vec<BankDef>,
    #[serde(default)]
    pub nostros: Vec<NostroDef>,
    #[serde(default)]
    pub domestic_rails: Vec<DomesticRailDef>,
    #[serde(default)]
    pub rails: Vec<RailDef>,
    #[serde(default)]
    pub corridors: Vec<CorridorDef>,
    #[serde(default)]
    pub chains: Vec<ChainDef>,
    /// Ramp inventories: a ramp's own balance of fiat or crypto that it sells from.
    #[serde(default)]
    pub inventories: Vec<InventoryDef>,
    /// Cost of capital: an annual rate in percent per currency (`USD = 4.33`), for every currency payments
    /// hold on their way; the liquidity each position ties up costs ∫ balance × rate dt.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rates: BTreeMap<String, f64>,
    /// Scenario-wide liquidity: a scale on every pre-funded balance (the liquidity–delay trade-off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidity: Option<LiquidityDef>,
}

/// `[liquidity]`: one factor on every pre-funded position, so sweeps and `settlesim size` can vary the liquidity
/// a scenario provides without editing each balance.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidityDef {
    /// Multiplies every nostro and inventory opening balance, every threshold and target of a top-up policy and
    /// every ledger member limit. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
}

fn default_mode() -> String {
    "mirror".into()
}

/// TOML lets a datetime be written bare or quoted; accept both.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum StartInstant {
    Datetime(toml::value::Datetime),
    Text(String),
}

impl StartInstant {
    pub fn text(&self) -> String {
        match self {
            StartInstant::Datetime(d) => d.to_string(),
            StartInstant::Text(s) => s.clone(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Extra simulated time after demand stops, for payments in flight to finish.
    #[serde(default = "default_drain")]
    pub drain: String,
    /// Hard cap on simulated time from the start (default: duration + drain); reaching it ends the run cleanly
    /// and payments still moving are reported in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time: Option<String>,
    /// Hard cap on processed events; reaching it ends the run cleanly.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
}

fn default_drain() -> String {
    "21d".into()
}
fn default_max_events() -> u64 {
    500_000_000
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            drain: default_drain(),
            max_time: None,
            max_events: default_max_events(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    /// IANA time zone, e.g. `"America/New_York"`.
    pub zone: String,
    #[serde(default = "default_weekend")]
    pub weekend: Vec<String>,
    /// Local dates `"YYYY-MM-DD"`.
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default = "default_open")]
    pub open: String,
    #[serde(default = "default_cutoff")]
    pub cutoff: String,
    /// 24/7 operation (instant payment systems): ignores weekend, holidays and hours.
    #[serde(default)]
    pub always_open: bool,
}

fn default_weekend() -> Vec<String> {
    vec!["Sat".into(), "Sun".into()]
}
fn default_open() -> String {
    "08:00".into()
}
fn default_cutoff() -> String {
    "17:00".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FxDef {
    /// `"USD/MXN"`: units of the quote currency (MXN) per one unit of the base currency (USD).
    /// One side must be USD: every cross rate goes through USD.
    pub pair: String,
    pub mid: f64,
    /// Volatility of the mid rate: the standard deviation of its log-change over one day, in bps. The rate
    /// follows geometric Brownian motion at per-second resolution (`model::price`), so an hour carries
    /// σ·√(1/24) of it.
    #[serde(default)]
    pub daily_vol_bps: f64,
    /// Optional jumps of the mid rate (compound Poisson, normal log sizes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jumps: Option<JumpsDef>,
}

/// Compound-Poisson jumps of a price: `per_day` jumps a day on average, each with a normal log size of mean
/// `mean_bps` and standard deviation `sd_bps`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JumpsDef {
    pub per_day: f64,
    #[serde(default)]
    pub mean_bps: f64,
    pub sd_bps: f64,
}

/// A stablecoin's deviation from its peg: a mean-reverting (Ornstein–Uhlenbeck) process in log with stationary
/// standard deviation `sd_bps` and half-life `half_life` (a duration).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PegDef {
    pub sd_bps: f64,
    pub half_life: String,
}

/// A delay distribution. Give exactly one shape: `fixed`; `mean` (exponential); `median` with `p90` or `sigma`
/// (log-normal); or `min` with `max` (uniform). Durations are strings with units.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DelayDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningDef {
    /// Share of payments that hit the sanctions/AML filter and go to manual review.
    #[serde(default)]
    pub hit_rate: f64,
    /// Review time of a hit (worked in business hours).
    #[serde(default)]
    pub review: DelayDef,
    /// Share of reviewed hits that are rejected (returned; fees kept).
    #[serde(default)]
    pub reject_rate: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BankDef {
    pub id: String,
    /// ISO 3166 alpha-2 country code.
    pub country: String,
    /// Name of a table under `[calendars]`.
    pub calendar: String,
    /// Straight-through processing time.
    #[serde(default)]
    pub processing: DelayDef,
    /// Share of payments processed straight through; the rest go to manual repair.
    #[serde(default = "one")]
    pub stp_rate: f64,
    #[serde(default)]
    pub repair: DelayDef,
    #[serde(default)]
    pub screening: Option<ScreeningDef>,
    /// Fee charged by this bank when it originates a payment.
    #[serde(default)]
    pub send_fee_usd: f64,
    /// "Lifting" fee when it acts as an intermediary.
    #[serde(default)]
    pub lifting_fee_usd: f64,
    /// Fee when it receives a payment for its customer.
    #[serde(default)]
    pub receive_fee_usd: f64,
    /// Spread against the mid rate when this bank converts currency (a ramp's buy or sell spread).
    #[serde(default)]
    pub fx_spread_bps: f64,
    /// As the receiving ramp of a chain rail: confirmations before a deposit is credited.
    #[serde(default = "one_u32")]
    pub deposit_confirmations: u32,
    /// As the receiving ramp of a chain rail: credit deposits only at finality (proof of stake).
    #[serde(default)]
    pub deposit_finality: bool,
    /// As the last bank: pay out T+n, at the opening of the n-th business day after the funds are ready (0: the
    /// same business day, within opening hours). Default: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_days: Option<u32>,
    /// As an on-ramp: withdrawals leave in batches at multiples of this interval (e.g. "10m").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_batch: Option<String>,
    /// As an on-ramp: withdrawals above this amount wait for a manual review (the bank's `repair` delay, in
    /// business hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_limit_usd: Option<f64>,
    /// Staff at the processing desk (payments wait for a free clerk, who starts work only in business hours).
    /// Absent: unlimited, processing is a pure delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_staff: Option<u32>,
    /// Staff at the repair desk. Absent: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_staff: Option<u32>,
    /// Staff reviewing screening hits. Absent: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_staff: Option<u32>,
    /// Queue order at staffed desks: `"fifo"` (default) or `"amount"` (largest USD amount first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_order: Option<String>,
}

fn one_u32() -> u32 {
    1
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NostroDef {
    /// The bank that owns the account...
    pub owner: String,
    /// ...held at this correspondent.
    pub at: String,
    pub currency: String,
    /// Opening balance in major units of `currency`.
    pub balance: f64,
    /// Top-up: `"daily"` restores the opening balance at the owner's opening time each business day; `"none"`;
    /// or a policy table (`{ policy = "threshold", ... }`).
    #[serde(default = "default_topup")]
    pub topup: TopupDef,
}

fn default_topup() -> TopupDef {
    TopupDef::Name("daily".into())
}

/// A position's top-up: a policy name (`"daily"`, `"none"`) or an inline table with the policy and its levels.
/// Written as a plain string it serialises as before, so the canonical form (and the sha256) of every scenario
/// that uses a name is unchanged.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum TopupDef {
    Name(String),
    Policy(TopupPolicyDef),
}

impl<'de> Deserialize<'de> for TopupDef {
    /// A string or a table; the table's own fields are checked by `TopupPolicyDef` (unknown fields denied), so
    /// an error inside it points at the key, not at the whole value as an untagged enum would.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = TopupDef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a top-up name (\"daily\", \"none\") or a table such as { policy = \"threshold\", ... }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TopupDef, E> {
                Ok(TopupDef::Name(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<TopupDef, A::Error> {
                TopupPolicyDef::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(TopupDef::Policy)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A top-up policy table. `policy = "threshold"`: when the balance falls below `threshold` (or a payment waits on
/// the position), the owner requests funding up to `target` (plus what the waiting payments need); it arrives
/// `delay` later, counted in the open hours of `calendar`; one request in flight at a time; each costs `fee_usd`
/// plus `fee_bps` of the amount. `"daily"` and `"none"` take no other field.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopupPolicyDef {
    pub policy: String,
    /// Major units of the position's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// How long the funding takes once its calendar is open, e.g. `"2h"` (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// The funding rail's calendar (a name under `[calendars]`); default: funds move 24/7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_bps: Option<f64>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DomesticRailDef {
    pub id: String,
    /// `"rtgs"`, `"ach"` or `"instant"`.
    pub kind: String,
    pub calendar: String,
    #[serde(default)]
    pub fee_usd: f64,
    /// Throughput limit; above it payments queue (FIFO).
    #[serde(default = "default_capacity")]
    pub capacity_per_s: f64,
    /// Service time at capacity: `"fixed"` (1/capacity, M/D/1-like) or `"exp"` (mean 1/capacity, M/M/1-like).
    #[serde(default = "default_service")]
    pub service: String,
    /// Parallel servers, FIFO; each serves at `capacity_per_s / servers` (so the rail's throughput stays
    /// `capacity_per_s`). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<u32>,
    /// Service time of one server as a delay distribution (any shape); replaces `capacity_per_s` and `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time: Option<DelayDef>,
    /// Time from acceptance to credit, on top of queueing.
    #[serde(default)]
    pub latency: DelayDef,
    /// ACH only: local window close times; payments submitted before a close settle in that batch.
    #[serde(default)]
    pub windows: Vec<String>,
    /// ACH only: from window close to settlement.
    #[serde(default = "default_zero")]
    pub settlement_delay: String,
}

fn default_capacity() -> f64 {
    1000.0
}
fn default_service() -> String {
    "fixed".into()
}
fn default_zero() -> String {
    "0s".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RailDef {
    pub id: String,
    /// `"correspondent"`, `"chain"`, `"ips_link"` or `"ledger"`.
    pub kind: String,
    /// `"OUR"`, `"SHA"` or `"BEN"`.
    #[serde(default = "default_bearer")]
    pub charge_bearer: String,
    /// Message transit between two banks of a route (SWIFT delivery).
    #[serde(default)]
    pub message_delay: DelayDef,
    /// Time for a rejected payment's funds to travel back to the originator.
    #[serde(default)]
    pub return_delay: DelayDef,
    /// Chain rails: the chain (an id under [[chains]]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Chain rails: the asset moved (a stablecoin such as "USDT", or the chain's native coin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_decimals: Option<u8>,
    /// Price of the asset in USD (1 for a dollar stablecoin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_price_usd: Option<f64>,
    /// Volatility of the asset's USD price in bps per √day (geometric Brownian motion at per-second
    /// resolution); 0 or absent: no diffusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_daily_vol_bps: Option<f64>,
    /// Optional jumps of the asset's USD price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_jumps: Option<JumpsDef>,
    /// A stablecoin's peg deviation (mean-reverting around `asset_price_usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_peg: Option<PegDef>,
    /// Who bears the asset's price move between the on-ramp's purchase and the off-ramp's sale: `"customer"`
    /// (default: the off-ramp sells at the price of the sale) or `"ramp"` (the on-ramp's quote is locked: the
    /// off-ramp pays out at the purchase price and keeps the gain or loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_risk: Option<String>,
    /// Chain rails: the sender's bid per size unit in native minor units (first price) or priority tip
    /// (EIP-1559, where the max fee is twice the base fee plus the tip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_bid: Option<u64>,
    /// Chain rails: `"fixed"` bids `fee_bid`; `"market"` bids 10% over what got into recent full blocks (never
    /// below `fee_bid`), as wallets estimate fees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_policy: Option<String>,
    /// Chain rails: payment versus payment — the platform commits the transfer and the receiving bank's
    /// conversion into the destination currency together (a multi-CBDC platform with FX on the platform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvp: Option<bool>,
    /// Chain rails (merchant QR payments): share of orders the customer's wallet submits twice; the receiving
    /// platform detects the second transfer for the same order, refunds it, and counts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_rate: Option<f64>,
    /// IPS links: per-transaction limit in major units of the source currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_limit: Option<f64>,
    /// IPS links: outward value per sending participant per local day, in major units of the source currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<f64>,
    /// IPS links: the gateway's processing between the two systems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_delay: Option<DelayDef>,
    /// IPS links: the scheme's fee per payment in USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_fee_usd: Option<f64>,
    /// IPS links: time budget for sanctions screening (e.g. "30s").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening_budget: Option<String>,
    /// IPS links: past the budget, `"return"` the payment or send it to manual `"review"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_screening_timeout: Option<String>,
    /// Ledger rails: the settlement bank (a bank id) whose calendar times the net settlements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_bank: Option<String>,
    /// Ledger rails: net settlement every this long while the settlement bank is open (default: at each
    /// business day's cut-off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_every: Option<String>,
    /// Ledger rails: a member's cap on unsettled obligations in USD (its payments queue past it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_limit_usd: Option<f64>,
}

fn default_bearer() -> String {
    "SHA".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AmountDef {
    /// Median payment in major units of the source currency.
    pub median: f64,
    /// Log-normal shape (σ of ln amount).
    #[serde(default = "default_sigma")]
    pub sigma: f64,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

fn default_sigma() -> f64 {
    1.0
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteDef {
    pub rail: String,
    /// Split mode: relative share of this corridor's payments.
    #[serde(default = "one")]
    pub share: f64,
    /// Banks in order, originator's bank first. Omit to take the cheapest path from `origin` to `beneficiary`.
    #[serde(default)]
    pub path: Vec<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub beneficiary: Option<String>,
    /// The bank that converts source to destination currency (must be on the path).
    #[serde(default)]
    pub convert_at: Option<String>,
    /// Domestic rail from the originator's account to the first bank (optional).
    #[serde(default)]
    pub first_mile: Option<String>,
    /// Domestic rail from the last bank to the beneficiary's account (optional).
    #[serde(default)]
    pub last_mile: Option<String>,
    /// IPS links: the instant payment system (a domestic rail of kind "instant") each hop goes over, one per
    /// hop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorDef {
    pub id: String,
    pub from_country: String,
    pub to_country: String,
    pub source_currency: String,
    pub dest_currency: String,
    /// Base arrival rate (Poisson), before diurnal and weekday factors.
    pub payments_per_day: f64,
    /// Zone whose local hour and weekday drive the profile (default: the first route's origin bank zone).
    #[serde(default)]
    pub zone: Option<String>,
    /// 24 multipliers by local hour (default: all 1).
    #[serde(default)]
    pub diurnal: Vec<f64>,
    /// 7 multipliers Monday..Sunday (default: all 1).
    #[serde(default)]
    pub weekday: Vec<f64>,
    pub amount: AmountDef,
    #[serde(default)]
    pub routes: Vec<RouteDef>,
}

/// A blockchain. Which fields apply depends on `consensus`; the others must be left out.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainDef {
    pub id: String,
    /// `"nakamoto"` (proof of work), `"pos"` (slot-based proof of stake) or `"bft"` (PBFT/Tendermint style).
    pub consensus: String,
    /// Nakamoto: mean block interval (exponential). PoS: slot time. BFT: pause after a commit (timeout_commit).
    pub block_interval: String,
    /// Block capacity in size units (vbytes, gas).
    pub block_capacity: u64,
    /// Size of one transfer in the same units.
    pub tx_units: u64,
    /// `"first_price"` or `"eip1559"`.
    #[serde(default = "default_fee_market")]
    pub fee_market: String,
    /// EIP-1559: initial base fee in native minor units per size unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_fee: Option<u64>,
    /// Mempool capacity in size units; beyond it the lowest bids are evicted. Default: 300 blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mempool_capacity: Option<u64>,
    /// Native asset: code, decimals of its minor unit, price in USD.
    pub native: String,
    pub native_decimals: u8,
    pub native_price_usd: f64,
    /// Abstract propagation: time for a block to reach each node.
    #[serde(default)]
    pub propagation: DelayDef,
    /// Nakamoto: how blocks travel. Default: abstract (the `propagation` delay per node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkDef>,
    /// Nakamoto: hash shares of the miners (any positive weights).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub miners: Vec<f64>,
    /// PoS and BFT: number of validators (equal stake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validators: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots_per_epoch: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finality_epochs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_slot_rate: Option<f64>,
    /// BFT: first round timeout (round r waits r+1 times this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_timeout: Option<String>,
    /// BFT: delay of each consensus message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_delay: Option<DelayDef>,
    /// BFT: whether heights run with nothing to commit (default true; CometBFT's `create_empty_blocks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_blocks: Option<bool>,
    /// BFT with `empty_blocks = false`: an empty block after this long idle (CometBFT's
    /// `create_empty_blocks_interval`); default none, the chain idles until a transaction arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_block_interval: Option<String>,
    #[serde(default)]
    pub background: BackgroundDef,
    /// Windows during which no block is produced: `{ from = "2d", to = "2d6h" }` (times since start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub halts: Vec<WindowDef>,
    /// Validators offline: `{ validator = 0, from = "1h", to = "3h" }`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offline: Vec<OfflineDef>,
    /// Nakamoto: the hash share assumed for a double-spending attacker when reporting the reversal risk at each
    /// receiver's confirmation depth (Rosenfeld 2014). Default 0.1, Nakamoto's own example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker_share: Option<f64>,
    /// Operating hours (a calendar name): blocks only while it is open, as on a multi-CBDC platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_hours: Option<String>,
}

fn default_fee_market() -> String {
    "first_price".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackgroundDef {
    /// Offered load of other users' transfers.
    #[serde(default)]
    pub tx_per_s: f64,
    /// Their bids (first price) or priority tips (EIP-1559), native minor units per size unit: log-normal.
    #[serde(default = "default_fee_median")]
    pub fee_median: f64,
    #[serde(default = "default_fee_sigma")]
    pub fee_sigma: f64,
    /// EIP-1559: the most a background user will pay per unit (base fee + tip), log-normal with `fee_sigma`;
    /// demand falls away as the base fee rises past it. Default: ten times the initial base fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_median: Option<f64>,
    /// Bursts of competing load that spike fees.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bursts: Vec<BurstDef>,
}

impl Default for BackgroundDef {
    fn default() -> Self {
        BackgroundDef {
            tx_per_s: 0.0,
            fee_median: default_fee_median(),
            fee_sigma: default_fee_sigma(),
            max_fee_median: None,
            bursts: Vec::new(),
        }
    }
}

fn default_fee_median() -> f64 {
    1.0
}
fn default_fee_sigma() -> f64 {
    0.5
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WindowDef {
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineDef {
    pub validator: usize,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BurstDef {
    pub from: String,
    pub to: String,
    pub tx_per_s: f64,
    #[serde(default = "one")]
    pub fee_multiplier: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryDef {
    /// The ramp (a bank id) holding it.
    pub owner: String,
    /// A fiat currency or an asset code.
    pub currency: String,
    /// Opening balance in major units.
    pub balance: f64,
    /// `"daily"`: restored to the opening balance at the owner's opening time each business day; `"none"`; or a
    /// policy table as on a nostro.
    #[serde(default = "default_topup")]
    pub topup: TopupDef,
}

/// Gossip network: nodes in regions with a latency matrix and upload bandwidths, relaying blocks (and proof-of-stake
/// and BFT proposals and votes) by announce, request and transfer.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkDef {
    /// `"abstract"` or `"gossip"`.
    pub mode: String,
    /// Nodes in all (miners or validators sit on random nodes; the observer is the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// Peers each node picks at random (plus a ring, so the graph is connected); nodes - 1: a complete graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<u32>,
    /// Region names; node n is in region n mod len, or drawn by `region_shares`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    /// Share of the nodes in each region (any positive weights); default: equal, round robin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_shares: Option<Vec<f64>>,
    /// One-way latency between regions in ms, a square matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Vec<Vec<f64>>>,
    /// Median upload bandwidth of a node, Mbit/s (default 50); or `region_bandwidth_mbps`, one per region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_bandwidth_mbps: Option<Vec<f64>>,
    /// Spread of node bandwidths around the median: log-normal σ (default 0: every node at the median).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_sigma: Option<f64>,
    /// Size of a full block on the wire (default: block_capacity bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_bytes: Option<u64>,
    /// `"full"` (default: whole blocks after inv/getdata) or `"compact"` (BIP 152 compact blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
    /// `"shared"` (default: the transfers a node serves share its upload bandwidth, as TCP connections do) or
    /// `"fifo"` (one transfer at a time, in request order, as SimBlock models it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
    /// Compact relay: size of a compact block (header and short ids); default 80 + 6 per transaction that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact_bytes: Option<u64>,
    /// Compact relay: share of receipts missing transactions (a further round trip); default 0.13.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_share: Option<f64>,
    /// Compact relay: bytes of the missing transactions sent in that round trip; default 5% of the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_bytes: Option<u64>,
    /// How transactions travel (nakamoto): `"instant"` (default: one global mempool), `"trickle"` (Bitcoin Core
    /// before 0.12) or `"poisson"` (Bitcoin Core since 0.21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_relay: Option<String>,
    /// Probe transactions, one every this long, for the propagation measurement (tx_relay other than instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_probe_every: Option<String>,
    /// BFT: size of a vote on the wire, bytes (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_bytes: Option<u64>,
    /// Time a node takes to validate a block before relaying it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
}

impl NetworkDef {
    /// The fields only a gossip network reads, by name, with whether each is given.
    pub fn gossip_fields(&self) -> [(&'static str, bool); 18] {
        [
            ("nodes", self.nodes.is_some()),
            ("peers", self.peers.is_some()),
            ("regions", self.regions.is_some()),
            ("region_shares", self.region_shares.is_some()),
            ("latency_ms", self.latency_ms.is_some()),
            ("bandwidth_mbps", self.bandwidth_mbps.is_some()),
            (
                "region_bandwidth_mbps",
                self.region_bandwidth_mbps.is_some(),
            ),
            ("bandwidth_sigma", self.bandwidth_sigma.is_some()),
            ("block_bytes", self.block_bytes.is_some()),
            ("relay", self.relay.is_some()),
            ("upload", self.upload.is_some()),
            ("compact_bytes", self.compact_bytes.is_some()),
            ("missing_share", self.missing_share.is_some()),
            ("missing_bytes", self.missing_bytes.is_some()),
            ("tx_relay", self.tx_relay.is_some()),
            ("tx_probe_every", self.tx_probe_every.is_some()),
            ("vote_bytes", self.vote_bytes.is_some()),
            ("validation", self.validation.is_some()),
        ]
    }

    /// Nodes in all (default 100).
    pub fn nodes(&self) -> u32 {
        self.nodes.unwrap_or(100)
    }
    /// Random peers per node (default 8).
    pub fn peers(&self) -> u32 {
        self.peers.unwrap_or(8)
    }
    /// Region names (default one region, "world").
    pub fn regions(&self) -> Vec<String> {
        self.regions.clone().unwrap_or_else(|| vec!["world".into()])
    }
    /// One-way latency between regions in ms (default 50 ms).
    pub fn latency_ms(&self) -> Vec<Vec<f64>> {
        self.latency_ms.clone().unwrap_or_else(|| vec![vec![50.0]])
    }
    /// Validation time before a node relays (default 100 ms).
    pub fn validation(&self) -> String {
        self.validation.clone().unwrap_or_else(|| "100ms".into())
    }

    /// Fills the defaults of the fields every network carried before they became optional, in the canonical form
    /// the scenario hash is taken of, so hashes did not move when abstract networks started refusing them.
    pub fn fill_defaults(&mut self) {
        self.nodes = Some(self.nodes());
        self.peers = Some(self.peers());
        self.regions = Some(self.regions());
        self.latency_ms = Some(self.latency_ms());
        self.validation = Some(self.validation());
    }
}
