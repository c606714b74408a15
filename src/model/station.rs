//! Stations: places where payments queue for a limited number of servers — a domestic rail's servers and a
//! bank's staffed desks (processing, repair, compliance review). Each keeps its own accounting of arrivals,
//! waits and the time-integral of its queue length, so every run can check Little's law (L = λW) per station:
//! the queue-length integral is accumulated from the queue's changes in time order, the waits from each
//! payment's own start minus its arrival, two bookkeepings that agree only if the queue is modelled right.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Per-station counters. Sums are exact integers; floats appear only in the derived figures.
#[derive(Clone, Debug, Default)]
pub struct StationStats {
    /// Payments that joined the queue.
    pub arrivals: u64,
    /// Payments that started service (left the queue).
    pub started: u64,
    /// Of those, how many waited a positive time.
    pub waited: u64,
    pub wait_us_sum: u128,
    pub service_us_sum: u128,
    /// ∫ (queue length) dt, in µs, from 0 to the last `advance`.
    pub area_us: u128,
    len: u64,
    last_us: u64,
}

impl StationStats {
    fn advance(&mut self, t_us: u64) {
        debug_assert!(t_us >= self.last_us, "station time went backwards");
        self.area_us += self.len as u128 * (t_us - self.last_us) as u128;
        self.last_us = t_us;
    }
    /// A payment joins the queue at `t_us`.
    pub fn join(&mut self, t_us: u64) {
        self.advance(t_us);
        self.len += 1;
        self.arrivals += 1;
    }
    /// A payment leaves the queue for a server at `t_us` after waiting `wait_us`.
    pub fn leave(&mut self, t_us: u64, wait_us: u64, service_us: u64) {
        self.advance(t_us);
        self.len -= 1;
        self.started += 1;
        self.waited += u64::from(wait_us > 0);
        self.wait_us_sum += wait_us as u128;
        self.service_us_sum += service_us as u128;
    }
    /// Closes the observation window at `end_us` (payments still queued count until then).
    pub fn close(&mut self, end_us: u64) {
        if end_us > self.last_us {
            self.advance(end_us);
        }
    }
    /// Payments waiting at the last `advance`.
    pub fn queued(&self) -> u64 {
        self.len
    }
}

/// The Little's-law figures of a station over a window of `span_us`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Little {
    /// Time-average queue length.
    pub queue_len_mean: f64,
    /// Arrival rate, per second.
    pub arrivals_per_s: f64,
    /// Mean wait of the payments that started, in seconds.
    pub wait_s_mean: f64,
    /// Share of started payments that waited at all.
    pub wait_share: f64,
    /// λ·W, to compare with `queue_len_mean`.
    pub lambda_w: f64,
    /// Busy share of the servers (None for unlimited servers).
    pub utilisation: Option<f64>,
}

impl StationStats {
    pub fn little(&self, span_us: u64, servers: Option<u32>) -> Little {
        let span_s = span_us.max(1) as f64 / 1e6;
        let started = self.started.max(1) as f64;
        let queue_len_mean = self.area_us as f64 / 1e6 / span_s;
        let arrivals_per_s = self.arrivals as f64 / span_s;
        let wait_s_mean = self.wait_us_sum as f64 / 1e6 / started;
        Little {
            queue_len_mean,
            arrivals_per_s,
            wait_s_mean,
            wait_share: self.waited as f64 / started,
            lambda_w: arrivals_per_s * wait_s_mean,
            utilisation: servers.map(|c| self.service_us_sum as f64 / 1e6 / (c as f64 * span_s)),
        }
    }
}

/// The flag of a departure in `Servers::pending`.
const LEAVE: u64 = 1 << 63;

/// c parallel FIFO servers whose start times are known when a payment is submitted (a domestic rail): each
/// payment takes the server that frees first. Arrivals are submitted in time order and their ready times never
/// decrease, so assigning on submission is first come, first served. The queue-length changes lie in the future
/// when they are known; they wait in a small heap and are applied in time order.
#[derive(Clone, Debug)]
pub struct Servers {
    free_us: Vec<u64>,
    pub stats: StationStats,
    /// (time, `LEAVE` | wait, service): pending queue changes, earliest first (an arrival has neither flag nor
    /// wait). The flag is packed above the wait, which keeps the order of (time, leave?, wait, service) in 24
    /// bytes instead of 32: the heap holds two entries per payment ahead on the rail.
    pending: BinaryHeap<Reverse<(u64, u64, u64)>>,
}

impl Servers {
    pub fn new(servers: u32) -> Servers {
        Servers {
            free_us: vec![0; servers.max(1) as usize],
            stats: StationStats::default(),
            pending: BinaryHeap::new(),
        }
    }

    /// The server that frees first (lowest index on ties) and when.
    pub fn earliest(&self) -> (usize, u64) {
        let mut best = (0, self.free_us[0]);
        for (i, &f) in self.free_us.iter().enumerate().skip(1) {
            if f < best.1 {
                best = (i, f);
            }
        }
        best
    }

    /// Books server `i` from `start_us` for `service_us`; the payment was ready at `ready_us` (≥ `now_us`).
    pub fn book(&mut self, now_us: u64, i: usize, ready_us: u64, start_us: u64, service_us: u64) {
        self.apply_until(now_us);
        self.free_us[i] = start_us + service_us;
        let wait = start_us - ready_us;
        assert!(wait < LEAVE, "a wait below 2^63 µs");
        self.pending.push(Reverse((ready_us, 0, 0)));
        self.pending
            .push(Reverse((start_us, LEAVE | wait, service_us)));
    }

    fn apply_until(&mut self, t_us: u64) {
        while let Some(&Reverse((at, leave_wait, service))) = self.pending.peek() {
            if at > t_us {
                break;
            }
            self.pending.pop();
            if leave_wait & LEAVE != 0 {
                self.stats.leave(at, leave_wait & !LEAVE, service);
            } else {
                self.stats.join(at);
            }
        }
    }

    /// Applies every change up to `end_us` and closes the window there.
    pub fn close(&mut self, end_us: u64) {
        self.apply_until(end_us);
        self.stats.close(end_us);
    }
}

/// A staffed desk: a queue (FIFO, or largest amount first) in front of `servers` clerks.
#[derive(Clone, Debug)]
pub struct DeskQueue {
    pub servers: u32,
    pub busy: u32,
    /// (priority key, arrival sequence, arena slot, service time): the largest key first, then the earliest
    /// arrival (sequences are unique, so the last two never decide). The service time drawn on arrival waits
    /// here rather than in every payment.
    queue: BinaryHeap<(i64, Reverse<u64>, u32, u64)>,
    seq: u64,
    /// A wake-up at the next opening is already scheduled.
    pub wake_pending: bool,
    pub stats: StationStats,
}

impl DeskQueue {
    pub fn new(servers: u32) -> DeskQueue {
        DeskQueue {
            servers,
            busy: 0,
            queue: BinaryHeap::new(),
            seq: 0,
            wake_pending: false,
            stats: StationStats::default(),
        }
    }
    pub fn push(&mut self, now_us: u64, key: i64, slot: u32, service_us: u64) {
        self.stats.join(now_us);
        self.queue.push((key, Reverse(self.seq), slot, service_us));
        self.seq += 1;
    }
    /// The next payment to serve if a clerk is free, and its service time.
    pub fn pop(&mut self) -> Option<(u32, u64)> {
        if self.busy >= self.servers {
            return None;
        }
        let (_, _, slot, service_us) = self.queue.pop()?;
        self.busy += 1;
        Some((slot, service_us))
    }
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
    pub fn release(&mut self) {
        debug_assert!(self.busy > 0, "a desk released a clerk it had not booked");
        self.busy -= 1;
    }
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load `a = λ/μ` (< c), and
/// the mean wait in queue `C / (cμ − λ)` in units of 1/μ. Used by tests and the validity table.
pub fn erlang_c(c: u32, a: f64) -> (f64, f64) {
    let rho = a / c as f64;
    assert!(rho < 1.0, "Erlang C needs a stable queue");
    // Sum a^k/k! for k < c, with the terms built up to avoid factorial overflow.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    // `term` is now a^c/c!.
    let top = term / (1.0 - rho);
    let p_wait = top / (sum + top);
    (p_wait, p_wait / (c as f64 - a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_known_values() {
        // c = 1 is M/M/1: P(wait) = ρ, Wq = ρ/(μ − λ) = ρ/(1 − ρ) in units of 1/μ.
        let (p, w) = erlang_c(1, 0.5);
        assert!((p - 0.5).abs() < 1e-12 && (w - 1.0).abs() < 1e-12);
        // c = 2, a = 1: P0 = 1/3, C = 1/3, Wq = C/(c − a) = 1/3.
        let (p, w) = erlang_c(2, 1.0);
        assert!((p - 1.0 / 3.0).abs() < 1e-12 && (w - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn servers_assign_the_earliest_free() {
        let mut s = Servers::new(2);
        s.book(0, 0, 0, 0, 10);
        assert_eq!(s.earliest(), (1, 0));
        s.book(1, 1, 1, 1, 10);
        assert_eq!(s.earliest(), (0, 10));
        s.book(2, 0, 2, 10, 10);
        s.close(30);
        assert_eq!(s.stats.arrivals, 3);
        assert_eq!(s.stats.waited, 1);
        assert_eq!(s.stats.wait_us_sum, 8);
        // One payment queued from 2 to 10: the area is 8 µs, the same as the sum of waits.
        assert_eq!(s.stats.area_us, 8);
    }

    #[test]
    fn desk_serves_largest_amount_then_fifo() {
        let mut d = DeskQueue::new(1);
        // The later of two equal keys has the shorter service: service times never decide the order.
        d.push(0, 5, 1, 10);
        d.push(0, 9, 2, 20);
        d.push(0, 9, 3, 5);
        assert_eq!(d.pop(), Some((2, 20)));
        assert_eq!(d.pop(), None, "the only clerk is busy");
        d.release();
        assert_eq!(d.pop(), Some((3, 5)));
        d.release();
        assert_eq!(d.pop(), Some((1, 10)));
    }
}
