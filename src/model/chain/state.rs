//! The running state of one chain: mempool, block tree, the observer's canonical chain, fee market and
//! consensus. Driven by `Ev::ChainTick` (a block found, a slot, a BFT height) and `Ev::BlockArrive` (Nakamoto
//! propagation to a node). Payments submit transactions and are woken through `ready` when their transaction has
//! the confirmations (or finality) their receiver wants.
//!
//! Simplifications, each stated where it matters: background transactions arrive in bulk when a block is built
//! (a Poisson count over the elapsed time), which is equivalent for block contents, and are held as counts on a
//! fee grid (`mempool`), not one by one; one global mempool (transaction propagation is fast next to block
//! intervals); payment transactions are never evicted (their wallets rebroadcast); proof-of-stake and BFT chains
//! do not fork.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};

use rand_distr::{Distribution, Exp, Exp1, Poisson};

use crate::engine::queue::EventQueue;
use crate::engine::slab::Slab;
use crate::model::calendar::Calendar;
use crate::model::chain::attest::{AttestMetrics, Attestations};
use crate::model::chain::gossip::{
    self, BftGossipScratch, DelayHist, NetState, Relays, Step, TxFlood,
};
use crate::model::chain::mempool::{CAP_LEVELS_MAX, FeeGrid, Histogram};
use crate::model::chain::spec::{ChainSpec, Consensus, FeeMarket, Network, TxRelay, bft_quorum};
use crate::model::event::Ev;
use crate::rng::{self, Stream};

const NONE: u32 = u32::MAX;
/// Blocks and canonical heights kept in memory behind the tip; deeper reorganisations are not modelled.
const WINDOW: usize = 4096;
/// Background transactions are freed once their block is this deep.
const PRUNE_DEPTH: u32 = 128;
/// Blocks a fee estimator looks back over.
const FEE_WINDOW: usize = 6;
/// Background arrivals between two blocks are drawn as at most this many bids (groups of equal size).
const GROUPS: u64 = 32;
/// Bid levels of the background fee grid at most (σ/8 steps over ±4σ need 65, bursts add more).
const BID_LEVELS_MAX: usize = 4096;

#[derive(Clone, Debug)]
struct Tx {
    units: u64,
    /// First price: fee rate bid. EIP-1559: priority tip per unit.
    bid: u64,
    /// EIP-1559: maximum fee per unit.
    max_fee: u64,
    payment: u32,
    /// Block that includes it on the observer's chain.
    block: u32,
    seq: u64,
    in_mempool: bool,
    /// EIP-1559: the base fee of the block that included it.
    paid_base: u64,
}

/// Background transactions a block holds: `count` from one cell of the fee histogram.
#[derive(Clone, Copy, Debug)]
struct BgTake {
    cell: u32,
    count: u64,
}

/// A take of the whole background mempool (a block with room for all of it on a chain that does not fork).
const ALL_CELLS: u32 = u32::MAX;

/// What a block builder chose: payment transfers and background takes.
type Contents = (Vec<u32>, Vec<BgTake>);

#[derive(Clone, Debug)]
struct Block {
    parent: u32,
    height: u32,
    time_us: u64,
    /// Payment transfers (individual transactions).
    txs: Vec<u32>,
    /// Background load, by fee cell. Once on the observer's chain: what it actually took from the mempool.
    bg: Vec<BgTake>,
    /// Nodes that adopted it (Nakamoto propagation).
    reached: u32,
    /// Proof of stake: the slot it was proposed in.
    slot: u64,
}

/// Measured chain behaviour.
#[derive(Clone, Debug, Default)]
pub struct ChainMetrics {
    pub blocks_produced: u64,
    pub reorgs: u64,
    pub reorg_depth_max: u64,
    pub stale_blocks: u64,
    pub missed_slots: u64,
    pub txs_included: u64,
    pub payment_txs_included: u64,
    /// Payment transfers whose block was orphaned after inclusion (back to the mempool).
    pub payment_reorgs: u64,
    pub units_used: u64,
    pub canonical_blocks: u64,
    pub fees_native_minor: u128,
    pub burned_native_minor: u128,
    pub bft_rounds: u64,
    pub bft_messages: u64,
    pub evicted: u64,
    /// Background transactions that arrived (included + evicted + still waiting, at every block).
    pub background_arrived: u64,
    /// Nakamoto propagation: sums over blocks of the time to reach half and 95% of the nodes.
    pub reach50_us_sum: u128,
    pub reach50_blocks: u64,
    pub reach95_us_sum: u128,
    pub reach95_blocks: u64,
    pub gossip_messages: u64,
    /// Each node's delay from a block's production to its adoption (gossip: to its announcement, after
    /// validation), every block and node but the producer.
    pub receive: DelayHist,
    /// Proof of stake over gossip: slots whose block reached the next proposer too late (orphaned, counted in
    /// `missed_slots` too).
    pub late_blocks: u64,
    /// Proof of stake over gossip: attestations, justification and finality.
    pub attest: AttestMetrics,
    /// Transaction relay over gossip: what a node connected to every node sees of the probe transactions (each
    /// node's announcement, from the first one seen: bitcoinstats.com's measurement).
    pub tx_seen: DelayHist,
    /// Transaction relay over gossip: from a transaction's broadcast to its arrival at each miner's node
    /// (payments and probes).
    pub tx_to_miners: DelayHist,
    /// Proof of stake: time to finality, of each canonical block from its time (the epoch rule of an abstract
    /// network), or of each slot from its start (over gossip, from epoch 2 on, by the attestations).
    pub finality: DelayHist,
    pub mempool_units_max: u64,
    pub base_fee_min: u64,
    pub base_fee_max: u64,
    pub first_block_us: u64,
    pub last_block_us: u64,
    /// Hourly: (blocks, txs included, mempool units at the last block, base fee at the last block).
    pub hourly: Vec<[u64; 4]>,
}

pub struct ChainState {
    idx: u16,
    /// Payment transfers waiting, best bid first (equal bids in arrival order).
    mempool: BTreeMap<(Reverse<u64>, u64), u32>,
    /// Background load waiting: counts per (bid level, max-fee level).
    bg: Histogram,
    bid_grid: FeeGrid,
    /// EIP-1559: the background users' max-fee levels (first price: none, one cap level).
    cap_grid: Option<FeeGrid>,
    /// Size units of everything waiting (payments and background).
    mempool_units: u64,
    /// Transactions by id (payment transfers), ids reused through `free_txs`; chunked, so it never holds twice
    /// its peak as a doubling `Vec` would.
    txs: Slab<Tx>,
    free_txs: Vec<u32>,
    seq: u64,
    blocks: VecDeque<Block>,
    block_base: u32,
    /// The observer's canonical chain: block ids by height, from `canon_base`.
    canon: VecDeque<u32>,
    canon_base: u32,
    /// Nakamoto: each node's tip; the last node is the observer (no hash power).
    tips: Vec<u32>,
    pub base_fee: u64,
    /// Payments waiting for the tip to reach a height: (height, seq) → (payment slot, transaction).
    waits: BTreeMap<(u32, u64), (u32, u32)>,
    /// (payment slot, transaction) pairs to look at again: included, reorganised out, or deep enough. The
    /// simulation drains it after each chain event and checks the transaction is still the payment's.
    pub ready: Vec<(u32, u32)>,
    stream: Stream,
    bg_last_us: u64,
    /// The arrival-count distribution of the last interval and its mean.
    arrivals: Option<(f64, Poisson<f64>)>,
    slot: u64,
    height_next: u32,
    /// The lowest bid in each of the last blocks when they were nearly full (0 when not).
    recent_floors: VecDeque<u64>,
    /// How many of `recent_floors` are not zero.
    nonzero_floors: u8,
    /// Emptied block contents, reused so that building a block does not allocate.
    spare_txs: Vec<Vec<u32>>,
    spare_bg: Vec<Vec<BgTake>>,
    /// Arrivals drawn and not yet in the histogram (reused).
    fresh: Vec<BgTake>,
    bft: BftScratch,
    net: NetState,
    bft_gossip: BftGossipScratch,
    /// Proof of stake over gossip: the next slot's proposer, drawn a slot ahead.
    next_proposer: Option<usize>,
    /// Proof of stake over gossip: attestations and Casper FFG finality.
    attest: Option<Box<Attestations>>,
    /// Payments waiting for finality (proof of stake over gossip): (epoch to finalize, seq) → (slot, tx).
    final_waits: BTreeMap<(u64, u64), (u32, u32)>,
    /// Transaction relay over gossip (Nakamoto): the spread of one transaction, its own stream, and when each
    /// payment transfer reached each miner's node (`[tx × miners + miner]`).
    tx_flood: Option<Box<TxFlood>>,
    tx_stream: Stream,
    tx_at_miner: Vec<u64>,
    probe_next_us: u64,
    probe_work: Vec<u64>,
    /// When this chain's one pending tick is due (`u64::MAX`: none). A tick at another time was overtaken: a
    /// payment's transfer woke an idle chain before the wake-up it had set (`on_submit`).
    tick_at: u64,
    /// BFT with `empty_blocks = false`: idle, no height under way, until `tick_at`.
    idle: bool,
    /// BFT: the block of the height under way, committed at `tick_at`, and the commit pause after it.
    proposal: Option<(Option<Contents>, u64)>,
    /// The simulation's last instant: a commit due after it never happens.
    horizon_us: u64,
    /// The time of the last empty block committed ahead of its time (`empty_commit_unseen`).
    early_commit_us: u64,
    /// While idle: when the next background transaction arrives (`u64::MAX`: none will).
    idle_bg_at: u64,
    pub metrics: ChainMetrics,
}

impl ChainState {
    /// `world` names the copy of the infrastructure this chain state belongs to (its stream label).
    pub fn new(spec: &ChainSpec, idx: u16, world: &str, seed: u64, hours: usize) -> ChainState {
        let nodes = match (&spec.consensus, &spec.network) {
            (Consensus::Nakamoto { .. }, Network::Gossip(g)) => g.nodes(),
            (Consensus::Nakamoto { shares, .. }, Network::Abstract) => shares.len() + 1,
            _ => 1,
        };
        let base_fee = match spec.fee_market {
            FeeMarket::Eip1559 { initial_base } => initial_base.max(1),
            FeeMarket::FirstPrice => 0,
        };
        let mut blocks = VecDeque::new();
        blocks.push_back(Block {
            parent: NONE,
            height: 0,
            time_us: 0,
            txs: Vec::new(),
            bg: Vec::new(),
            reached: 0,
            slot: 0,
        });
        let mult_max = spec
            .bursts
            .iter()
            .map(|b| b.fee_multiplier)
            .fold(1.0, f64::max);
        let bid_grid = FeeGrid::new(spec.fee_mu, spec.fee_sigma, mult_max, BID_LEVELS_MAX);
        let cap_grid = matches!(spec.fee_market, FeeMarket::Eip1559 { .. })
            .then(|| FeeGrid::new(spec.max_fee_mu, spec.fee_sigma, mult_max, CAP_LEVELS_MAX));
        let caps = cap_grid.as_ref().map_or(1, FeeGrid::levels);
        ChainState {
            idx,
            mempool: BTreeMap::new(),
            bg: Histogram::new(bid_grid.levels(), caps),
            bid_grid,
            cap_grid,
            mempool_units: 0,
            txs: Slab::new(),
            free_txs: Vec::new(),
            seq: 0,
            blocks,
            block_base: 0,
            canon: VecDeque::from([0]),
            canon_base: 0,
            tips: vec![0; nodes],
            base_fee,
            waits: BTreeMap::new(),
            ready: Vec::new(),
            stream: rng::stream(seed, &format!("world/{world}/chain/{}", spec.name)),
            bg_last_us: 0,
            arrivals: None,
            slot: 0,
            height_next: 1,
            recent_floors: VecDeque::with_capacity(FEE_WINDOW),
            nonzero_floors: 0,
            spare_txs: Vec::new(),
            spare_bg: Vec::new(),
            fresh: Vec::new(),
            bft: BftScratch::default(),
            net: match (&spec.consensus, &spec.network) {
                (_, Network::Abstract) => NetState::Abstract,
                (Consensus::Nakamoto { .. }, Network::Gossip(g)) => {
                    NetState::Events(Relays::for_events(g))
                }
                (Consensus::Pos { .. }, Network::Gossip(g)) => {
                    NetState::Spread(Box::new(gossip::Spreader::new(g)), None)
                }
                (Consensus::Bft { .. }, Network::Gossip(g)) => NetState::Spread(
                    Box::new(gossip::Spreader::new(g)),
                    Some(Box::new(gossip::VoteDelays::new(g, &g.producers))),
                ),
            },
            bft_gossip: BftGossipScratch::default(),
            next_proposer: None,
            attest: match (&spec.consensus, &spec.network) {
                (
                    Consensus::Pos {
                        validators,
                        slots_per_epoch,
                        slot_us,
                        ..
                    },
                    Network::Gossip(g),
                ) => Some(Box::new(Attestations::new(
                    g,
                    *validators,
                    *slots_per_epoch,
                    *slot_us,
                    rng::stream(seed, &format!("world/{world}/chain/{}/attest", spec.name)),
                ))),
                _ => None,
            },
            final_waits: BTreeMap::new(),
            tx_flood: match (&spec.consensus, &spec.network) {
                (Consensus::Nakamoto { .. }, Network::Gossip(g))
                    if g.tx_relay != TxRelay::Instant =>
                {
                    Some(Box::default())
                }
                _ => None,
            },
            tx_stream: rng::stream(seed, &format!("world/{world}/chain/{}/tx", spec.name)),
            tx_at_miner: Vec::new(),
            probe_next_us: match &spec.network {
                Network::Gossip(g) => g.tx_probe_every_us,
                Network::Abstract => 0,
            },
            probe_work: Vec::new(),
            tick_at: u64::MAX,
            idle: false,
            proposal: None,
            horizon_us: u64::MAX,
            early_commit_us: 0,
            idle_bg_at: u64::MAX,
            metrics: ChainMetrics {
                base_fee_min: base_fee,
                base_fee_max: base_fee,
                hourly: vec![[0; 4]; hours],
                ..ChainMetrics::default()
            },
        }
    }

    /// The simulation's last instant (default: none).
    pub fn with_horizon(mut self, horizon_us: u64) -> Self {
        self.horizon_us = horizon_us;
        self
    }

    /// Schedules the first block, slot or height.
    pub fn start(&mut self, spec: &ChainSpec, q: &mut EventQueue<Ev>) {
        let first = match &spec.consensus {
            Consensus::Nakamoto { interval_us, .. } => self.exp(*interval_us),
            Consensus::Pos { slot_us, .. } => *slot_us,
            Consensus::Bft {
                commit_pause_us, ..
            } => *commit_pause_us,
        };
        self.schedule(first, q);
    }

    /// The chain's next tick; one is pending at a time (`tick_at`).
    fn schedule(&mut self, t: u64, q: &mut EventQueue<Ev>) {
        self.tick_at = t;
        q.push(t, Ev::ChainTick(self.idx));
    }

    /// A payment's transfer entered the mempool at `now` (after `submit`): an idle chain (BFT without empty
    /// blocks) starts a height now, as CometBFT's consensus does when its mempool reports transactions
    /// available. An empty block committed ahead of its time records the mempool as it will be then.
    pub fn on_submit(&mut self, now: u64, q: &mut EventQueue<Ev>) {
        if self.early_commit_us > now {
            let units = self.mempool_units;
            if let Some(slot) = self.hour_of(self.early_commit_us) {
                slot[2] = units;
            }
        }
        if self.idle && self.tick_at != now {
            self.schedule(now, q);
        }
    }

    fn exp(&mut self, mean_us: u64) -> u64 {
        let d = Exp::new(1.0 / mean_us.max(1) as f64).expect("positive rate");
        (d.sample(&mut self.stream).round() as u64).max(1)
    }

    fn block(&self, id: u32) -> &Block {
        &self.blocks[(id - self.block_base) as usize]
    }

    fn has_block(&self, id: u32) -> bool {
        id >= self.block_base && ((id - self.block_base) as usize) < self.blocks.len()
    }

    pub fn tip_height(&self) -> u32 {
        self.canon_base + self.canon.len() as u32 - 1
    }

    fn canon_at(&self, h: u32) -> Option<u32> {
        if h < self.canon_base {
            return None;
        }
        self.canon.get((h - self.canon_base) as usize).copied()
    }

    // ----- transactions and the mempool -----------------------------------------------------------------

    fn key(&self, tx: &Tx) -> (Reverse<u64>, u64) {
        (Reverse(tx.bid), tx.seq)
    }

    fn insert_tx(&mut self, tx: Tx) -> u32 {
        let id = match self.free_txs.pop() {
            Some(id) => {
                self.txs[id as usize] = tx;
                id
            }
            None => {
                self.txs.push(tx);
                self.txs.len() as u32 - 1
            }
        };
        self.enter_mempool(id);
        id
    }

    fn enter_mempool(&mut self, id: u32) {
        let t = &mut self.txs[id as usize];
        t.in_mempool = true;
        t.block = NONE;
        let (key, units) = ((Reverse(t.bid), t.seq), t.units);
        self.mempool.insert(key, id);
        self.mempool_units += units;
    }

    fn leave_mempool(&mut self, id: u32) {
        let key = self.key(&self.txs[id as usize]);
        if self.mempool.remove(&key).is_some() {
            self.mempool_units -= self.txs[id as usize].units;
        }
        self.txs[id as usize].in_mempool = false;
    }

    /// A payment's transfer enters the mempool with the given bid (first price) or tip and max fee (EIP-1559).
    pub fn submit(&mut self, spec: &ChainSpec, payment: u32, bid: u64, max_fee: u64) -> u32 {
        self.seq += 1;
        let tx = Tx {
            units: spec.tx_units,
            bid,
            max_fee,
            payment,
            block: NONE,
            seq: self.seq,
            in_mempool: false,
            paid_base: self.base_fee,
        };
        self.insert_tx(tx)
    }

    /// The bid and max fee of a background cell (first price: the max fee is the bid).
    fn cell_fees(&self, cell: u32) -> (u64, u64) {
        let (b, c) = self.bg.levels_of(cell);
        let bid = self.bid_grid.value(b);
        (bid, self.cap_grid.as_ref().map_or(bid, |g| g.value(c)))
    }

    /// When the next background transaction arrives after `now`, in a Poisson process whose rate follows
    /// `load_at` (piecewise constant between bursts' edges); `u64::MAX` if the rate stays zero.
    fn next_arrival(&mut self, spec: &ChainSpec, now: u64) -> u64 {
        // The arrival is where the integrated rate reaches a unit exponential (in rate × seconds).
        let mut e: f64 = Exp1.sample(&mut self.stream);
        let mut t = now;
        loop {
            let rate = spec.load_at(t).0;
            let edge = spec.next_load_change(t);
            if rate > 0.0 {
                let at = t as f64 + e / rate * 1e6;
                if at < edge as f64 {
                    return (at.round() as u64).clamp(t + 1, edge.max(t + 1));
                }
            }
            if edge == u64::MAX {
                return u64::MAX;
            }
            if rate > 0.0 {
                e -= rate * (edge - t) as f64 / 1e6;
            }
            t = edge;
        }
    }

    /// Background arrivals since the last block, in bulk, then eviction of the lowest bids beyond capacity.
    fn fill_background(&mut self, spec: &ChainSpec, now: u64) {
        let mut fresh = std::mem::take(&mut self.fresh);
        let drawn = self.draw_arrivals(spec, now, &mut fresh);
        if drawn.is_none() {
            self.fresh = fresh;
            return;
        }
        for take in fresh.drain(..) {
            self.bg.add(take.cell, take.count);
        }
        self.fresh = fresh;
        self.evict(spec);
        self.metrics.mempool_units_max = self.metrics.mempool_units_max.max(self.mempool_units);
    }

    /// Draws the background arrivals since the last block and appends them to `out` as groups (not yet in the
    /// histogram); counts them in `mempool_units` and `background_arrived`. Returns how many arrived, `None`
    /// when the chain has no background load at this time (nothing is drawn, the mempool figures stay). One
    /// Poisson draw for the count; each of up to `GROUPS` equal groups takes its bid level (and max-fee level)
    /// from the alias tables, so no log-normal is sampled per group.
    fn draw_arrivals(&mut self, spec: &ChainSpec, now: u64, out: &mut Vec<BgTake>) -> Option<u64> {
        let dt_s = now.saturating_sub(self.bg_last_us) as f64 / 1e6;
        self.bg_last_us = now;
        let (rate, mult) = spec.load_at(now);
        let mean = rate * dt_s;
        if mean <= 0.0 {
            return None;
        }
        // Slots and heights repeat the same interval: the distribution (its set-up takes logarithms) is reused.
        if self.arrivals.as_ref().is_none_or(|(m, _)| *m != mean) {
            self.arrivals = Poisson::new(mean).ok().map(|p| (mean, p));
        }
        let n = match &self.arrivals {
            Some((_, p)) => p.sample(&mut self.stream) as u64,
            None => 0,
        };
        self.draw_groups(spec, n, mult, out);
        Some(n)
    }

    /// Draws the levels of `n` background arrivals at fee multiplier `mult` (see `draw_arrivals`).
    fn draw_groups(&mut self, spec: &ChainSpec, n: u64, mult: f64, out: &mut Vec<BgTake>) {
        let bid_shift = self.bid_grid.shift(mult);
        // A user's willingness to pay does not follow the base fee: as it rises, demand falls away.
        let cap_shift = self.cap_grid.as_ref().map_or(0, |g| g.shift(mult));
        let groups = n.min(GROUPS);
        for g in 0..groups {
            let count = n / groups + u64::from(g < n % groups);
            let b = self.bid_grid.draw(&mut self.stream, bid_shift);
            let c = match &self.cap_grid {
                Some(grid) => grid.draw(&mut self.stream, cap_shift),
                None => 0,
            };
            out.push(BgTake {
                cell: self.bg.cell(b, c),
                count,
            });
        }
        self.mempool_units += n * spec.tx_units;
        self.metrics.background_arrived += n;
    }

    /// The one background transaction that ended an idle wait, arrived at `at`: into the mempool, and the
    /// arrival clock set to it (the Poisson process starts afresh there).
    fn arrive_one(&mut self, spec: &ChainSpec, at: u64) {
        let mut fresh = std::mem::take(&mut self.fresh);
        self.draw_groups(spec, 1, spec.load_at(at).1, &mut fresh);
        for take in fresh.drain(..) {
            self.bg.add(take.cell, take.count);
        }
        self.fresh = fresh;
        self.bg_last_us = at;
        self.evict(spec);
        self.metrics.mempool_units_max = self.metrics.mempool_units_max.max(self.mempool_units);
    }

    /// BFT without empty blocks, at the end of a commit pause: whether nothing waits, after drawing the
    /// background arrivals since the last block.
    fn nothing_waits(&mut self, spec: &ChainSpec, now: u64) -> bool {
        if !self.mempool_empty() {
            return false;
        }
        self.fill_background(spec, now);
        self.mempool_empty()
    }

    /// No payment transfer and no background transaction waits.
    fn mempool_empty(&self) -> bool {
        self.mempool.is_empty() && self.bg.total == 0 && self.mempool_units == 0
    }

    /// Evicts background transactions from the lowest bid level up (within a level, the lowest max fee first)
    /// until the mempool fits. Payment transfers are never evicted (their wallets rebroadcast).
    fn evict(&mut self, spec: &ChainSpec) {
        while self.mempool_units > spec.mempool_capacity {
            let Some(b) = self.bg.lowest() else { break };
            let excess =
                (self.mempool_units - spec.mempool_capacity).div_ceil(spec.tx_units.max(1));
            let c = self.bg.caps_at(b).trailing_zeros() as usize;
            let k = self.bg.take(self.bg.cell(b, c), excess);
            self.mempool_units -= k * spec.tx_units;
            self.metrics.evicted += k;
        }
    }

    /// Takes the best transactions that fit, payments and background levels merged by bid (a payment first at an
    /// equal bid); under EIP-1559 only those whose max fee covers the base fee. The mempool is not changed here:
    /// a transaction leaves it when its block joins the observer's chain (`canon_enter`).
    /// `miner`: the Nakamoto miner building it (with transaction relay, only transfers that reached its node).
    fn build(&mut self, spec: &ChainSpec, now: u64, miner: Option<usize>) -> Contents {
        let mut txs = self.spare_txs.pop().unwrap_or_default();
        let mut bg = self.spare_bg.pop().unwrap_or_default();
        let room = spec.block_capacity / spec.tx_units.max(1);
        let eip1559 = matches!(spec.fee_market, FeeMarket::Eip1559 { .. });
        let forks = matches!(spec.consensus, Consensus::Nakamoto { .. });
        if eip1559 || forks {
            self.fill_background(spec, now);
            self.choose(spec, miner.map(|m| (m, now)), &mut txs, &mut bg);
            return (txs, bg);
        }
        // A chain that does not fork, first price: when everything fits, the block takes the whole mempool in fee
        // order and enters the chain right away. The new arrivals then go straight into the block, after the
        // `ALL_CELLS` marker, without passing through the histogram (the same sums, in fewer steps).
        bg.push(BgTake {
            cell: ALL_CELLS,
            count: 0,
        });
        let drawn = self.draw_arrivals(spec, now, &mut bg);
        let n = drawn.unwrap_or(0);
        let fits = self.mempool_units <= spec.mempool_capacity
            && self.mempool.len() as u64 + self.bg.total + n <= room;
        if !fits {
            // As `fill_background`: the arrivals join the histogram, then eviction.
            for take in bg.drain(1..) {
                self.bg.add(take.cell, take.count);
            }
            if drawn.is_some() {
                self.evict(spec);
            }
        }
        if drawn.is_some() {
            self.metrics.mempool_units_max = self.metrics.mempool_units_max.max(self.mempool_units);
        }
        if fits || self.mempool.len() as u64 + self.bg.total <= room {
            txs.extend(self.mempool.values().copied());
            return (txs, bg);
        }
        bg.clear();
        self.choose(spec, None, &mut txs, &mut bg);
        (txs, bg)
    }

    /// The best transactions that fit, level by level (see `build`). `seen_by`: (miner, time) when transaction
    /// relay decides which payment transfers the builder has.
    fn choose(
        &self,
        spec: &ChainSpec,
        seen_by: Option<(usize, u64)>,
        txs: &mut Vec<u32>,
        bg: &mut Vec<BgTake>,
    ) {
        let miners = match (&self.tx_flood, &spec.network) {
            (Some(_), Network::Gossip(g)) => g.producers.len(),
            _ => 0,
        };
        let mut room = spec.block_capacity / spec.tx_units.max(1);
        let eip1559 = matches!(spec.fee_market, FeeMarket::Eip1559 { .. });
        // Background cells whose max fee covers the base fee.
        let eligible = match &self.cap_grid {
            Some(g) => u64::MAX
                .checked_shl(g.level_at_least(self.base_fee) as u32)
                .unwrap_or(0),
            None => u64::MAX,
        };
        let mut payments = self.mempool.values().copied().peekable();
        let mut level = self.bg.highest_below(usize::MAX);
        while room > 0 {
            let next_payment = payments.peek().copied().filter(|&id| {
                level.is_none_or(|b| self.txs[id as usize].bid >= self.bid_grid.value(b))
            });
            if let Some(id) = next_payment {
                payments.next();
                if eip1559 && self.txs[id as usize].max_fee < self.base_fee {
                    continue;
                }
                if let Some((m, now)) = seen_by
                    && miners > 0
                    && self.tx_at_miner[id as usize * miners + m] > now
                {
                    continue; // not at this miner's node yet
                }
                txs.push(id);
                room -= 1;
            } else if let Some(b) = level {
                let mut mask = self.bg.caps_at(b) & eligible;
                // Higher max fees first: under EIP-1559 they pay the larger effective tip.
                while mask != 0 && room > 0 {
                    let c = 63 - mask.leading_zeros() as usize;
                    mask &= !(1 << c);
                    let cell = self.bg.cell(b, c);
                    let k = self.bg.count(cell).min(room);
                    bg.push(BgTake { cell, count: k });
                    room -= k;
                }
                level = self.bg.highest_below(b);
            } else {
                break;
            }
        }
    }

    // ----- the canonical chain ----------------------------------------------------------------------------

    fn push_block(&mut self, parent: u32, height: u32, now: u64, contents: Contents) -> u32 {
        let (txs, bg) = contents;
        self.blocks.push_back(Block {
            parent,
            height,
            time_us: now,
            txs,
            bg,
            reached: 0,
            slot: 0,
        });
        if self.blocks.len() > WINDOW {
            self.blocks.pop_front();
            self.block_base += 1;
        }
        self.metrics.blocks_produced += 1;
        self.block_base + self.blocks.len() as u32 - 1
    }

    /// Block `id` becomes the observer's block at its height: its transactions leave the mempool and pay.
    fn canon_enter(&mut self, spec: &ChainSpec, id: u32, now: u64) {
        let i = (id - self.block_base) as usize;
        let height = self.blocks[i].height;
        // Taken out and put back, so that entering a block does not allocate.
        let txs = std::mem::take(&mut self.blocks[i].txs);
        let mut bg = std::mem::take(&mut self.blocks[i].bg);
        debug_assert_eq!(height, self.tip_height() + 1);
        self.canon.push_back(id);
        if self.canon.len() > WINDOW {
            self.canon.pop_front();
            self.canon_base += 1;
        }
        let mut used = 0;
        let mut included = 0;
        let mut lowest_bid = u64::MAX;
        for &t in &txs {
            if self.txs[t as usize].block != NONE || !self.txs[t as usize].in_mempool {
                continue; // already included on this chain (a miner ahead of the observer re-included it)
            }
            self.leave_mempool(t);
            let tx = &mut self.txs[t as usize];
            tx.block = id;
            tx.paid_base = self.base_fee;
            let (bid, max_fee, units) = (tx.bid, tx.max_fee, tx.units);
            if tx.payment != NONE {
                self.metrics.payment_txs_included += 1;
                self.ready.push((tx.payment, t));
            }
            used += units;
            included += 1;
            lowest_bid = lowest_bid.min(bid);
            self.charge(spec, bid, max_fee, units, 1);
        }
        if bg.first().is_some_and(|t| t.cell == ALL_CELLS) {
            // The whole background mempool, first price, in one pass over its cells, and the arrivals that went
            // straight into the block (after the marker).
            let (grid, mut bids, mut lowest) = (&self.bid_grid, 0u128, u64::MAX);
            let mut count = 0;
            // First price: one cap level, so a cell is its bid level.
            self.bg.drain(|cell, k| {
                let bid = grid.value(cell as usize);
                bids += bid as u128 * k as u128;
                lowest = lowest.min(bid);
                count += k;
            });
            // A plain loop over locals: through the closure's captured references, every group would wait for
            // the previous group's stores.
            let (mut fresh_bids, mut fresh_lowest, mut fresh_count) = (0u128, u64::MAX, 0u64);
            for take in &bg[1..] {
                let bid = grid.value(take.cell as usize);
                fresh_bids += bid as u128 * take.count as u128;
                fresh_lowest = fresh_lowest.min(bid);
                fresh_count += take.count;
            }
            bids += fresh_bids;
            lowest = lowest.min(fresh_lowest);
            count += fresh_count;
            bg[0].count = count;
            let units = spec.tx_units * count;
            self.mempool_units -= units;
            used += units;
            included += count;
            lowest_bid = lowest_bid.min(lowest);
            self.metrics.fees_native_minor += bids * spec.tx_units as u128;
            self.metrics.txs_included += count;
            bg.clear();
        }
        for take in &mut bg {
            // Blocks built in parallel (Nakamoto miners) may hold the same background load: a block takes what is
            // still waiting, and records it so that a reorganisation returns exactly that.
            take.count = self.bg.take(take.cell, take.count);
            if take.count == 0 {
                continue;
            }
            let (bid, max_fee) = self.cell_fees(take.cell);
            let units = spec.tx_units * take.count;
            self.mempool_units -= units;
            used += units;
            included += take.count;
            lowest_bid = lowest_bid.min(bid);
            self.charge(spec, bid, max_fee, spec.tx_units, take.count);
        }
        self.blocks[i].txs = txs;
        self.blocks[i].bg = bg;
        self.metrics.units_used += used;
        self.metrics.canonical_blocks += 1;
        // What it took to get into a nearly full block: the floor a fee estimator bids above.
        let floor = if used * 10 >= spec.block_capacity * 9 {
            lowest_bid
        } else {
            0
        };
        self.close_canonical(spec, now, height, floor, used, included);
    }

    /// What every block entering the canonical chain closes with: its fee floor in the estimator's window, the
    /// first and last block times, the next base fee, the hour's count, pruning and the confirmations it gives.
    fn close_canonical(
        &mut self,
        spec: &ChainSpec,
        now: u64,
        height: u32,
        floor: u64,
        used: u64,
        included: u64,
    ) {
        if self.recent_floors.len() == FEE_WINDOW
            && self.recent_floors.pop_front().is_some_and(|f| f != 0)
        {
            self.nonzero_floors -= 1;
        }
        self.recent_floors.push_back(floor);
        self.nonzero_floors += u8::from(floor != 0);
        if self.metrics.first_block_us == 0 {
            self.metrics.first_block_us = now;
        }
        self.metrics.last_block_us = now;
        self.update_base_fee(spec, used);
        self.record_hour(now, included);
        self.prune(height);
        self.release_waits(height);
    }

    /// Fees of `count` included transactions of `units` each: first price pays the bid; EIP-1559 burns the base
    /// fee and pays the tip, capped by the max fee.
    fn charge(&mut self, spec: &ChainSpec, bid: u64, max_fee: u64, units: u64, count: u64) {
        let units = units as u128 * count as u128;
        if let FeeMarket::Eip1559 { .. } = spec.fee_market {
            self.metrics.burned_native_minor += self.base_fee as u128 * units;
        }
        // The same computation that charges a payment (`paid_per_unit`): figures and charges cannot disagree.
        let per_unit = fee_per_unit(&spec.fee_market, self.base_fee, bid, max_fee);
        self.metrics.fees_native_minor += per_unit as u128 * units;
        self.metrics.txs_included += count;
    }

    fn update_base_fee(&mut self, spec: &ChainSpec, used: u64) {
        if let FeeMarket::Eip1559 { .. } = spec.fee_market {
            self.base_fee = next_base_fee(self.base_fee, used, spec.block_capacity);
            self.metrics.base_fee_min = self.metrics.base_fee_min.min(self.base_fee);
            self.metrics.base_fee_max = self.metrics.base_fee_max.max(self.base_fee);
        }
    }

    /// The hourly figures of the hour holding `t` (the last hour for a later time).
    fn hour_of(&mut self, t: u64) -> Option<&mut [u64; 4]> {
        let h = ((t / crate::units::US_PER_HOUR) as usize)
            .min(self.metrics.hourly.len().saturating_sub(1));
        self.metrics.hourly.get_mut(h)
    }

    fn record_hour(&mut self, now: u64, txs: u64) {
        let (units, base_fee) = (self.mempool_units, self.base_fee);
        if let Some(slot) = self.hour_of(now) {
            slot[0] += 1;
            slot[1] += txs;
            slot[2] = units;
            slot[3] = base_fee;
        }
    }

    /// Frees the detached transfers of the block `PRUNE_DEPTH` below the new tip and recycles its contents.
    fn prune(&mut self, tip: u32) {
        let Some(deep) = tip.checked_sub(PRUNE_DEPTH).and_then(|h| self.canon_at(h)) else {
            return;
        };
        if !self.has_block(deep) {
            return;
        }
        let i = (deep - self.block_base) as usize;
        let mut txs = std::mem::take(&mut self.blocks[i].txs);
        let mut bg = std::mem::take(&mut self.blocks[i].bg);
        for &t in &txs {
            let tx = &self.txs[t as usize];
            if tx.payment == NONE && tx.block == deep {
                self.free_txs.push(t);
            }
        }
        // Deeper reorganisations are not modelled for background load: its record is no longer needed. Only
        // buffers that hold memory are worth keeping (an empty block's are unallocated).
        txs.clear();
        bg.clear();
        if txs.capacity() > 0 {
            self.spare_txs.push(txs);
        }
        if bg.capacity() > 0 {
            self.spare_bg.push(bg);
        }
    }

    fn release_waits(&mut self, tip: u32) {
        while let Some((&(h, seq), &wake)) = self.waits.first_key_value() {
            if h > tip {
                break;
            }
            self.waits.remove(&(h, seq));
            self.ready.push(wake);
        }
    }

    /// The block height holding a payment's transaction on the observer's chain, if included.
    pub fn included_height(&self, tx: u32) -> Option<u32> {
        let b = self.txs[tx as usize].block;
        if b == NONE || !self.has_block(b) {
            return None;
        }
        let h = self.block(b).height;
        (self.canon_at(h) == Some(b)).then_some(h)
    }

    pub fn included_time(&self, tx: u32) -> Option<u64> {
        let b = self.txs[tx as usize].block;
        self.included_height(tx).map(|_| self.block(b).time_us)
    }

    /// Wake `payment` when the observer's tip reaches `height`.
    pub fn wait_for_height(&mut self, height: u32, payment: u32, tx: u32) {
        self.seq += 1;
        if height <= self.tip_height() {
            self.ready.push((payment, tx));
        } else {
            self.waits.insert((height, self.seq), (payment, tx));
        }
    }

    /// The fee a transaction paid per size unit, once included (what `canon_enter` charged).
    pub fn paid_per_unit(&self, spec: &ChainSpec, tx: u32) -> u64 {
        let t = &self.txs[tx as usize];
        fee_per_unit(&spec.fee_market, t.paid_base, t.bid, t.max_fee)
    }

    /// A wallet's estimate from recent blocks (as Bitcoin Core's `estimatesmartfee` does, simplified): 10% over
    /// the highest floor of the last few full blocks, and never below `min_bid`.
    pub fn market_bid(&self, min_bid: u64) -> u64 {
        let floor = self.recent_floors.iter().copied().max().unwrap_or(0);
        min_bid.max(floor.saturating_mul(11).div_ceil(10))
    }

    pub fn tx_units(&self, tx: u32) -> u64 {
        self.txs[tx as usize].units
    }

    /// Time at which the block holding `tx` is final under proof of stake (Casper FFG: a block is final once
    /// the checkpoint after it is finalized, `finality_epochs` epochs after the end of its own epoch).
    ///
    /// Over gossip, finality follows the attestations (`attest`): `None` while the block is not final yet.
    pub fn final_time(&self, spec: &ChainSpec, tx: u32) -> Option<u64> {
        let t = self.included_time(tx)?;
        if let Some(att) = &self.attest {
            let b = self.txs[tx as usize].block;
            return att.final_time(self.block(b).slot);
        }
        pos_final_time(spec, t).or(Some(t))
    }

    /// Proof of stake over gossip: wake the payment once the block holding `tx` is final.
    pub fn wait_for_final(&mut self, payment: u32, tx: u32) {
        let (Some(att), Some(_)) = (&self.attest, self.included_height(tx)) else {
            return;
        };
        let b = self.txs[tx as usize].block;
        let epoch = att.epoch_needed(self.block(b).slot);
        self.seq += 1;
        self.final_waits.insert((epoch, self.seq), (payment, tx));
    }

    /// Proof of stake over gossip, at the start of `slot`: the end of an epoch is processed (justification,
    /// finality); blocks that became final are timed and their waiting payments woken.
    fn epoch_boundary(&mut self, slot: u64, now: u64) {
        let Some(att) = self.attest.as_mut() else {
            return;
        };
        let hist = &mut self.metrics.finality;
        let Some(finalized) = att.begin_slot(slot, now, |d| hist.record(d)) else {
            return;
        };
        while let Some((&(epoch, seq), &wake)) = self.final_waits.first_key_value() {
            if epoch > finalized {
                break;
            }
            self.final_waits.remove(&(epoch, seq));
            self.ready.push(wake);
        }
    }

    /// Transaction relay over gossip: a payment's transfer `tx`, broadcast now by its wallet through a random node,
    /// spreads over the graph; each miner can include it once it has reached the miner's node.
    pub fn relay_payment_tx(&mut self, spec: &ChainSpec, tx: u32, now: u64) {
        let (Some(flood), Network::Gossip(g)) = (self.tx_flood.as_mut(), &spec.network) else {
            return;
        };
        let source = (rng::unit(&mut self.tx_stream) * g.observer() as f64) as usize;
        let at = flood.spread(g, &mut self.tx_stream, source, now, spec.tx_units);
        let miners = g.producers.len();
        let base = tx as usize * miners;
        if self.tx_at_miner.len() < base + miners {
            self.tx_at_miner.resize(base + miners, 0);
        }
        for (k, &node) in g.producers.iter().enumerate() {
            let t = at[node as usize];
            self.tx_at_miner[base + k] = t;
            self.metrics.tx_to_miners.record(t - now);
        }
    }

    /// Probe transactions due by now: each spreads from a random node and is measured as a node connected to
    /// every node would see it, and at the miners' nodes.
    fn run_probes(&mut self, spec: &ChainSpec, now: u64) {
        let (Some(flood), Network::Gossip(g)) = (self.tx_flood.as_mut(), &spec.network) else {
            return;
        };
        let every = g.tx_probe_every_us;
        while every > 0 && self.probe_next_us <= now {
            let t = self.probe_next_us;
            self.probe_next_us += every;
            let source = (rng::unit(&mut self.tx_stream) * g.observer() as f64) as usize;
            let at = flood.spread(g, &mut self.tx_stream, source, t, spec.tx_units);
            for &node in &g.producers {
                self.metrics.tx_to_miners.record(at[node as usize] - t);
            }
            flood.observe(
                g,
                &mut self.tx_stream,
                &mut self.metrics.tx_seen,
                &mut self.probe_work,
            );
        }
    }

    /// The payment stops following this transaction (accepted at zero confirmations); it stays in the mempool
    /// and is mined like any other.
    pub fn detach_payment(&mut self, tx: u32) {
        self.txs[tx as usize].payment = NONE;
    }

    pub fn free_payment_tx(&mut self, tx: u32) {
        if self.txs[tx as usize].in_mempool {
            self.leave_mempool(tx);
        }
        self.txs[tx as usize].payment = NONE;
        if self.txs[tx as usize].block == NONE {
            self.free_txs.push(tx);
        }
    }

    // ----- consensus --------------------------------------------------------------------------------------

    /// `hours`: the platform's operating calendar, if it keeps hours (a multi-CBDC platform).
    pub fn on_tick(
        &mut self,
        spec: &ChainSpec,
        hours: Option<&Calendar>,
        now: u64,
        q: &mut EventQueue<Ev>,
    ) {
        if now != self.tick_at {
            return; // overtaken by an earlier wake-up (`on_submit`)
        }
        if let Some((contents, pause_us)) = self.proposal.take() {
            // A BFT height commits: its block, proposed at the height's start, joins the chain now, and the next
            // height starts after the commit pause.
            self.commit(spec, now, contents);
            self.schedule(now + pause_us, q);
            return;
        }
        if let Some(until) = spec.halted_until(now) {
            self.schedule(until, q);
            return;
        }
        if let Some(cal) = hours {
            let open = cal.next_open(now);
            if open != now {
                self.tick_at = u64::MAX;
                if open != u64::MAX {
                    self.schedule(open, q);
                }
                return;
            }
        }
        match &spec.consensus {
            Consensus::Nakamoto {
                interval_us,
                shares,
            } => {
                let miner = pick(&mut self.stream, shares);
                let node = match &spec.network {
                    Network::Gossip(g) => g.producers[miner] as usize,
                    Network::Abstract => miner,
                };
                let parent = self.tips[node];
                let height = self.block(parent).height + 1;
                self.run_probes(spec, now);
                let txs = self.build(spec, now, Some(miner));
                let id = self.push_block(parent, height, now, txs);
                self.tips[node] = id;
                self.reached(id, now);
                match &spec.network {
                    Network::Abstract => {
                        for node in 0..self.tips.len() {
                            if node != miner {
                                let d = spec.propagation.sample(&mut self.stream);
                                let ev = Ev::BlockArrive {
                                    chain: self.idx,
                                    node: node as u32,
                                    block: id,
                                };
                                q.push(now + d, ev);
                            }
                        }
                    }
                    Network::Gossip(g) => {
                        if let NetState::Events(relays) = &mut self.net {
                            relays.produced(id, node);
                            let mut out = gossip::Global { q, chain: self.idx };
                            self.metrics.gossip_messages +=
                                relays.announce(g, node, id, now, &mut out);
                        }
                    }
                }
                let next = now + self.exp(*interval_us);
                self.schedule(next, q);
            }
            Consensus::Pos {
                slot_us,
                missed_rate,
                validators,
                ..
            } => {
                let slot = self.slot;
                self.epoch_boundary(slot, now);
                let proposer = match self.next_proposer.take() {
                    Some(p) => p,
                    None => (rng::unit(&mut self.stream) * *validators as f64) as usize,
                };
                let missed =
                    !spec.is_online(proposer, now) || rng::unit(&mut self.stream) < *missed_rate;
                let (mut proposed, mut kept) = (false, false);
                if missed {
                    self.metrics.missed_slots += 1;
                } else if let Network::Gossip(g) = &spec.network {
                    // The next proposer is drawn now: it builds on this block only if the block reached it
                    // before its slot; otherwise this block is orphaned (a missed slot for the chain).
                    let next = (rng::unit(&mut self.stream) * *validators as f64) as usize;
                    self.next_proposer = Some(next);
                    let NetState::Spread(spreader, _) = &mut self.net else {
                        unreachable!("a gossip network spreads proposals")
                    };
                    let host = |v: usize| g.producers[v % g.producers.len()] as usize;
                    self.metrics.gossip_messages +=
                        spreader.spread(g, &mut self.stream, host(proposer), now);
                    proposed = true;
                    let (seen, at_next) = (spreader.at[g.observer()], spreader.at[host(next)]);
                    for &n in &g.producers {
                        let at = spreader.at[n as usize];
                        if at > now {
                            self.metrics.receive.record(at - now);
                        }
                    }
                    if at_next > now + slot_us {
                        self.metrics.missed_slots += 1;
                        self.metrics.late_blocks += 1;
                    } else {
                        self.append(spec, seen.max(now));
                        kept = true;
                    }
                } else {
                    self.append(spec, now);
                    kept = true;
                }
                if kept {
                    self.blocks.back_mut().expect("just appended").slot = slot;
                }
                match (&mut self.attest, &spec.network) {
                    (Some(att), Network::Gossip(g)) => {
                        if kept {
                            let host = g.producers[proposer % g.producers.len()] as usize;
                            att.block(g, slot, now, host);
                        }
                        let at = match &self.net {
                            NetState::Spread(spreader, _) if proposed => Some(&spreader.at[..]),
                            _ => None,
                        };
                        att.attest(g, slot, now, at, kept, |v, t| spec.is_online(v, t));
                    }
                    _ if kept => {
                        // The epoch rule: final `finality_epochs` epochs after the end of the block's epoch.
                        let t = self.blocks.back().expect("just appended").time_us;
                        if let Some(at) = pos_final_time(spec, t) {
                            self.metrics.finality.record(at.saturating_sub(t));
                        }
                    }
                    _ => {}
                }
                self.slot += 1;
                self.schedule((self.slot + 1) * slot_us, q);
            }
            Consensus::Bft {
                commit_pause_us,
                round_timeout_us,
                empty_blocks,
                empty_block_interval_us,
                ..
            } => {
                if self.idle {
                    // The wait ends: a transaction arrived (a background one is put in now) or the empty-block
                    // interval passed; the height starts. A wake-up delayed by a halt or closed hours finds the
                    // background arrival in the past, and the arrivals after it are drawn with the proposal.
                    self.idle = false;
                    if self.idle_bg_at <= now {
                        self.arrive_one(spec, self.idle_bg_at);
                    } else {
                        self.bg_last_us = now; // none arrived while idle (the first was to come later)
                    }
                } else if !*empty_blocks && self.nothing_waits(spec, now) {
                    self.idle = true;
                    self.idle_bg_at = self.next_arrival(spec, now);
                    let limit = match *empty_block_interval_us {
                        0 => u64::MAX,
                        d => now.saturating_add(d),
                    };
                    self.tick_at = u64::MAX;
                    let wake = self.idle_bg_at.min(limit);
                    if wake != u64::MAX {
                        self.schedule(wake, q);
                    }
                    return;
                }
                let height = self.height_next as usize;
                let (commit, rounds, messages) = match (&mut self.net, &spec.network) {
                    (NetState::Spread(spreader, Some(votes)), Network::Gossip(g)) => {
                        let Consensus::Bft { validators, .. } = &spec.consensus else {
                            unreachable!("a BFT chain")
                        };
                        gossip::bft_height(
                            &mut self.stream,
                            &mut self.bft_gossip,
                            spreader,
                            votes,
                            g,
                            |v, t| spec.is_online(v, t),
                            *validators,
                            *round_timeout_us,
                            height,
                            now,
                        )
                    }
                    _ => bft_height(&mut self.stream, &mut self.bft, spec, height, now),
                };
                self.metrics.bft_rounds += rounds;
                self.metrics.bft_messages += messages;
                match commit {
                    Some(t) => {
                        // The proposer's block holds what waited when the height started; it is final, and seen,
                        // at the commit.
                        let contents = self.propose(spec, now);
                        self.height_next += 1;
                        if contents.is_none()
                            && t <= self.horizon_us
                            && self.empty_commit_unseen(spec)
                        {
                            // An empty block nobody can see land early: committed now, at its time, it gives the
                            // same figures with one event fewer (most heights of a quiet permissioned chain).
                            self.commit(spec, t, None);
                            self.early_commit_us = t;
                            self.schedule(t + commit_pause_us, q);
                        } else {
                            self.proposal = Some((contents, *commit_pause_us));
                            self.schedule(t, q);
                        }
                    }
                    // No quorum online: liveness is lost until validators return; retry after a timeout.
                    None => self.schedule(now + round_timeout_us * rounds.max(1), q),
                }
            }
        }
    }

    /// A block produced with no fork possible (proof of stake): straight onto the canonical chain.
    fn append(&mut self, spec: &ChainSpec, t: u64) {
        let contents = self.propose(spec, t);
        self.commit(spec, t, contents);
    }

    /// Whether an empty block's commit changes nothing anyone reads before it is due: no payment waits on the tip
    /// or on finality, the fee floors a wallet's market bid reads are all zero (an empty block adds another
    /// zero), and the base fee stays.
    fn empty_commit_unseen(&self, spec: &ChainSpec) -> bool {
        if !self.waits.is_empty()
            || !self.final_waits.is_empty()
            || self.nonzero_floors != 0
            || spec.block_capacity == 0
        {
            return false;
        }
        match spec.fee_market {
            FeeMarket::FirstPrice => true,
            FeeMarket::Eip1559 { .. } => {
                next_base_fee(self.base_fee, 0, spec.block_capacity) == self.base_fee
            }
        }
    }

    /// The contents of a block proposed at `t` (`None`: empty).
    fn propose(&mut self, spec: &ChainSpec, t: u64) -> Option<Contents> {
        // Most heights of a quiet permissioned chain: no contents to choose and no fees to charge.
        (!self.nothing_to_build(spec, t)).then(|| self.build(spec, t, None))
    }

    /// A proposed block joins the canonical chain at `t` (no fork possible).
    fn commit(&mut self, spec: &ChainSpec, t: u64, contents: Option<Contents>) {
        let parent = *self.canon.back().expect("genesis");
        let height = self.tip_height() + 1;
        match contents {
            None => {
                let id = self.push_block(parent, height, t, (Vec::new(), Vec::new()));
                self.canon_enter_empty(spec, id, t);
            }
            Some(txs) => {
                let id = self.push_block(parent, height, t, txs);
                self.canon_enter(spec, id, t);
            }
        }
    }

    /// Whether a block built at `t` would be empty: nothing waits and no background load arrives since the last
    /// block (then, as `draw_arrivals` does, nothing is drawn and only the arrival clock moves). `build` and
    /// `canon_enter` would give the same block and the same figures; `canon_enter_empty` gets there directly.
    fn nothing_to_build(&mut self, spec: &ChainSpec, t: u64) -> bool {
        if !self.mempool_empty() {
            return false;
        }
        let dt_s = t.saturating_sub(self.bg_last_us) as f64 / 1e6;
        let mean = spec.load_at(t).0 * dt_s;
        // As `draw_arrivals`: only a mean that is not above zero (and not NaN) draws nothing.
        if mean > 0.0 || mean.is_nan() {
            return false;
        }
        self.bg_last_us = t;
        true
    }

    /// `canon_enter` of an empty block (see `nothing_to_build`): the chain's bookkeeping without contents.
    fn canon_enter_empty(&mut self, spec: &ChainSpec, id: u32, now: u64) {
        let height = self.block(id).height;
        debug_assert_eq!(height, self.tip_height() + 1);
        self.canon.push_back(id);
        if self.canon.len() > WINDOW {
            self.canon.pop_front();
            self.canon_base += 1;
        }
        self.metrics.canonical_blocks += 1;
        // As `canon_enter` with nothing used: "nearly full" only for a block of no capacity.
        let floor = if spec.block_capacity == 0 {
            u64::MAX
        } else {
            0
        };
        self.close_canonical(spec, now, height, floor, 0, 0);
    }

    /// Nakamoto: block `id` reaches `node` (abstract network), or a gossip message about it arrives (`node`
    /// packs the message: `gossip::pack`); longer chains win, the first seen wins ties.
    pub fn on_arrive(
        &mut self,
        spec: &ChainSpec,
        now: u64,
        node: usize,
        id: u32,
        q: &mut EventQueue<Ev>,
    ) {
        let Network::Gossip(g) = &spec.network else {
            self.adopt(spec, now, node, id);
            return;
        };
        let (kind, _, to) = gossip::unpack(node as u32);
        // Only an announcement asks whether the receiver wants the block (an `UploadDone` carries no receiver).
        let wants = kind == gossip::Msg::Inv
            && self.has_block(id)
            && self.has_block(self.tips[to])
            && self.block(id).height > self.block(self.tips[to]).height;
        let NetState::Events(relays) = &mut self.net else {
            unreachable!("a Nakamoto chain over gossip runs its messages as events")
        };
        let mut out = gossip::Global { q, chain: self.idx };
        let (sent, step) =
            relays.on_message(g, &mut self.stream, node as u32, id, now, wants, &mut out);
        self.metrics.gossip_messages += sent;
        // A node relays only a block it adopted (one that extends its best chain), as Bitcoin Core does.
        if let Step::Validated(to) = step
            && self.adopt(spec, now, to, id)
        {
            let NetState::Events(relays) = &mut self.net else {
                unreachable!("checked above")
            };
            let mut out = gossip::Global { q, chain: self.idx };
            self.metrics.gossip_messages += relays.announce(g, to, id, now, &mut out);
        }
    }

    /// `node` takes block `id` as its tip if it is higher; returns whether it did.
    fn adopt(&mut self, spec: &ChainSpec, now: u64, node: usize, id: u32) -> bool {
        if !self.has_block(id) || !self.has_block(self.tips[node]) {
            return false;
        }
        if self.block(id).height <= self.block(self.tips[node]).height {
            return false;
        }
        self.tips[node] = id;
        self.reached(id, now);
        if node == self.tips.len() - 1 {
            self.observer_switch(spec, id, now);
        }
        true
    }

    /// Counts the nodes a block has reached; records when it reaches half and 95% of them.
    fn reached(&mut self, id: u32, now: u64) {
        if !self.has_block(id) {
            return;
        }
        let n = self.tips.len() as u32;
        let i = (id - self.block_base) as usize;
        let b = &mut self.blocks[i];
        b.reached += 1;
        let elapsed = now - b.time_us;
        if elapsed > 0 {
            self.metrics.receive.record(elapsed);
        }
        if b.reached == n.div_ceil(2) {
            self.metrics.reach50_us_sum += elapsed as u128;
            self.metrics.reach50_blocks += 1;
        }
        if b.reached == (n * 95).div_ceil(100) {
            self.metrics.reach95_us_sum += elapsed as u128;
            self.metrics.reach95_blocks += 1;
        }
    }

    fn observer_switch(&mut self, spec: &ChainSpec, new_tip: u32, now: u64) {
        // Walk the new branch back to the canonical chain.
        let mut branch = vec![new_tip];
        let mut b = new_tip;
        loop {
            let parent = self.block(b).parent;
            if parent == NONE || !self.has_block(parent) {
                return; // deeper than the window: not modelled
            }
            if self.canon_at(self.block(parent).height) == Some(parent) {
                break;
            }
            branch.push(parent);
            b = parent;
        }
        branch.reverse();
        let fork_height = self.block(branch[0]).height - 1;
        let depth = self.tip_height() - fork_height;
        if depth > 0 {
            self.metrics.reorgs += 1;
            self.metrics.reorg_depth_max = self.metrics.reorg_depth_max.max(depth as u64);
            self.metrics.stale_blocks += depth as u64;
            self.metrics.canonical_blocks -= depth as u64;
            // Orphaned blocks: their transactions go back to the mempool.
            for _ in 0..depth {
                let old = self.canon.pop_back().expect("above the fork");
                let i = (old - self.block_base) as usize;
                let txs = std::mem::take(&mut self.blocks[i].txs);
                for &t in &txs {
                    if self.txs[t as usize].block == old {
                        let units = self.txs[t as usize].units;
                        if self.txs[t as usize].payment != NONE {
                            self.metrics.payment_reorgs += 1;
                            self.ready.push((self.txs[t as usize].payment, t));
                        }
                        self.metrics.units_used -= units;
                        self.metrics.txs_included -= 1;
                        self.enter_mempool(t);
                    }
                }
                self.blocks[i].txs = txs;
                // Its background load waits again; the block keeps its record (it may come back).
                for k in 0..self.blocks[i].bg.len() {
                    let take = self.blocks[i].bg[k];
                    self.bg.add(take.cell, take.count);
                    let units = spec.tx_units * take.count;
                    self.mempool_units += units;
                    self.metrics.units_used -= units;
                    self.metrics.txs_included -= take.count;
                }
            }
        }
        for id in branch {
            self.canon_enter(spec, id, now);
        }
    }

    /// Stale blocks still on a losing branch at the end of the run count as stale too.
    pub fn finish(&mut self) {
        if let Some(att) = &mut self.attest {
            att.finish();
            self.metrics.attest = att.metrics.clone();
        }
        let stale_total = self
            .metrics
            .blocks_produced
            .saturating_sub(self.metrics.canonical_blocks);
        self.metrics.stale_blocks = stale_total;
    }
}

/// Proof of stake by the epoch rule (an abstract network): a block at time `t` is final `finality_epochs` epochs
/// after the end of its epoch (Casper FFG's checkpoint after it, finalized).
fn pos_final_time(spec: &ChainSpec, t: u64) -> Option<u64> {
    match spec.consensus {
        Consensus::Pos {
            slot_us,
            slots_per_epoch,
            finality_epochs,
            ..
        } => {
            let epoch_us = slot_us * slots_per_epoch;
            Some((t / epoch_us + 1 + finality_epochs) * epoch_us)
        }
        _ => None,
    }
}

/// What an included transaction pays per size unit, the one computation behind both the chain's fee figures
/// and what a payment is charged. First price: its bid. EIP-1559 (the specification's `effective_gas_price`):
/// the block's base fee plus the priority fee `min(max_priority_fee, max_fee − base_fee)`, so a transaction never
/// pays more than its max fee.
pub fn fee_per_unit(market: &FeeMarket, base_fee: u64, bid: u64, max_fee: u64) -> u64 {
    match market {
        FeeMarket::FirstPrice => bid,
        FeeMarket::Eip1559 { .. } => {
            base_fee.saturating_add(bid.min(max_fee.saturating_sub(base_fee)))
        }
    }
}

/// EIP-1559: the next base fee from the gas used in a block (target = half the limit), in integers as the
/// specification writes it: base ± base·|used − target| / target / 8, rising by at least 1.
pub fn next_base_fee(base: u64, used: u64, limit: u64) -> u64 {
    let target = (limit / 2).max(1) as u128;
    let (b, u) = (base as u128, used as u128);
    if u == target {
        base
    } else if u > target {
        let delta = (b * (u - target) / target / 8).max(1);
        (b + delta).min(u64::MAX as u128) as u64
    } else {
        let delta = b * (target - u) / target / 8;
        (b - delta).max(1) as u64
    }
}

fn pick(stream: &mut Stream, shares: &[f64]) -> usize {
    let total: f64 = shares.iter().sum();
    let mut x = rng::unit(stream) * total;
    for (i, s) in shares.iter().enumerate() {
        x -= s;
        if x < 0.0 {
            return i;
        }
    }
    shares.len() - 1
}

/// Reused buffers of `bft_height`, so that a height does not allocate.
#[derive(Clone, Debug, Default)]
pub struct BftScratch {
    online: Vec<usize>,
    delays: Vec<u64>,
    recv: Vec<u64>,
    heard: Vec<u64>,
    voted: Vec<u64>,
    work: Vec<u64>,
}

/// One BFT height: rounds of propose, prevote, precommit until a round commits within its timeout. Returns the
/// commit time (None when fewer than a quorum of validators are online: nothing is final without a quorum of
/// precommits, `bft_quorum`), the rounds used and the messages sent.
///
/// Each vote is a broadcast with one delay, the same to every receiver (the sender's send and gossip time),
/// drawn once per vote: a validator then holds a quorum of votes at an order statistic of the n broadcast times with
/// its own vote at its own time, found with one selection per phase. The cost per height is linear in the
/// validators; the message count is that of the full protocol (every vote to every other validator). The
/// proposal goes to each validator with its own delay.
pub fn bft_height(
    stream: &mut Stream,
    scratch: &mut BftScratch,
    spec: &ChainSpec,
    height: usize,
    start: u64,
) -> (Option<u64>, u64, u64) {
    let Consensus::Bft {
        validators: n,
        round_timeout_us,
        message_delay: delay,
        ..
    } = &spec.consensus
    else {
        unreachable!("a BFT chain")
    };
    let (n, round_timeout_us) = (*n, *round_timeout_us);
    let quorum = bft_quorum(n);
    let mut t = start;
    let mut messages = 0;
    let s = scratch;
    for round in 0..64_u64 {
        let timeout = round_timeout_us * (1 + round);
        s.online.clear();
        s.online.extend((0..n).filter(|&v| spec.is_online(v, t)));
        let on = s.online.len();
        if on < quorum {
            return (None, round + 1, messages);
        }
        let proposer = (height + round as usize) % n;
        if !spec.is_online(proposer, t) {
            t += timeout; // nobody hears a proposal: the round times out, the next proposer takes over
            continue;
        }
        // The round's delays in the order they are drawn: the proposal to each other validator, then one per
        // prevote and one per precommit (each a broadcast), all drawn at once.
        s.delays.resize(3 * on - 1, 0);
        delay.sample_into(stream, &mut s.delays);
        let (to_others, votes) = s.delays.split_at(on - 1);
        let (prevotes, precommits) = votes.split_at(on);
        // Every buffer holds one time per online validator, written in place (no per-element length checks).
        for b in [&mut s.recv, &mut s.heard, &mut s.voted] {
            b.resize(on, 0);
        }
        let mut next = to_others.iter();
        for (r, &v) in s.recv.iter_mut().zip(&s.online) {
            *r = if v == proposer {
                t
            } else {
                t + next.next().expect("one delay per other validator")
            };
        }
        messages += on as u64 - 1;
        // Prevotes: each online validator broadcasts on receiving the proposal; a validator moves on with a quorum.
        for ((h, &r), &d) in s.heard.iter_mut().zip(&s.recv).zip(prevotes) {
            *h = r + d;
        }
        quorum_times(&s.recv, &s.heard, quorum, &mut s.work, &mut s.voted);
        messages += (on * (on - 1)) as u64;
        // Precommits, then commit on a quorum of precommits.
        for ((h, &r), &d) in s.heard.iter_mut().zip(&s.voted).zip(precommits) {
            *h = r + d;
        }
        quorum_times(&s.voted, &s.heard, quorum, &mut s.work, &mut s.recv);
        messages += (on * (on - 1)) as u64;
        sort_committee(&mut s.recv);
        let commit = s.recv[quorum - 1];
        if commit <= t + timeout {
            return (Some(commit), round + 1, messages);
        }
        t += timeout;
    }
    (None, 64, messages)
}

/// Sorts a committee's times: four validators (f = 1, the smallest BFT committee and a common one) by a
/// five-comparator network without branches, others by the standard sort.
fn sort_committee(v: &mut [u64]) {
    if let [a, b, c, d] = v {
        let swap = |x: &mut u64, y: &mut u64| (*x, *y) = ((*x).min(*y), (*x).max(*y));
        swap(a, b);
        swap(c, d);
        swap(a, c);
        swap(b, d);
        swap(b, c);
    } else {
        v.sort_unstable();
    }
}

/// For each validator j, when it holds `quorum` votes: its own at `own[j]`, validator i's at `heard[i]` (its
/// broadcast time, `heard[i] >= own[i]`). With S the sorted broadcast times, the others' k-th vote is S'[k] = S[k]
/// if S[k] < heard[j] and S[k+1] otherwise (one copy of j's own broadcast time removed), and j's time is its own
/// vote clamped between the others' (q−1)-th and q-th, q = quorum − 1. When S[q] >= heard[j] >= own[j], the
/// others' q-th is at least the own vote, so only S[q−1] and S[q] are ever needed: two order statistics answer
/// every validator, O(n) in all.
fn quorum_times(own: &[u64], heard: &[u64], quorum: usize, work: &mut Vec<u64>, out: &mut [u64]) {
    assert!(
        own.len() == heard.len() && out.len() == heard.len() && (1..=heard.len()).contains(&quorum),
        "one time per validator, and a quorum among them"
    );
    let q = quorum - 1;
    // S[q−1] and S[q]; with q = 0 no vote comes before the first, and 0 (no time is earlier) stands for S[−1].
    let (s_prev, s_q) = if let Ok(h) = <&[u64; 4]>::try_from(heard) {
        // The smallest committee (f = 1), sorted in registers.
        let mut a = *h;
        sort_committee(&mut a);
        (q.checked_sub(1).map_or(0, |i| a[i]), a[q])
    } else {
        work.clear();
        work.extend_from_slice(heard);
        if work.len() <= 32 {
            // A committee's worth: sorting is cheaper than selecting and scanning one side.
            sort_committee(work);
            (q.checked_sub(1).map_or(0, |i| work[i]), work[q])
        } else {
            let (left, s_q, _) = work.select_nth_unstable(q);
            (left.iter().copied().max().unwrap_or(0), *s_q)
        }
    };
    for ((t, &a), &o) in out.iter_mut().zip(heard).zip(own) {
        // Selections the compiler keeps free of branches.
        *t = if s_q < a {
            o.clamp(s_prev, s_q)
        } else {
            o.max(if s_prev < a { s_prev } else { s_q })
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fx::CurId;
    use crate::rng::Delay;

    /// A proof-of-stake chain with blocks of 100 one-unit transfers every 10 s, 50 background arrivals a second
    /// (five times capacity) and room for 2,000 in the mempool.
    fn saturated(fee_market: FeeMarket) -> ChainSpec {
        ChainSpec {
            name: "test".into(),
            consensus: Consensus::Pos {
                slot_us: 10_000_000,
                slots_per_epoch: 32,
                finality_epochs: 2,
                missed_rate: 0.0,
                validators: 10,
            },
            block_capacity: 100,
            tx_units: 1,
            fee_market,
            mempool_capacity: 2_000,
            native_price_usd: 1.0,
            native_decimals: 8,
            native_code: "T".into(),
            native: CurId(0),
            propagation: Delay::Zero,
            network: Network::Abstract,
            background_tx_per_s: 50.0,
            fee_mu: 100f64.ln(),
            fee_sigma: 0.8,
            max_fee_mu: 1_000f64.ln(),
            bursts: Vec::new(),
            halts: Vec::new(),
            offline: Vec::new(),
            attacker_share: 0.0,
            hours: None,
        }
    }

    /// Runs `blocks` slots, calling `check` after each with the base fee the block was built under.
    fn run_blocks(
        spec: &ChainSpec,
        blocks: usize,
        mut before: impl FnMut(&mut ChainState, usize),
        mut check: impl FnMut(&ChainState, u64),
    ) -> ChainState {
        let mut c = ChainState::new(spec, 0, "shared", 7, 1);
        let mut q = EventQueue::new();
        c.start(spec, &mut q);
        for k in 0..blocks {
            before(&mut c, k);
            let (t, _) = q.pop().expect("next slot");
            let base = c.base_fee;
            c.on_tick(spec, None, t, &mut q);
            check(&c, base);
        }
        c
    }

    fn last_block(c: &ChainState) -> &Block {
        c.block(*c.canon.back().expect("a tip"))
    }

    #[test]
    fn blocks_take_the_highest_bids_and_eviction_the_lowest() {
        let spec = saturated(FeeMarket::FirstPrice);
        let c = run_blocks(
            &spec,
            200,
            |_, _| {},
            |c, _| {
                let b = last_block(c);
                let used: u64 = b.bg.iter().map(|t| t.count).sum();
                assert_eq!(used, 100, "a saturated chain fills every block");
                // Fee order: nothing left waiting bids above the worst bid the block took.
                let worst =
                    b.bg.iter()
                        .map(|t| c.bg.levels_of(t.cell).0)
                        .min()
                        .expect("takes");
                let best_left = c.bg.highest_below(usize::MAX).expect("a backlog");
                assert!(best_left <= worst, "left {best_left} above taken {worst}");
                assert!(c.mempool_units <= spec.mempool_capacity);
                // Nothing is lost: every arrival is included, evicted or waiting.
                let m = &c.metrics;
                assert_eq!(
                    m.background_arrived,
                    m.txs_included + m.evicted + c.bg.total
                );
            },
        );
        // Eviction took the bottom: what waits is the best of what did not fit, so its lowest bid is far above
        // the distribution's median (2,000 kept of ~500 arrivals a block beyond the 100 included).
        let lowest = c.bid_grid.value(c.bg.lowest().expect("a backlog"));
        assert!(lowest > 100, "lowest waiting bid {lowest}");
        assert!(c.metrics.evicted > 50_000, "evicted {}", c.metrics.evicted);
    }

    #[test]
    fn a_payment_above_the_floor_is_in_the_next_block_and_one_below_waits() {
        let spec = saturated(FeeMarket::FirstPrice);
        let (mut high, mut low) = (NONE, NONE);
        let c = run_blocks(
            &spec,
            30,
            |c, k| {
                if k == 20 {
                    high = c.submit(&spec, 1, 1_000_000, 1_000_000);
                    low = c.submit(&spec, 2, 1, 1);
                }
            },
            |_, _| {},
        );
        assert_eq!(c.included_height(high), Some(21), "included at once");
        assert_eq!(
            c.included_height(low),
            None,
            "a bid of 1 never beats the backlog"
        );
        assert_eq!(c.metrics.payment_txs_included, 1);
    }

    #[test]
    fn eip1559_blocks_take_only_max_fees_covering_the_base_fee() {
        let spec = saturated(FeeMarket::Eip1559 { initial_base: 10 });
        let c = run_blocks(
            &spec,
            300,
            |_, _| {},
            |c, base| {
                let grid = c.cap_grid.as_ref().expect("EIP-1559 cap levels");
                for t in &last_block(c).bg {
                    let cap = grid.value(c.bg.levels_of(t.cell).1);
                    assert!(cap >= base, "max fee {cap} under base fee {base}");
                }
            },
        );
        // Demand above capacity pushes the base fee up until the willing (max fees around 1,000) no longer
        // overfill blocks: it ends between the initial 10 and the top of the max-fee distribution.
        assert!(
            c.base_fee > 100 && c.base_fee < 30_000,
            "base fee {}",
            c.base_fee
        );
        let m = &c.metrics;
        assert!(m.burned_native_minor > 0 && m.fees_native_minor > m.burned_native_minor);
    }

    #[test]
    fn taking_the_whole_mempool_equals_taking_it_level_by_level() {
        // A chain with room for everything: `build` takes the whole mempool in one pass; `choose` walks the
        // levels. Same arrivals, same payments: the same fees, counts, floor and mempool afterwards.
        let mut spec = saturated(FeeMarket::FirstPrice);
        spec.block_capacity = 10_000;
        let (mut whole, mut cells) = (
            ChainState::new(&spec, 0, "shared", 9, 1),
            ChainState::new(&spec, 0, "shared", 9, 1),
        );
        for k in 1..50_u64 {
            for c in [&mut whole, &mut cells] {
                c.submit(&spec, 1, 90 + k, 90 + k);
                c.fill_background(&spec, k * 10_000_000);
            }
            let a = whole.build(&spec, k * 10_000_000, None); // arrivals already drawn: adds none
            assert_eq!(a.1[0].cell, ALL_CELLS);
            let mut b = (Vec::new(), Vec::new());
            cells.choose(&spec, None, &mut b.0, &mut b.1);
            for (c, contents) in [(&mut whole, a), (&mut cells, b)] {
                let h = c.tip_height() + 1;
                let parent = *c.canon.back().expect("tip");
                let id = c.push_block(parent, h, k * 10_000_000, contents);
                c.canon_enter(&spec, id, k * 10_000_000);
            }
            let (m, n) = (&whole.metrics, &cells.metrics);
            assert_eq!(
                (
                    m.fees_native_minor,
                    m.txs_included,
                    m.units_used,
                    m.payment_txs_included
                ),
                (
                    n.fees_native_minor,
                    n.txs_included,
                    n.units_used,
                    n.payment_txs_included
                )
            );
            assert_eq!((whole.mempool_units, whole.bg.total), (0, 0));
            assert_eq!((cells.mempool_units, cells.bg.total), (0, 0));
            assert_eq!(whole.recent_floors, cells.recent_floors);
        }
        assert!(whole.metrics.txs_included > 20_000);
    }

    /// More than two-thirds of n, by hand: 2f + 1 for n = 3f + 1, one or two more otherwise.
    #[test]
    fn a_bft_quorum_is_more_than_two_thirds_of_the_validators() {
        let want = [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 3),
            (5, 4),
            (6, 5),
            (7, 5),
            (10, 7),
            (21, 15),
            (27, 19),
            (100, 67),
        ];
        for (n, q) in want {
            assert_eq!(bft_quorum(n), q, "n = {n}");
            assert!(3 * q > 2 * n && 3 * (q - 1) <= 2 * n, "n = {n}");
        }
    }

    #[test]
    fn quorum_times_are_the_order_statistic_of_own_and_heard_votes() {
        // Against the direct definition: validator j's q-th vote among its own at own[j] and the others' at
        // heard[i], with ties, small sets, four (sorted in registers) and committees past 32 (selection).
        let mut s = rng::stream(3, "t");
        let (mut work, mut out) = (Vec::new(), Vec::new());
        for round in 0..4_000 {
            let n = match round % 10 {
                0 => 4,
                1 => 33 + (rng::unit(&mut s) * 16.0) as usize,
                _ => 1 + (rng::unit(&mut s) * 12.0) as usize,
            };
            // BFT's quorum, and every other one from a single vote to all of them.
            let quorum = if round % 4 < 2 {
                bft_quorum(n)
            } else {
                1 + (rng::unit(&mut s) * n as f64) as usize
            };
            let own: Vec<u64> = (0..n).map(|_| (rng::unit(&mut s) * 8.0) as u64).collect();
            let heard: Vec<u64> = own
                .iter()
                .map(|o| o + (rng::unit(&mut s) * 4.0) as u64)
                .collect();
            out.resize(n, 0);
            quorum_times(&own, &heard, quorum, &mut work, &mut out);
            for (j, &got) in out.iter().enumerate() {
                let mut votes: Vec<u64> = (0..n)
                    .map(|i| if i == j { own[i] } else { heard[i] })
                    .collect();
                votes.sort_unstable();
                assert_eq!(
                    got,
                    votes[quorum - 1],
                    "n {n} j {j} own {own:?} heard {heard:?}"
                );
            }
        }
    }

    #[test]
    fn eip1559_moves_one_eighth_per_full_or_empty_block() {
        assert_eq!(
            next_base_fee(1_000_000_000, 30_000_000, 30_000_000),
            1_125_000_000
        );
        assert_eq!(next_base_fee(1_000_000_000, 0, 30_000_000), 875_000_000);
        assert_eq!(
            next_base_fee(1_000_000_000, 15_000_000, 30_000_000),
            1_000_000_000
        );
        // A tiny base fee still rises by at least one unit.
        assert_eq!(next_base_fee(7, 30_000_000, 30_000_000), 8);
    }

    /// A four-validator BFT chain: commit pause 1 s, every message 50 ms (a height commits 3 × 50 ms after it
    /// starts: proposal, prevotes, precommits), no background load unless given.
    fn bft(empty_blocks: bool, interval_us: u64, tx_per_s: f64) -> ChainSpec {
        ChainSpec {
            consensus: Consensus::Bft {
                validators: 4,
                commit_pause_us: 1_000_000,
                round_timeout_us: 2_000_000,
                message_delay: Delay::Fixed(50_000),
                empty_blocks,
                empty_block_interval_us: interval_us,
            },
            block_capacity: 1_000_000,
            background_tx_per_s: tx_per_s,
            ..saturated(FeeMarket::FirstPrice)
        }
    }

    /// Runs a chain until `end_us`, with payment transfers broadcast at the times `arrivals` gives (each one
    /// wakes an idle chain, as the simulation does). Returns the chain and its transfers: (transaction, broadcast
    /// time, when the chain reported it included).
    fn run_until(
        spec: &ChainSpec,
        end_us: u64,
        mut arrivals: impl FnMut() -> u64,
    ) -> (ChainState, Vec<(u32, u64, Option<u64>)>) {
        let mut c = ChainState::new(spec, 0, "shared", 7, 1).with_horizon(end_us);
        let mut q = EventQueue::new();
        c.start(spec, &mut q);
        let mut sent = Vec::new();
        let mut next_tx = arrivals();
        loop {
            let tick = q.peek_time().unwrap_or(u64::MAX);
            if next_tx.min(tick) > end_us {
                return (c, sent);
            }
            if next_tx < tick {
                let tx = c.submit(spec, sent.len() as u32, 100, 100);
                c.on_submit(next_tx, &mut q);
                sent.push((tx, next_tx, None));
                next_tx = arrivals();
            } else {
                let (t, _) = q.pop().expect("a tick");
                c.on_tick(spec, None, t, &mut q);
                for (payment, _) in c.ready.drain(..) {
                    sent[payment as usize].2.get_or_insert(t);
                }
            }
        }
    }

    #[test]
    fn a_bft_block_is_seen_at_its_commit_and_holds_what_waited_at_its_start() {
        // Empty blocks: heights start at 1 s, 2.15 s, 3.3 s, ... A transfer sent at 1.1 s (during the first
        // height) waits for the second, committed at 2.3 s; one sent at 2.0 s (in the pause) is in it too.
        let spec = bft(true, 0, 0.0);
        let mut times = [1_100_000, 2_000_000, u64::MAX].into_iter();
        let (c, sent) = run_until(&spec, 10_000_000, || times.next().expect("three"));
        let at: Vec<_> = sent.iter().map(|&(tx, _, _)| c.included_time(tx)).collect();
        assert_eq!(at, [Some(2_300_000), Some(2_300_000)]);
        // Reported to the payments at the commit, not when the height started (2.15 s).
        let seen: Vec<_> = sent.iter().map(|s| s.2).collect();
        assert_eq!(seen, at);
        assert_eq!(
            c.metrics.canonical_blocks, 8,
            "commits at 1.15 s + k × 1.15 s up to 10 s"
        );
    }

    #[test]
    fn a_bft_chain_without_empty_blocks_idles_until_a_transfer_or_its_interval() {
        // No load and no limit: one height would start at 1 s; it idles instead and nothing ever commits.
        let (c, _) = run_until(&bft(false, 0, 0.0), 3_600_000_000, || u64::MAX);
        assert_eq!(c.metrics.canonical_blocks, 0);
        // A transfer at 100 s starts a height at once: in the block committed 150 ms later.
        let mut times = [100_000_000, u64::MAX].into_iter();
        let (c, sent) = run_until(&bft(false, 0, 0.0), 3_600_000_000, || {
            times.next().expect("two")
        });
        assert_eq!(c.included_time(sent[0].0), Some(100_150_000));
        assert_eq!(sent[0].2, Some(100_150_000));
        assert_eq!(c.metrics.canonical_blocks, 1);
        // With CometBFT's create_empty_blocks_interval of 30 s: an empty block every 1 s + 30 s + 150 ms.
        let (c, _) = run_until(&bft(false, 30_000_000, 0.0), 3_600_000_000, || u64::MAX);
        assert_eq!(c.metrics.canonical_blocks, 3_599_000_000 / 31_150_000);
        assert_eq!(c.metrics.last_block_us, 115 * 31_150_000);
        // A transfer during the idle wait overtakes the interval's wake-up, which then counts for nothing.
        let mut times = [10_000_000, u64::MAX].into_iter();
        let (c, sent) = run_until(&bft(false, 30_000_000, 0.0), 40_000_000, || {
            times.next().expect("two")
        });
        assert_eq!(c.included_time(sent[0].0), Some(10_150_000));
        assert_eq!(
            c.metrics.canonical_blocks, 1,
            "the next empty block is due at 11.15 s + 30 s"
        );
    }

    /// Poisson arrivals at rate λ into a chain without empty blocks: a height of length C = pause + 3L follows
    /// another when something arrived during it (probability 1 − e^(−λC)), else the chain idles for an
    /// exponential time. A renewal argument gives e^(λC) heights per busy period and blocks per second
    /// e^(λC) / (1/λ + C·e^(λC)). The same holds for background load, whose arrivals wake the chain.
    #[test]
    fn blocks_per_second_without_empty_blocks_match_the_renewal_formula() {
        let (lambda, c_s, span_us) = (0.5_f64, 1.15_f64, 200_000 * 1_000_000_u64);
        let want = (lambda * c_s).exp() / (1.0 / lambda + c_s * (lambda * c_s).exp());
        let mut s = rng::stream(11, "arrivals");
        let mut t = 0.0_f64;
        let exp = Exp::new(lambda).expect("a rate");
        let (payments, sent) = run_until(&bft(false, 0, 0.0), span_us, || {
            t += exp.sample(&mut s) * 1e6;
            t.round() as u64
        });
        let (background, _) = run_until(&bft(false, 0, lambda), span_us, || u64::MAX);
        for (what, c) in [("payments", &payments), ("background", &background)] {
            let got = c.metrics.canonical_blocks as f64 / (span_us as f64 / 1e6);
            // ~88,000 blocks over ~49,000 busy periods: the rate's standard error is about 0.27% (seeds 1-6 and 11
            // gave -0.33% to +0.68% for payments).
            assert!(
                (got / want - 1.0).abs() < 0.015,
                "{what}: {got:.5} blocks/s, want {want:.5}"
            );
        }
        assert!(sent.len() > 90_000);
        assert_eq!(
            background.metrics.background_arrived,
            background.metrics.txs_included + background.mempool_units,
            "every background arrival is included or waits"
        );
    }

    /// An empty block committed at its height's start (no event at its commit) changes nothing anyone sees:
    /// against the same chain that always waits for the commit (a horizon of 0 turns the shortcut off), the
    /// market bids and base fees wallets read, when each transfer is reported included, and the hourly figures
    /// are the same, with full blocks (fee floors) and under EIP-1559 (base fee moves until it reaches its floor).
    #[test]
    fn committing_an_unseen_empty_block_early_changes_nothing_seen() {
        for fee_market in [
            FeeMarket::FirstPrice,
            FeeMarket::Eip1559 { initial_base: 64 },
        ] {
            let spec = ChainSpec {
                block_capacity: 3,
                fee_market,
                ..bft(true, 0, 0.0)
            };
            let run = |horizon: u64| {
                let mut c = ChainState::new(&spec, 0, "shared", 7, 3).with_horizon(horizon);
                let mut q = EventQueue::new();
                c.start(&spec, &mut q);
                let mut s = rng::stream(5, "arrivals");
                // One transfer a second in the first half of each hour, one a minute in the second (the base
                // fee falls to its floor there, and the floors empty).
                let rate = |t: f64| if t % 3.6e9 < 1.8e9 { 1.0 } else { 1.0 / 60.0 };
                let (mut next, mut seen, mut events) = (0.0_f64, Vec::new(), 0);
                loop {
                    let tick = q.peek_time().expect("a BFT chain always ticks");
                    let tx_at = next.round() as u64;
                    if tx_at.min(tick) > 3 * 3_600_000_000 {
                        return (seen, c.metrics.hourly.clone(), events);
                    }
                    if tx_at < tick {
                        // What a wallet would bid, read now; the transfer itself bids one of seven levels.
                        let market = c.market_bid(100);
                        let bid = 100 + seen.len() as u64 % 7;
                        let tx = c.submit(
                            &spec,
                            0,
                            bid,
                            c.base_fee.saturating_mul(2).saturating_add(bid),
                        );
                        c.on_submit(tx_at, &mut q);
                        seen.push((tx_at, tx, market, c.base_fee));
                        let e: f64 = Exp1.sample(&mut s);
                        next += e / rate(next) * 1e6;
                    } else {
                        let (t, _) = q.pop().expect("a tick");
                        c.on_tick(&spec, None, t, &mut q);
                        events += 1;
                        for (_, tx) in c.ready.drain(..) {
                            seen.push((t, tx, 0, 0));
                        }
                    }
                }
            };
            let (late, late_hours, late_events) = run(0);
            let (early, early_hours, early_events) = run(u64::MAX);
            assert_eq!(late, early, "{fee_market:?}");
            assert_eq!(late_hours, early_hours, "{fee_market:?}");
            // The shortcut was taken: one event fewer for each empty block committed early (about 1,400 of
            // the 9,400 heights: a fifth are empty, and an empty block after a full one sets the floor).
            assert!(
                early_events + 1_000 < late_events,
                "{early_events} of {late_events}"
            );
        }
    }

    /// Background load only during a burst (0.5 tx/s from 1,000 s to 3,000 s, none outside it): a chain without
    /// empty blocks sleeps through the quiet, wakes at the burst's first arrival, makes the renewal formula's
    /// blocks during it, and stops within a height or two of its end. A quiet chain (rate 0 throughout) with a
    /// burst that starts after a rate change at 500 s (a second burst of 0 tx/s) reaches it as well.
    #[test]
    fn an_idle_chain_follows_background_bursts() {
        let burst = |from_s: u64, to_s: u64, tx_per_s: f64| crate::model::chain::spec::Burst {
            from_us: from_s * 1_000_000,
            to_us: to_s * 1_000_000,
            tx_per_s,
            fee_multiplier: 1.0,
        };
        for bursts in [
            vec![burst(1_000, 3_000, 0.5)],
            vec![burst(500, 900, 0.0), burst(1_000, 3_000, 0.5)],
        ] {
            let spec = ChainSpec {
                bursts,
                ..bft(false, 0, 0.0)
            };
            let (c, _) = run_until(&spec, 5_000_000_000, || u64::MAX);
            let m = &c.metrics;
            assert!(
                m.first_block_us > 1_000_000_000,
                "first block at {}",
                m.first_block_us
            );
            assert!(
                m.last_block_us < 3_005_000_000,
                "last block at {}",
                m.last_block_us
            );
            // 0.4395 blocks a second over 2,000 s: 879, with a standard error of about 2.7%.
            let want = 2_000.0 * 0.4395;
            let got = m.canonical_blocks as f64;
            assert!(
                (got / want - 1.0).abs() < 0.12,
                "{got} blocks, want about {want}"
            );
            assert_eq!(m.background_arrived, m.txs_included);
        }
    }

    /// `next_arrival` against the integrated rate by hand: 0.2 tx/s up to 10 s, none from 10 s to 20 s, 1 tx/s
    /// after (the base rate 1 tx/s, a burst of −0.8 before 10 s and one of −1 from 10 s to 20 s). A unit
    /// exponential E from the chain's own stream lands where the integrated rate reaches it.
    #[test]
    fn the_next_background_arrival_is_where_the_integrated_rate_reaches_an_exponential() {
        let burst = |from_s: u64, to_s: u64, tx_per_s: f64| crate::model::chain::spec::Burst {
            from_us: from_s * 1_000_000,
            to_us: to_s * 1_000_000,
            tx_per_s,
            fee_multiplier: 1.0,
        };
        let spec = ChainSpec {
            bursts: vec![burst(0, 10, -0.8), burst(10, 20, -1.0)],
            ..bft(false, 0, 1.0)
        };
        let mut c = ChainState::new(&spec, 0, "shared", 7, 1);
        // Integrated rate from `now` (seconds) to t: the inverse of that at E gives the arrival.
        let by_hand = |now: f64, e: f64| -> f64 {
            let before_10 = (10.0 - now).max(0.0) * 0.2;
            if e < before_10 {
                return now + e / 0.2;
            }
            now.max(20.0) + (e - before_10)
        };
        let mut checked = 0;
        for k in 0..400 {
            let now_s = (k % 25) as f64;
            let mut copy = c.stream.clone();
            let e: f64 = Exp1.sample(&mut copy);
            let got = c.next_arrival(&spec, (now_s * 1e6) as u64) as f64 / 1e6;
            let want = by_hand(now_s, e);
            assert!(
                (got - want).abs() <= 1.5e-6,
                "from {now_s} s, E = {e}: {got} s, want {want} s"
            );
            checked += usize::from(now_s < 10.0 && e > (10.0 - now_s) * 0.2);
        }
        assert!(checked > 50, "{checked} draws crossed both edges");
    }
}
