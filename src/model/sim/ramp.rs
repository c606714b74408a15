//! Ramps and conversion points: a bank converts at its FX spread out of its FX book, or (a ramp) out of an
//! inventory that can run dry and queue payments; the on-ramp's withdrawal desk (limit review, batches).

use crate::model::calendar::WaitReason;
use crate::model::fx::CurId;
use crate::model::record::{Place, Stage, Step};
use crate::model::world::{BankId, ChainId, PriceRisk, RailKind};

use super::{MaybeUs, Part, Phase, Queued, RecordSink, Sim};

/// The off-ramp's sale of an asset the on-ramp bought.
#[derive(Clone, Copy)]
struct Sale {
    bought_us: u64,
    /// Proceeds at the purchase price and at today's, in the currency sold into.
    at_purchase: i64,
    now: i64,
    bearer: PriceRisk,
}

impl<S: RecordSink> Sim<'_, S> {
    /// The bank's inventory in currency `to`, if it sells from one (a ramp).
    pub(super) fn inventory(&self, slot: u32, b: BankId, c: CurId) -> Option<usize> {
        let n = self.w.bank(b).inventories.iter().find(|&&(x, _)| x == c)?.1;
        Some(self.nostro_index(slot, n))
    }

    /// What the conversion pays into the payment's transit: at today's rates; or, when the off-ramp sells an
    /// asset it holds under `PriceRisk::Ramp`, at the price the on-ramp bought it for.
    pub(super) fn converted_amount(&self, slot: u32, to: CurId) -> i64 {
        match self.sale(slot, to) {
            Some(s) if s.bearer == PriceRisk::Ramp => s.at_purchase,
            Some(s) => s.now,
            None => self.converted_now(slot, to),
        }
    }

    fn converted_now(&self, slot: u32, to: CurId) -> i64 {
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

    /// The sale of an asset bought at the on-ramp, if this conversion is one: its proceeds at the purchase
    /// price and at today's, and who bears the difference.
    fn sale(&self, slot: u32, to: CurId) -> Option<Sale> {
        let p = &self.arena[slot as usize];
        let bought_us = self.leg(slot).bought_us.get()?;
        let RailKind::Chain { price_risk, .. } = self.w.rails[p.rail.idx()].kind else {
            return None;
        };
        let b = self.bank_at(slot);
        let spread = self.w.bank(b).fx_spread_centi_bps;
        let fx = &self.w.fx;
        Some(Sale {
            bought_us,
            at_purchase: fx.convert_at(p.transit_minor, p.cur, bought_us, to, self.now, spread),
            now: fx.convert(p.transit_minor, p.cur, to, self.now, spread),
            bearer: price_risk,
        })
    }

    /// Converts, or queues when the bank sells from an inventory that cannot cover it (FIFO). Returns whether
    /// the conversion happened.
    pub(super) fn try_convert(&mut self, slot: u32, to: CurId) -> bool {
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
    ///
    /// Selling an asset bought at the on-ramp is two postings out of the off-ramp's inventory: the proceeds at
    /// the purchase price, then (when the customer bears the price risk) the price move, so the spread and the
    /// move are each realised in minor units. Under `PriceRisk::Ramp` the second posting is not made: the
    /// off-ramp's inventory absorbs the move.
    pub(super) fn convert(&mut self, slot: u32, to: CurId) {
        let now = self.now;
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let from = p.cur;
        let x = p.transit_minor;
        let sale = self.sale(slot, to);
        let (y_ref, y) = match sale {
            Some(s) if s.bearer == PriceRisk::Ramp => (s.at_purchase, s.at_purchase),
            Some(s) => (s.at_purchase, s.now),
            None => {
                let y = self.converted_now(slot, to);
                (y, y)
            }
        };
        let inv_from = self.inventory(slot, b, from);
        let inv_to = self.inventory(slot, b, to);
        let into = inv_from.map_or(self.acc.fx(b, from), |ni| self.nostros[ni].account);
        let out_of = inv_to.map_or(self.acc.fx(b, to), |ni| self.nostros[ni].account);
        let rail = self.arena[slot as usize].rail;
        let transit_to = self.acc.transit(rail, b, to);
        self.ledger
            .transfer(self.acc.transit(rail, b, from), into, x);
        self.ledger.transfer(out_of, transit_to, y_ref);
        // The price move: to the customer on a rise, back to the ramp on a fall.
        if y > y_ref {
            self.ledger.transfer(out_of, transit_to, y - y_ref);
        } else if y < y_ref {
            self.ledger.transfer(transit_to, out_of, y_ref - y);
        }
        let fx = &self.w.fx;
        // The spread is measured against what was given at the rate it was bought at; the move is the rest.
        let given_us = sale.map_or(now, |s| s.bought_us);
        let spread = fx.usd_cents(x, from, given_us) - fx.usd_cents(y_ref, to, now);
        let moved = sale.map_or(0, |s| fx.usd_cents(s.at_purchase - s.now, to, now));
        let bought =
            self.is_chain_rail(slot) && sale.is_none() && self.holds_moving_asset(slot, to);
        let ramp = self.is_chain_rail(slot);
        if let Some(s) = sale {
            let leg = self.leg_mut(slot);
            leg.bought_us = MaybeUs::NONE;
            leg.exposed_us = MaybeUs::some(now - s.bought_us);
            match s.bearer {
                PriceRisk::Customer => self.arena[slot as usize]
                    .tally
                    .add_cost(Part::PriceMove, moved),
                PriceRisk::Ramp => leg.ramp_price_move += moved,
            }
        } else if bought {
            self.leg_mut(slot).bought_us = MaybeUs::some(now);
        }
        let p = &mut self.arena[slot as usize];
        p.transit_minor = y;
        p.cur = to;
        if ramp {
            p.tally.add_cost(Part::RampSpread, spread);
        } else {
            p.tally.add_cost(Part::FxSpread, spread);
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
        if let Some(ni) = inv_to {
            self.check_funding(ni, slot);
        }
        if self.w.corridors[self.arena[slot as usize].corridor.idx()].dest == to {
            self.fx_delivered(slot);
        }
        if let Some(ni) = inv_from {
            self.drain_nostro_queue(ni);
        }
    }

    /// Whether `c` is the payment's chain rail asset and its price moves: buying it starts an exposure.
    fn holds_moving_asset(&self, slot: u32, c: CurId) -> bool {
        let rail = &self.w.rails[self.arena[slot as usize].rail.idx()];
        matches!(rail.kind, RailKind::Chain { asset, .. } if asset == c) && self.w.fx.moves(c)
    }

    pub(super) fn is_chain_rail(&self, slot: u32) -> bool {
        matches!(
            self.w.rails[self.arena[slot as usize].rail.idx()].kind,
            RailKind::Chain { .. }
        )
    }

    /// The on-ramp's withdrawal desk: amounts over its limit wait for a manual review, then the withdrawal
    /// leaves with the next batch.
    pub(super) fn withdraw(&mut self, slot: u32, c: ChainId) {
        if self.leg(slot).withdrawal_stage == 0 {
            self.enter_stage(slot, self.now, Stage::Ramp);
        }
        let b = self.bank_at(slot);
        let bank = self.w.bank(b);
        let (stage, amount) = (
            self.leg(slot).withdrawal_stage,
            self.arena[slot as usize].amount_usd_cents,
        );
        if stage == 0 {
            self.leg_mut(slot).withdrawal_stage = 1;
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
        if self.leg(slot).withdrawal_stage == 1 {
            self.leg_mut(slot).withdrawal_stage = 2;
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
}
