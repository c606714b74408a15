//! Merchant QR payments: the customer's wallet may submit an order twice (the platform detects the second
//! submission at the deposit and refunds it), and the acquiring platform pays the merchant's bank T+n business
//! days after the sale rather than at once.

use crate::model::record::{Hold, Place, Step};
use crate::model::world::{RailKind, RouteId};
use crate::rng;

use super::{Phase, RecordSink, Sim};

impl<S: RecordSink> Sim<'_, S> {
    /// On a chain rail with a duplicate rate, the customer's wallet may submit order `order` a second time
    /// (drawn from the rail's own stream, so demand is untouched).
    pub(super) fn maybe_submit_twice(
        &mut self,
        r: RouteId,
        demand_id: u64,
        amount_minor: i64,
        order: u64,
    ) {
        let rail = self.w.route(r).rail;
        if let RailKind::Chain { duplicate_rate, .. } = self.w.rails[rail.idx()].kind
            && duplicate_rate > 0.0
            && rng::unit(self.rail_stream(r)) < duplicate_rate
        {
            let (dup, _) = self.spawn_payment(r, demand_id, amount_minor, true);
            self.trace_step(dup, Place::Rail(rail), Step::DuplicateSubmitted { order });
        }
    }

    /// T+n: the platform pays the merchant's bank at the opening of the n-th business day after. Returns whether
    /// the payout was deferred (the payment then wakes as `PayoutDue`).
    pub(super) fn payout_deferred(&mut self, slot: u32) -> bool {
        let b = self.bank_at(slot);
        let Some(n) = self.w.bank(b).payout_days else {
            return false;
        };
        let cal = self.w.bank_calendar(b);
        let at = if n == 0 {
            cal.next_open(self.now)
        } else {
            cal.add_business_days(self.now, n)
        };
        if at <= self.now {
            return false;
        }
        self.hold(slot, at - self.now, Hold::Payout);
        self.trace_step(slot, Place::Bank(b), Step::PayoutScheduled { at_us: at });
        self.schedule_or_stall(slot, at, Phase::PayoutDue);
        true
    }

    /// A second submission of an order already paid is detected at the deposit and refunded. Returns whether
    /// this payment was one.
    pub(super) fn refund_if_duplicate(&mut self, slot: u32) -> bool {
        if !self.arena[slot as usize].duplicate {
            return false;
        }
        let b = self.bank_at(slot);
        self.trace_step(slot, Place::Bank(b), Step::DuplicateDetected);
        self.reject(slot);
        true
    }
}
