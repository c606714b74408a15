//! A payment's running totals, compact: its nine cost parts and its time per stage. The payment arena holds every
//! payment in flight (~146 k at the scale input's peak), so both are kept small in place and share one pointer to
//! the heap for the rare payment that outgrows them; money and time stay exact either way.
//!
//! - Costs: a part is almost always a few dollars in cents, so each of the nine is an `i32`; a payment whose part
//!   leaves that range moves all nine to `i64`s on the heap. The cost of capital is not here: it is allocated
//!   only when the record is released (`Sim::release`).
//! - Stages: there are 14 but a payment spends time in few of them (at most 6 in the scale input, mostly 3 or 4).
//!   Up to `INLINE` (stage, µs) pairs are kept in place, 48 bits each; a payment with more, or a time of 2^44 µs
//!   (203 days) or more in one stage, moves to a dense array on the heap.

use crate::model::record::{CostSplit, Stage};

/// The cost parts, in `CostSplit::NAMES` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    SenderFee,
    IntermediaryFees,
    ReceiverFee,
    FxSpread,
    DomesticFees,
    NetworkFee,
    RampSpread,
    RampFees,
    PriceMove,
}

const PARTS: usize = 9;

/// Stage pairs kept in place.
const INLINE: usize = 6;
/// A pair packs the stage in bits 44–47 and the time in the low 44; the low 32 bits are in `lo`, the high 16 in
/// `hi`. 0 is an empty pair: only non-zero times are stored.
const TIME_BITS: u32 = 44;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;

const _: () = assert!(Stage::COUNT <= 16, "a stage fits in 4 bits");

#[derive(Clone, Debug, Default)]
pub(super) struct Tally {
    costs: [i32; PARTS],
    lo: [u32; INLINE],
    hi: [u16; INLINE],
    spill: Option<Box<Spill>>,
}

/// What outgrew the in-place form, each kind on its own: dense cost parts, dense stage times.
#[derive(Clone, Debug, Default)]
struct Spill {
    costs: Option<[i64; PARTS]>,
    stages: Option<[u64; Stage::COUNT]>,
}

impl Tally {
    fn cost(&self, k: Part) -> i64 {
        match self.spill.as_deref() {
            Some(Spill {
                costs: Some(big), ..
            }) => big[k as usize],
            _ => i64::from(self.costs[k as usize]),
        }
    }

    fn set_cost(&mut self, k: Part, v: i64) {
        if let Some(Spill {
            costs: Some(big), ..
        }) = self.spill.as_deref_mut()
        {
            big[k as usize] = v;
        } else if let Ok(v) = i32::try_from(v) {
            self.costs[k as usize] = v;
        } else {
            let mut big = self.costs.map(i64::from);
            big[k as usize] = v;
            self.spill.get_or_insert_default().costs = Some(big);
        }
    }

    /// Adds `cents` to cost part `k`, with `i64` arithmetic.
    pub(super) fn add_cost(&mut self, k: Part, cents: i64) {
        self.set_cost(k, self.cost(k) + cents);
    }

    pub(super) fn add_cost_saturating(&mut self, k: Part, cents: i64) {
        self.set_cost(k, self.cost(k).saturating_add(cents));
    }

    fn cost_parts(&self) -> [i64; PARTS] {
        match self.spill.as_deref() {
            Some(Spill {
                costs: Some(big), ..
            }) => *big,
            _ => self.costs.map(i64::from),
        }
    }

    /// The costs as a record reports them, before the cost of capital is allocated.
    pub(super) fn costs(&self) -> CostSplit {
        CostSplit::from_parts(self.cost_parts(), 0)
    }

    fn pair(&self, i: usize) -> u64 {
        u64::from(self.hi[i]) << 32 | u64::from(self.lo[i])
    }

    fn set_pair(&mut self, i: usize, e: u64) {
        self.lo[i] = e as u32;
        self.hi[i] = (e >> 32) as u16;
    }

    /// Books `us` more to `stage`.
    pub(super) fn add_stage(&mut self, stage: Stage, us: u64) {
        if us == 0 {
            return;
        }
        if let Some(Spill {
            stages: Some(dense),
            ..
        }) = self.spill.as_deref_mut()
        {
            dense[stage.idx()] += us;
            return;
        }
        let tag = (stage.idx() as u64) << TIME_BITS;
        for i in 0..INLINE {
            let e = self.pair(i);
            if e == 0 {
                if us <= TIME_MASK {
                    self.set_pair(i, tag | us);
                    return;
                }
                break;
            }
            if e & !TIME_MASK == tag {
                let held = e & TIME_MASK;
                if us <= TIME_MASK - held {
                    self.set_pair(i, tag | (held + us));
                    return;
                }
                break;
            }
        }
        let mut dense = self.stages();
        dense[stage.idx()] += us;
        (self.lo, self.hi) = ([0; INLINE], [0; INLINE]);
        self.spill.get_or_insert_default().stages = Some(dense);
    }

    /// The time in every stage, by `Stage::idx`.
    pub(super) fn stages(&self) -> [u64; Stage::COUNT] {
        if let Some(Spill {
            stages: Some(dense),
            ..
        }) = self.spill.as_deref()
        {
            return *dense;
        }
        let mut out = [0; Stage::COUNT];
        for e in (0..INLINE).map(|i| self.pair(i)).take_while(|&e| e != 0) {
            out[(e >> TIME_BITS) as usize] = e & TIME_MASK;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Part; PARTS] = [
        Part::SenderFee,
        Part::IntermediaryFees,
        Part::ReceiverFee,
        Part::FxSpread,
        Part::DomesticFees,
        Part::NetworkFee,
        Part::RampSpread,
        Part::RampFees,
        Part::PriceMove,
    ];

    /// Part k is `CostSplit::parts()[k]`, and sums past the `i32` range stay exact in both directions, with
    /// stage times booked alongside (and spilled first, for half the parts) left as they were.
    #[test]
    fn cost_parts_are_exact_i64_sums_in_cost_split_order() {
        let steps: [i64; 6] = [
            4_000,
            i64::from(i32::MAX),
            1,
            -(1 << 40),
            i64::from(i32::MIN),
            -7,
        ];
        for (k, &part) in ALL.iter().enumerate() {
            let mut t = Tally::default();
            let mut stages = [0_u64; Stage::COUNT];
            if k % 2 == 0 {
                for (s, held) in stages.iter_mut().enumerate() {
                    t.add_stage(Stage::ALL[s], s as u64 + 1);
                    *held += s as u64 + 1;
                }
            }
            t.add_stage(Stage::Transit, 5);
            stages[Stage::Transit.idx()] += 5;
            let mut expected = [0_i64; PARTS];
            for &x in &steps {
                t.add_cost(part, x);
                t.add_cost(ALL[(k + 1) % PARTS], 3);
                expected[k] += x;
                expected[(k + 1) % PARTS] += 3;
                assert_eq!(t.costs().parts(), expected, "part {k}");
                assert_eq!(t.stages(), stages, "part {k}");
            }
            assert!(t.spill.as_ref().is_some_and(|s| s.costs.is_some()));
        }
        let mut t = Tally::default();
        t.add_cost(Part::NetworkFee, 2_500);
        t.add_cost(Part::PriceMove, -12);
        assert!(t.spill.is_none(), "small costs stay in place");
        t.add_cost_saturating(Part::NetworkFee, i64::MAX);
        assert_eq!(t.costs().network_fee, i64::MAX);
        assert_eq!(t.costs().price_move, -12);
    }

    /// Whatever is booked, in whatever order, `stages` is the sum per stage that a dense array would hold, with
    /// costs booked alongside (and spilled first, for some cases) left as they were.
    #[test]
    fn sparse_stage_times_sum_like_a_dense_array() {
        let cases: Vec<Vec<(usize, u64)>> = vec![
            vec![],
            vec![(0, 0), (3, 0)],
            vec![(0, 5), (1, 7), (0, 3), (13, 1)],
            // More stages than fit in place: the payment spills to the heap.
            (0..Stage::COUNT).map(|s| (s, s as u64 + 1)).collect(),
            (0..40)
                .map(|i| ((i * 5) % Stage::COUNT, 1_000_003 * i as u64))
                .collect(),
            // A time too large to pack, first alone, then by a sum; and the largest that packs, in every pair.
            vec![(2, 1), (4, u64::MAX / 2)],
            vec![(2, TIME_MASK), (2, 1)],
            (0..INLINE)
                .map(|i| (Stage::COUNT - 1 - i, TIME_MASK))
                .collect(),
            (0..INLINE).map(|i| (i, TIME_MASK - i as u64)).collect(),
        ];
        for (n, case) in cases.iter().enumerate() {
            let mut t = Tally::default();
            let big_costs = n % 2 == 1;
            if big_costs {
                t.add_cost(Part::FxSpread, 1 << 40);
            }
            let mut dense = [0_u64; Stage::COUNT];
            for &(s, us) in case {
                t.add_stage(Stage::ALL[s], us);
                dense[s] += us;
                assert_eq!(t.stages(), dense, "{case:?}");
            }
            assert_eq!(t.costs().fx_spread, if big_costs { 1 << 40 } else { 0 });
        }
    }

    #[test]
    fn six_stages_stay_in_place() {
        let mut t = Tally::default();
        for s in 0..INLINE {
            t.add_stage(Stage::ALL[s * 2], 10);
        }
        assert!(t.spill.is_none());
        t.add_stage(Stage::ALL[1], 1);
        assert!(t.spill.as_ref().is_some_and(|s| s.stages.is_some()));
    }
}
