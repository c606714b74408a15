//! Chain transfers: broadcast from the on-ramp's wallet, the network fee, inclusion, reorganisations and the
//! receiving platform's deposit policy (k confirmations or finality); one chain state per chain and world.

use crate::model::chain::spec::{Consensus, FeeMarket};
use crate::model::chain::state::ChainState;
use crate::model::record::{EndReason, Hold, Place, Stage, Status, Step};
use crate::model::world::{ChainId, HopFunding, Mode, RailId, RailKind, World};

use super::{Part, Phase, RecordSink, Sim, world_label};

pub(super) type ChainStates = (
    Vec<ChainState>,
    Vec<(ChainId, Option<RailId>)>,
    Vec<Option<u16>>,
);

/// One chain state per chain and per world that uses it: in mirror mode each rail that uses a chain gets its own
/// copy (a paired comparison must not share a mempool), a chain no rail uses runs once (a load test).
pub(super) fn chain_states(w: &World, worlds: usize, seed: u64, hours: usize) -> ChainStates {
    let n = w.chains.len();
    let mut states = Vec::new();
    let mut meta = Vec::new();
    let mut state_of = vec![None; worlds * n];
    for (c, spec) in w.chains.iter().enumerate() {
        let chain = ChainId(c as u16);
        let users: Vec<RailId> = w
            .rails
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind.chain() == Some(chain))
            .map(|(i, _)| RailId(i as u16))
            .collect();
        let instances: Vec<(usize, Option<RailId>)> = match (w.mode, users.is_empty()) {
            (Mode::Mirror, false) => users.iter().map(|&r| (r.idx(), Some(r))).collect(),
            _ => vec![(0, None)],
        };
        for (world, rail) in instances {
            let idx = states.len() as u16;
            let label = rail.map_or_else(|| "shared".to_string(), |r| world_label(w, r.idx()));
            states
                .push(ChainState::new(spec, idx, &label, seed, hours).with_horizon(w.max_time_us));
            meta.push((chain, rail));
            state_of[world * n + c] = Some(idx);
        }
    }
    (states, meta, state_of)
}

impl<S: RecordSink> Sim<'_, S> {
    pub(super) fn chain_state(&self, slot: u32, c: ChainId) -> usize {
        let world = self.arena[slot as usize].world as usize;
        self.chain_state_of[world * self.w.chains.len() + c.idx()]
            .expect("a state exists for every chain a rail uses") as usize
    }

    /// The on-ramp broadcasts the transfer: the funds are on the chain (held for the receiving ramp) until its
    /// deposit policy is met.
    pub(super) fn broadcast(&mut self, slot: u32, c: ChainId) {
        let si = self.chain_state(slot, c);
        let spec = &self.w.chains[c.idx()];
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let hop = p.hop as usize;
        let (a, b, cur, x) = (route.path[hop], route.path[hop + 1], p.cur, p.transit_minor);
        let (fee_bid, market_fee) = match &self.w.rails[p.rail.idx()].kind {
            RailKind::Chain {
                fee_bid,
                market_fee,
                ..
            } => (*fee_bid, *market_fee),
            RailKind::Ledger(l) => (l.fee_bid, false),
            _ => unreachable!("a chain hop belongs to a chain or ledger rail"),
        };
        let fee_bid = if market_fee {
            self.chains[si].market_bid(fee_bid)
        } else {
            fee_bid
        };
        let (bid, max_fee) = match spec.fee_market {
            FeeMarket::FirstPrice => (fee_bid, fee_bid),
            // The usual wallet rule: a max fee of twice the current base fee plus the tip.
            FeeMarket::Eip1559 { .. } => (
                fee_bid,
                self.chains[si]
                    .base_fee
                    .saturating_mul(2)
                    .saturating_add(fee_bid),
            ),
        };
        // On the chain: the funds have left the sender and are the receiver's once it credits the deposit.
        self.ledger.transfer(
            self.acc.transit(p.rail, a, cur),
            self.acc.on_chain(p.rail, cur),
            x,
        );
        if let RailKind::Ledger(_) = self.w.rails[p.rail.idx()].kind {
            self.ledger_obligation(slot, a, b, cur, x);
        }
        // Broadcast, the transfer is paid; on a PvP platform nothing is paid until the commit delivers both legs.
        if !self.is_pvp(slot) {
            self.fx_paid_to(slot, hop + 1);
        }
        let tx = self.chains[si].submit(spec, slot, bid, max_fee);
        self.chains[si].relay_payment_tx(spec, tx, self.now);
        self.chains[si].on_submit(self.now, &mut self.q);
        let now = self.now;
        let leg = self.leg_mut(slot);
        leg.tx = tx;
        leg.fee_charged = false;
        leg.broadcast_us = now;
        self.arena[slot as usize].phase = Phase::ChainPending;
        self.trace_step(slot, Place::Bank(a), Step::ChainBroadcast { chain: c, bid });
        if self.w.bank(b).deposit_confirmations == 0 && !self.w.bank(b).deposit_finality {
            // Accepted at zero confirmations (a merchant at the till): the fee is what was bid; the transfer is
            // mined later like any other, and the double-spend risk is the receiver's (chains.csv).
            self.charge_network_fee(slot, si, tx, 0);
            self.chains[si].detach_payment(tx);
            self.leg_mut(slot).tx = u32::MAX;
            if self.arena[slot as usize].reason == EndReason::FeesExceedAmount {
                self.fail_fees_exceeded(slot);
                return;
            }
            self.deposit(slot, 0, false);
        }
    }

    pub(super) fn chain_wakes(&mut self, si: usize) {
        while let Some((slot, tx)) = self.chains[si].ready.pop() {
            self.chain_wake(si, slot, tx);
        }
    }

    /// A payment's transaction was included, reorganised out, or may have enough confirmations.
    pub(super) fn chain_wake(&mut self, si: usize, slot: u32, tx: u32) {
        let Some(p) = self.arena.get(slot as usize) else {
            return;
        };
        if p.phase != Phase::ChainPending || self.leg(slot).tx != tx {
            return; // a stale wake-up: the payment moved on
        }
        let fee_charged = self.leg(slot).fee_charged;
        let (chain, _) = self.chain_meta[si];
        let spec = &self.w.chains[chain.idx()];
        let Some(height) = self.chains[si].included_height(tx) else {
            if fee_charged {
                let b = self.bank_at(slot);
                self.trace_step(slot, Place::Bank(b), Step::ChainReorged);
            }
            return; // back in the mempool: its next inclusion wakes it again
        };
        if !fee_charged {
            self.charge_network_fee(slot, si, tx, height);
            if self.arena[slot as usize].reason == EndReason::FeesExceedAmount {
                // The transaction stays in its block (it was paid for); the payment no longer waits on it.
                self.chains[si].free_payment_tx(tx);
                self.leg_mut(slot).tx = u32::MAX;
                self.fail_fees_exceeded(slot);
                return;
            }
        }
        let p = &self.arena[slot as usize];
        let receiver = self.w.route(p.route).path[p.hop as usize + 1];
        let bank = self.w.bank(receiver);
        if bank.deposit_finality && matches!(spec.consensus, Consensus::Pos { .. }) {
            match self.chains[si].final_time(spec, tx) {
                Some(at) if at > self.now => self.schedule(slot, at, Phase::ChainFinal),
                Some(_) => self.chain_settled(slot),
                // Over gossip, finality comes with the attestations: woken when the block is final.
                None => self.chains[si].wait_for_final(slot, tx),
            }
            return;
        }
        let need = height + bank.deposit_confirmations - 1;
        if self.chains[si].tip_height() >= need {
            self.chain_settled(slot);
        } else {
            self.chains[si].wait_for_height(need, slot, tx);
        }
    }

    /// The network fee, paid by the on-ramp in the native coin and passed on to the customer out of the
    /// amount (as exchanges do with withdrawal fees).
    pub(super) fn charge_network_fee(&mut self, slot: u32, si: usize, tx: u32, height: u32) {
        let now = self.now;
        let (chain, _) = self.chain_meta[si];
        let spec = &self.w.chains[chain.idx()];
        let per_unit = self.chains[si].paid_per_unit(spec, tx) as u128;
        let native_minor =
            (per_unit * self.chains[si].tx_units(tx) as u128).min(i64::MAX as u128) as i64;
        let native = spec.native;
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let (a, cur) = (route.path[p.hop as usize], p.cur);
        let doms = self.w.dom_rails.len();
        self.ledger.transfer(
            self.acc.reserve(a, native),
            self.acc.chain_fees(doms, chain, native),
            native_minor,
        );
        let wanted = self.w.fx.convert(native_minor, native, cur, now, 0);
        let in_asset = wanted.min(p.transit_minor);
        let exceeded = wanted > 0 && wanted >= p.transit_minor;
        self.ledger.transfer(
            self.acc.on_chain(p.rail, cur),
            self.acc.fees(a, cur),
            in_asset,
        );
        let cents = self.w.fx.usd_cents(native_minor, native, now);
        let leg = self.leg_mut(slot);
        leg.fee_charged = true;
        leg.included_us = now;
        let p = &mut self.arena[slot as usize];
        p.transit_minor -= in_asset;
        p.tally.add_cost_saturating(Part::NetworkFee, cents);
        if exceeded {
            p.reason = EndReason::FeesExceedAmount;
        }
        self.trace_step(
            slot,
            Place::Bank(a),
            Step::ChainIncluded {
                height,
                network_fee_usd_cents: cents,
            },
        );
    }

    /// The network fee took everything the transfer carried: nothing can reach the beneficiary, so the payment
    /// fails now, and what is left (nothing, or a rounding remainder) goes back to the originator.
    pub(super) fn fail_fees_exceeded(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let b = self.w.route(p.route).path[p.hop as usize + 1];
        let (c, x) = (p.cur, p.transit_minor);
        self.ledger
            .transfer(self.acc.on_chain(p.rail, c), self.acc.returns(c), x);
        self.trace_step(slot, Place::Bank(b), Step::Failed);
        self.finish(slot, Status::Failed, Some(self.now));
    }

    /// The receiving ramp credits the deposit: the payment arrives there.
    pub(super) fn chain_settled(&mut self, slot: u32) {
        let p = &self.arena[slot as usize];
        let route = self.w.route(p.route);
        let (HopFunding::Chain(c) | HopFunding::Ledger(c)) = route.hops[p.hop as usize] else {
            unreachable!("settling a chain hop")
        };
        let si = self.chain_state(slot, c);
        let receiver = route.path[p.hop as usize + 1];
        let bank = self.w.bank(receiver);
        let (confirmations, finality) = (bank.deposit_confirmations, bank.deposit_finality);
        let tx = self.leg(slot).tx;
        self.chains[si].free_payment_tx(tx);
        self.leg_mut(slot).tx = u32::MAX;
        self.deposit(slot, confirmations, finality);
    }

    /// Whether the payment's rail is a PvP platform.
    pub(super) fn is_pvp(&self, slot: u32) -> bool {
        matches!(
            self.w.rails[self.arena[slot as usize].rail.idx()].kind,
            RailKind::Chain { pvp: true, .. }
        )
    }

    /// The receiving platform credits the deposit; a second submission of an order already paid is detected
    /// here and refunded.
    pub(super) fn deposit(&mut self, slot: u32, confirmations: u32, finality: bool) {
        let p = &self.arena[slot as usize];
        let receiver = self.w.route(p.route).path[p.hop as usize + 1];
        let (rail, c, x) = (p.rail, p.cur, p.transit_minor);
        self.ledger.transfer(
            self.acc.on_chain(rail, c),
            self.acc.transit(rail, receiver, c),
            x,
        );
        self.arena[slot as usize].hop += 1;
        let now = self.now;
        self.leg_mut(slot).deposited_us = now;
        if self.is_pvp(slot) {
            // Payment versus payment: the commit that delivers the transfer delivers the destination currency.
            let hop = self.arena[slot as usize].hop as usize;
            let dest = self.w.corridors[self.arena[slot as usize].corridor.idx()].dest;
            self.fx_paid_to(slot, hop);
            self.convert(slot, dest);
        }
        let leg = self.leg(slot);
        let on_chain = leg.deposited_us - leg.broadcast_us;
        let (broadcast, included) = (leg.broadcast_us, leg.included_us);
        self.held(slot, on_chain, Hold::Chain);
        // The chain step split at its first inclusion; then the receiving platform (the off-ramp) has it.
        self.enter_stage(slot, broadcast, Stage::ChainInclusion);
        if included >= broadcast && included > 0 {
            self.enter_stage(slot, included, Stage::Confirmations);
        }
        self.enter_stage(slot, self.now, Stage::Ramp);
        self.trace_step(
            slot,
            Place::Bank(receiver),
            Step::ChainDeposit {
                confirmations,
                finality,
            },
        );
        if !self.refund_if_duplicate(slot) {
            self.arrive(slot);
        }
    }
}
