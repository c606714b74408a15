//! A payment's time per stage, stored sparsely. There are 14 stages but a payment spends time in few of them
//! (at most 6 in the scale input, mostly 3 or 4), and the payment arena holds every payment in flight: a dense
//! `[u64; 14]` was a quarter of a `Payment`. `StageTimes` keeps up to `INLINE` (stage, µs) pairs in place and
//! moves to a dense array on the heap only for a payment that needs more, or a time too large to pack.

use crate::model::record::Stage;

/// Pairs kept in place.
const INLINE: usize = 6;
/// An entry packs the stage in its top 4 bits and the time in the low 60 (2^60 µs is 36,000 years: a run is at
/// most twenty, but a larger sum just spills). 0 is an empty entry: only non-zero times are stored.
const TIME_BITS: u32 = 60;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;

#[derive(Clone, Debug, Default)]
pub(super) struct StageTimes {
    inline: [u64; INLINE],
    spill: Option<Box<[u64; Stage::COUNT]>>,
}

const _: () = assert!(Stage::COUNT <= 16, "a stage fits in 4 bits");

impl StageTimes {
    /// Books `us` more to `stage`.
    pub(super) fn add(&mut self, stage: Stage, us: u64) {
        if us == 0 {
            return;
        }
        if let Some(dense) = &mut self.spill {
            dense[stage.idx()] += us;
            return;
        }
        let tag = (stage.idx() as u64) << TIME_BITS;
        for e in &mut self.inline {
            if *e == 0 {
                if us <= TIME_MASK {
                    *e = tag | us;
                    return;
                }
                break;
            }
            if *e & !TIME_MASK == tag {
                let held = *e & TIME_MASK;
                if us <= TIME_MASK - held {
                    *e = tag | (held + us);
                    return;
                }
                break;
            }
        }
        let mut dense = Box::new(self.dense());
        dense[stage.idx()] += us;
        self.inline = [0; INLINE];
        self.spill = Some(dense);
    }

    /// The time in every stage, by `Stage::idx`.
    pub(super) fn dense(&self) -> [u64; Stage::COUNT] {
        if let Some(dense) = &self.spill {
            return **dense;
        }
        let mut out = [0; Stage::COUNT];
        for &e in self.inline.iter().take_while(|&&e| e != 0) {
            out[(e >> TIME_BITS) as usize] = e & TIME_MASK;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever is booked, in whatever order, `dense` is the sum per stage that a dense array would hold.
    #[test]
    fn sparse_times_sum_like_a_dense_array() {
        let cases: Vec<Vec<(usize, u64)>> = vec![
            vec![],
            vec![(0, 0), (3, 0)],
            vec![(0, 5), (1, 7), (0, 3), (13, 1)],
            // More stages than fit in place: the payment spills to the heap.
            (0..Stage::COUNT).map(|s| (s, s as u64 + 1)).collect(),
            (0..40)
                .map(|i| ((i * 5) % Stage::COUNT, 1_000_003 * i as u64))
                .collect(),
            // A time too large to pack, first alone, then by a sum.
            vec![(2, 1), (4, u64::MAX / 2)],
            vec![(2, TIME_MASK), (2, 1)],
        ];
        for case in cases {
            let mut sparse = StageTimes::default();
            let mut dense = [0_u64; Stage::COUNT];
            for &(s, us) in &case {
                sparse.add(Stage::ALL[s], us);
                dense[s] += us;
                assert_eq!(sparse.dense(), dense, "{case:?}");
            }
        }
    }

    #[test]
    fn six_stages_stay_in_place() {
        let mut t = StageTimes::default();
        for s in 0..INLINE {
            t.add(Stage::ALL[s * 2], 10);
        }
        assert!(t.spill.is_none());
        t.add(Stage::ALL[1], 1);
        assert!(t.spill.is_some());
    }
}
