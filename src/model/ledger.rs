//! The double-entry ledger. Every movement of money is a transfer of integer minor units from one account to
//! another account of the same currency, so each posting balances by construction; accounts of external parties
//! (originators, beneficiaries, bank reserves) may go negative, others may not. At the end of a run `check`
//! proves conservation per currency and reconciles the ledger against what the payments say happened.

use crate::model::fx::CurId;

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
}

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
}

impl Ledger {
    pub fn open(&mut self, kind: AccountKind, currency: CurId, balance: i64) -> AccountId {
        self.accounts.push(Account {
            kind,
            currency,
            balance,
        });
        AccountId(self.accounts.len() as u32 - 1)
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
    }

    /// Sum of balances of accounts of `kind` in currency `c`.
    pub fn total(&self, kind: AccountKind, c: CurId) -> i64 {
        self.accounts
            .iter()
            .filter(|a| a.kind == kind && a.currency == c)
            .map(|a| a.balance)
            .sum()
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
        l.transfer(a, b, 500);
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

    #[test]
    #[should_panic(expected = "posting across currencies")]
    fn cross_currency_posting_is_refused() {
        let mut l = Ledger::default();
        let a = l.open(AccountKind::Transit, CurId(0), 0);
        let b = l.open(AccountKind::Transit, CurId(1), 0);
        l.transfer(a, b, 1);
    }
}
