//! Correspondent banking: a hop settles over a nostro account, debited by the receiver (a shortfall queues the
//! payment, FIFO per account) or credited by the sender; queued payments are released as credits arrive (top-ups
//! and rebalancing, which fund the positions, live in `funding`).

use std::collections::VecDeque;

use crate::model::ledger::AccountId;
use crate::model::record::{Hold, Place, Step};
use crate::model::world::{BankId, CorridorId, HopFunding, NostroId, RailId};

use super::{Phase, Queued, RecordSink, Sim};

/// A pre-funded position in one world: a nostro or a ramp's inventory.
pub(super) struct NostroState {
    pub(super) account: AccountId,
    pub(super) queue: VecDeque<u32>,
    /// Threshold policies: where requested funds wait until they arrive (opened only for such positions).
    pub(super) funding: Option<AccountId>,
    /// The amount of the request in flight (0: none; at most one at a time).
    pub(super) requested_minor: i64,
    /// The (rail, corridor) of the payment that last triggered a request: what a rebalancing is counted against.
    pub(super) trigger: (RailId, CorridorId),
}

impl<S: RecordSink> Sim<'_, S> {
    /// Settles a hop the receiver funds by debiting the sender's nostro with it, or queues the payment on a
    /// shortfall (FIFO: a payment never overtakes one already waiting on the same account).
    pub(super) fn send_sender_nostro(&mut self, slot: u32, n: NostroId) {
        let ni = self.nostro_index(slot, n);
        let need = self.arena[slot as usize].transit_minor;
        let balance = self.ledger.balance(self.nostros[ni].account);
        if !self.nostros[ni].queue.is_empty() || balance < need {
            let nostro = &self.w.nostros[n.idx()];
            let (owner, at) = (nostro.owner, nostro.at);
            self.enqueue(slot, ni, Queued::Hop, owner, at, balance, need);
        } else {
            self.post_hop(slot);
        }
    }

    pub(super) fn nostro_index(&self, slot: u32, n: NostroId) -> usize {
        self.arena[slot as usize].world as usize * self.w.nostros.len() + n.idx()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn enqueue(
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
        self.check_funding(ni, slot);
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

    pub(super) fn post_hop(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        let (a, b, c, x) = (route.path[hop], route.path[hop + 1], p.cur, p.transit_minor);
        let mut debited = None;
        let credited = match route.hops[hop] {
            HopFunding::Chain(_) | HopFunding::Instant(_) | HopFunding::Ledger(_) => {
                unreachable!("chain and instant hops settle in their own modules")
            }
            HopFunding::SenderNostro(n) => {
                let ni = self.nostro_index(slot, n);
                let acct = self.nostros[ni].account;
                self.ledger.transfer(
                    self.acc.transit(self.arena[slot as usize].rail, a, c),
                    self.acc.reserve(a, c),
                    x,
                );
                self.ledger.transfer(
                    acct,
                    self.acc.transit(self.arena[slot as usize].rail, b, c),
                    x,
                );
                debited = Some(ni);
                None
            }
            HopFunding::ReceiverNostro(n) => {
                let ni = self.nostro_index(slot, n);
                let acct = self.nostros[ni].account;
                self.ledger.transfer(
                    self.acc.transit(self.arena[slot as usize].rail, a, c),
                    acct,
                    x,
                );
                self.ledger.transfer(
                    self.acc.reserve(b, c),
                    self.acc.transit(self.arena[slot as usize].rail, b, c),
                    x,
                );
                Some(ni)
            }
        };
        let (rail, route) = (
            self.arena[slot as usize].rail,
            self.arena[slot as usize].route,
        );
        let d = self.w.rails[rail.idx()]
            .message_delay
            .sample(self.rail_stream(route));
        let arrives = self.now + d;
        self.fx_paid_to(slot, hop + 1);
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
        if let Some(ni) = debited {
            self.check_funding(ni, slot);
        }
        if let Some(ni) = credited {
            self.drain_nostro_queue(ni);
        }
    }

    pub(super) fn drain_nostro_queue(&mut self, ni: usize) {
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
            self.held(head, waited, Hold::NostroShortfall);
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
}
