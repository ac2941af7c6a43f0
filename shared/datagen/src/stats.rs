//! What a part of a month tells the rest of the generator: row counts for the ground truth,
//! in-scope volume per institution (to size the warned institutions' planted patients), declared
//! points (for the policy's budgets), claims to reverse next month and planted suspicions.

use crate::Ctx;
use crate::claims::{Claim, TOTAL};
use crate::policy::PointsAcc;
use crate::truth::SuspicionRow;

#[derive(Debug, Clone)]
pub struct PartStats {
    pub claim_rows: u64,
    pub item_rows: u64,
    /// Quarantined claim rows by reason (index of [`crate::badrows::Reason::CLAIMS`]).
    pub q_claims: [u64; 15],
    pub q_orphan_items: u64,
    pub q_claim_items: u64,
    pub netted_claims: u64,
    pub netted_items: u64,
    /// In-scope (outpatient-type) valid claims per institution: `(visits, cost fen)`.
    pub scope: Vec<(i64, i64)>,
    pub points: PointsAcc,
    /// Valid claims chosen to be reversed next month.
    pub xmonth: Vec<Claim>,
    pub suspicions: Vec<SuspicionRow>,
}

impl PartStats {
    pub fn new(institutions: usize, doctors: usize) -> Self {
        PartStats {
            claim_rows: 0,
            item_rows: 0,
            q_claims: [0; 15],
            q_orphan_items: 0,
            q_claim_items: 0,
            netted_claims: 0,
            netted_items: 0,
            scope: vec![(0, 0); institutions],
            points: PointsAcc::new(institutions, doctors),
            xmonth: Vec::new(),
            suspicions: Vec::new(),
        }
    }

    /// Accounts for a valid, non-netted claim settled in absolute month `mabs`.
    pub fn valid(&mut self, ctx: &Ctx, c: &Claim, mabs: i32) {
        if c.visit.outpatient_type() {
            let s = &mut self.scope[c.inst as usize];
            s.0 += 1;
            s.1 += c.money[TOTAL];
        }
        self.points.add(ctx, c, mabs, 1);
    }

    /// Adds another part's statistics (`xmonth` and `suspicions` are appended in order).
    pub fn merge(&mut self, mut o: PartStats) {
        self.claim_rows += o.claim_rows;
        self.item_rows += o.item_rows;
        for (a, b) in self.q_claims.iter_mut().zip(o.q_claims) {
            *a += b;
        }
        self.q_orphan_items += o.q_orphan_items;
        self.q_claim_items += o.q_claim_items;
        self.netted_claims += o.netted_claims;
        self.netted_items += o.netted_items;
        for (a, b) in self.scope.iter_mut().zip(&o.scope) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.points.merge(&o.points);
        self.xmonth.append(&mut o.xmonth);
        self.suspicions.append(&mut o.suspicions);
    }

    /// Quarantined claim rows of the part.
    pub fn quarantined_claims(&self) -> u64 {
        self.q_claims.iter().sum()
    }

    /// Quarantined item rows of the part.
    pub fn quarantined_items(&self) -> u64 {
        self.q_orphan_items + self.q_claim_items
    }
}
