//! The ledger's account layout: customer accounts per currency, three accounts per bank and currency (reserve,
//! fee income, FX book), fee income of domestic rails and chains, of funding rails per currency, and per rail the accounts that hold payments'
//! funds — a transit account per bank and currency, an on-chain account per currency (a transfer between its
//! broadcast and the receiver's credit), and a ledger member's advances per bank and currency — so that funds in
//! flight and positions are read per rail from the ledger itself. Fixed arithmetic instead of a map lookup per
//! posting.

use crate::model::fx::CurId;
use crate::model::ledger::{AccountId, AccountKind, Ledger};
use crate::model::world::{BankId, ChainId, DomRailId, RailId, World};

impl Accounts {
    pub(super) fn open(ledger: &mut Ledger, world: &World) -> Accounts {
        let ncur = world.fx.currencies.len();
        let customers = 0;
        for c in 0..ncur {
            for kind in [
                AccountKind::Originators,
                AccountKind::Beneficiaries,
                AccountKind::Returns,
            ] {
                ledger.open(kind, CurId(c as u16), 0);
            }
        }
        let banks = 3 * ncur;
        for _ in 0..world.banks.len() {
            for c in 0..ncur {
                for kind in BANK_KINDS {
                    ledger.open(kind, CurId(c as u16), 0);
                }
            }
        }
        let doms = banks + world.banks.len() * ncur * BANK_KINDS.len();
        // Fee income of domestic rails, then of chains (miners and validators), per currency.
        for _ in 0..world.dom_rails.len() + world.chains.len() {
            for c in 0..ncur {
                ledger.open(AccountKind::FeeIncome, CurId(c as u16), 0);
            }
        }
        // Fees of the funding rails that rebalance positions, per currency.
        let funding_fees = doms + (world.dom_rails.len() + world.chains.len()) * ncur;
        for c in 0..ncur {
            ledger.open(AccountKind::FeeIncome, CurId(c as u16), 0);
        }
        let rails = funding_fees + ncur;
        // Per rail: transit per bank and currency, on-chain per currency, advances per bank and currency.
        for _ in 0..world.rails.len() {
            for _ in 0..world.banks.len() {
                for c in 0..ncur {
                    ledger.open(AccountKind::Transit, CurId(c as u16), 0);
                }
            }
            for c in 0..ncur {
                ledger.open(AccountKind::Transit, CurId(c as u16), 0);
            }
            for _ in 0..world.banks.len() {
                for c in 0..ncur {
                    ledger.open(AccountKind::Advance, CurId(c as u16), 0);
                }
            }
        }
        Accounts {
            ncur,
            nbanks: world.banks.len(),
            customers,
            banks,
            doms,
            funding_fees,
            rails,
        }
    }
    pub(super) fn customer(&self, kind: usize, c: CurId) -> AccountId {
        AccountId((self.customers + c.0 as usize * 3 + kind) as u32)
    }
    pub(super) fn originators(&self, c: CurId) -> AccountId {
        self.customer(0, c)
    }
    pub(super) fn beneficiaries(&self, c: CurId) -> AccountId {
        self.customer(1, c)
    }
    pub(super) fn returns(&self, c: CurId) -> AccountId {
        self.customer(2, c)
    }
    pub(super) fn bank(&self, b: BankId, kind: usize, c: CurId) -> AccountId {
        AccountId(
            (self.banks + (b.idx() * self.ncur + c.0 as usize) * BANK_KINDS.len() + kind) as u32,
        )
    }
    pub(super) fn reserve(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 0, c)
    }
    pub(super) fn fees(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 1, c)
    }
    pub(super) fn fx(&self, b: BankId, c: CurId) -> AccountId {
        self.bank(b, 2, c)
    }
    /// The first account of rail `r`'s block: transit (banks × currencies), on-chain (currencies), advances.
    fn rail_block(&self, r: RailId) -> usize {
        self.rails + r.idx() * self.ncur * (2 * self.nbanks + 1)
    }
    /// Funds of rail `r`'s payments in flight held by bank `b`.
    pub(super) fn transit(&self, r: RailId, b: BankId, c: CurId) -> AccountId {
        AccountId((self.rail_block(r) + b.idx() * self.ncur + c.0 as usize) as u32)
    }
    /// Rail `r`'s transfers on a chain or ledger, between broadcast and the receiver's credit.
    pub(super) fn on_chain(&self, r: RailId, c: CurId) -> AccountId {
        AccountId((self.rail_block(r) + self.nbanks * self.ncur + c.0 as usize) as u32)
    }
    /// What ledger member `b` of rail `r` advanced to other members, until net settlement.
    pub(super) fn advance(&self, r: RailId, b: BankId, c: CurId) -> AccountId {
        AccountId(
            (self.rail_block(r)
                + (self.nbanks + 1) * self.ncur
                + b.idx() * self.ncur
                + c.0 as usize) as u32,
        )
    }
    pub(super) fn dom_fees(&self, d: DomRailId, c: CurId) -> AccountId {
        AccountId((self.doms + d.idx() * self.ncur + c.0 as usize) as u32)
    }
    pub(super) fn funding_fees(&self, c: CurId) -> AccountId {
        AccountId((self.funding_fees + c.0 as usize) as u32)
    }
    pub(super) fn chain_fees(&self, doms: usize, chain: ChainId, c: CurId) -> AccountId {
        AccountId((self.doms + (doms + chain.idx()) * self.ncur + c.0 as usize) as u32)
    }
}

pub(super) const BANK_KINDS: [AccountKind; 3] = [
    AccountKind::Reserve,
    AccountKind::FeeIncome,
    AccountKind::FxPosition,
];

/// Account layout: fixed arithmetic instead of a map lookup per posting.
pub(super) struct Accounts {
    pub(super) ncur: usize,
    pub(super) nbanks: usize,
    pub(super) customers: usize,
    pub(super) banks: usize,
    pub(super) doms: usize,
    pub(super) funding_fees: usize,
    pub(super) rails: usize,
}
