//! Ramps and conversion points: a bank converts at its FX spread out of its FX book, or (a ramp) out of an
//! inventory that can run dry and queue payments; the on-ramp's withdrawal desk (limit review, batches).

use crate::model::calendar::WaitReason;
use crate::model::fx::CurId;
use crate::model::record::{Place, Stage, Step};
use crate::model::world::{BankId, ChainId, RailKind};

use super::{Phase, Queued, RecordSink, Sim};

impl<S: RecordSink> Sim<'_, S> {
    /// The bank's inventory in currency `to`, if it sells from one (a ramp).
    pub(super) fn inventory(&self, slot: u32, b: BankId, c: CurId) -> Option<usize> {
        let n = self.w.bank(b).inventories.iter().find(|&&(x, _)| x == c)?.1;
        Some(self.nostro_index(slot, n))
    }

    pub(super) fn converted_amount(&self, slot: u32, to: CurId) -> i64 {
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
    pub(super) fn convert(&mut self, slot: u32, to: CurId) {
        let now = self.now;
        let b = self.bank_at(slot);
        let p = &self.arena[slot as usize];
        let from = p.cur;
        let x = p.transit_minor;
        let y = self.converted_amount(slot, to);
        let inv_from = self.inventory(slot, b, from);
        let inv_to = self.inventory(slot, b, to);
        let into = inv_from.map_or(self.acc.fx(b, from), |ni| self.nostros[ni].account);
        let out_of = inv_to.map_or(self.acc.fx(b, to), |ni| self.nostros[ni].account);
        self.ledger.transfer(self.acc.transit(b, from), into, x);
        self.ledger.transfer(out_of, self.acc.transit(b, to), y);
        let spread = self.w.fx.usd_cents(x, from, now) - self.w.fx.usd_cents(y, to, now);
        let ramp = self.is_chain_rail(slot);
        let p = &mut self.arena[slot as usize];
        p.transit_minor = y;
        p.cur = to;
        if ramp {
            p.cost.ramp_spread += spread;
        } else {
            p.cost.fx_spread += spread;
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
        if let Some(ni) = inv_from {
            self.drain_nostro_queue(ni);
        }
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
        if self.arena[slot as usize].withdrawal_stage == 0 {
            self.enter_stage(slot, self.now, Stage::Ramp);
        }
        let b = self.bank_at(slot);
        let bank = self.w.bank(b);
        let (stage, amount) = {
            let p = &self.arena[slot as usize];
            (p.withdrawal_stage, p.amount_usd_cents)
        };
        if stage == 0 {
            self.arena[slot as usize].withdrawal_stage = 1;
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
        if self.arena[slot as usize].withdrawal_stage == 1 {
            self.arena[slot as usize].withdrawal_stage = 2;
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
