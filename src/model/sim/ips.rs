//! Linked instant payment systems (Nexus-like): every hop goes over a domestic instant payment system, settled
//! in central-bank money as it clears; between two systems the payment crosses the link's gateway (a delay and
//! the scheme's fee); an FX provider on the path converts out of balances it pre-funds in both systems (its
//! inventories, which drain and queue like any other position). The link's limits refuse a payment at
//! initiation; its screening budget is applied in `bank::screen`.

use crate::model::record::{EndReason, Hold, Place, Status, Step};
use crate::model::world::{ChargeBearer, DomRailId, HopFunding, IpsLink, RailKind};

use super::{Part, Phase, RecordSink, Sim};

impl<S: RecordSink> Sim<'_, S> {
    /// The scheme rules of the payment's rail, if it is an IPS link.
    pub(super) fn ips_link(&self, slot: u32) -> Option<&IpsLink> {
        match &self.w.rails[self.arena[slot as usize].rail.idx()].kind {
            RailKind::IpsLink(l) => Some(l),
            _ => None,
        }
    }

    /// The link's limits, checked when the payment is created: over the per-transaction limit, or over what the
    /// sending participant may still send today (local day of its calendar), it is refused at once and fails
    /// (nothing has moved but the originator's funds into the first bank, which go straight back). Returns
    /// whether the payment may go on.
    pub(super) fn admitted(&mut self, slot: u32) -> bool {
        let Some(link) = self.ips_link(slot) else {
            return true;
        };
        let (tx_limit, daily_limit) = (link.tx_limit, link.daily_limit);
        let p = &self.arena[slot as usize];
        let (rail, cur, x) = (p.rail, p.cur, p.amount_minor);
        let first = self.w.route(p.route).path[0];
        let scale = self.w.fx.currency(cur).scale() as f64;
        let minor = |major: f64| (major * scale).round() as i64;
        let mut refused = None;
        if let Some(limit) = tx_limit
            && x > minor(limit)
        {
            refused = Some((false, minor(limit)));
        }
        if refused.is_none()
            && let Some(limit) = daily_limit
        {
            let day = self.w.bank_calendar(first).local_day(self.now);
            let used = &mut self.ips_used[rail.idx()][first.idx()];
            if used.0 != day {
                *used = (day, 0);
            }
            if used.1.saturating_add(x) > minor(limit) {
                refused = Some((true, minor(limit)));
            } else {
                used.1 += x;
            }
        }
        let Some((daily, limit_minor)) = refused else {
            return true;
        };
        self.arena[slot as usize].reason = EndReason::LimitExceeded;
        self.trace_step(
            slot,
            Place::Bank(first),
            Step::LimitExceeded {
                daily,
                limit_minor,
                currency: cur,
            },
        );
        self.ledger.transfer(
            self.acc.transit(self.arena[slot as usize].rail, first, cur),
            self.acc.returns(cur),
            x,
        );
        self.trace_step(slot, Place::Bank(first), Step::Failed);
        self.finish(slot, Status::Failed, Some(self.now));
        false
    }

    /// A hop over instant payment system `d`. When the previous hop went over another system, the payment first
    /// crosses the link's gateway: the scheme's fee, then the gateway's delay.
    pub(super) fn send_instant(&mut self, slot: u32, d: DomRailId) {
        let p = &self.arena[slot as usize];
        let hop = p.hop as usize;
        let route = self.w.route(p.route);
        let crossing = hop > 0 && route.hops[hop - 1] != HopFunding::Instant(d);
        if !crossing {
            return self.submit_instant(slot, d);
        }
        let link = self
            .ips_link(slot)
            .expect("an instant hop belongs to an IPS link");
        let (fee_usd, delay) = (link.link_fee_usd, link.link_delay.clone());
        if fee_usd > 0.0 {
            let originator_pays = self.w.rails[p.rail.idx()].bearer == ChargeBearer::Our;
            let holder = self.bank_at(slot);
            // The scheme's fee is booked with the destination system's fee income.
            let cents = self.charge(
                slot,
                fee_usd,
                originator_pays,
                |acc, c| acc.dom_fees(d, c),
                holder,
            );
            self.arena[slot as usize]
                .tally
                .add_cost(Part::IntermediaryFees, cents);
        }
        let route = self.arena[slot as usize].route;
        let wait = delay.sample(self.rail_stream(route));
        let at = self.now + wait;
        self.hold(slot, wait, Hold::Transit);
        let b = self.bank_at(slot);
        self.trace_step(slot, Place::Bank(b), Step::LinkCrossing { arrives_us: at });
        self.schedule(slot, at, Phase::AtLink);
    }

    /// Into instant payment system `d`: its fee, the funds move to the next participant as the system clears
    /// (its hours, servers and latency), and the payment arrives there.
    pub(super) fn submit_instant(&mut self, slot: u32, d: DomRailId) {
        self.domestic_fee(slot, d);
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        let (a, b, c, x) = (route.path[hop], route.path[hop + 1], p.cur, p.transit_minor);
        let rail = p.rail;
        self.ledger.transfer(
            self.acc.transit(rail, a, c),
            self.acc.transit(rail, b, c),
            x,
        );
        self.fx_paid_to(slot, hop + 1);
        self.submit_domestic(slot, d, Phase::InTransit);
    }
}
