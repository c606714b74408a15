//! Funding the pre-funded positions (nostros and ramp inventories) once payments drain them: the daily top-up
//! (restored to the opening balance each business morning of the owner, at once and free) and threshold
//! rebalancing (a request when the balance falls below the policy's threshold or a payment waits on the position;
//! the funds arrive after the policy's delay, counted in the open hours of the funding rail's calendar; at most one
//! request in flight per position; each request costs a fixed fee plus basis points of its amount).
//!
//! Rebalancing moves money by postings, so conservation holds while funds travel: at the request the owner's
//! reserve pays the amount into the position's funding account (and the fee into the funding rails' fee income);
//! on arrival the funding account pays the position, which releases the payments waiting on it.

use crate::model::fx::CurId;
use crate::model::world::{CorridorId, NostroId, RailId, TopUp};

use super::{Ev, Queued, RecordSink, Sim};

/// One rebalancing request, as `rebalancing.csv` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebalance {
    /// The position (a nostro or an inventory) and, in mirror mode, the rail whose copy of it this is.
    pub position: NostroId,
    pub world_rail: Option<RailId>,
    /// What it is counted against: the rail and corridor of the payment that triggered it.
    pub rail: RailId,
    pub corridor: CorridorId,
    pub requested_us: u64,
    /// `None` when the funds would arrive after the run ends.
    pub arrives_us: Option<u64>,
    pub currency: CurId,
    /// The balance and the payments waiting on the position when the request left.
    pub balance_minor: i64,
    pub waiting: u32,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub amount_usd_cents: i64,
    pub fee_usd_cents: i64,
}

impl<S: RecordSink> Sim<'_, S> {
    pub(super) fn on_topup(&mut self, ni: u32) {
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

    /// A payment just debited position `ni` or queued on it: under a threshold policy, the owner requests
    /// funding if the balance is below the threshold or a payment waits (and no request is in flight). The
    /// payment's rail and corridor are what the request is counted against.
    pub(super) fn check_funding(&mut self, ni: usize, slot: u32) {
        if !matches!(
            self.w.nostros[ni % self.w.nostros.len()].topup,
            TopUp::Threshold(_)
        ) {
            return;
        }
        let p = &self.arena[slot as usize];
        self.nostros[ni].trigger = (p.rail, p.corridor);
        self.request_funding(ni);
    }

    /// What a payment waiting on a position needs from it.
    fn queued_need(&self, slot: u32) -> i64 {
        match self.arena[slot as usize].queued_for {
            Queued::Hop => self.arena[slot as usize].transit_minor,
            Queued::Convert(to) => self.converted_amount(slot, to),
        }
    }

    /// Requests funding for position `ni` if its policy calls for it: the amount brings the balance back to the
    /// target once the payments waiting on it are served (the target plus their needs, less the balance).
    fn request_funding(&mut self, ni: usize) {
        let n = &self.w.nostros[ni % self.w.nostros.len()];
        let TopUp::Threshold(r) = &n.topup else {
            return;
        };
        let st = &self.nostros[ni];
        if st.requested_minor > 0 {
            return;
        }
        let balance = self.ledger.balance(st.account);
        if balance >= r.threshold_minor && st.queue.is_empty() {
            return;
        }
        let waiting: i64 = st
            .queue
            .iter()
            .fold(0_i64, |a, &s| a.saturating_add(self.queued_need(s)));
        let amount = r
            .target_minor
            .saturating_add(waiting)
            .saturating_sub(balance);
        if amount <= 0 {
            return;
        }
        let now = self.now;
        let arrives = match r.calendar {
            Some(c) => self.w.calendar(c).add_open_time(now, r.delay_us),
            None => now.saturating_add(r.delay_us),
        };
        let c = n.currency;
        let fx = &self.w.fx;
        let fee_minor = fx
            .from_usd(r.fee_usd_cents as f64 / 100.0, c, now)
            .saturating_add(bps_of(amount, r.fee_centi_bps));
        let funding = st
            .funding
            .expect("a threshold position has a funding account");
        let reserve = self.acc.reserve(n.owner, c);
        self.ledger.transfer(reserve, funding, amount);
        self.ledger
            .transfer(reserve, self.acc.funding_fees(c), fee_minor);
        // Counted against the payment at the head of the queue when one waits, else the one that triggered it.
        let (rail, corridor) = match st.queue.front() {
            Some(&head) => (
                self.arena[head as usize].rail,
                self.arena[head as usize].corridor,
            ),
            None => st.trigger,
        };
        let (amount_usd_cents, fee_usd_cents) = (
            fx.usd_cents(amount, c, now),
            fx.usd_cents(fee_minor, c, now),
        );
        self.metrics
            .rebalanced(rail, corridor.idx(), amount_usd_cents, fee_usd_cents);
        let per_world = self.w.nostros.len();
        let arrives = (arrives < self.w.max_time_us).then_some(arrives);
        self.rebalances.push(Rebalance {
            position: NostroId((ni % per_world) as u32),
            world_rail: match self.w.mode {
                crate::model::world::Mode::Mirror => Some(RailId((ni / per_world) as u16)),
                crate::model::world::Mode::Split => None,
            },
            rail,
            corridor,
            requested_us: now,
            arrives_us: arrives,
            currency: c,
            balance_minor: balance,
            waiting: st.queue.len() as u32,
            amount_minor: amount,
            fee_minor,
            amount_usd_cents,
            fee_usd_cents,
        });
        self.nostros[ni].requested_minor = amount;
        // Funds that would arrive after the run stay in the funding account: the ledger still balances.
        if let Some(at) = arrives {
            self.q.push(at, Ev::Funded(ni as u32));
        }
    }

    /// Requested funds arrive: the position is credited, the payments waiting on it go in order, and if it is
    /// still short (payments drained it while the funds travelled) the next request leaves at once.
    pub(super) fn on_funded(&mut self, ni: u32) {
        let ni = ni as usize;
        let st = &self.nostros[ni];
        let funding = st.funding.expect("only threshold positions are funded");
        let (account, amount) = (st.account, st.requested_minor);
        self.ledger.transfer(funding, account, amount);
        // The request stays in flight while the queue drains, so the payments it releases do not each ask for
        // more; what is still missing afterwards is one new request.
        self.drain_nostro_queue(ni);
        self.nostros[ni].requested_minor = 0;
        self.request_funding(ni);
    }
}

/// `centi_bps` hundredths of a basis point of `amount`, rounded half away from zero.
fn bps_of(amount: i64, centi_bps: i64) -> i64 {
    let x = amount as i128 * centi_bps as i128;
    let q = (x.abs() + 500_000) / 1_000_000;
    i64::try_from(if x < 0 { -q } else { q }).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::bps_of;

    #[test]
    fn basis_points_round_half_away_from_zero() {
        // 25 bps of 1,000,000.00 is 2,500.00.
        assert_eq!(bps_of(100_000_000, 2_500), 250_000);
        // 1 bp of 50 minor units is 0.005 of a unit: 0. Of 5,000 it is exactly half a unit: rounds up to 1.
        assert_eq!(bps_of(50, 100), 0);
        assert_eq!(bps_of(5_000, 100), 1);
        assert_eq!(bps_of(4_999, 100), 0);
        assert_eq!(bps_of(123, 0), 0);
    }
}
