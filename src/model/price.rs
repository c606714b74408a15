//! Intraday prices: the USD value of a currency or an asset as a continuous-time process with per-second
//! resolution, evaluated lazily and exactly at any second.
//!
//! The log value is `ln v(t) = ln v₀ + μt + σW(t) + J(t) + d(t)`:
//! - `σW(t)`: Brownian motion (geometric Brownian motion of the value), σ² per second from the daily volatility;
//! - `J(t)`: optional compound-Poisson jumps with normal log sizes (Merton);
//! - `d(t)`: an optional Ornstein–Uhlenbeck peg deviation with a stationary standard deviation and a half-life,
//!   started from its stationary law (a stablecoin trading a few basis points around its peg);
//! - `μ = −σ²/2 − λ(E[e^J] − 1)`: the compensator that makes the value of the diffusion and the jumps a
//!   martingale, so holding an asset has no expected gain or loss (the peg deviation is symmetric in log).
//!
//! A query must not depend on which other queries came before it: mirrored rails ask for prices at different
//! times and must all see the same path, and a payment values its purchase at the sale. So nothing is drawn in
//! query order. The Gaussian parts are sampled on a grid of `CELL_S` seconds when the path is built (sequentially
//! from the component's named stream), and inside a cell by dyadic bridge refinement: the value at the midpoint
//! of an interval, given its ends, is a Gaussian with a known mean and variance (for Brownian motion and OU alike,
//! both Gauss–Markov), and the standard normal for bridge node `n` of cell `k` is read at a fixed position of a
//! ChaCha stream (`set_stream(k)`, words `2n` and `2n + 1`). A query costs at most two ChaCha refills (none for nodes
//! already computed: the nodes of the last 64 cells asked are remembered); the answer is a pure
//! function of (seed, label, second). Jumps are few: they are drawn whole at build time and found by binary search.

use std::cell::RefCell;

use rand::Rng;
use rand_distr::{Distribution, Normal, Poisson, StandardNormal};

use crate::rng::{self, Stream};
use crate::units::US_PER_S;

/// Refinement levels inside a grid cell; a cell is 2^LEVELS seconds.
const LEVELS: u32 = 6;
/// Seconds per grid cell.
pub const CELL_S: u64 = 1 << LEVELS;
/// Seconds per day, for rates given per day.
const S_PER_DAY: f64 = 86_400.0;

/// Compound-Poisson jumps of the log value: `per_day` jumps a day on average, each `N(mean, sd²)` in log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jumps {
    pub per_day: f64,
    pub mean_log: f64,
    pub sd_log: f64,
}

/// A mean-reverting peg deviation of the log value: stationary standard deviation `sd_log`, half-life `half_life_s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Peg {
    pub sd_log: f64,
    pub half_life_s: f64,
}

/// What a price process is made of. `daily_vol` is the standard deviation of the daily log change of the
/// diffusion (0.03 = 3% a day; annualised over 365 days of 24/7 trading it is `daily_vol · √365`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PriceSpec {
    pub value_usd: f64,
    pub daily_vol: f64,
    pub jumps: Option<Jumps>,
    pub peg: Option<Peg>,
}

impl PriceSpec {
    /// Whether the value moves at all.
    pub fn moves(&self) -> bool {
        self.daily_vol > 0.0 || self.jumps.is_some_and(|j| j.per_day > 0.0) || self.peg.is_some()
    }
}

/// One price path over `[0, horizon_s]`; queries past the horizon read its last second.
#[derive(Clone, Debug)]
pub struct PricePath {
    log0: f64,
    drift_per_s: f64,
    horizon_s: u64,
    diffusion: Option<GaussPath>,
    /// `(second, cumulative log jump from that second on)`, by second.
    jumps: Vec<(u64, f64)>,
    peg: Option<GaussPath>,
}

impl PricePath {
    /// Builds the path of `spec` for the component `label` (e.g. `"fx/BTC"`): the diffusion reads `label`, the
    /// bridge `label/bridge`, the jumps `label/jumps`, the peg `label/peg` and `label/peg/bridge`.
    pub fn build(spec: &PriceSpec, horizon_s: u64, seed: u64, label: &str) -> PricePath {
        let var_per_s = spec.daily_vol * spec.daily_vol / S_PER_DAY;
        let diffusion = (var_per_s > 0.0).then(|| {
            GaussPath::build(
                Gauss::Brownian { var_per_s },
                horizon_s,
                seed,
                label,
                &format!("{label}/bridge"),
            )
        });
        let peg = spec.peg.map(|p| {
            GaussPath::build(
                Gauss::Ou {
                    kappa: std::f64::consts::LN_2 / p.half_life_s,
                    var: p.sd_log * p.sd_log,
                },
                horizon_s,
                seed,
                &format!("{label}/peg"),
                &format!("{label}/peg/bridge"),
            )
        });
        let mut compensator = var_per_s / 2.0;
        let mut jumps = Vec::new();
        if let Some(j) = spec.jumps.filter(|j| j.per_day > 0.0) {
            let rate_per_s = j.per_day / S_PER_DAY;
            compensator += rate_per_s * ((j.mean_log + j.sd_log * j.sd_log / 2.0).exp() - 1.0);
            jumps = draw_jumps(
                &j,
                horizon_s,
                &mut rng::stream(seed, &format!("{label}/jumps")),
            );
        }
        PricePath {
            log0: spec.value_usd.ln(),
            drift_per_s: -compensator,
            horizon_s,
            diffusion,
            jumps,
            peg,
        }
    }

    /// The log of the USD value at second `t_s`.
    pub fn log_value(&self, t_s: u64) -> f64 {
        let t = t_s.min(self.horizon_s);
        let mut x = self.log0 + self.drift_per_s * t as f64;
        if let Some(d) = &self.diffusion {
            x += d.at(t);
        }
        let k = self.jumps.partition_point(|&(s, _)| s <= t);
        if k > 0 {
            x += self.jumps[k - 1].1;
        }
        if let Some(p) = &self.peg {
            x += p.at(t);
        }
        x
    }

    /// The log value at simulated time `t_us` (microseconds; the price holds for the whole second).
    pub fn log_value_us(&self, t_us: u64) -> f64 {
        self.log_value(t_us / US_PER_S)
    }

    /// The jumps that happened, as (second, log size): for tests and traces.
    pub fn jump_sizes(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        let mut prev = 0.0;
        self.jumps.iter().map(move |&(s, c)| {
            let size = c - prev;
            prev = c;
            (s, size)
        })
    }
}

fn draw_jumps(j: &Jumps, horizon_s: u64, stream: &mut Stream) -> Vec<(u64, f64)> {
    let mean = j.per_day * horizon_s as f64 / S_PER_DAY;
    let n = if mean > 0.0 {
        Poisson::new(mean).expect("positive mean").sample(stream) as usize
    } else {
        0
    };
    let size = Normal::new(j.mean_log, j.sd_log).expect("finite jump size");
    let mut at: Vec<(u64, f64)> = (0..n)
        .map(|_| {
            // Jumps land in (0, horizon]: the opening value is the configured one.
            let s = 1 + (rng::unit(stream) * horizon_s as f64) as u64;
            (s.min(horizon_s.max(1)), size.sample(stream))
        })
        .collect();
    at.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut cum = 0.0;
    for x in &mut at {
        cum += x.1;
        x.1 = cum;
    }
    at
}

/// A Gauss–Markov process: Brownian motion from 0, or a stationary Ornstein–Uhlenbeck process around 0.
#[derive(Clone, Copy, Debug)]
enum Gauss {
    Brownian { var_per_s: f64 },
    Ou { kappa: f64, var: f64 },
}

impl Gauss {
    /// The transition over `h` seconds: `X(t+h) = φ·X(t) + N(0, v)`, as `(φ, v)`.
    fn transition(self, h: f64) -> (f64, f64) {
        match self {
            Gauss::Brownian { var_per_s } => (1.0, var_per_s * h),
            Gauss::Ou { kappa, var } => {
                let phi = (-kappa * h).exp();
                (phi, var * (1.0 - phi * phi))
            }
        }
    }

    /// The value at the start: 0 for Brownian motion, a stationary draw for OU.
    fn start(self, stream: &mut Stream) -> f64 {
        match self {
            Gauss::Brownian { .. } => 0.0,
            Gauss::Ou { var, .. } => var.sqrt() * normal(stream),
        }
    }
}

/// Bridge coefficients of one refinement level: the midpoint of an interval of `2h` seconds is
/// `wa·x_a + wb·x_b + sd·Z`.
#[derive(Clone, Copy, Debug, Default)]
struct Level {
    wa: f64,
    wb: f64,
    sd: f64,
}

impl Level {
    /// Conditional law of X(m) given X(m−h) = a and X(m+h) = b: the product of the forward transition density
    /// into m and the one out of m, normalised (a Gaussian in X(m)).
    fn new(g: Gauss, h: f64) -> Level {
        let (phi, v) = g.transition(h);
        let precision = 1.0 / v + phi * phi / v;
        Level {
            wa: phi / v / precision,
            wb: phi / v / precision,
            sd: (1.0 / precision).sqrt(),
        }
    }
}

#[derive(Clone, Debug)]
struct GaussPath {
    /// The process at seconds `k · CELL_S`.
    grid: Vec<f64>,
    levels: [Level; LEVELS as usize],
    bridge: Stream,
    /// Bridge nodes already computed, for the cells queried last: a query is a pure function of the second, so
    /// remembering nodes changes no answer, only what the next query in the same cell costs (payments ask for
    /// the same few minutes again and again: conversion, valuation, fees).
    memo: RefCell<Vec<CellMemo>>,
}

/// Cells remembered per path (direct-mapped by cell index).
const MEMO_CELLS: usize = 64;

/// The bridge of one grid cell as far as it has been refined: its stream's words (each half read at most once)
/// and the nodes computed so far.
#[derive(Clone, Debug)]
struct CellMemo {
    /// The cell, `u64::MAX` when the entry is empty.
    cell: u64,
    /// Halves of `words` read from the cell's stream: 0, 1 or 2.
    halves: u8,
    /// Bit n set when `nodes[n]` holds node n.
    known: u64,
    words: [u32; 2 * CELL_S as usize],
    nodes: [f64; CELL_S as usize],
}

impl CellMemo {
    fn empty() -> CellMemo {
        CellMemo {
            cell: u64::MAX,
            halves: 0,
            known: 0,
            words: [0; 2 * CELL_S as usize],
            nodes: [0.0; CELL_S as usize],
        }
    }
}

impl GaussPath {
    fn build(
        g: Gauss,
        horizon_s: u64,
        seed: u64,
        grid_label: &str,
        bridge_label: &str,
    ) -> GaussPath {
        let cells = horizon_s / CELL_S + 1;
        let mut stream = rng::stream(seed, grid_label);
        let (phi, v) = g.transition(CELL_S as f64);
        let sd = v.sqrt();
        let mut x = g.start(&mut stream);
        let mut grid = Vec::with_capacity(cells as usize + 1);
        grid.push(x);
        for _ in 0..cells {
            x = phi * x + sd * normal(&mut stream);
            grid.push(x);
        }
        let mut levels = [Level::default(); LEVELS as usize];
        for (l, level) in levels.iter_mut().enumerate() {
            *level = Level::new(g, (CELL_S >> (l + 1)) as f64);
        }
        GaussPath {
            grid,
            levels,
            bridge: rng::stream(seed, bridge_label),
            memo: RefCell::new(Vec::new()),
        }
    }

    /// The process at second `t`: the grid value, or bridge refinement inside the cell.
    fn at(&self, t: u64) -> f64 {
        let cell = t / CELL_S;
        let offset = t % CELL_S;
        let (mut xa, mut xb) = (self.grid[cell as usize], self.grid[cell as usize + 1]);
        if offset == 0 {
            return xa;
        }
        let mut memo = self.memo.borrow_mut();
        if memo.is_empty() {
            memo.resize_with(MEMO_CELLS, CellMemo::empty);
        }
        let m = &mut memo[cell as usize % MEMO_CELLS];
        if m.cell != cell {
            m.cell = cell;
            m.halves = 0;
            m.known = 0;
        }
        let (mut a, mut b) = (0, CELL_S);
        let mut node: usize = 1;
        for level in &self.levels {
            let mid = (a + b) / 2;
            let xm = if m.known & (1 << node) != 0 {
                m.nodes[node]
            } else {
                let z = self.bridge_normal(m, node);
                let xm = level.wa * xa + level.wb * xb + level.sd * z;
                m.nodes[node] = xm;
                m.known |= 1 << node;
                xm
            };
            if offset == mid {
                return xm;
            }
            if offset < mid {
                (b, xb) = (mid, xm);
                node *= 2;
            } else {
                (a, xa) = (mid, xm);
                node = 2 * node + 1;
            }
        }
        unreachable!("a cell of 2^LEVELS seconds resolves every offset in LEVELS halvings")
    }

    /// The standard normal of bridge node `node` of the memo's cell: node n reads words 2n and 2n + 1 of stream
    /// `cell`. Nodes 1..31 (levels 1 to 5) lie in the first ChaCha refill of 64 words; only the last level
    /// (odd seconds) needs the second.
    fn bridge_normal(&self, m: &mut CellMemo, node: usize) -> f64 {
        let half = CELL_S as usize;
        let needed = if 2 * node + 1 < half { 1 } else { 2 };
        if m.halves < needed {
            let mut bridge = self.bridge.clone();
            bridge.set_stream(m.cell);
            bridge.set_word_pos((half * m.halves as usize) as u128);
            for w in &mut m.words[half * m.halves as usize..half * needed as usize] {
                *w = bridge.next_u32();
            }
            m.halves = needed;
        }
        box_muller(m.words[2 * node], m.words[2 * node + 1])
    }
}

fn normal(stream: &mut Stream) -> f64 {
    StandardNormal.sample(stream)
}

/// A standard normal from exactly two 32-bit words (Box–Muller), so a bridge node reads a fixed slice of its
/// stream and never its neighbour's. 32-bit uniforms cut the tails at ±6.66σ (probability 3·10⁻¹¹).
fn box_muller(w1: u32, w2: u32) -> f64 {
    const TWO_32: f64 = 4_294_967_296.0;
    // u1 in (0, 1]: never ln(0).
    let u1 = (f64::from(w1) + 1.0) / TWO_32;
    let u2 = f64::from(w2) / TWO_32;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
