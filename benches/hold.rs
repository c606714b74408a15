//! Classic "hold" benchmark for the pending-event queue.
//!
//! Fill the queue with `N` events at exponential times (mean 1000 µs), then
//! repeat: pop the earliest event and push one at `now + Exp(mean 1000 µs)`.
//! The pending count stays exactly `N`. Each criterion iteration is a batch of
//! 1,000,000 hold operations on the same long-running queue, so the figures
//! are steady-state throughput (`Throughput::Elements` = hold operations/s).
//!
//! Three queues side by side at 1k, 100k and 1M pending: settlesim's
//! `EventQueue` (`radix_heap`: FIFO among equal times), a plain textbook radix
//! heap on u64 times written here for comparison (`plain_radix`: no order
//! among equal times, the bare limit), and std's `BinaryHeap` on (time, seq).
//!
//! In the main benchmarks, delays come from a precomputed table of 2^20 draws
//! (ChaCha8Rng with a fixed seed, rand_distr::Exp), so the measurement is the
//! queue cost alone. The `*_inline_rng` variants sample ChaCha8 + Exp inside
//! the loop for an end-to-end figure.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp;
use settlesim::engine::queue::EventQueue;

const SEED: u64 = 0x5E77_1E51_u64;
const MEAN_DELAY_US: f64 = 1000.0;
const BATCH: u64 = 1_000_000;
const TABLE_BITS: u32 = 20;
const TABLE_MASK: usize = (1 << TABLE_BITS) - 1;

/// 8-byte event payload, like a small simulator event enum.
#[derive(Clone, Copy, Debug)]
enum Ev {
    A(u32),
    B(u32),
}

const _: () = assert!(std::mem::size_of::<Ev>() == 8);

#[inline]
fn next_ev(ev: Ev) -> Ev {
    match ev {
        Ev::A(x) => Ev::B(x.wrapping_add(1)),
        Ev::B(x) => Ev::A(x),
    }
}

fn exp() -> Exp<f64> {
    Exp::new(1.0 / MEAN_DELAY_US).expect("valid rate")
}

fn draw(rng: &mut ChaCha8Rng, dist: &Exp<f64>) -> u64 {
    rng.sample(dist).round() as u64
}

fn delay_table() -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 1);
    let dist = exp();
    (0..1usize << TABLE_BITS)
        .map(|_| draw(&mut rng, &dist))
        .collect()
}

fn initial_times(n: usize) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let dist = exp();
    (0..n).map(|_| draw(&mut rng, &dist)).collect()
}

fn filled_radix(n: usize) -> EventQueue<Ev> {
    let mut q = EventQueue::with_capacity(n);
    for (i, t) in initial_times(n).into_iter().enumerate() {
        q.push(t, Ev::A(i as u32));
    }
    q
}

/// A plain monotone radix heap on u64 times (the textbook structure with
/// cached bucket minimums): bucket 0 holds times equal to the last popped one
/// (popped in any order), bucket b the times first differing from it in bit
/// b - 1.
struct PlainRadix {
    buckets: Vec<Vec<(u64, Ev)>>,
    mins: [u64; 65],
    occupied: u128,
    last: u64,
}

impl PlainRadix {
    fn new() -> Self {
        PlainRadix {
            buckets: (0..65).map(|_| Vec::new()).collect(),
            mins: [u64::MAX; 65],
            occupied: 0,
            last: 0,
        }
    }

    #[inline]
    fn bucket(&self, t: u64) -> usize {
        64 - (t ^ self.last).leading_zeros() as usize
    }

    #[inline]
    fn push(&mut self, t: u64, ev: Ev) {
        let b = self.bucket(t);
        self.buckets[b].push((t, ev));
        self.mins[b] = self.mins[b].min(t);
        self.occupied |= 1 << b;
    }

    #[inline]
    fn pop(&mut self) -> Option<(u64, Ev)> {
        if self.occupied & 1 == 0 {
            if self.occupied == 0 {
                return None;
            }
            let p = self.occupied.trailing_zeros() as usize;
            self.last = self.mins[p];
            self.mins[p] = u64::MAX;
            self.occupied &= !(1 << p);
            let mut items = std::mem::take(&mut self.buckets[p]);
            for (t, ev) in items.drain(..) {
                self.push(t, ev);
            }
            self.buckets[p] = items;
        }
        let e = self.buckets[0].pop();
        if self.buckets[0].is_empty() {
            self.occupied &= !1;
            self.mins[0] = u64::MAX;
        }
        e
    }
}

fn filled_plain(n: usize) -> PlainRadix {
    let mut q = PlainRadix::new();
    for (i, t) in initial_times(n).into_iter().enumerate() {
        q.push(t, Ev::A(i as u32));
    }
    q
}

type Heap = BinaryHeap<Reverse<(u64, u64, u32)>>;

fn filled_heap(n: usize) -> (Heap, u64) {
    let mut h = BinaryHeap::with_capacity(n);
    let mut seq = 0u64;
    for (i, t) in initial_times(n).into_iter().enumerate() {
        h.push(Reverse((t, seq, i as u32)));
        seq += 1;
    }
    (h, seq)
}

fn hold(c: &mut Criterion) {
    let delays = delay_table();

    for n in [1_000usize, 100_000, 1_000_000] {
        let mut group = c.benchmark_group(format!("hold/{n}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.throughput(Throughput::Elements(BATCH));

        group.bench_function("radix_heap", |b| {
            let mut q = filled_radix(n);
            let mut i = 0usize;
            b.iter(|| {
                for _ in 0..BATCH {
                    let (t, ev) = q.pop().expect("hold keeps the queue non-empty");
                    let d = delays[i & TABLE_MASK];
                    i = i.wrapping_add(1);
                    q.push(t + d, next_ev(ev));
                }
                black_box(q.peek_time())
            });
        });

        group.bench_function("plain_radix", |b| {
            let mut q = filled_plain(n);
            let mut i = 0usize;
            b.iter(|| {
                for _ in 0..BATCH {
                    let (t, ev) = q.pop().expect("hold keeps the queue non-empty");
                    let d = delays[i & TABLE_MASK];
                    i = i.wrapping_add(1);
                    q.push(t + d, next_ev(ev));
                }
                black_box(q.last)
            });
        });

        group.bench_function("binary_heap", |b| {
            let (mut h, mut seq) = filled_heap(n);
            let mut i = 0usize;
            b.iter(|| {
                for _ in 0..BATCH {
                    let Reverse((t, _, x)) = h.pop().expect("hold keeps the heap non-empty");
                    let d = delays[i & TABLE_MASK];
                    i = i.wrapping_add(1);
                    h.push(Reverse((t + d, seq, x.wrapping_add(1))));
                    seq += 1;
                }
                black_box(h.peek().map(|r| r.0.0))
            });
        });

        if n == 100_000 {
            let dist = exp();
            group.bench_function("radix_heap_inline_rng", |b| {
                let mut q = filled_radix(n);
                let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 2);
                b.iter(|| {
                    for _ in 0..BATCH {
                        let (t, ev) = q.pop().expect("hold keeps the queue non-empty");
                        q.push(t + draw(&mut rng, &dist), next_ev(ev));
                    }
                    black_box(q.peek_time())
                });
            });

            group.bench_function("binary_heap_inline_rng", |b| {
                let (mut h, mut seq) = filled_heap(n);
                let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 2);
                b.iter(|| {
                    for _ in 0..BATCH {
                        let Reverse((t, _, x)) = h.pop().expect("hold keeps the heap non-empty");
                        h.push(Reverse((t + draw(&mut rng, &dist), seq, x.wrapping_add(1))));
                        seq += 1;
                    }
                    black_box(h.peek().map(|r| r.0.0))
                });
            });
        }

        group.finish();
    }
}

// No plots: criterion's plot backend needs a system font and panics (`FontUnavailable`) on machines without
// one; the figures are in the terminal output and target/criterion/*/estimates.json.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = hold
}
criterion_main!(benches);
