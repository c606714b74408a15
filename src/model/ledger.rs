//! The double-entry ledger. Every movement of money is a transfer of integer minor units from one account to
//! another account of the same currency, so each posting balances by construction; accounts of external parties
//! (originators, beneficiaries, bank reserves) may go negative, others may not. At the end of a run `check`
//! proves conservation per currency and reconciles the ledger against what the payments say happened.
//!
//! The ledger is also the only source of balances over time: an account may belong to a *series*
//! (`model::liquidity`), and every posting to it moves that series' time-weighted integrator at the ledger's
//! current time (`set_now`). No other code keeps balances.

use crate::model::fx::CurId;
use crate::model::liquidity::Tracker;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u32);

/// What an account is for; the reconciliation in `check` sums balances by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountKind {
    /// Customers who send payments (funds leave here).
    Originators,
    /// Customers who receive payments.
    Beneficiaries,
    /// Originators receiving returned payments.
    Returns,
    /// Funds of payments in flight, held by a bank.
    Transit,
    /// A bank's own funds (the source of nostro top-ups; may go negative).
    Reserve,
    /// Fees earned by a bank or rail operator.
    FeeIncome,
    /// A bank's FX book (bought one currency, sold another).
    FxPosition,
    /// A nostro account: one bank's balance held at another (or a ramp's inventory).
    Nostro,
    /// Funds a bank requested to rebalance a position, on their way to it.
    Funding,
    /// A ledger member's funds advanced to another member at a commit, until the net settlement repays them.
    Advance,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub kind: AccountKind,
    pub currency: CurId,
    pub balance: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Ledger {
    accounts: Vec<Account>,
    postings: u64,
    /// Simulated time of the postings being made (µs).
    now_us: u64,
    /// `series_of[account]`: the series it belongs to, or `NO_SERIES`.
    series_of: Vec<u32>,
    tracker: Tracker,
}

/// An account that belongs to no series.
pub const NO_SERIES: u32 = u32::MAX;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger does not balance in {currency}: sum of balances is {sum} minor units")]
    Unbalanced { currency: String, sum: i64 },
    #[error(
        "reconciliation failed in {currency} for {what}: ledger says {ledger}, payments say {payments}"
    )]
    Mismatch {
        currency: String,
        what: &'static str,
        ledger: i64,
        payments: i64,
    },
    #[error(
        "balance over time of series {series} disagrees with the ledger: its postings give {series_balance}, its \
accounts hold {ledger}"
    )]
    Series {
        series: u32,
        series_balance: i64,
        ledger: i64,
    },
}

impl Ledger {
    pub fn open(&mut self, kind: AccountKind, currency: CurId, balance: i64) -> AccountId {
        self.accounts.push(Account {
            kind,
            currency,
            balance,
        });
        self.series_of.push(NO_SERIES);
        AccountId(self.accounts.len() as u32 - 1)
    }

    /// Starts a series: accounts joined to it with `track` are read as one balance over time.
    pub fn add_series(&mut self) -> u32 {
        self.tracker.add()
    }

    /// Joins account `a` to `series`, from its current balance on.
    pub fn track(&mut self, a: AccountId, series: u32) {
        debug_assert_eq!(self.series_of[a.0 as usize], NO_SERIES, "tracked twice");
        self.series_of[a.0 as usize] = series;
        let b = self.accounts[a.0 as usize].balance;
        self.tracker.post(series, self.now_us, b);
    }

    /// The simulated time of the postings that follow (never earlier than before).
    pub fn set_now(&mut self, now_us: u64) {
        debug_assert!(now_us >= self.now_us, "time went backwards");
        self.now_us = now_us;
    }

    pub fn series_of(&self, a: AccountId) -> u32 {
        self.series_of[a.0 as usize]
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn tracker_mut(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    pub fn balance(&self, a: AccountId) -> i64 {
        self.accounts[a.0 as usize].balance
    }

    pub fn account(&self, a: AccountId) -> &Account {
        &self.accounts[a.0 as usize]
    }

    pub fn postings(&self) -> u64 {
        self.postings
    }

    /// Moves `amount` from `from` to `to`. Both accounts must hold the same currency: a posting never mixes
    /// currencies (conversion is two postings through a bank's FX book).
    pub fn transfer(&mut self, from: AccountId, to: AccountId, amount: i64) {
        debug_assert!(amount >= 0, "negative transfer {amount}");
        let (f, t) = (from.0 as usize, to.0 as usize);
        assert_eq!(
            self.accounts[f].currency, self.accounts[t].currency,
            "posting across currencies"
        );
        self.accounts[f].balance -= amount;
        self.accounts[t].balance += amount;
        self.postings += 1;
        // Balances over time: a posting inside one series (two transit accounts of a rail) leaves it unchanged.
        let (sf, st) = (self.series_of[f], self.series_of[t]);
        if sf != st {
            if sf != NO_SERIES {
                self.tracker.post(sf, self.now_us, -amount);
            }
            if st != NO_SERIES {
                self.tracker.post(st, self.now_us, amount);
            }
        }
    }

    /// Sum of balances of accounts of `kind` in currency `c`.
    pub fn total(&self, kind: AccountKind, c: CurId) -> i64 {
        self.accounts
            .iter()
            .filter(|a| a.kind == kind && a.currency == c)
            .map(|a| a.balance)
            .sum()
    }

    /// Every series' balance, built posting by posting, equals the sum of its accounts' balances.
    pub fn check_series(&self) -> Result<(), LedgerError> {
        let mut sums = vec![0_i64; self.tracker.series.len()];
        for (a, &s) in self.accounts.iter().zip(&self.series_of) {
            if s != NO_SERIES {
                sums[s as usize] += a.balance;
            }
        }
        for (s, (&ledger, i)) in sums.iter().zip(&self.tracker.series).enumerate() {
            if ledger != i.balance {
                return Err(LedgerError::Series {
                    series: s as u32,
                    series_balance: i.balance,
                    ledger,
                });
            }
        }
        Ok(())
    }

    /// Conservation per currency: all balances, with the opening balances of nostros funded from reserves,
    /// sum to zero.
    pub fn check_balanced(
        &self,
        currencies: &[CurId],
        name: impl Fn(CurId) -> String,
    ) -> Result<(), LedgerError> {
        for &c in currencies {
            let sum: i64 = self
                .accounts
                .iter()
                .filter(|a| a.currency == c)
                .map(|a| a.balance)
                .sum();
            if sum != 0 {
                return Err(LedgerError::Unbalanced {
                    currency: name(c),
                    sum,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_conserve_and_unbalanced_is_caught() {
        let mut l = Ledger::default();
        let c = CurId(0);
        let a = l.open(AccountKind::Originators, c, 0);
        let b = l.open(AccountKind::Transit, c, 0);
        assert_eq!(l.postings(), 0, "opening an account posts nothing");
        l.transfer(a, b, 500);
        l.transfer(b, a, 200);
        l.transfer(a, b, 200);
        assert_eq!(
            l.postings(),
            3,
            "one posting per transfer (manifest.json ledger_postings)"
        );
        assert_eq!(l.balance(a), -500);
        assert_eq!(l.total(AccountKind::Transit, c), 500);
        assert!(l.check_balanced(&[c], |_| "USD".into()).is_ok());
        // An account opened with a balance from nowhere breaks conservation, and the check says so.
        l.open(AccountKind::Nostro, c, 7);
        assert_eq!(
            l.check_balanced(&[c], |_| "USD".into()),
            Err(LedgerError::Unbalanced {
                currency: "USD".into(),
                sum: 7
            })
        );
    }

    /// The series is the ledger's balance, posting by posting: its end balance is the opening balance plus the
    /// postings, and its integral is that of the ledger balances a hand-built sequence gives.
    #[test]
    fn series_follow_the_postings_exactly() {
        let mut l = Ledger::default();
        let c = CurId(0);
        let reserve = l.open(AccountKind::Reserve, c, 0);
        let nostro = l.open(AccountKind::Nostro, c, 0);
        let t1 = l.open(AccountKind::Transit, c, 0);
        let t2 = l.open(AccountKind::Transit, c, 0);
        l.transfer(reserve, nostro, 1_000);
        let s = l.add_series();
        l.track(nostro, s);
        let transit = l.add_series();
        l.track(t1, transit);
        l.track(t2, transit);
        l.set_now(10);
        l.transfer(nostro, t1, 300);
        l.set_now(12);
        // Within one series: no change.
        l.transfer(t1, t2, 300);
        l.set_now(20);
        l.transfer(reserve, nostro, 300);
        l.transfer(t2, reserve, 300);
        assert_eq!(l.tracker().balance(s), l.balance(nostro));
        assert_eq!(l.tracker().balance(transit), l.balance(t1) + l.balance(t2));
        assert_eq!(l.check_series(), Ok(()));
        let p = l.tracker_mut().series[s as usize].close(30);
        assert_eq!(p.integral, 1_000 * 10 + 700 * 10 + 1_000 * 10);
        assert_eq!(p.min.minor, 700);
        let q = l.tracker_mut().series[transit as usize].close(30);
        assert_eq!(q.integral, 300 * 10);
        assert_eq!(q.peak.minor, 300);
    }

    #[test]
    #[should_panic(expected = "posting across currencies")]
    fn cross_currency_posting_is_refused() {
        let mut l = Ledger::default();
        let a = l.open(AccountKind::Transit, CurId(0), 0);
        let b = l.open(AccountKind::Transit, CurId(1), 0);
        l.transfer(a, b, 1);
    }
}
