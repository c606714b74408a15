//! Gossip over a peer graph (`Network::Gossip`): the messages of block relay as Bitcoin nodes exchange them, the
//! nodes' upload links, and the same relay for proof-of-stake blocks and BFT proposals and votes.
//!
//! A node that has validated a block announces it (inv) to each peer; a peer that wants it (the block would
//! extend its best chain) requests it (getdata) from the first node that announced it, and that node sends it
//! over its upload link, one transfer at a time in the order the requests arrived (a FIFO link, as SimBlock and
//! real sockets do). The block goes whole, or as a compact block (BIP 152: header and short ids) of which a share
//! lacks transactions and costs a further round trip (getblocktxn → blocktxn). Every message pays the
//! region-to-region latency once; only blocks pay transmission time (announcements and requests are tens of
//! bytes). The receiver validates the block before it adopts and announces it.
//!
//! Nakamoto chains run these messages as `Ev::BlockArrive` events in the simulation's queue, since competing
//! blocks interleave and fork. The event's `node` field carries the message: its kind, sender and receiver,
//! packed by `pack` (14 bits a node: at most 16,384 nodes; validation allows 10,000). Proof-of-stake and BFT
//! blocks do not fork, so each proposal's spread is computed at once by `spread` (the same protocol, run on a
//! small local queue). BFT votes are small messages pushed along the graph: the delay from validator j to i is the
//! shortest path in latency, written once per network as `out[j] + between[region j][region i] + into[i]` (a
//! least-squares additive fit of the exact all-pairs matrix, `VoteDelays`), so that the time each validator holds
//! a quorum is an order statistic per region and a height costs O(regions × validators), never n².

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::queue::EventQueue;
use crate::model::chain::spec::{Gossip, Relay, TxRelay, Upload, bft_quorum};
use crate::model::event::Ev;
use crate::rng::{self, Stream};

/// Message kinds, packed into `Ev::BlockArrive::node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// A whole block (or the missing transactions that complete a compact block) arrives.
    Block = 0,
    /// The receiver has validated the block: it adopts and announces it (an event to itself).
    Validated = 1,
    /// An announcement.
    Inv = 2,
    /// A request for the block announced.
    GetData = 3,
    /// A compact block arrives.
    Compact = 4,
    /// A request for the transactions a compact block lacked.
    GetBlockTxn = 5,
    /// A shared upload link may have finished a transfer (the sender is the node; an event at another time than
    /// the link's scheduled one is stale).
    UploadDone = 6,
}

const NODE_BITS: u32 = 14;
const NODE_MASK: u32 = (1 << NODE_BITS) - 1;
/// Nodes a packed message can name.
pub const NODES_MAX: usize = 1 << NODE_BITS;

/// One message in 32 bits: kind (3 bits), sender and receiver (14 bits each).
pub fn pack(kind: Msg, from: usize, to: usize) -> u32 {
    debug_assert!(from < NODES_MAX && to < NODES_MAX);
    (kind as u32) << (2 * NODE_BITS) | (from as u32) << NODE_BITS | to as u32
}

pub fn unpack(x: u32) -> (Msg, usize, usize) {
    let kind = match x >> (2 * NODE_BITS) {
        0 => Msg::Block,
        1 => Msg::Validated,
        2 => Msg::Inv,
        3 => Msg::GetData,
        4 => Msg::Compact,
        5 => Msg::GetBlockTxn,
        6 => Msg::UploadDone,
        k => unreachable!("message kind {k}"),
    };
    (
        kind,
        ((x >> NODE_BITS) & NODE_MASK) as usize,
        (x & NODE_MASK) as usize,
    )
}

/// Where a message goes: the simulation's queue or a local one.
pub trait Post {
    fn post(&mut self, at_us: u64, msg: u32, block: u32);
}

/// The simulation's queue, for chain `chain`.
pub struct Global<'a> {
    pub q: &'a mut EventQueue<Ev>,
    pub chain: u16,
}

impl Post for Global<'_> {
    fn post(&mut self, at_us: u64, msg: u32, block: u32) {
        self.q.push(
            at_us,
            Ev::BlockArrive {
                chain: self.chain,
                node: msg,
                block,
            },
        );
    }
}

/// Blocks whose per-node relay state is kept; a message about an older block is dropped (it is 64 blocks
/// behind the newest: every node has long moved on).
const RING: usize = 64;
const WANTS_NOTHING: u8 = 0;
const REQUESTED: u8 = 1;
const HAS: u8 = 2;

#[derive(Clone, Debug)]
struct Slot {
    block: u32,
    state: Vec<u8>,
}

/// A shared upload link (`Upload::Shared`): the transfers under way share the bandwidth equally. Each transfer
/// is tagged with the bytes a transfer must have received when it is done (`served` at its start plus its size),
/// so the next to finish is the smallest tag, whatever the number of transfers in between.
#[derive(Clone, Debug, Default)]
struct Link {
    /// Bytes each transfer under way has received since the link was last idle.
    served: f64,
    last_us: u64,
    /// When its `UploadDone` is scheduled (u64::MAX: none). At most one is valid: a new transfer makes the next
    /// completion later (more sharing) unless it is small enough to finish first, and only then is an earlier
    /// event scheduled, which leaves the later one stale.
    scheduled_us: u64,
    /// (finish tag, message to deliver, block).
    jobs: Vec<(f64, u32, u32)>,
}

/// The running relay: each node's upload link and, per recent block, what each node holds.
#[derive(Clone, Debug)]
pub struct Relays {
    /// FIFO links: when each node's upload link is free again.
    busy_until: Vec<u64>,
    /// Shared links (empty under FIFO).
    links: Vec<Link>,
    slots: Vec<Slot>,
}

/// What a message did, for the chain to act on.
pub enum Step {
    Nothing,
    /// `node` has validated the block: the chain decides whether it adopts it (and then calls `announce`).
    Validated(usize),
}

impl Relays {
    pub fn new(g: &Gossip, ring: usize) -> Relays {
        Relays {
            busy_until: vec![0; g.nodes()],
            links: match g.upload {
                Upload::Shared => vec![
                    Link {
                        scheduled_us: u64::MAX,
                        ..Link::default()
                    };
                    g.nodes()
                ],
                Upload::Fifo => Vec::new(),
            },
            slots: (0..ring)
                .map(|_| Slot {
                    block: u32::MAX,
                    state: vec![WANTS_NOTHING; g.nodes()],
                })
                .collect(),
        }
    }

    pub fn for_events(g: &Gossip) -> Relays {
        Relays::new(g, RING)
    }

    /// A new block at `node` (its producer): the ring slot is reset for it.
    pub fn produced(&mut self, block: u32, node: usize) {
        let n = self.slots.len();
        let slot = &mut self.slots[block as usize % n];
        slot.block = block;
        slot.state.fill(WANTS_NOTHING);
        slot.state[node] = HAS;
    }

    fn state(&mut self, block: u32) -> Option<&mut [u8]> {
        let n = self.slots.len();
        let slot = &mut self.slots[block as usize % n];
        (slot.block == block).then_some(&mut slot.state[..])
    }

    /// `node` announces `block` to each peer that does not hold it yet; returns the messages sent. An
    /// announcement to a peer that has already requested the block from another node is counted but not
    /// scheduled: it can change nothing (a request is never withdrawn), so leaving it out of the queue only
    /// saves time.
    pub fn announce(
        &mut self,
        g: &Gossip,
        node: usize,
        block: u32,
        now: u64,
        out: &mut impl Post,
    ) -> u64 {
        let Some(state) = self.state(block) else {
            return 0;
        };
        let mut sent = 0;
        for &peer in &g.peers[node] {
            let peer = peer as usize;
            if state[peer] == WANTS_NOTHING {
                out.post(
                    now + g.latency(node, peer),
                    pack(Msg::Inv, node, peer),
                    block,
                );
            }
            sent += u64::from(state[peer] != HAS);
        }
        sent
    }

    /// Handles one message about `block` at its receiver. `wants`: the receiver would adopt the block (it
    /// extends its best chain). Returns the messages sent in reply and what happened.
    #[allow(clippy::too_many_arguments)]
    pub fn on_message(
        &mut self,
        g: &Gossip,
        stream: &mut Stream,
        msg: u32,
        block: u32,
        now: u64,
        wants: bool,
        out: &mut impl Post,
    ) -> (u64, Step) {
        let (kind, from, to) = unpack(msg);
        if kind == Msg::UploadDone {
            self.upload_done(g, from, now, out);
            return (0, Step::Nothing);
        }
        let Some(state) = self.state(block) else {
            return (0, Step::Nothing);
        };
        match kind {
            Msg::Inv => {
                if state[to] != WANTS_NOTHING || !wants {
                    return (0, Step::Nothing);
                }
                state[to] = REQUESTED;
                out.post(
                    now + g.latency(to, from),
                    pack(Msg::GetData, to, from),
                    block,
                );
                (1, Step::Nothing)
            }
            Msg::GetData => {
                // `to` holds the block; `from` asked for it.
                let (kind, bytes) = match g.relay {
                    Relay::Full => (Msg::Block, g.block_bytes),
                    Relay::Compact { compact_bytes, .. } => (Msg::Compact, compact_bytes),
                };
                self.send(g, to, from, kind, bytes, block, now, out);
                (1, Step::Nothing)
            }
            Msg::GetBlockTxn => {
                let Relay::Compact { missing_bytes, .. } = g.relay else {
                    unreachable!("only compact relay asks for missing transactions")
                };
                self.send(g, to, from, Msg::Block, missing_bytes, block, now, out);
                (1, Step::Nothing)
            }
            Msg::Compact => {
                let Relay::Compact { missing_share, .. } = g.relay else {
                    unreachable!("compact blocks only under compact relay")
                };
                if missing_share > 0.0 && rng::unit(stream) < missing_share {
                    out.post(
                        now + g.latency(to, from),
                        pack(Msg::GetBlockTxn, to, from),
                        block,
                    );
                    return (1, Step::Nothing);
                }
                self.received(g, to, block, now, out);
                (0, Step::Nothing)
            }
            Msg::Block => {
                self.received(g, to, block, now, out);
                (0, Step::Nothing)
            }
            Msg::Validated => (0, Step::Validated(to)),
            Msg::UploadDone => unreachable!("handled above"),
        }
    }

    /// `node` sends `bytes` to `to` over its upload link; `kind` arrives one latency after the last byte left.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        g: &Gossip,
        node: usize,
        to: usize,
        kind: Msg,
        bytes: u64,
        block: u32,
        now: u64,
        out: &mut impl Post,
    ) {
        match g.upload {
            Upload::Fifo => {
                let at = self.upload(g, node, bytes, now) + g.latency(node, to);
                out.post(at, pack(kind, node, to), block);
            }
            Upload::Shared => {
                let rate = g.upload_bps[node] / 8e6; // bytes per µs
                let link = &mut self.links[node];
                advance(link, rate, now);
                link.jobs
                    .push((link.served + bytes as f64, pack(kind, node, to), block));
                schedule(link, node, rate, now, out);
            }
        }
    }

    /// A shared link's scheduled time: delivers every transfer whose tag has been served (none when transfers
    /// that arrived since made the others slower), and schedules the next. A stale event does nothing.
    fn upload_done(&mut self, g: &Gossip, node: usize, now: u64, out: &mut impl Post) {
        let rate = g.upload_bps[node] / 8e6;
        let link = &mut self.links[node];
        if link.scheduled_us != now {
            return;
        }
        link.scheduled_us = u64::MAX;
        advance(link, rate, now);
        let mut k = 0;
        while k < link.jobs.len() {
            let (tag, msg, block) = link.jobs[k];
            if tag <= link.served + DONE_EPSILON_BYTES {
                let (_, from, to) = unpack(msg);
                out.post(now + g.latency(from, to), msg, block);
                link.jobs.remove(k);
            } else {
                k += 1;
            }
        }
        if link.jobs.is_empty() {
            link.served = 0.0;
        }
        schedule(link, node, rate, now, out);
    }

    /// The whole block is at `node`: it validates it (an event to itself).
    fn received(&mut self, g: &Gossip, node: usize, block: u32, now: u64, out: &mut impl Post) {
        if let Some(state) = self.state(block) {
            if state[node] == HAS {
                return;
            }
            state[node] = HAS;
            out.post(now + g.validate_us, pack(Msg::Validated, node, node), block);
        }
    }

    /// `node` sends `bytes` over its upload link once it is free: returns when the last byte has left.
    fn upload(&mut self, g: &Gossip, node: usize, bytes: u64, now: u64) -> u64 {
        let start = self.busy_until[node].max(now);
        let done = start + g.transmit_us(node, bytes);
        self.busy_until[node] = done;
        done
    }
}

/// A transfer whose tag is within this many bytes of what has been served is done (rounding of event times).
const DONE_EPSILON_BYTES: f64 = 1e-3;

/// Brings a shared link's served bytes up to `now`: each of the n transfers under way received rate/n per µs.
fn advance(link: &mut Link, rate_bytes_per_us: f64, now: u64) {
    let n = link.jobs.len();
    if n > 0 {
        link.served += (now - link.last_us) as f64 * rate_bytes_per_us / n as f64;
    }
    link.last_us = now;
}

/// Schedules the shared link's next completion (the smallest tag) unless an event no later than it is already
/// scheduled (that one then finds nothing done yet and schedules again): one event per link at a time, not one
/// per change.
fn schedule(link: &mut Link, node: usize, rate_bytes_per_us: f64, now: u64, out: &mut impl Post) {
    let Some(next) = link.jobs.iter().map(|j| j.0).min_by(f64::total_cmp) else {
        return;
    };
    let n = link.jobs.len() as f64;
    let at = now + ((next - link.served).max(0.0) * n / rate_bytes_per_us).ceil() as u64;
    if at < link.scheduled_us {
        link.scheduled_us = at;
        out.post(at, pack(Msg::UploadDone, node, 0), 0);
    }
}

/// A local queue for `spread`: (time, message) in time order, ties by message then insertion (deterministic).
#[derive(Default, Debug, Clone)]
struct LocalQueue {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    seq: u64,
}

impl Post for LocalQueue {
    fn post(&mut self, at_us: u64, msg: u32, _block: u32) {
        self.seq += 1;
        self.heap.push(Reverse((at_us, self.seq, msg)));
    }
}

/// Reused state of `spread` (no allocation per proposal once warm).
#[derive(Clone, Debug)]
pub struct Spreader {
    relays: Relays,
    queue: LocalQueue,
    /// When each node validated the last proposal spread (u64::MAX: never).
    pub at: Vec<u64>,
}

impl Spreader {
    pub fn new(g: &Gossip) -> Spreader {
        Spreader {
            relays: Relays::new(g, 1),
            queue: LocalQueue::default(),
            at: vec![u64::MAX; g.nodes()],
        }
    }

    /// A block (proposal) made at `source` at `start` spreads by announce/request/transfer to every node:
    /// fills `at` with the time each node has validated it (the source: `start`). The nodes' upload links keep
    /// their state from one proposal to the next. Returns the messages sent.
    pub fn spread(&mut self, g: &Gossip, stream: &mut Stream, source: usize, start: u64) -> u64 {
        const BLOCK: u32 = 0;
        self.at.fill(u64::MAX);
        self.relays.produced(BLOCK, source);
        self.at[source] = start;
        let mut sent = self
            .relays
            .announce(g, source, BLOCK, start, &mut self.queue);
        while let Some(Reverse((t, _, msg))) = self.queue.heap.pop() {
            let (kind, _, to) = unpack(msg);
            let wants = kind == Msg::Inv && self.at[to] == u64::MAX;
            let (k, step) =
                self.relays
                    .on_message(g, stream, msg, BLOCK, t, wants, &mut self.queue);
            sent += k;
            if let Step::Validated(node) = step {
                self.at[node] = t;
                sent += self.relays.announce(g, node, BLOCK, t, &mut self.queue);
            }
        }
        sent
    }
}

/// Transactions relayed over the graph (`TxRelay::Trickle` or `Poisson`): a node that has a transaction announces
/// it to each peer after the protocol's delay, a peer requests it from the first node that announced it, and
/// the transaction (`tx_bytes`) comes back over the announcer's link (small: its transmission is paid, not
/// queued behind blocks). Each transaction's spread is computed at once on a local queue; the draws come from
/// the chain's own transaction stream.
#[derive(Clone, Debug, Default)]
pub struct TxFlood {
    /// (time, seq, receiver, sender or `RECEIVED`): an announcement to the receiver, or the transaction itself.
    heap: BinaryHeap<Reverse<(u64, u64, u32, u32)>>,
    seq: u64,
    requested: Vec<bool>,
    /// Whether each node sent this transaction to all its peers at once (trickle).
    blasted: Vec<bool>,
    /// The earliest announcement on its way to each node: a later one can never be the first (only the first
    /// announcer is asked), so it is not queued.
    first_inv: Vec<u64>,
    /// When each node has the transaction (u64::MAX: not yet).
    pub at: Vec<u64>,
}

const RECEIVED: u32 = u32::MAX;
/// Bitcoin Core's message loop sleeps 100 ms when idle (`ThreadMessageHandler`).
const TRICKLE_PASS_US: f64 = 100_000.0;
/// Bitcoin Core since 0.21: mean announcement intervals to outbound and inbound peers.
const INV_OUTBOUND_US: f64 = 2_000_000.0;
const INV_INBOUND_US: f64 = 5_000_000.0;

impl TxFlood {
    /// The delay before `node` announces a transaction to its k-th peer (`peers[node].len()` is its peer count;
    /// `k == peers` is one more, inbound peer: a measuring node). `blast`: this node sends this transaction to
    /// every peer at its next pass (trickle).
    fn announce_delay(g: &Gossip, stream: &mut Stream, node: usize, k: usize, blast: bool) -> u64 {
        let peers = g.peers[node].len();
        match g.tx_relay {
            TxRelay::Instant => 0,
            TxRelay::Trickle => {
                let pass = rng::unit(stream) * TRICKLE_PASS_US;
                if blast {
                    return pass as u64;
                }
                // Passes until this peer is drawn as the trickle peer: geometric, one chance in (peers) a pass.
                let n = (peers + usize::from(k >= peers)) as f64;
                let failures = if n <= 1.0 {
                    0.0
                } else {
                    (rng::unit(stream).max(f64::MIN_POSITIVE).ln() / (1.0 - 1.0 / n).ln()).floor()
                };
                (pass + failures * TRICKLE_PASS_US) as u64
            }
            TxRelay::Poisson => {
                let outbound = k < peers && g.outbound[node][k];
                let mean = if outbound {
                    INV_OUTBOUND_US
                } else {
                    INV_INBOUND_US
                };
                (-rng::unit(stream).max(f64::MIN_POSITIVE).ln() * mean) as u64
            }
        }
    }

    /// Whether `node` blasts this transaction (trickle: a quarter of the transactions it relays, never its own).
    fn blast(g: &Gossip, stream: &mut Stream, own: bool) -> bool {
        g.tx_relay == TxRelay::Trickle && !own && rng::unit(stream) < 0.25
    }

    /// A transaction of `tx_bytes` broadcast by `source` at `start` spreads to every node: fills `at`.
    pub fn spread(
        &mut self,
        g: &Gossip,
        stream: &mut Stream,
        source: usize,
        start: u64,
        tx_bytes: u64,
    ) -> &[u64] {
        let n = g.nodes();
        self.at.clear();
        self.at.resize(n, u64::MAX);
        self.requested.clear();
        self.requested.resize(n, false);
        self.blasted.clear();
        self.blasted.resize(n, false);
        self.first_inv.clear();
        self.first_inv.resize(n, u64::MAX);
        self.heap.clear();
        self.at[source] = start;
        self.requested[source] = true;
        self.announce(g, stream, source, start, false);
        while let Some(Reverse((t, _, to, from))) = self.heap.pop() {
            let to = to as usize;
            if from == RECEIVED {
                self.at[to] = t;
                self.blasted[to] = Self::blast(g, stream, false);
                self.announce(g, stream, to, t, self.blasted[to]);
            } else if !self.requested[to] {
                // getdata back to the first announcer, the transaction over its link.
                let from = from as usize;
                self.requested[to] = true;
                let back =
                    t + g.latency(to, from) + g.transmit_us(from, tx_bytes) + g.latency(from, to);
                self.push(back, to, RECEIVED);
            }
        }
        &self.at
    }

    fn announce(&mut self, g: &Gossip, stream: &mut Stream, node: usize, t: u64, blast: bool) {
        for k in 0..g.peers[node].len() {
            let peer = g.peers[node][k] as usize;
            if self.requested[peer] {
                continue;
            }
            let d = Self::announce_delay(g, stream, node, k, blast);
            let inv = t + d + g.latency(node, peer);
            if inv < self.first_inv[peer] {
                self.first_inv[peer] = inv;
                self.push(inv, peer, node as u32);
            }
        }
    }

    fn push(&mut self, t: u64, to: usize, from: u32) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, to as u32, from)));
    }

    /// What a measuring node connected to every node sees, as bitcoinstats.com measured (after Decker &
    /// Wattenhofer): each node's announcement to it (one more, inbound peer) arrives after that node's announcement
    /// delay and its latency to the observer's node; each node's delay is counted from the first announcement
    /// seen. Records every node's but the first's into `hist` (after `spread`).
    pub fn observe(
        &self,
        g: &Gossip,
        stream: &mut Stream,
        hist: &mut DelayHist,
        work: &mut Vec<u64>,
    ) {
        let obs = g.observer();
        work.clear();
        for node in 0..g.nodes() {
            if node == obs || self.at[node] == u64::MAX {
                continue;
            }
            let k = g.peers[node].len();
            let seen = self.at[node]
                + Self::announce_delay(g, stream, node, k, self.blasted[node])
                + g.latency(node, obs);
            work.push(seen);
        }
        let Some(&first) = work.iter().min() else {
            return;
        };
        let mut skipped = false;
        for &seen in work.iter() {
            if seen == first && !skipped {
                skipped = true;
                continue;
            }
            hist.record(seen - first);
        }
    }
}

/// Delays of small pushed messages (votes) between validators, as an additive fit of the exact shortest paths:
/// `delay(j → i) ≈ out[j] + between[r(j)][r(i)] + into[i]`.
#[derive(Clone, Debug)]
pub struct VoteDelays {
    pub out_us: Vec<f64>,
    pub into_us: Vec<f64>,
    pub between_us: Vec<Vec<f64>>,
    /// Region of each validator.
    pub region: Vec<usize>,
    /// Root-mean-square error of the fit against the exact delays, µs (reported by tests).
    pub fit_rms_us: f64,
}

impl VoteDelays {
    /// `validators`: the node of each validator. Cost: one Dijkstra per validator over the graph, once.
    pub fn new(g: &Gossip, validators: &[u32]) -> VoteDelays {
        let v = validators.len();
        let exact = exact_vote_delays(g, validators);
        let regions = g.latency_us.len();
        let region: Vec<usize> = validators
            .iter()
            .map(|&n| g.region_of[n as usize] as usize)
            .collect();
        // Alternating least squares on the off-diagonal entries: a few sweeps converge for this additive model.
        let (mut out, mut into) = (vec![0.0; v], vec![0.0; v]);
        let mut between = vec![vec![0.0; regions]; regions];
        for _ in 0..8 {
            let mut sum = vec![vec![(0.0, 0.0); regions]; regions];
            for j in 0..v {
                for i in (0..v).filter(|&i| i != j) {
                    let e = &mut sum[region[j]][region[i]];
                    e.0 += exact[j * v + i] - out[j] - into[i];
                    e.1 += 1.0;
                }
            }
            for (r, row) in sum.iter().enumerate() {
                for (s, &(total, count)) in row.iter().enumerate() {
                    between[r][s] = if count > 0.0 { total / count } else { 0.0 };
                }
            }
            for j in 0..v {
                let (mut total, mut count) = (0.0, 0.0);
                for i in (0..v).filter(|&i| i != j) {
                    total += exact[j * v + i] - between[region[j]][region[i]] - into[i];
                    count += 1.0;
                }
                out[j] = if count > 0.0 { total / count } else { 0.0 };
            }
            for i in 0..v {
                let (mut total, mut count) = (0.0, 0.0);
                for j in (0..v).filter(|&j| j != i) {
                    total += exact[j * v + i] - between[region[j]][region[i]] - out[j];
                    count += 1.0;
                }
                into[i] = if count > 0.0 { total / count } else { 0.0 };
            }
        }
        let (mut sq, mut count) = (0.0, 0.0);
        for j in 0..v {
            for i in (0..v).filter(|&i| i != j) {
                let fit = out[j] + between[region[j]][region[i]] + into[i];
                sq += (fit - exact[j * v + i]).powi(2);
                count += 1.0;
            }
        }
        VoteDelays {
            out_us: out,
            into_us: into,
            between_us: between,
            region,
            fit_rms_us: if count > 0.0 {
                (sq / count).sqrt()
            } else {
                0.0
            },
        }
    }
}

/// Exact shortest-path delays of a pushed vote between validators (row j: from validator j), µs: each hop pays
/// the latency and the vote's transmission at the sender's upload bandwidth.
pub fn exact_vote_delays(g: &Gossip, validators: &[u32]) -> Vec<f64> {
    let v = validators.len();
    let mut out = vec![0.0; v * v];
    let mut dist = vec![u64::MAX; g.nodes()];
    let mut heap = BinaryHeap::new();
    for (j, &src) in validators.iter().enumerate() {
        dist.fill(u64::MAX);
        dist[src as usize] = 0;
        heap.push(Reverse((0u64, src)));
        while let Some(Reverse((d, u))) = heap.pop() {
            let u = u as usize;
            if d > dist[u] {
                continue;
            }
            let hop = g.transmit_us(u, g.vote_bytes);
            for &w in &g.peers[u] {
                let nd = d + hop + g.latency(u, w as usize);
                if nd < dist[w as usize] {
                    dist[w as usize] = nd;
                    heap.push(Reverse((nd, w)));
                }
            }
        }
        for (i, &dst) in validators.iter().enumerate() {
            out[j * v + i] = dist[dst as usize] as f64;
        }
    }
    out
}

/// For each validator i: when it holds `quorum` votes, its own at `own[i]` and validator j's at
/// `sent[j] + delay(j → i)` (the additive fit). Per region of receivers, the others' votes are
/// `sent[j] + out[j] + between[r(j)][s]` shifted by `into[i]`: three order statistics per region answer every
/// validator of that region (one copy of its own broadcast removed). `votes` says who votes (online and heard
/// the proposal); a validator that does not vote still counts the others'. O(regions × validators).
pub fn quorum_times(
    d: &VoteDelays,
    own: &[u64],
    votes: &[bool],
    quorum: usize,
    work: &mut Vec<f64>,
    out: &mut Vec<u64>,
) {
    let n = own.len();
    out.clear();
    out.resize(n, u64::MAX);
    let regions = d.between_us.len();
    for s in 0..regions {
        if !d.region.contains(&s) {
            continue;
        }
        work.clear();
        work.extend(
            (0..n)
                .filter(|&j| votes[j])
                .map(|j| own[j] as f64 + d.out_us[j] + d.between_us[d.region[j]][s]),
        );
        let k = work.len();
        // The others' q-th vote for a voter (its own copy removed) and for a non-voter, 0-based index q−1.
        let q = quorum - 1;
        let pick = |work: &mut Vec<f64>, idx: usize| -> Option<f64> {
            (idx < work.len()).then(|| *work.select_nth_unstable_by(idx, f64::total_cmp).1)
        };
        let s_prev = if q >= 1 { pick(work, q - 1) } else { None };
        let s_q = pick(work, q);
        let s_next = pick(work, q + 1);
        for i in (0..n).filter(|&i| d.region[i] == s) {
            let into = d.into_us[i];
            let time = if votes[i] {
                // Others: the set without i's own broadcast copy `a`; i's own vote at own[i].
                let a = own[i] as f64 + d.out_us[i] + d.between_us[s][s];
                let others = |idx: usize| -> Option<f64> {
                    // idx-th of the set with one copy of `a` removed.
                    let at = match idx {
                        x if x + 1 == q => s_prev,
                        x if x == q => s_q,
                        _ => s_next,
                    };
                    let next = match idx {
                        x if x + 1 == q => s_q,
                        x if x == q => s_next,
                        _ => None,
                    };
                    at.and_then(|v| if v < a { Some(v) } else { next })
                };
                let o = own[i] as f64;
                // q-th smallest of {own} ∪ others(+into): own fills one rank.
                let t_q = others(q).map(|v| v + into);
                let t_prev = if q >= 1 {
                    others(q - 1).map(|v| v + into)
                } else {
                    None
                };
                if k < quorum {
                    None
                } else {
                    match t_q {
                        Some(tq) if o >= tq => Some(tq),
                        _ => Some(t_prev.map_or(o, |p| p.max(o))),
                    }
                }
            } else {
                s_q.map(|v| v + into)
            };
            // A validator acts on a quorum only once it holds the proposal (its own vote's time).
            out[i] = match time {
                Some(t) if votes[i] => t.max(own[i] as f64).round() as u64,
                Some(t) => t.max(0.0).round() as u64,
                None => u64::MAX,
            };
        }
    }
}

/// The network state a chain keeps while running.
pub enum NetState {
    Abstract,
    /// Nakamoto: messages as events.
    Events(Relays),
    /// Proof of stake and BFT: each proposal spread at once; BFT votes by the fitted delays.
    Spread(Box<Spreader>, Option<Box<VoteDelays>>),
}

/// Reused buffers of a BFT height under gossip.
#[derive(Clone, Debug, Default)]
pub struct BftGossipScratch {
    online: Vec<bool>,
    recv: Vec<u64>,
    voted: Vec<u64>,
    commit: Vec<u64>,
    work: Vec<f64>,
}

/// One BFT height over the gossip network: the proposal spreads from the proposer's node by
/// announce/request/transfer, each validator prevotes when it has validated it, precommits when it holds a quorum
/// of prevotes (`bft_quorum`) and commits on a quorum of precommits; votes travel by the fitted shortest-path
/// delays. The height commits when a quorum of validators have committed. Returns as `state::bft_height` does
/// (commit time, rounds, messages of the protocol: the proposal to every other validator and every vote to every
/// other validator).
#[allow(clippy::too_many_arguments)]
pub fn bft_height(
    stream: &mut Stream,
    s: &mut BftGossipScratch,
    spreader: &mut Spreader,
    votes: &VoteDelays,
    g: &Gossip,
    is_online: impl Fn(usize, u64) -> bool,
    n: usize,
    round_timeout_us: u64,
    height: usize,
    start: u64,
) -> (Option<u64>, u64, u64) {
    let quorum = bft_quorum(n);
    let mut t = start;
    let mut messages = 0;
    for round in 0..64_u64 {
        let timeout = round_timeout_us * (1 + round);
        s.online.clear();
        s.online.extend((0..n).map(|v| is_online(v, t)));
        let on = s.online.iter().filter(|&&o| o).count();
        if on < quorum {
            return (None, round + 1, messages);
        }
        let proposer = (height + round as usize) % n;
        if !s.online[proposer] {
            t += timeout; // nobody hears a proposal: the round times out, the next proposer takes over
            continue;
        }
        spreader.spread(g, stream, g.producers[proposer] as usize, t);
        s.recv.clear();
        s.recv
            .extend((0..n).map(|v| spreader.at[g.producers[v] as usize]));
        messages += on as u64 - 1;
        quorum_times(votes, &s.recv, &s.online, quorum, &mut s.work, &mut s.voted);
        messages += (on * (on - 1)) as u64;
        quorum_times(
            votes,
            &s.voted,
            &s.online,
            quorum,
            &mut s.work,
            &mut s.commit,
        );
        messages += (on * (on - 1)) as u64;
        s.work.clear();
        s.work
            .extend((0..n).filter(|&v| s.online[v]).map(|v| s.commit[v] as f64));
        let commit = *s.work.select_nth_unstable_by(quorum - 1, f64::total_cmp).1 as u64;
        if commit <= t + timeout {
            return (Some(commit), round + 1, messages);
        }
        t += timeout;
    }
    (None, 64, messages)
}

/// Per-node receive delays of blocks (from the block's production to the node's announcement of it), in
/// log-spaced bins of 1% width, for percentiles of what measurement studies report.
#[derive(Clone, Debug, Default)]
pub struct DelayHist {
    bins: Vec<u64>,
    pub count: u64,
    pub sum_us: u128,
    /// The exact extremes (0 while empty).
    pub min_us: u64,
    pub max_us: u64,
}

const BIN_WIDTH: f64 = 0.01;

impl DelayHist {
    fn bin(us: u64) -> usize {
        ((1.0 + us as f64 / 1000.0).ln() / BIN_WIDTH) as usize
    }

    pub fn record(&mut self, us: u64) {
        let b = Self::bin(us);
        if self.bins.len() <= b {
            self.bins.resize(b + 1, 0);
        }
        self.bins[b] += 1;
        self.min_us = if self.count == 0 {
            us
        } else {
            self.min_us.min(us)
        };
        self.max_us = self.max_us.max(us);
        self.count += 1;
        self.sum_us += us as u128;
    }

    /// The share of the values in bins wholly below the bin of `s` seconds: every value at most `s` when no
    /// value lies within 1% below it.
    pub fn share_below_s(&self, s: f64) -> f64 {
        let b = Self::bin((s * 1e6).round() as u64).min(self.bins.len());
        self.bins[..b].iter().sum::<u64>() as f64 / self.count.max(1) as f64
    }

    pub fn mean_s(&self) -> f64 {
        self.sum_us as f64 / self.count.max(1) as f64 / 1e6
    }

    /// The p-quantile in seconds (the middle of its bin: within 0.5% of the exact value above 1 s).
    pub fn quantile_s(&self, p: f64) -> f64 {
        let rank = (p * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, &c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let mid = ((b as f64 + 0.5) * BIN_WIDTH).exp() - 1.0;
                return mid / 1000.0;
            }
        }
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `quorum_times` against its definition, on random instances: a validator's quorum time is the quorum-th
    /// smallest of the times the votes reach it (its own at once when it votes; another's at own[j] + out[j] +
    /// between[r(j)][r(i)] + into[i]), never before it holds the proposal (own[i]), and none when too few vote.
    #[test]
    fn quorum_times_are_the_quorum_th_vote_each_validator_receives() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut work, mut out) = (Vec::new(), Vec::new());
        for _ in 0..2_000 {
            let n = rng.random_range(1..12_usize);
            let regions = rng.random_range(1..4_usize);
            let mut delay = |max: u64| rng.random_range(0..max) as f64 + 0.25;
            let between_us: Vec<Vec<f64>> = (0..regions)
                .map(|_| (0..regions).map(|_| delay(50_000)).collect())
                .collect();
            let out_us: Vec<f64> = (0..n).map(|_| delay(20_000)).collect();
            let into_us: Vec<f64> = (0..n).map(|_| delay(20_000)).collect();
            let own: Vec<u64> = (0..n).map(|_| rng.random_range(0..100_000)).collect();
            let region: Vec<usize> = (0..n).map(|_| rng.random_range(0..regions)).collect();
            let votes: Vec<bool> = (0..n).map(|_| rng.random_range(0..4) > 0).collect();
            let quorum = rng.random_range(1..=n);
            let d = VoteDelays {
                out_us,
                into_us,
                between_us,
                region,
                fit_rms_us: 0.0,
            };
            quorum_times(&d, &own, &votes, quorum, &mut work, &mut out);
            for i in 0..n {
                let mut times: Vec<f64> = (0..n)
                    .filter(|&j| votes[j])
                    .map(|j| {
                        if j == i {
                            own[i] as f64
                        } else {
                            own[j] as f64
                                + d.out_us[j]
                                + d.between_us[d.region[j]][d.region[i]]
                                + d.into_us[i]
                        }
                    })
                    .collect();
                times.sort_by(f64::total_cmp);
                let want = times.get(quorum - 1).map_or(u64::MAX, |&t| {
                    let t = if votes[i] { t.max(own[i] as f64) } else { t };
                    t.round() as u64
                });
                assert_eq!(
                    out[i], want,
                    "validator {i} of {n}, quorum {quorum} ({d:?}, own {own:?}, votes {votes:?})"
                );
            }
        }
    }

    /// Four nodes with the given peers and latencies: full blocks of 1 kB over shared 1 Mbit/s links, instant
    /// validation and transaction relay, producers 0 and 1.
    fn four_nodes(peers: Vec<Vec<u32>>, latency_us: Vec<Vec<u64>>) -> Gossip {
        let outbound = peers
            .iter()
            .enumerate()
            .map(|(i, ps)| ps.iter().map(|&p| (p as usize) > i).collect())
            .collect();
        Gossip {
            peers,
            outbound,
            region_of: vec![0, 1, 2, 3],
            latency_us,
            upload_bps: vec![1e6; 4],
            block_bytes: 1_000,
            relay: Relay::Full,
            upload: Upload::Shared,
            validate_us: 0,
            vote_bytes: 100,
            tx_relay: TxRelay::Instant,
            tx_probe_every_us: 0,
            producers: vec![0, 1],
        }
    }

    struct Posted(Vec<(u64, u32, u32)>);
    impl Post for Posted {
        fn post(&mut self, at_us: u64, msg: u32, block: u32) {
            self.0.push((at_us, msg, block));
        }
    }

    /// An announcement goes to every peer that does not hold the block; it is counted for a peer that has already
    /// requested the block elsewhere but not sent (it could change nothing), and a block that left the ring is
    /// announced to no one.
    #[test]
    fn announce_counts_every_peer_without_the_block_and_sends_to_those_that_want_it() {
        let latency_us = vec![
            vec![0, 10, 20, 30],
            vec![10, 0, 40, 50],
            vec![20, 40, 0, 60],
            vec![30, 50, 60, 0],
        ];
        let g = four_nodes(vec![vec![1], vec![0, 2, 3], vec![1], vec![1]], latency_us);
        let mut relays = Relays::new(&g, 4);
        relays.produced(5, 0);
        let state = relays.state(5).expect("in the ring");
        state[1] = HAS;
        state[2] = REQUESTED;
        let mut out = Posted(Vec::new());
        // Peers 0 (holds it), 2 (requested it) and 3 (wants nothing yet): two messages, one scheduled.
        assert_eq!(relays.announce(&g, 1, 5, 1_000, &mut out), 2);
        assert_eq!(out.0, vec![(1_050, pack(Msg::Inv, 1, 3), 5)]);
        // Node 0 announcing: its one peer holds the block.
        assert_eq!(relays.announce(&g, 0, 5, 1_000, &mut out), 0);
        // Block 1 shares block 5's slot in a ring of four: it is gone, nothing is sent.
        assert_eq!(relays.announce(&g, 1, 1, 1_000, &mut out), 0);
        assert_eq!(out.0.len(), 1);
    }

    /// The measuring node is the observer, the last node: `observe` hears every other node's announcement after
    /// that node's delay and its latency to the observer, and records each one after the first, from the first.
    /// Four nodes in four regions, instant relay (no announcement delay), hand-set receipt times.
    #[test]
    fn the_observer_is_the_last_node_and_hears_the_others_after_their_latency() {
        let latency_us = vec![
            vec![0, 10, 20, 1_000],
            vec![10, 0, 30, 3_000],
            vec![20, 30, 0, 7_000],
            vec![1_000, 3_000, 7_000, 0],
        ];
        let g = four_nodes(vec![vec![1], vec![0, 2], vec![1, 3], vec![2]], latency_us);
        assert_eq!(g.observer(), 3);
        let flood = TxFlood {
            at: vec![0, 100, 200, 50],
            blasted: vec![false; 4],
            ..TxFlood::default()
        };
        let (mut hist, mut work) = (DelayHist::default(), Vec::new());
        flood.observe(&g, &mut rng::stream(1, "test"), &mut hist, &mut work);
        // Seen at 0 + 1,000, 100 + 3,000 and 200 + 7,000: the first is 1,000, so 2,100 and 6,200 are recorded.
        assert_eq!(work, vec![1_000, 3_100, 7_200]);
        assert_eq!((hist.count, hist.min_us, hist.max_us), (2, 2_100, 6_200));
        assert_eq!(hist.sum_us, 8_300);
    }

    #[test]
    fn packing_round_trips() {
        for kind in [
            Msg::Block,
            Msg::Validated,
            Msg::Inv,
            Msg::GetData,
            Msg::Compact,
            Msg::GetBlockTxn,
            Msg::UploadDone,
        ] {
            for (from, to) in [(0, 0), (NODES_MAX - 1, 3), (9_999, NODES_MAX - 1)] {
                assert_eq!(unpack(pack(kind, from, to)), (kind, from, to));
            }
        }
    }

    #[test]
    fn histogram_quantiles_are_within_a_bin() {
        let mut h = DelayHist::default();
        for k in 1..=10_000_u64 {
            h.record(k * 1_000); // 1 ms .. 10 s
        }
        for p in [0.5, 0.9, 0.99] {
            let exact = p * 10.0;
            let got = h.quantile_s(p);
            assert!((got / exact - 1.0).abs() < 0.01, "p{p}: {got} vs {exact}");
        }
        assert!((h.mean_s() - 5.0005).abs() < 1e-9);
    }
}
