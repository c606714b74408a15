//! Tokenised-deposit ledgers: members of a permissioned ledger (a BFT chain) move tokenised balances 24/7; the
//! transfer is broadcast and committed like any chain transfer (`chain`), and the receiving member credits its
//! customer at once. The interbank money does not move on the ledger: at the commit the receiving member
//! advances its own funds (a posting from its reserve to its advances account), which creates an obligation of
//! the sender to the receiver; at each net settlement, on the settlement bank's calendar, the bilateral
//! obligations are netted and paid, every member's advances come back to its reserve, and the exposure falls
//! to zero. A member whose
//! unsettled obligations reach its limit queues its payments (FIFO) until the next net settlement.
//!
//! Measured per ledger rail: the exposure members carry (sum of unsettled obligations, USD at the time each
//! arose) as its peak and its time integral, the number of settlements and of payments that waited on a limit.

use std::collections::{BTreeMap, VecDeque};

use crate::model::fx::CurId;
use crate::model::record::{Hold, Place, Step};
use crate::model::world::{BankId, ChainId, LedgerRail, RailId, RailKind};

use super::{Ev, Phase, RecordSink, Sim};

#[derive(Default)]
pub(super) struct Ledgers {
    /// `(rail, member)` → what it owes, unsettled, and its queue.
    members: BTreeMap<(u16, u16), Member>,
    /// `(rail, debtor, creditor, currency)` → unsettled amount in minor units.
    obligations: BTreeMap<(u16, u16, u16, u16), i64>,
    /// Per rail.
    exposure: BTreeMap<u16, Exposure>,
}

#[derive(Default)]
struct Member {
    owed_usd_cents: i64,
    queue: VecDeque<u32>,
}

#[derive(Default, Clone, Copy)]
struct Exposure {
    total_usd_cents: i64,
    since_us: u64,
    /// ∫ exposure dt in USD cents × µs.
    integral: u128,
    peak_usd_cents: i64,
    settlements: u64,
    queued: u64,
    obligations_usd_cents: i64,
}

/// What a ledger rail measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerOutcome {
    pub rail: RailId,
    /// Largest sum of unsettled obligations between members, USD cents.
    pub peak_usd_cents: i64,
    /// Time integral of the unsettled obligations, USD cents × µs.
    pub usd_cents_us: u128,
    /// Net settlements run.
    pub settlements: u64,
    /// Payments that waited on a member's limit.
    pub queued_payments: u64,
    /// Gross value of the obligations that arose, USD cents.
    pub obligations_usd_cents: i64,
}

impl Exposure {
    fn advance(&mut self, now: u64) {
        self.integral += self.total_usd_cents.max(0) as u128 * (now - self.since_us) as u128;
        self.since_us = now;
    }
}

impl<S: RecordSink> Sim<'_, S> {
    fn ledger_rail(&self, rail: RailId) -> &LedgerRail {
        match &self.w.rails[rail.idx()].kind {
            RailKind::Ledger(l) => l,
            _ => unreachable!("a ledger hop belongs to a ledger rail"),
        }
    }

    /// The first net settlement of every ledger rail.
    pub(super) fn schedule_net_settlements(&mut self) {
        for (r, rail) in self.w.rails.iter().enumerate() {
            if let RailKind::Ledger(_) = rail.kind {
                self.ledgers.exposure.insert(r as u16, Exposure::default());
                if let Some(t) = self.next_settlement(RailId(r as u16), 0) {
                    self.q.push(t, Ev::NetSettle(r as u16));
                }
            }
        }
    }

    /// The next net settlement strictly after `t`: every `settle_every` while the settlement bank is open (the
    /// first at its opening), or at each business day's cut-off.
    fn next_settlement(&self, rail: RailId, t: u64) -> Option<u64> {
        let l = self.ledger_rail(rail);
        let cal = self.w.calendar(l.settlement_calendar);
        let at = match l.settle_every_us {
            Some(every) => {
                let c = (t / every + 1) * every;
                if cal.is_open(c) { c } else { cal.next_open(c) }
            }
            None => {
                let open = cal.next_open(t + 1);
                let end = cal.window_end(open)?;
                if cal.is_open(t) && cal.window_end(t).is_some_and(|e| e > t) {
                    cal.window_end(t)?
                } else {
                    end
                }
            }
        };
        (at != u64::MAX && at <= self.w.max_time_us).then_some(at)
    }

    /// A transfer on a tokenised-deposit ledger: within the sending member's limit (and behind nobody already
    /// waiting on it) it is broadcast; otherwise it queues until the next net settlement.
    pub(super) fn send_ledger(&mut self, slot: u32, c: ChainId) {
        let rail = self.arena[slot as usize].rail;
        let a = self.bank_at(slot);
        let usd = self.transit_usd(slot);
        let limit = self.ledger_rail(rail).member_limit_usd_cents;
        let m = self.ledgers.members.entry((rail.0, a.0)).or_default();
        let over = limit.is_some_and(|l| m.owed_usd_cents.saturating_add(usd) > l);
        if m.queue.is_empty() && !over {
            return self.broadcast(slot, c);
        }
        m.queue.push_back(slot);
        let owed = m.owed_usd_cents;
        self.ledgers
            .exposure
            .get_mut(&rail.0)
            .expect("a ledger rail")
            .queued += 1;
        let p = &mut self.arena[slot as usize];
        p.phase = Phase::LedgerQueued;
        p.queued_since_us = self.now;
        self.trace_step(
            slot,
            Place::Bank(a),
            Step::MemberLimitQueued {
                owed_usd_cents: owed,
                limit_usd_cents: limit.unwrap_or(0),
            },
        );
    }

    fn transit_usd(&self, slot: u32) -> i64 {
        let p = &self.arena[slot as usize];
        self.w.fx.usd_cents(p.transit_minor, p.cur, self.now)
    }

    /// The receiving member credits at once: it advances `x` of its own funds (its advances account, a position
    /// it funds until repaid), and the sender owes it `x` until the next net settlement.
    pub(super) fn ledger_obligation(&mut self, slot: u32, a: BankId, b: BankId, c: CurId, x: i64) {
        let rail = self.arena[slot as usize].rail;
        self.ledger
            .transfer(self.acc.reserve(b, c), self.acc.advance(rail, b, c), x);
        *self
            .ledgers
            .obligations
            .entry((rail.0, a.0, b.0, c.0))
            .or_default() += x;
        let usd = self.w.fx.usd_cents(x, c, self.now);
        let m = self.ledgers.members.entry((rail.0, a.0)).or_default();
        m.owed_usd_cents = m.owed_usd_cents.saturating_add(usd);
        let now = self.now;
        let e = self
            .ledgers
            .exposure
            .get_mut(&rail.0)
            .expect("a ledger rail");
        e.advance(now);
        e.total_usd_cents = e.total_usd_cents.saturating_add(usd);
        e.peak_usd_cents = e.peak_usd_cents.max(e.total_usd_cents);
        e.obligations_usd_cents = e.obligations_usd_cents.saturating_add(usd);
    }

    /// Net settlement of ledger rail `r`: each pair's obligations in each currency are netted and the difference
    /// paid at the settlement bank; members' counts restart from zero and their queues move again.
    pub(super) fn on_net_settle(&mut self, r: u16) {
        let now = self.now;
        let rail = RailId(r);
        let pending: Vec<((u16, u16, u16, u16), i64)> = self
            .ledgers
            .obligations
            .range((r, 0, 0, 0)..=(r, u16::MAX, u16::MAX, u16::MAX))
            .map(|(&k, &v)| (k, v))
            .collect();
        // Each creditor's advances come back: the settlement bank pays every pair's net amount, and what the two
        // members owe each other cancels, so each member ends where it would have been without the ledger.
        for &((_, _, b, c), x) in &pending {
            let c = CurId(c);
            self.ledger.transfer(
                self.acc.advance(rail, BankId(b), c),
                self.acc.reserve(BankId(b), c),
                x,
            );
        }
        for (k, _) in pending {
            self.ledgers.obligations.remove(&k);
        }
        let e = self.ledgers.exposure.get_mut(&r).expect("a ledger rail");
        e.advance(now);
        e.total_usd_cents = 0;
        e.settlements += 1;
        let members: Vec<u16> = self
            .ledgers
            .members
            .range((r, 0)..=(r, u16::MAX))
            .map(|(&(_, b), _)| b)
            .collect();
        for b in &members {
            self.ledgers
                .members
                .get_mut(&(r, *b))
                .expect("listed")
                .owed_usd_cents = 0;
        }
        let chain = self.ledger_rail(rail).chain;
        let limit = self.ledger_rail(rail).member_limit_usd_cents;
        for b in members {
            loop {
                let m = &self.ledgers.members[&(r, b)];
                let Some(&head) = m.queue.front() else { break };
                let usd = self.transit_usd(head);
                let m = self.ledgers.members.get_mut(&(r, b)).expect("listed");
                // The head always goes (a payment larger than the limit would otherwise wait forever).
                if m.owed_usd_cents > 0
                    && limit.is_some_and(|l| m.owed_usd_cents.saturating_add(usd) > l)
                {
                    break;
                }
                m.queue.pop_front();
                let waited = now - self.arena[head as usize].queued_since_us;
                self.held(head, waited, Hold::MemberLimit);
                self.trace_step(
                    head,
                    Place::Bank(BankId(b)),
                    Step::MemberLimitReleased { waited_us: waited },
                );
                self.broadcast(head, chain);
            }
        }
        if let Some(t) = self.next_settlement(rail, now) {
            self.q.push(t, Ev::NetSettle(r));
        }
    }

    /// Closes the exposure integrals at `end_us`.
    pub(super) fn ledger_outcomes(&mut self, end_us: u64) -> Vec<LedgerOutcome> {
        self.ledgers
            .exposure
            .iter_mut()
            .map(|(&r, e)| {
                e.advance(end_us.max(e.since_us));
                LedgerOutcome {
                    rail: RailId(r),
                    peak_usd_cents: e.peak_usd_cents,
                    usd_cents_us: e.integral,
                    settlements: e.settlements,
                    queued_payments: e.queued,
                    obligations_usd_cents: e.obligations_usd_cents,
                }
            })
            .collect()
    }
}
