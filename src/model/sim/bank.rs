//! A bank's steps, common to every rail that passes through a bank: business hours, acceptance and the bank's
//! fee, processing, manual repair, sanctions screening and review, conversion points, passing the payment on,
//! payout, and the three ways a payment ends (settled, returned, failed).

use crate::model::fx::CurId;
use crate::model::ledger::AccountId;
use crate::model::record::{EndReason, Hold, Place, Status, Step};
use crate::model::world::{BankId, ChargeBearer, Desk, RouteId};
use crate::rng::{self, Stream};

use super::accounts::Accounts;
use super::{MaybeUs, Part, Phase, RecordSink, Sim};

impl<S: RecordSink> Sim<'_, S> {
    /// The stream of a route's rail on the route's corridor.
    pub(super) fn rail_stream(&mut self, route: RouteId) -> &mut Stream {
        &mut self.rail_streams[self.route_stream[route.idx()] as usize]
    }

    pub(super) fn bank_at(&self, slot: u32) -> BankId {
        let p = &self.arena[slot as usize];
        self.w.route(p.route).path[p.hop as usize]
    }

    pub(super) fn bank_stream(&mut self, slot: u32) -> &mut Stream {
        let p = &self.arena[slot as usize];
        let b = self.w.route(p.route).path[p.hop as usize];
        &mut self.bank_streams[p.rail.idx() * self.w.banks.len() + b.idx()]
    }

    /// Arrival at the current hop's bank: work waits for business hours.
    pub(super) fn arrive(&mut self, slot: u32) {
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

    pub(super) fn accept(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        self.trace_step(slot, Place::Bank(b), Step::Accepted);
        let p = &mut self.arena[slot as usize];
        if p.accepted_us.get().is_none() {
            p.accepted_us = MaybeUs::some(self.now);
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

    pub(super) fn after_processing(&mut self, slot: u32) {
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

    pub(super) fn screen(&mut self, slot: u32) {
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
        if let Some(link) = self.ips_link(slot)
            && let Some(budget) = link.screening_budget_us
            && link.timeout_returns
            && start.saturating_add(d) > self.now.saturating_add(budget)
        {
            // An IPS link's screening budget: a hit that cannot be cleared in time is rejected when it runs out.
            self.arena[slot as usize].reason = EndReason::ScreeningTimeout;
            self.hold(slot, budget, Hold::ComplianceReview);
            self.trace_step(
                slot,
                Place::Bank(b),
                Step::ScreeningTimeout { budget_us: budget },
            );
            return self.schedule(slot, self.now + budget, Phase::ScreeningTimedOut);
        }
        if self.staffed_desk(slot, Desk::Review).is_some() {
            return self.desk_request(slot, Desk::Review, d);
        }
        let until = start.saturating_add(d);
        self.hold(slot, until - self.now, Hold::ComplianceReview);
        self.trace_step(slot, Place::Bank(b), Step::ScreeningHit { until_us: until });
        self.schedule_or_stall(slot, until, Phase::Reviewed);
    }

    pub(super) fn after_review(&mut self, slot: u32) {
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
    pub(super) fn bank_done(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        // On a PvP platform the receiving bank's conversion was made at the commit (`chain::deposit`).
        let done_on_platform = self.is_pvp(slot) && hop > 0;
        if let Some(&(_, to)) = route.conversions.iter().find(|&&(h, _)| h == hop)
            && !done_on_platform
            && !self.try_convert(slot, to)
        {
            return; // queued on an inventory shortfall; the top-up or a credit resumes it
        }
        self.pass_on(slot);
    }

    pub(super) fn pass_on(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        if p.hop as usize + 1 == route.path.len() {
            if !self.payout_deferred(slot) {
                self.payout(slot);
            }
        } else {
            self.send_hop(slot);
        }
    }

    pub(super) fn payout(&mut self, slot: u32) {
        let route = self.w.route(self.arena[slot as usize].route);
        match route.last_mile {
            Some(d) => {
                self.domestic_fee(slot, d);
                self.submit_domestic(slot, d, Phase::LastMileDone);
            }
            None => self.settle(slot),
        }
    }

    /// The fee of the bank at the current hop, taken when it accepts the payment (so a rejection keeps it).
    pub(super) fn bank_fee(&mut self, slot: u32, b: BankId) {
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
            _ if ramp => p.tally.add_cost(Part::RampFees, cents),
            "sender" => p.tally.add_cost(Part::SenderFee, cents),
            "receiver" => p.tally.add_cost(Part::ReceiverFee, cents),
            _ => p.tally.add_cost(Part::IntermediaryFees, cents),
        }
    }

    /// Takes a fee of `usd` either from the originator (in the source currency) or from the funds in transit at
    /// `holder` (in their current currency, never more than what is left). Returns its value in USD cents.
    pub(super) fn charge(
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
                self.acc
                    .transit(self.arena[slot as usize].rail, holder, p.cur),
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

    pub(super) fn settle(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let (c, x) = (p.cur, p.transit_minor);
        if p.reason == EndReason::FeesExceedAmount {
            // Fees on the way took everything: nothing reaches the beneficiary, so this is a failure, whatever
            // is left (nothing, or a rounding remainder) goes back to the originator.
            self.ledger.transfer(
                self.acc.transit(self.arena[slot as usize].rail, b, c),
                self.acc.returns(c),
                x,
            );
            self.trace_step(slot, Place::Bank(b), Step::Failed);
            self.finish(slot, Status::Failed, Some(self.now));
            return;
        }
        self.ledger.transfer(
            self.acc.transit(self.arena[slot as usize].rail, b, c),
            self.acc.beneficiaries(c),
            x,
        );
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
    pub(super) fn reject(&mut self, slot: u32) {
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
            self.ledger.transfer(
                self.acc.transit(self.arena[slot as usize].rail, b, c),
                self.acc.returns(c),
                x,
            );
            self.trace_step(slot, Place::Bank(b), Step::Failed);
            self.finish(slot, Status::Failed, Some(self.now));
        } else {
            let (rail, route) = (p.rail, p.route);
            let d = self.w.rails[rail.idx()]
                .return_delay
                .sample(self.rail_stream(route));
            let at = self.now + d;
            self.hold(slot, d, Hold::Return);
            let b = self.bank_at(slot);
            self.trace_step(slot, Place::Bank(b), Step::ReturnStarted { arrives_us: at });
            self.schedule(slot, at, Phase::Returning);
        }
    }

    pub(super) fn returned(&mut self, slot: u32) {
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let (c, x) = (p.cur, p.transit_minor);
        self.ledger.transfer(
            self.acc.transit(self.arena[slot as usize].rail, b, c),
            self.acc.returns(c),
            x,
        );
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
}
