//! What the simulation says about each payment when it ends (or at the end of the run, if still in flight), and
//! the trace steps of one payment. These are plain data: the edges stream them to CSV, metrics aggregate them.

use crate::model::calendar::WaitReason;
use crate::model::fx::CurId;
use crate::model::world::{BankId, ChainId, CorridorId, DomRailId, RailId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Settled,
    Returned,
    Failed,
    InFlight,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Settled,
        Status::Returned,
        Status::Failed,
        Status::InFlight,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Settled => "settled",
            Status::Returned => "returned",
            Status::Failed => "failed",
            Status::InFlight => "in_flight",
        }
    }
}

/// Why a payment ended as it did, where its status alone does not say (the `end_reason` column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndReason {
    #[default]
    None,
    /// Screening rejected it: failed at the first bank, returned from a later one.
    ComplianceReject,
    /// A second submission of an order already paid (merchant QR), refunded by the platform.
    DuplicateRefunded,
    /// Fees deducted on the way took everything it carried: failed, never "settled" with nothing delivered.
    FeesExceedAmount,
    /// Over an IPS link's per-transaction limit or the sender's daily limit: refused at initiation.
    LimitExceeded,
    /// Sanctions screening could not finish within the IPS link's time budget: rejected.
    ScreeningTimeout,
}

impl EndReason {
    /// Every reason, in declaration order (`ALL[r as usize] == r`).
    pub const ALL: [EndReason; 6] = [
        EndReason::None,
        EndReason::ComplianceReject,
        EndReason::DuplicateRefunded,
        EndReason::FeesExceedAmount,
        EndReason::LimitExceeded,
        EndReason::ScreeningTimeout,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::None => "",
            EndReason::ComplianceReject => "compliance_reject",
            EndReason::DuplicateRefunded => "duplicate_refunded",
            EndReason::FeesExceedAmount => "fees_exceed_amount",
            EndReason::LimitExceeded => "limit_exceeded",
            EndReason::ScreeningTimeout => "screening_timeout",
        }
    }
}

/// Cost components, each valued in USD cents at the mid rate of the moment it was taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostSplit {
    pub sender_fee: i64,
    pub intermediary_fees: i64,
    pub receiver_fee: i64,
    pub fx_spread: i64,
    pub domestic_fees: i64,
    /// Chain rails: the transaction fee paid to miners or validators.
    pub network_fee: i64,
    /// Chain rails: the on-ramp's buy and off-ramp's sell spreads.
    pub ramp_spread: i64,
    /// Chain rails: the ramps' own fees.
    pub ramp_fees: i64,
    /// Chain rails: what the asset's price move between the on-ramp's purchase and the off-ramp's sale cost the
    /// customer (negative: a gain); 0 when the ramp bears the price risk. Signed, unlike every other part.
    pub price_move: i64,
    /// The cost of capital of the positions the payment used (pre-funded balances, funds in transit), allocated
    /// pro rata amount × time (`sim::capital`). Not one of `parts`, and not in `total`: the customer is not
    /// charged it; `total_with_liquidity` adds it.
    pub liquidity: i64,
}

impl CostSplit {
    pub const NAMES: [&'static str; 9] = [
        "sender_fee",
        "intermediary_fees",
        "receiver_fee",
        "fx_spread",
        "domestic_fees",
        "network_fee",
        "ramp_spread",
        "ramp_fees",
        "price_move",
    ];
    pub fn parts(&self) -> [i64; 9] {
        [
            self.sender_fee,
            self.intermediary_fees,
            self.receiver_fee,
            self.fx_spread,
            self.domestic_fees,
            self.network_fee,
            self.ramp_spread,
            self.ramp_fees,
            self.price_move,
        ]
    }
    /// The split of these nine parts (`parts` order) and a cost of capital.
    pub fn from_parts(parts: [i64; 9], liquidity: i64) -> CostSplit {
        let [
            sender_fee,
            intermediary_fees,
            receiver_fee,
            fx_spread,
            domestic_fees,
            network_fee,
            ramp_spread,
            ramp_fees,
            price_move,
        ] = parts;
        CostSplit {
            sender_fee,
            intermediary_fees,
            receiver_fee,
            fx_spread,
            domestic_fees,
            network_fee,
            ramp_spread,
            ramp_fees,
            price_move,
            liquidity,
        }
    }
    pub fn total(&self) -> i64 {
        self.parts().iter().fold(0_i64, |a, &x| a.saturating_add(x))
    }
    /// The total with the cost of capital of the positions the payment used.
    pub fn total_with_liquidity(&self) -> i64 {
        self.total().saturating_add(self.liquidity)
    }
    /// Everything but spreads and the price move.
    pub fn fees(&self) -> i64 {
        self.total() - self.fx_spread - self.ramp_spread - self.price_move
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PaymentRecord {
    pub id: u64,
    /// The demand draw this payment replays (mirror mode: the same across rails).
    pub demand_id: u64,
    pub corridor: CorridorId,
    pub rail: RailId,
    pub amount_minor: i64,
    pub currency: CurId,
    pub amount_usd_cents: i64,
    pub created_us: u64,
    /// Settled, returned or failed time; `None` while in flight.
    pub ended_us: Option<u64>,
    pub status: Status,
    /// What reached the beneficiary (settled), came back to the originator (returned/failed), or is still in
    /// transit (in flight).
    pub delivered_minor: i64,
    pub delivered_currency: CurId,
    pub cost: CostSplit,
    /// A second submission of the same order (merchant QR): detected and refunded by the platform.
    pub duplicate: bool,
    /// Why it ended so (rejected, refunded duplicate, fees took everything); `None` for an ordinary end.
    pub reason: EndReason,
    /// Chain rails: from broadcast to first inclusion in a block, and to the deposit being credited.
    pub chain_inclusion_us: Option<u64>,
    pub chain_settlement_us: Option<u64>,
    /// When the first bank accepted the payment (the start of SWIFT gpi's basis); `None` if it never did.
    pub accepted_us: Option<u64>,
    /// The longest single hold of the payment's life, and how long it was.
    pub slowest: Hold,
    pub slowest_us: u64,
    /// Chain rails whose asset's price moves: from the on-ramp's purchase to the off-ramp's sale (`None` if
    /// the asset was never sold, e.g. returned, or its price never moves).
    pub exposed_us: Option<u64>,
    /// When the ramp bears the price risk: what the price move cost it (USD cents, negative: a gain); the
    /// customer's `cost.price_move` is then 0.
    pub ramp_price_move_cents: i64,
    /// Microseconds spent in each stage (`Stage::idx`), from creation to the end (or to the run's end while in
    /// flight): they sum to the latency exactly.
    pub stages_us: [u64; Stage::COUNT],
    /// FX settlement exposure: from the moment the value to be converted into the destination currency was paid
    /// to the bank that converts it, until that conversion (or the payment's end); `None` for a payment that
    /// never reached that point or does not change currency. Zero on a PvP rail.
    pub fx_exposure_us: Option<u64>,
}

/// What held a payment up: the kind of its longest single wait (reported for payments slower than a week).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hold {
    #[default]
    None,
    /// The bank was closed (night, weekend, holiday, after the cut-off).
    ClosedHours,
    Processing,
    Repair,
    ComplianceReview,
    /// Waiting for a clerk at a staffed desk.
    DeskQueue,
    NostroShortfall,
    /// Message and funds between two banks.
    Transit,
    DomesticRail,
    /// On a chain: broadcast to the receiver's credit.
    Chain,
    /// A scheduled T+n payout.
    Payout,
    /// Funds travelling back to the originator.
    Return,
    /// Queued on a ledger member's limit until the next net settlement.
    MemberLimit,
}

impl Hold {
    /// Every kind, in declaration order (`ALL[h as usize] == h`).
    pub const ALL: [Hold; 13] = [
        Hold::None,
        Hold::ClosedHours,
        Hold::Processing,
        Hold::Repair,
        Hold::ComplianceReview,
        Hold::DeskQueue,
        Hold::NostroShortfall,
        Hold::Transit,
        Hold::DomesticRail,
        Hold::Chain,
        Hold::Payout,
        Hold::Return,
        Hold::MemberLimit,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::None => "",
            Hold::ClosedHours => "closed_hours",
            Hold::Processing => "processing",
            Hold::Repair => "repair",
            Hold::ComplianceReview => "compliance_review",
            Hold::DeskQueue => "desk_queue",
            Hold::NostroShortfall => "nostro_shortfall",
            Hold::Transit => "transit",
            Hold::DomesticRail => "domestic_rail",
            Hold::Chain => "chain",
            Hold::Payout => "payout",
            Hold::Return => "return",
            Hold::MemberLimit => "member_limit",
        }
    }
}

/// Where a payment's time goes: every microsecond from initiation to its end is in exactly one stage, so a
/// payment's stages sum to its end-to-end latency. A stage starts when the payment starts doing it (a wait that is
/// only known when it ends, like a queue, is dated back to when it began) and lasts until the next one starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// From initiation until the first bank or ramp takes the payment up.
    Initiation,
    /// A bank closed: night, weekend, holiday, after the cut-off.
    ClosedHours,
    /// A bank's processing (straight-through or by a clerk).
    Processing,
    /// Manual repair of a payment that failed straight-through processing (from the next opening).
    Repair,
    /// Sanctions or AML screening hit under review (from the next opening).
    Compliance,
    /// Waiting for a clerk at a staffed desk.
    DeskQueue,
    /// Waiting for a nostro account (or a ramp's inventory) to hold enough to fund the payment.
    NostroWait,
    /// Message and funds between two banks.
    Transit,
    /// On a domestic rail (ACH batch, RTGS, instant): a first or last mile.
    DomesticRail,
    /// At an on- or off-ramp: buying or selling the asset, the withdrawal desk and its batches.
    Ramp,
    /// On a chain: broadcast to first inclusion in a block.
    ChainInclusion,
    /// On a chain: first inclusion to the receiving platform's credit (confirmations or finality).
    Confirmations,
    /// A scheduled T+n payout to the beneficiary (merchant settlement).
    Payout,
    /// Funds travelling back to the originator.
    Return,
}

impl Stage {
    pub const COUNT: usize = 14;
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::Initiation,
        Stage::ClosedHours,
        Stage::Processing,
        Stage::Repair,
        Stage::Compliance,
        Stage::DeskQueue,
        Stage::NostroWait,
        Stage::Transit,
        Stage::DomesticRail,
        Stage::Ramp,
        Stage::ChainInclusion,
        Stage::Confirmations,
        Stage::Payout,
        Stage::Return,
    ];
    /// The name in column headers (`stage_<name>_us`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Initiation => "initiation",
            Stage::ClosedHours => "closed_hours",
            Stage::Processing => "processing",
            Stage::Repair => "repair",
            Stage::Compliance => "compliance",
            Stage::DeskQueue => "desk_queue",
            Stage::NostroWait => "nostro_wait",
            Stage::Transit => "transit",
            Stage::DomesticRail => "domestic_rail",
            Stage::Ramp => "ramp",
            Stage::ChainInclusion => "chain_inclusion",
            Stage::Confirmations => "confirmations",
            Stage::Payout => "payout",
            Stage::Return => "return",
        }
    }
    pub fn idx(self) -> usize {
        self as usize
    }
    /// The stage a hold of kind `h` puts the payment in (a chain hold is split by the caller).
    pub fn of_hold(h: Hold) -> Stage {
        match h {
            Hold::None => Stage::Initiation,
            Hold::ClosedHours => Stage::ClosedHours,
            Hold::Processing => Stage::Processing,
            Hold::Repair => Stage::Repair,
            Hold::ComplianceReview => Stage::Compliance,
            Hold::DeskQueue => Stage::DeskQueue,
            Hold::NostroShortfall => Stage::NostroWait,
            Hold::Transit => Stage::Transit,
            Hold::DomesticRail => Stage::DomesticRail,
            Hold::Chain => Stage::Confirmations,
            Hold::Payout => Stage::Payout,
            Hold::Return => Stage::Return,
            // Waiting for a ledger member's limit to free up is a wait for funding, like a nostro shortfall.
            Hold::MemberLimit => Stage::NostroWait,
        }
    }
}

impl PaymentRecord {
    pub fn latency_us(&self) -> Option<u64> {
        self.ended_us.map(|e| e - self.created_us)
    }
    /// Latency on SWIFT gpi's basis: from the first bank's acceptance to the end (the beneficiary bank's credit
    /// for a settled payment), leaving out the wait for the sending bank's hours and any first mile.
    pub fn latency_gpi_us(&self) -> Option<u64> {
        Some(self.ended_us? - self.accepted_us?)
    }
    /// Why a payment took more than a week: its longest hold; `None` for faster or unfinished payments.
    pub fn slow_reason(&self) -> Option<Hold> {
        const WEEK_US: u64 = 7 * 86_400 * 1_000_000;
        (self.latency_us()? > WEEK_US).then_some(self.slowest)
    }
    /// All-in cost in bps of the amount (fees and FX spread).
    pub fn cost_bps(&self) -> f64 {
        if self.amount_usd_cents == 0 {
            return 0.0;
        }
        self.cost.total() as f64 * 10_000.0 / self.amount_usd_cents as f64
    }
    /// `cost_bps` with the cost of capital of the positions the payment used.
    pub fn cost_bps_with_liquidity(&self) -> f64 {
        if self.amount_usd_cents == 0 {
            return 0.0;
        }
        self.cost.total_with_liquidity() as f64 * 10_000.0 / self.amount_usd_cents as f64
    }
}

/// Where a step happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Bank(BankId),
    Domestic(DomRailId),
    Rail(RailId),
}

/// One step of a payment's story, for `settlesim trace`.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Created {
        amount_minor: i64,
        currency: CurId,
    },
    Waiting {
        until_us: u64,
        reason: WaitReason,
    },
    Accepted,
    Fee {
        role: &'static str,
        minor: i64,
        currency: CurId,
        usd_cents: i64,
        paid_by: &'static str,
    },
    Processed,
    ManualRepair {
        until_us: u64,
    },
    ScreeningHit {
        until_us: u64,
    },
    ScreeningCleared,
    Rejected,
    Converted {
        from_minor: i64,
        from: CurId,
        to_minor: i64,
        to: CurId,
        spread_usd_cents: i64,
    },
    NostroShortfall {
        owner: BankId,
        at: BankId,
        balance_minor: i64,
        needed_minor: i64,
    },
    NostroFunded {
        waited_us: u64,
    },
    Sent {
        to: BankId,
        arrives_us: u64,
    },
    DomesticSubmitted {
        queue_wait_us: u64,
        done_us: u64,
    },
    Settled {
        minor: i64,
        currency: CurId,
    },
    ReturnStarted {
        arrives_us: u64,
    },
    Returned {
        minor: i64,
        currency: CurId,
    },
    Failed,
    ChainBroadcast {
        chain: ChainId,
        bid: u64,
    },
    ChainIncluded {
        height: u32,
        network_fee_usd_cents: i64,
    },
    ChainReorged,
    ChainDeposit {
        confirmations: u32,
        finality: bool,
    },
    DuplicateSubmitted {
        order: u64,
    },
    DuplicateDetected,
    /// Refused at initiation: over the link's per-transaction limit (`daily` false) or the sender's daily limit.
    LimitExceeded {
        daily: bool,
        limit_minor: i64,
        currency: CurId,
    },
    /// Screening would take longer than the link's budget: rejected when the budget runs out.
    ScreeningTimeout {
        budget_us: u64,
    },
    /// The sending member is at its limit of unsettled obligations: queued until the next net settlement.
    MemberLimitQueued {
        owed_usd_cents: i64,
        limit_usd_cents: i64,
    },
    /// Released by a net settlement after waiting on the member's limit.
    MemberLimitReleased {
        waited_us: u64,
    },
    /// Handed to the gateway between two instant payment systems; reaches the next system at `arrives_us`.
    LinkCrossing {
        arrives_us: u64,
    },
    PayoutScheduled {
        at_us: u64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    pub t_us: u64,
    pub place: Place,
    pub step: Step,
}
