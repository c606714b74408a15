//! The simulator's pending-event queue: [`EventQueue`] owns every scheduled
//! but not yet processed event and hands them back in `(time, insertion
//! order)` order, so events at the same microsecond pop first-in first-out
//! and a run is fully deterministic.
//!
//! It is a *monotone radix heap*. Each entry gets a 128-bit key
//! `(time_us << 64) | seq`, where `seq` is a per-queue insertion counter, so
//! keys are unique and order exactly like `(time, seq)`. A radix heap only
//! works when no key smaller than the last popped key is ever inserted. That
//! holds for a discrete-event simulator: the clock never goes backwards, so a
//! new event is scheduled at `time >= now` (the time of the last popped
//! event), and a fresh `seq` is larger than every earlier one, so the new key
//! is strictly larger than the last popped key. [`EventQueue::push`] checks
//! this with `assert!`.
//!
//! Entries sit in buckets chosen by the highest bit in which their key
//! differs from the last popped key. Popping takes the lowest non-empty
//! bucket. If it holds more than one entry, its minimum becomes the new
//! reference key and the rest of its entries move to strictly lower buckets.
//! Each entry can only move down, at most 128 times, so push and pop cost
//! amortised O(key bits) no matter how many events are pending, with no
//! sift-up/sift-down over the whole set as in a binary heap. The textbook
//! layout has 129 buckets; bucket 0 would hold keys *equal* to the last
//! popped key. Keys are unique, so that bucket is never occupied between
//! calls, and we keep only buckets for bits 0..=127 (the 128-bit occupancy
//! mask fits in a `u128`).
//!
//! Each bucket caches its minimum key. That makes [`EventQueue::peek_time`]
//! O(1) through `&self`, and a redistribution needs only one pass. Bucket
//! `Vec`s keep their capacity: a bucket is moved out with `mem::take`, which
//! does not allocate, drained into lower buckets, and put back empty. Once
//! every bucket has reached its working size, push and pop do not allocate.
//! As a result, memory is the sum of each bucket's peak occupancy, not the
//! current number of pending events. It can rise by up to the pending count
//! the first time event times cross a new power of two, because the bucket
//! for that time bit then comes into use. Such growth is logarithmic in
//! simulated time.

use std::fmt;
use std::mem;

/// Number of buckets: one per bit position of the 128-bit key.
const BUCKETS: usize = 128;

#[derive(Clone)]
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn key(&self) -> u128 {
        make_key(self.time, self.seq)
    }
}

#[inline]
fn make_key(time: u64, seq: u64) -> u128 {
    (u128::from(time) << 64) | u128::from(seq)
}

/// Bucket for `key` relative to reference key `last`: the index of the
/// highest bit in which they differ. Requires `key != last`.
#[inline]
fn bucket_of(key: u128, last: u128) -> usize {
    debug_assert!(key > last, "radix heap key must exceed the reference key");
    (key ^ last).ilog2() as usize
}

#[derive(Clone)]
struct Bucket<E> {
    /// Smallest key in `items`; `u128::MAX` when empty.
    min: u128,
    items: Vec<Entry<E>>,
}

/// Monotone priority queue of simulation events ordered by
/// `(time_us, insertion order)`.
///
/// Invariant (checked by `assert!` in [`push`](Self::push)): an event may not
/// be scheduled before [`last_time`](Self::last_time), the time of the most
/// recently popped event.
#[derive(Clone)]
pub struct EventQueue<E> {
    buckets: Box<[Bucket<E>; BUCKETS]>,
    /// Bit `b` set iff `buckets[b]` is non-empty.
    occupied: u128,
    /// Key of the last popped event (0 before the first pop).
    last: u128,
    /// Sequence number for the next push. Starts at 1 so that even the first
    /// event at time 0 has a key strictly above the initial `last` of 0.
    next_seq: u64,
    len: usize,
}

impl<E> EventQueue<E> {
    /// Creates an empty queue. Nothing is allocated for entries until the
    /// first push.
    pub fn new() -> Self {
        Self {
            buckets: Box::new(std::array::from_fn(|_| Bucket {
                min: u128::MAX,
                items: Vec::new(),
            })),
            occupied: 0,
            last: 0,
            next_seq: 1,
            len: 0,
        }
    }

    /// Creates an empty queue with room reserved up front for a bulk initial
    /// load of about `n` events.
    ///
    /// Which bucket an event lands in depends on its time, so this is only a
    /// hint. While nothing has been popped, an event at time `t` goes to the
    /// bucket for bit `64 + ilog2(t)`. This reserves `n / 8` entries in each
    /// of the 15 buckets for `t` in `[2^6, 2^21)` µs (64 µs to about 2 s),
    /// about `1.9 * n` entries in all. Buckets still grow to their working
    /// sizes during warm-up.
    pub fn with_capacity(n: usize) -> Self {
        let mut q = Self::new();
        for bucket in &mut q.buckets[64 + 6..64 + 21] {
            bucket.items.reserve(n / 8);
        }
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
            time_us >= self.last_time(),
            "EventQueue::push: time {time_us} µs is before the last popped time {} µs",
            self.last_time()
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = make_key(time_us, seq);
        debug_assert!(key > self.last, "monotone radix heap invariant");
        let b = bucket_of(key, self.last);
        let bucket = &mut self.buckets[b];
        bucket.items.push(Entry {
            time: time_us,
            seq,
            event,
        });
        if key < bucket.min {
            bucket.min = key;
        }
        self.occupied |= 1u128 << b;
        self.len += 1;
    }

    /// Removes and returns the earliest event and its time, FIFO among equal
    /// times. The returned time becomes [`last_time`](Self::last_time).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        if self.occupied == 0 {
            return None;
        }
        let p = self.occupied.trailing_zeros() as usize;
        let new_last = self.buckets[p].min;
        self.last = new_last;
        self.len -= 1;

        let bucket = &mut self.buckets[p];
        if bucket.items.len() == 1 {
            // Common fast path: nothing to redistribute.
            let e = bucket.items.pop().expect("bucket marked occupied");
            bucket.min = u128::MAX;
            self.occupied &= !(1u128 << p);
            return Some((e.time, e.event));
        }

        // Move the bucket out without allocating (an empty Vec is left in
        // place), spread all but its minimum over strictly lower buckets, then
        // put the emptied Vec back so its capacity is reused.
        let mut items = mem::take(&mut bucket.items);
        bucket.min = u128::MAX;
        self.occupied &= !(1u128 << p);
        let mut found = None;
        for e in items.drain(..) {
            let key = e.key();
            if key == new_last {
                found = Some(e);
                continue;
            }
            let b = bucket_of(key, new_last);
            debug_assert!(b < p);
            let target = &mut self.buckets[b];
            target.items.push(e);
            if key < target.min {
                target.min = key;
            }
            self.occupied |= 1u128 << b;
        }
        self.buckets[p].items = items;
        let e = found.expect("cached bucket minimum must be present in the bucket");
        Some((e.time, e.event))
    }

    /// Time of the earliest pending event, without removing it. O(1) through
    /// `&self` because every bucket caches its minimum key.
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        if self.occupied == 0 {
            return None;
        }
        let p = self.occupied.trailing_zeros() as usize;
        Some((self.buckets[p].min >> 64) as u64)
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
        (self.last >> 64) as u64
    }

    /// Total entry capacity held by the buckets (test helper for the
    /// "no allocation in steady state" property).
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.buckets.iter().map(|b| b.items.capacity()).sum()
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
