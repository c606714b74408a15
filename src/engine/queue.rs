//! The simulator's pending-event queue: [`EventQueue`] owns every scheduled
//! but not yet processed event and hands them back in `(time, insertion
//! order)` order, so events at the same microsecond pop first-in first-out
//! and a run is fully deterministic.
//!
//! It is a *monotone radix heap on times*, with insertion order restored only
//! where it can be lost. A radix heap works when no key smaller than the last
//! popped key is ever inserted; that holds for a discrete-event simulator,
//! whose clock never goes backwards ([`EventQueue::push`] asserts it).
//!
//! Bucket 0 holds the events at exactly the last popped time, in insertion
//! order (a FIFO). Bucket `b >= 1` holds the events whose time differs from
//! the last popped time first in bit `b - 1`. Popping takes the head of bucket
//! 0; when it is empty, the lowest non-empty bucket is spread out: its minimum
//! time becomes the last popped time, the events at that time go to bucket 0
//! and the rest to strictly lower buckets. Each event moves down at most 64
//! times, so push and pop cost amortised O(time bits) however many events are
//! pending.
//!
//! Why insertion order survives with keys of time alone, without sequence
//! numbers: every pending event at time `t` sits in the bucket for the
//! highest bit where `t` differs from the last popped time. Spreading bucket
//! `p` moves the last popped time only within bits below `p - 1`, so events in
//! higher buckets stay where they belong; events at one time are therefore
//! always in one bucket, together. Within it they are in insertion order: a
//! push appends, and a spreading pass moves a bucket's events in order and
//! all same-time events at once (none of them can already be in the target
//! bucket). When `t` becomes the last popped time they all reach the FIFO in
//! that order, and later pushes at `t` join its tail. Keys are 64-bit times,
//! not (time, sequence) pairs: 65 buckets instead of 129, no spreading over
//! sequence bits and 8 bytes less per event — the cost of a plain radix heap.
//!
//! Each bucket caches its minimum time, so [`EventQueue::peek_time`] is O(1)
//! through `&self`. A bucket is a list of fixed-size chunks taken from a pool
//! shared by all buckets: spreading a bucket returns its chunks to the pool as
//! it drains them, and the buckets below take them from there. Memory is
//! therefore the peak number of pending events (plus at most one partly filled
//! chunk per bucket), not the sum of each bucket's peak occupancy — which, with
//! per-bucket `Vec`s, grew to several times the events pending in a long run.
//! The FIFO of bucket 0 is a list of chunks from the same pool: a burst of
//! events at one time (every payment held by a holiday, released at the
//! morning's opening) fills it with the chunks that spreading just freed, not
//! with a doubling array beside them. Once the pool holds enough chunks, push
//! and pop do not allocate.

use std::collections::VecDeque;
use std::fmt;
use std::mem;

/// Buckets 1..=64, one per bit position of a 64-bit time (bucket 0 is the FIFO).
const BUCKETS: usize = 64;

/// Entries per chunk of a bucket.
const CHUNK: usize = 256;

#[derive(Clone)]
struct Entry<E> {
    time: u64,
    event: E,
}

/// A chunk of a bucket or of the FIFO: at most `CHUNK` entries in insertion order.
type Chunk<E> = VecDeque<Entry<E>>;

fn new_chunk<E>() -> Chunk<E> {
    VecDeque::with_capacity(CHUNK)
}

/// Bucket (1..=64) for `time` relative to the last popped time `last`:
/// one more than the highest bit in which they differ. Requires `time > last`.
#[inline]
fn bucket_of(time: u64, last: u64) -> usize {
    debug_assert!(time > last, "radix heap key must exceed the reference key");
    64 - (time ^ last).leading_zeros() as usize
}

/// Monotone priority queue of simulation events ordered by
/// `(time_us, insertion order)`.
///
/// Invariant (checked by `assert!` in [`push`](Self::push)): an event may not
/// be scheduled before [`last_time`](Self::last_time), the time of the most
/// recently popped event.
#[derive(Clone)]
pub struct EventQueue<E> {
    /// Events at exactly `last`, in insertion order: the head chunk (read from, kept across bursts), then
    /// further chunks (none empty; all full but the last). When the head is empty so are the others.
    head: Chunk<E>,
    rest: VecDeque<Chunk<E>>,
    /// `buckets[b - 1]` is bucket `b`: its events in insertion order, in chunks of `CHUNK` (all full but the
    /// last).
    buckets: Box<[Vec<Chunk<E>>; BUCKETS]>,
    /// Empty chunks (capacity `CHUNK`) for any bucket to take.
    pool: Vec<Chunk<E>>,
    /// Minimum time of each bucket (`u64::MAX` when empty).
    mins: [u64; BUCKETS],
    /// Bit `b - 1` set iff bucket `b` is non-empty.
    occupied: u64,
    /// Time of the last popped event (0 before the first pop).
    last: u64,
    len: usize,
}

impl<E> EventQueue<E> {
    /// Creates an empty queue. Nothing is allocated for entries until the
    /// first push.
    pub fn new() -> Self {
        Self {
            head: VecDeque::new(),
            rest: VecDeque::new(),
            buckets: Box::new(std::array::from_fn(|_| Vec::new())),
            pool: Vec::new(),
            mins: [u64::MAX; BUCKETS],
            occupied: 0,
            last: 0,
            len: 0,
        }
    }

    /// Creates an empty queue with room reserved up front for about `n`
    /// pending events (chunks in the pool, for any bucket).
    pub fn with_capacity(n: usize) -> Self {
        let mut q = Self::new();
        q.pool = (0..n.div_ceil(CHUNK)).map(|_| new_chunk()).collect();
        q
    }

    /// Schedules `event` at `time_us`. Among events with equal time, those
    /// pushed earlier pop earlier.
    ///
    /// # Panics
    ///
    /// Panics if `time_us < self.last_time()`: the queue is monotone and
    /// cannot hold events in the past.
    #[inline]
    pub fn push(&mut self, time_us: u64, event: E) {
        assert!(
            time_us >= self.last,
            "EventQueue::push: time {time_us} µs is before the last popped time {} µs",
            self.last
        );
        let e = Entry {
            time: time_us,
            event,
        };
        self.len += 1;
        if time_us == self.last {
            self.push_now(e);
            return;
        }
        let b = bucket_of(time_us, self.last) - 1;
        self.put(b, e);
    }

    /// Appends `e` to bucket `b + 1`, taking a chunk from the pool when the last one is full.
    #[inline]
    fn put(&mut self, b: usize, e: Entry<E>) {
        if e.time < self.mins[b] {
            self.mins[b] = e.time;
        }
        self.occupied |= 1 << b;
        let bucket = &mut self.buckets[b];
        match bucket.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push_back(e),
            _ => {
                let mut chunk = self.pool.pop().unwrap_or_else(new_chunk);
                chunk.push_back(e);
                bucket.push(chunk);
            }
        }
    }

    /// Appends `e` to the FIFO of events at the last popped time.
    #[inline]
    fn push_now(&mut self, e: Entry<E>) {
        if self.rest.is_empty() && self.head.len() < CHUNK {
            self.head.push_back(e);
            return;
        }
        match self.rest.back_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push_back(e),
            _ => {
                let mut chunk = self.pool.pop().unwrap_or_else(new_chunk);
                chunk.push_back(e);
                self.rest.push_back(chunk);
            }
        }
    }

    /// Removes and returns the earliest event and its time, FIFO among equal
    /// times. The returned time becomes [`last_time`](Self::last_time).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        if self.head.is_empty() {
            if self.occupied == 0 {
                return None;
            }
            self.spread();
        }
        self.len -= 1;
        let e = self.head.pop_front().expect("spreading fills the FIFO");
        if self.head.is_empty()
            && let Some(next) = self.rest.pop_front()
        {
            let done = mem::replace(&mut self.head, next);
            self.pool.push(done);
        }
        Some((e.time, e.event))
    }

    /// Spreads the lowest non-empty bucket: its minimum time becomes the last
    /// popped time, its events at that time go to the FIFO (in insertion
    /// order, see the module docs), the others to lower buckets.
    fn spread(&mut self) {
        let p = self.occupied.trailing_zeros() as usize;
        let m = self.mins[p];
        self.last = m;
        self.mins[p] = u64::MAX;
        self.occupied &= !(1 << p);
        // Move the bucket's chunk list out without allocating (an empty Vec is
        // left in place); each chunk goes back to the pool once drained, so
        // the buckets below reuse it, and the emptied list is put back.
        let mut chunks = mem::take(&mut self.buckets[p]);
        for mut chunk in chunks.drain(..) {
            for e in chunk.drain(..) {
                if e.time == m {
                    self.push_now(e);
                    continue;
                }
                let b = bucket_of(e.time, m) - 1;
                debug_assert!(b < p);
                self.put(b, e);
            }
            self.pool.push(chunk);
        }
        self.buckets[p] = chunks;
    }

    /// Time of the earliest pending event, without removing it. O(1) through
    /// `&self` because every bucket caches its minimum time.
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        if !self.head.is_empty() {
            return Some(self.last);
        }
        if self.occupied == 0 {
            return None;
        }
        Some(self.mins[self.occupied.trailing_zeros() as usize])
    }

    /// Number of pending events.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no events are pending.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Time of the most recently popped event (0 before the first pop). This
    /// is the earliest time [`push`](Self::push) accepts.
    #[inline]
    pub fn last_time(&self) -> u64 {
        self.last
    }

    /// Total entry capacity held by the FIFO, the buckets and the pool (test
    /// helper for the "no allocation in steady state" and "memory follows
    /// the events pending" properties).
    #[cfg(test)]
    fn capacity(&self) -> usize {
        let chunks: usize = self.buckets.iter().map(Vec::len).sum::<usize>() + self.pool.len();
        (chunks + self.rest.len()) * CHUNK + self.head.capacity()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventQueue")
            .field("len", &self.len)
            .field("last_time", &self.last_time())
            .field("next_time", &self.peek_time())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn empty_queue() {
        let mut q: EventQueue<u32> = EventQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(q.peek_time(), None);
        assert_eq!(q.pop(), None);
        assert_eq!(q.last_time(), 0);
    }

    #[test]
    fn fifo_tie_break_at_equal_time() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.push(5, i);
        }
        q.push(3, 1000);
        q.push(5, 100);
        assert_eq!(q.pop(), Some((3, 1000)));
        for i in 0..=100u32 {
            assert_eq!(q.pop(), Some((5, i)));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn fifo_tie_break_with_interleaved_pops_and_time_zero() {
        let mut q = EventQueue::new();
        q.push(0, 'a');
        q.push(0, 'b');
        assert_eq!(q.pop(), Some((0, 'a')));
        // Same time as the event just popped: still allowed, goes after 'b'.
        q.push(0, 'c');
        q.push(0, 'd');
        assert_eq!(q.pop(), Some((0, 'b')));
        assert_eq!(q.pop(), Some((0, 'c')));
        q.push(0, 'e');
        assert_eq!(q.pop(), Some((0, 'd')));
        assert_eq!(q.pop(), Some((0, 'e')));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn push_before_current_head_but_after_now() {
        let mut q = EventQueue::new();
        q.push(10, 1);
        q.push(100, 2);
        assert_eq!(q.pop(), Some((10, 1)));
        assert_eq!(q.peek_time(), Some(100));
        q.push(50, 3);
        assert_eq!(q.peek_time(), Some(50));
        assert_eq!(q.pop(), Some((50, 3)));
        assert_eq!(q.last_time(), 50);
        assert_eq!(q.pop(), Some((100, 2)));
    }

    #[test]
    fn extreme_times() {
        let mut q = EventQueue::new();
        q.push(u64::MAX, 2);
        q.push(u64::MAX - 1, 1);
        q.push(u64::MAX, 3);
        assert_eq!(q.pop(), Some((u64::MAX - 1, 1)));
        assert_eq!(q.pop(), Some((u64::MAX, 2)));
        q.push(u64::MAX, 4);
        assert_eq!(q.pop(), Some((u64::MAX, 3)));
        assert_eq!(q.pop(), Some((u64::MAX, 4)));
        assert_eq!(q.last_time(), u64::MAX);
    }

    #[test]
    #[should_panic(expected = "before the last popped time")]
    fn push_into_the_past_panics() {
        let mut q = EventQueue::new();
        q.push(10, ());
        q.pop();
        q.push(9, ());
    }

    #[test]
    fn with_capacity_behaves_like_new() {
        let mut q = EventQueue::with_capacity(1000);
        for t in (0..1000u64).rev() {
            q.push(t * 7, t);
        }
        for t in 0..1000u64 {
            assert_eq!(q.pop(), Some((t * 7, t)));
        }
        assert!(q.is_empty());
    }

    /// Hold model: after warm-up, bucket capacities almost never change, so
    /// push and pop do not allocate. A bucket grows only when it reaches a
    /// new peak occupancy, mainly when event times first cross a new power of
    /// two (a bucket for a higher time bit comes into use). That happens a
    /// logarithmic number of times, so reallocations are rare, not per event.
    #[test]
    fn steady_state_hold_rarely_allocates() {
        const PENDING: u32 = 10_000;
        const OPS: u32 = 1_000_000;
        let mut q = EventQueue::new();
        // Small deterministic xorshift generator; delays ~ Exp(mean 1000 µs).
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut delay = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            (-(1.0 - u).ln() * 1000.0) as u64
        };
        for i in 0..PENDING {
            q.push(delay(), i);
        }
        let mut hold = |q: &mut EventQueue<u32>| {
            let (t, e) = q.pop().unwrap();
            q.push(t + delay(), e);
        };
        for _ in 0..OPS / 2 {
            hold(&mut q);
        }
        let mut reallocs = 0;
        let mut prev = q.capacity();
        for _ in 0..OPS {
            hold(&mut q);
            let c = q.capacity();
            if c != prev {
                reallocs += 1;
                prev = c;
            }
        }
        assert_eq!(q.len(), PENDING as usize);
        // 2M push/pop calls; observed ~35 Vec doublings (about 3 buckets
        // each reaching a new peak).
        assert!(
            reallocs <= 100,
            "{reallocs} reallocations in {OPS} hold ops"
        );
    }

    /// Events far apart in time spread through many buckets in turn: the
    /// capacity stays near the peak number pending (chunks move between
    /// buckets through the pool), where per-bucket `Vec`s held the sum of
    /// every bucket's peak.
    #[test]
    fn capacity_follows_the_events_pending() {
        const PENDING: u64 = 20_000;
        let mut q = EventQueue::new();
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut delay = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Delays over 30 bits of time: every bucket up to 30 comes into use.
            s >> 34
        };
        for i in 0..PENDING {
            q.push(delay(), i);
        }
        for _ in 0..20 * PENDING {
            let (t, e) = q.pop().expect("pending");
            q.push(t + delay(), e);
        }
        let slack = BUCKETS * CHUNK;
        assert!(
            q.capacity() <= PENDING as usize + slack + CHUNK,
            "capacity {} for {PENDING} pending",
            q.capacity()
        );
    }

    /// A burst of events at one time (payments held by a holiday, released at the opening) moves into the FIFO
    /// in the chunks spreading frees: memory stays the events pending, not twice that.
    #[test]
    fn a_burst_at_one_time_reuses_the_chunks_spreading_frees() {
        const BURST: u64 = 50_000;
        let mut q = EventQueue::new();
        for i in 0..BURST {
            q.push(1_000, i);
        }
        assert_eq!(q.pop(), Some((1_000, 0)));
        assert!(
            q.capacity() <= BURST as usize + 2 * CHUNK,
            "capacity {} for a burst of {BURST}",
            q.capacity()
        );
        for i in 1..BURST {
            assert_eq!(q.pop(), Some((1_000, i)));
        }
        assert_eq!(q.pop(), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Push at `last popped time + delta` (saturating).
        Push(u64),
        Pop,
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        let delta = prop_oneof![
            4 => 0u64..3,
            4 => 0u64..1_000,
            1 => any::<u64>(),
        ];
        prop_oneof![
            3 => delta.prop_map(Op::Push),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn matches_binary_heap(ops in prop::collection::vec(op_strategy(), 0..600)) {
            let mut q = EventQueue::new();
            let mut model: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Push(delta) => {
                        let t = now.saturating_add(delta);
                        q.push(t, seq);
                        model.push(Reverse((t, seq)));
                        seq += 1;
                    }
                    Op::Pop => {
                        let got = q.pop();
                        let want = model.pop().map(|Reverse(x)| x);
                        prop_assert_eq!(got, want);
                        if let Some((t, _)) = want {
                            now = t;
                        }
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.is_empty(), model.is_empty());
                prop_assert_eq!(q.last_time(), now);
                prop_assert_eq!(q.peek_time(), model.peek().map(|Reverse((t, _))| *t));
            }
            while let Some(Reverse(want)) = model.pop() {
                prop_assert_eq!(q.pop(), Some(want));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }
}
