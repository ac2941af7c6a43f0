//! Externally supplied annual inputs: `inputs/assessments/year=Y` (parts `onsite` and
//! `procurement`, a few institutions missing one part) and `inputs/investigations/year=Y` (one
//! institution `under_investigation`, one `withheld_materials`).

use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;

use crate::Ctx;
use crate::error::Result;
use crate::institutions::{Class, Registry};
use crate::rng::Rng;
use crate::tags;

/// Institutions under investigation / withholding materials: chosen among institutions that are
/// neither warned nor hosts of planted cases' first choices.
pub fn investigated(reg: &Registry) -> (Option<u32>, Option<u32>) {
    let pick = |class: Class| {
        reg.members[class.index()]
            .iter()
            .rev()
            .copied()
            .find(|i| reg.get(*i).full_year)
    };
    (pick(Class::Secondary), pick(Class::OtherPrimary))
}

/// Assessment scores: one row per institution and part; a few institutions lack a part.
pub fn assessments(ctx: &Ctx) -> Result<RecordBatch> {
    let reg = &ctx.reg;
    let mut ids = Vec::new();
    let mut parts = Vec::new();
    let mut scores = Vec::new();
    let missing_onsite = reg.members[Class::FamilyDoctor.index()].get(2).copied();
    let missing_proc: Vec<u32> = [
        reg.members[Class::Pharmacy.index()].get(1).copied(),
        reg.members[Class::OtherPrimary.index()].first().copied(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (i, inst) in reg.list.iter().enumerate() {
        let i = i as u32;
        let mut r = Rng::stream(ctx.cfg.seed, &[tags::ASSESS, i as u64]);
        for part in ["onsite", "procurement"] {
            // scores mostly 70–99, a few weak ones
            let base = if r.below(100) < 8 { 4_500 } else { 7_000 };
            let score = base + r.below(2_999) as i128;
            let skip = match part {
                "onsite" => missing_onsite == Some(i),
                _ => missing_proc.contains(&i),
            };
            if skip {
                continue;
            }
            ids.push(inst.id.clone());
            parts.push(part);
            scores.push(score);
        }
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(StringArray::from(parts)),
        Arc::new(Decimal128Array::from(scores).with_data_type(DataType::Decimal128(5, 2))),
    ];
    Ok(RecordBatch::try_new(
        claimlake_lake::contract::assessments(),
        cols,
    )?)
}

/// Investigations: one under investigation, one that withheld materials.
pub fn investigations(ctx: &Ctx) -> Result<RecordBatch> {
    let (under, withheld) = investigated(&ctx.reg);
    let mut ids = Vec::new();
    let mut status = Vec::new();
    let mut note = Vec::new();
    if let Some(i) = under {
        ids.push(ctx.reg.get(i).id.clone());
        status.push("under_investigation");
        note.push(format!(
            "major violation case opened {}-11 (synthetic)",
            ctx.cfg.year
        ));
    }
    if let Some(i) = withheld {
        ids.push(ctx.reg.get(i).id.clone());
        status.push("withheld_materials");
        note.push("did not provide assessment materials (synthetic)".to_string());
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(StringArray::from(status)),
        Arc::new(StringArray::from(note)),
    ];
    Ok(RecordBatch::try_new(
        claimlake_lake::contract::investigations(),
        cols,
    )?)
}
