//! A payment's costs so far, compact. The arena holds every payment in flight, and a cost part is almost always
//! a few dollars in cents: each of the nine parts is kept in an `i32`, and a payment whose part leaves that range
//! moves all nine to `i64`s on the heap, so money stays exact whatever the amounts. The cost of capital is not
//! here: it is allocated only when the record is released (`Sim::release`).

use crate::model::record::CostSplit;

/// The parts, in `CostSplit::NAMES` order.
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

#[derive(Clone, Debug, Default)]
pub(super) struct Costs {
    small: [i32; PARTS],
    big: Option<Box<[i64; PARTS]>>,
}

impl Costs {
    fn get(&self, k: Part) -> i64 {
        match &self.big {
            Some(big) => big[k as usize],
            None => i64::from(self.small[k as usize]),
        }
    }

    fn set(&mut self, k: Part, v: i64) {
        if let Some(big) = &mut self.big {
            big[k as usize] = v;
        } else if let Ok(v) = i32::try_from(v) {
            self.small[k as usize] = v;
        } else {
            let mut big = Box::new(self.parts());
            big[k as usize] = v;
            self.big = Some(big);
        }
    }

    /// Adds `cents` to part `k`, with `i64` arithmetic.
    pub(super) fn add(&mut self, k: Part, cents: i64) {
        self.set(k, self.get(k) + cents);
    }

    pub(super) fn add_saturating(&mut self, k: Part, cents: i64) {
        self.set(k, self.get(k).saturating_add(cents));
    }

    fn parts(&self) -> [i64; PARTS] {
        match &self.big {
            Some(big) => **big,
            None => self.small.map(i64::from),
        }
    }

    /// The costs as a record reports them, before the cost of capital is allocated.
    pub(super) fn split(&self) -> CostSplit {
        CostSplit::from_parts(self.parts(), 0)
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

    /// Part k is `CostSplit::parts()[k]`, and sums past the `i32` range stay exact in both directions.
    #[test]
    fn parts_are_exact_i64_sums_in_cost_split_order() {
        let steps: [i64; 6] = [
            4_000,
            i64::from(i32::MAX),
            1,
            -(1 << 40),
            i64::from(i32::MIN),
            -7,
        ];
        for (k, &part) in ALL.iter().enumerate() {
            let mut c = Costs::default();
            let mut expected = [0_i64; PARTS];
            for &x in &steps {
                c.add(part, x);
                c.add(ALL[(k + 1) % PARTS], 3);
                expected[k] += x;
                expected[(k + 1) % PARTS] += 3;
                assert_eq!(c.split().parts(), expected, "part {k}");
            }
            assert!(c.big.is_some());
        }
        let mut c = Costs::default();
        c.add(Part::NetworkFee, 2_500);
        c.add(Part::PriceMove, -12);
        assert!(c.big.is_none(), "small costs stay in place");
        c.add_saturating(Part::NetworkFee, i64::MAX);
        assert_eq!(c.split().network_fee, i64::MAX);
        assert_eq!(c.split().price_move, -12);
    }
}
