//! Every quarantine reason of data-contract.md on a hand-made row, the order of the rules,
//! reversal netting and mirrors, item reasons, and schema errors naming file and column.

use std::collections::BTreeMap;

use arrow::array::{Array, StringArray};
use claimlake_domain::period::Month;
use claimlake_engine::ingest::{MonthValidation, validate_month};
use claimlake_engine::session::new_session;
use claimlake_lake::Lake;
use claimlake_tests::fixtures::{ClaimRow, d, date, write_claims, write_items, write_reference};
use datafusion::prelude::SessionContext;
use futures_like::collect_reasons;

mod futures_like {
    use super::*;

    /// Reads `quarantine/<table>/year=/month=/data.parquet` as claim_id -> reason.
    pub async fn collect_reasons(lake: &Lake, table: &str, m: Month) -> BTreeMap<String, String> {
        let bytes = lake
            .get(&claimlake_lake::layout::quarantine(table, m))
            .await
            .expect("quarantine written");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024)
            .expect("parquet");
        let mut out = BTreeMap::new();
        for b in reader {
            let b = b.expect("batch");
            let ids = b
                .column_by_name("claim_id")
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            let reasons = b
                .column_by_name("reason")
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            for i in 0..b.num_rows() {
                let id = if ids.is_null(i) {
                    "<null>".to_string()
                } else {
                    ids.value(i).to_string()
                };
                let key = if out.contains_key(&id) {
                    format!("{id}#{i}")
                } else {
                    id
                };
                out.insert(key, reasons.value(i).to_string());
            }
        }
        out
    }
}

const MAR: Month = Month {
    year: 2025,
    month: 3,
};

/// A lake with the reference tables and the given claims of March 2025 (one file).
async fn lake_with(rows: &[ClaimRow]) -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_reference(&lake).await;
    write_claims(&lake, 2025, 3, "part-000.parquet", rows).await;
    (dir, lake)
}

async fn validate(lake: &Lake, m: Month) -> (SessionContext, MonthValidation) {
    let ctx = new_session(Some(2));
    let v = validate_month(lake, &ctx, m)
        .await
        .expect("validation runs");
    assert!(v.claims.reconciles(), "claims reconcile: {:?}", v.claims);
    assert!(v.items.reconciles(), "items reconcile: {:?}", v.items);
    (ctx, v)
}

fn ok(id: &str) -> ClaimRow {
    ClaimRow::outpatient(id, "H1", "2025-03-10 09:30:00")
}

/// Validates `bad` beside a valid row and returns the reason of `bad`.
async fn reason_of(bad: ClaimRow) -> Option<String> {
    let id = bad.claim_id.clone().unwrap_or_else(|| "<null>".into());
    let (_dir, lake) = lake_with(&[ok("OK1"), bad]).await;
    let (_ctx, v) = validate(&lake, MAR).await;
    let reasons = collect_reasons(&lake, "claims", MAR).await;
    assert!(!reasons.contains_key("OK1"), "the valid row stays valid");
    assert_eq!(v.claims.used + v.claims.quarantined_total(), 2);
    reasons.get(&id).cloned()
}

#[tokio::test]
async fn valid_row_is_used() {
    let (_dir, lake) = lake_with(&[ok("OK1")]).await;
    let (ctx, v) = validate(&lake, MAR).await;
    assert_eq!((v.claims.read, v.claims.used), (1, 1));
    let n = ctx
        .sql("SELECT * FROM claims_valid")
        .await
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn missing_field_not_null_column() {
    let mut r = ok("X");
    r.patient_id = None;
    assert_eq!(reason_of(r).await.as_deref(), Some("missing_field"));
}

#[tokio::test]
async fn missing_field_required_by_visit_type_and_pay_method() {
    let mut r = ok("X1");
    r.doctor_id = None; // outpatient needs a doctor (doctor-days)
    assert_eq!(reason_of(r).await.as_deref(), Some("missing_field"));
    let mut r = ok("X2");
    r.pay_method = Some("case".into()); // case payment needs case_points
    assert_eq!(reason_of(r).await.as_deref(), Some("missing_field"));
    let mut r = ok("X3");
    r.visit_type = Some("special_outpatient".into()); // needs special_disease
    assert_eq!(reason_of(r).await.as_deref(), Some("missing_field"));
    let mut r = ClaimRow::inpatient(
        "X4",
        "H1",
        "2025-03-10 09:00:00",
        "2025-03-01",
        "2025-03-09",
    );
    r.discharge_date = None;
    assert_eq!(reason_of(r).await.as_deref(), Some("missing_field"));
}

#[tokio::test]
async fn missing_field_wins_over_later_rules() {
    // also a bad enum and a fee mismatch: the first failing rule is reported
    let mut r = ok("X");
    r.patient_id = None;
    r.insured_region = Some("overseas".into());
    r.fees[0] = Some(d("999.00"));
    assert_eq!(reason_of(r).await.as_deref(), Some("missing_field"));
}

#[tokio::test]
async fn bad_enum() {
    let mut r = ok("X");
    r.visit_type = Some("emergency".into());
    assert_eq!(reason_of(r).await.as_deref(), Some("bad_enum"));
    let mut r = ok("X2");
    r.patient_gender = Some("U".into());
    assert_eq!(reason_of(r).await.as_deref(), Some("bad_enum"));
    let mut r = ok("X3");
    r.patient_gender = None; // gender may be null
    assert_eq!(reason_of(r).await, None);
}

#[tokio::test]
async fn fee_parts_mismatch_by_one_fen() {
    let mut r = ok("X");
    r.fees[5] = Some(d("45.01"));
    assert_eq!(reason_of(r).await.as_deref(), Some("fee_parts_mismatch"));
}

#[tokio::test]
async fn payer_parts_mismatch() {
    let mut r = ok("X");
    r.payers[4] = Some(d("19.99"));
    assert_eq!(reason_of(r).await.as_deref(), Some("payer_parts_mismatch"));
}

#[tokio::test]
async fn negative_amount_on_claim_and_positive_on_reversal() {
    let mut r = ok("X");
    r.fees = [
        Some(d("100.00")),
        Some(d("50.00")),
        Some(d("10.00")),
        Some(d("0.00")),
        Some(d("5.00")),
        Some(d("35.00")),
    ];
    r.drugs[2] = Some(d("-1.00"));
    assert_eq!(reason_of(r).await.as_deref(), Some("negative_amount"));
    // a reversal with a positive amount
    let mut rev = ok("OK1").reversal("R1", "2025-03-11 10:00:00");
    rev.drugs[1] = Some(d("1.00"));
    assert_eq!(reason_of(rev).await.as_deref(), Some("negative_amount"));
}

#[tokio::test]
async fn vbp_exceeds_drugs() {
    let mut r = ok("X");
    r.drugs[0] = Some(d("50.01")); // western 40 + patent 10
    assert_eq!(reason_of(r).await.as_deref(), Some("vbp_exceeds_drugs"));
    let mut r = ok("X2");
    r.drugs[2] = Some(d("50.01")); // key drugs > western + patent + herbal (50)
    assert_eq!(reason_of(r).await.as_deref(), Some("vbp_exceeds_drugs"));
}

#[tokio::test]
async fn unknown_institution_and_prescriber() {
    let mut r = ok("X");
    r.institution_id = Some("H999".into());
    assert_eq!(reason_of(r).await.as_deref(), Some("unknown_institution"));
    let r = ClaimRow::pharmacy("X2", "P1", Some("H999"), "2025-03-10 09:00:00");
    assert_eq!(reason_of(r).await.as_deref(), Some("unknown_institution"));
    // an unknown prescriber on a non-pharmacy claim is ignored (treated as null)
    let mut r = ok("X3");
    r.prescriber_institution_id = Some("H999".into());
    assert_eq!(reason_of(r).await, None);
}

#[tokio::test]
async fn invalid_prescriber_is_a_pharmacy() {
    let r = ClaimRow::pharmacy("X", "P1", Some("P2"), "2025-03-10 09:00:00");
    assert_eq!(reason_of(r).await.as_deref(), Some("invalid_prescriber"));
}

#[tokio::test]
async fn visit_type_mismatch_both_ways() {
    let r = ClaimRow::pharmacy("X", "H1", None, "2025-03-10 09:00:00");
    assert_eq!(reason_of(r).await.as_deref(), Some("visit_type_mismatch"));
    let r = ClaimRow::outpatient("X2", "P1", "2025-03-10 09:00:00");
    assert_eq!(reason_of(r).await.as_deref(), Some("visit_type_mismatch"));
}

#[tokio::test]
async fn wrong_partition_at_the_millisecond() {
    let mut r = ok("X");
    r.settle_time = Some(claimlake_tests::fixtures::ts("2025-04-01 00:00:00"));
    assert_eq!(reason_of(r).await.as_deref(), Some("wrong_partition"));
    let mut r = ok("X2");
    r.settle_time = Some(claimlake_tests::fixtures::ts("2025-02-28 23:59:59") + 999);
    assert_eq!(reason_of(r).await.as_deref(), Some("wrong_partition"));
    // the last millisecond of March and the first of March are inside
    let mut r = ok("X3");
    r.settle_time = Some(claimlake_tests::fixtures::ts("2025-03-31 23:59:59") + 999);
    assert_eq!(reason_of(r).await, None);
    let mut r = ok("X4");
    r.settle_time = Some(claimlake_tests::fixtures::ts("2025-03-01 00:00:00"));
    assert_eq!(reason_of(r).await, None);
}

#[tokio::test]
async fn duplicate_claim_keeps_the_first_in_reading_order() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_reference(&lake).await;
    // part-000 holds a quarantined row with id A (bad fee parts), then a valid A;
    // part-001 holds another valid-looking A: the duplicate.
    let mut bad_a = ok("A");
    bad_a.fees[5] = Some(d("1.00"));
    let mut second = ok("A");
    second.patient_id = Some("P2".into());
    write_claims(&lake, 2025, 3, "part-001.parquet", &[second]).await;
    write_claims(&lake, 2025, 3, "part-000.parquet", &[bad_a, ok("A")]).await;
    let (ctx, v) = validate(&lake, MAR).await;
    assert_eq!(v.claims.quarantined.get("fee_parts_mismatch"), Some(&1));
    assert_eq!(v.claims.quarantined.get("duplicate_claim"), Some(&1));
    assert_eq!(v.claims.used, 1);
    // the kept row is the one of part-000 (patient P1), not part-001's P2
    let batches = ctx
        .sql("SELECT patient_id, source_file FROM claims_valid")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    // As plain strings, whatever string encoding the step produced.
    let p = claimlake_engine::cells::utf8(batches[0].column(0)).unwrap();
    assert_eq!(p.value(0), "P1");
}

#[tokio::test]
async fn duplicate_claim_of_an_earlier_month() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_reference(&lake).await;
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[ClaimRow::outpatient("A", "H1", "2025-01-10 09:00:00")],
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[ClaimRow::outpatient("B", "H1", "2025-02-10 09:00:00")],
    )
    .await;
    write_claims(&lake, 2025, 3, "part-000.parquet", &[ok("A"), ok("C")]).await;
    // March validation rebuilds the ledgers of January and February first
    let (_ctx, v) = validate(&lake, MAR).await;
    assert_eq!(v.claims.quarantined.get("duplicate_claim"), Some(&1));
    assert_eq!(v.claims.used, 1);
    assert!(
        lake.exists("ledger/claims/year=2025/month=01/data.parquet")
            .await
            .unwrap()
    );
    // an id of the previous year does not count
    let dir2 = tempfile::tempdir().unwrap();
    let lake2 = Lake::open(dir2.path().to_str().unwrap()).unwrap();
    write_reference(&lake2).await;
    write_claims(
        &lake2,
        2024,
        12,
        "part-000.parquet",
        &[ClaimRow::outpatient("A", "H1", "2024-12-10 09:00:00")],
    )
    .await;
    write_claims(
        &lake2,
        2025,
        1,
        "part-000.parquet",
        &[ClaimRow::outpatient("A", "H1", "2025-01-10 09:00:00")],
    )
    .await;
    let ctx = new_session(Some(2));
    let v = validate_month(
        &lake2,
        &ctx,
        Month {
            year: 2025,
            month: 1,
        },
    )
    .await
    .unwrap();
    assert_eq!(v.claims.used, 1);
}

#[tokio::test]
async fn orphan_reversal_cases() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_reference(&lake).await;
    let jan = ClaimRow::outpatient("J1", "H1", "2025-01-10 09:00:00");
    let apr = ClaimRow::outpatient("A1", "H1", "2025-04-10 09:00:00");
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        std::slice::from_ref(&jan),
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[ClaimRow::outpatient("F1", "H1", "2025-02-10 09:00:00")],
    )
    .await;
    let target = ok("T1");
    let rows = vec![
        target.clone(),
        target.reversal("R1", "2025-03-12 10:00:00"), // cancels T1 (netted)
        target.reversal("R2", "2025-03-13 10:00:00"), // T1 already cancelled -> orphan
        apr.reversal("R3", "2025-03-14 10:00:00"),    // names a later month's claim -> orphan
        jan.reversal("R4", "2025-03-15 10:00:00"),    // mirror of a January claim -> used
        ok("NOPE").reversal("R5", "2025-03-16 10:00:00"), // names nothing -> orphan
    ];
    write_claims(&lake, 2025, 3, "part-000.parquet", &rows).await;
    let (_ctx, v) = validate(&lake, MAR).await;
    let reasons = collect_reasons(&lake, "claims", MAR).await;
    assert_eq!(
        reasons.get("R2").map(String::as_str),
        Some("orphan_reversal")
    );
    assert_eq!(
        reasons.get("R3").map(String::as_str),
        Some("orphan_reversal")
    );
    assert_eq!(
        reasons.get("R5").map(String::as_str),
        Some("orphan_reversal")
    );
    assert_eq!(reasons.len(), 3);
    assert_eq!(v.claims.netted, 2, "T1 and R1 net to zero");
    assert_eq!(v.claims.used, 1, "R4 is January's mirror claim in March");
}

#[tokio::test]
async fn reversal_read_before_its_claim_nets() {
    let target = ok("T1");
    let rev = target.reversal("R1", "2025-03-12 10:00:00");
    let (_dir, lake) = lake_with(&[rev, target]).await;
    let (_ctx, v) = validate(&lake, MAR).await;
    assert_eq!((v.claims.netted, v.claims.used), (2, 0));
}

#[tokio::test]
async fn reversal_of_a_reversal_is_orphan_and_second_reversal_across_months() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_reference(&lake).await;
    let jan = ClaimRow::outpatient("J1", "H1", "2025-01-10 09:00:00");
    let feb_rev = jan.reversal("JR1", "2025-02-10 09:00:00");
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        std::slice::from_ref(&jan),
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        std::slice::from_ref(&feb_rev),
    )
    .await;
    let rows = vec![
        jan.reversal("JR2", "2025-03-12 10:00:00"), // J1 cancelled in February -> orphan
        feb_rev.reversal("RR", "2025-03-12 11:00:00"), // names a reversal -> orphan
    ];
    write_claims(&lake, 2025, 3, "part-000.parquet", &rows).await;
    let (_ctx, v) = validate(&lake, MAR).await;
    let reasons = collect_reasons(&lake, "claims", MAR).await;
    assert_eq!(
        reasons.get("JR2").map(String::as_str),
        Some("orphan_reversal"),
        "{reasons:?}"
    );
    // a reversal of a reversal has positive amounts: that rule comes first
    assert_eq!(
        reasons.get("RR").map(String::as_str),
        Some("negative_amount"),
        "{reasons:?}"
    );
    assert_eq!(v.claims.used, 0);
}

#[tokio::test]
async fn reversal_mismatch_partial_and_other_column() {
    let target = ok("T1");
    let mut partial = target.reversal("R1", "2025-03-12 10:00:00");
    partial.fees = [
        Some(d("-50.00")),
        Some(d("-20.00")),
        Some(d("-5.00")),
        Some(d("0.00")),
        Some(d("-2.50")),
        Some(d("-22.50")),
    ];
    partial.payers = [
        Some(d("-30.00")),
        Some(d("0.00")),
        Some(d("0.00")),
        Some(d("-10.00")),
        Some(d("-10.00")),
    ];
    partial.drugs = [Some(d("-5.00")), Some(d("-6.00")), Some(d("-2.50"))];
    assert_eq!(
        reason_of_with(std::slice::from_ref(&target), partial)
            .await
            .as_deref(),
        Some("reversal_mismatch")
    );
    let mut other = target.reversal("R2", "2025-03-12 10:00:00");
    other.doctor_id = Some("D9".into());
    assert_eq!(
        reason_of_with(std::slice::from_ref(&target), other)
            .await
            .as_deref(),
        Some("reversal_mismatch")
    );
    // a mismatching reversal read first does not cancel: the exact one after it does
    let bad = {
        let mut b = target.reversal("R3", "2025-03-12 10:00:00");
        b.patient_id = Some("P9".into());
        b
    };
    let good = target.reversal("R4", "2025-03-13 10:00:00");
    let (_dir, lake) = lake_with(&[target, bad, good]).await;
    let (_ctx, v) = validate(&lake, MAR).await;
    assert_eq!(v.claims.quarantined.get("reversal_mismatch"), Some(&1));
    assert_eq!(v.claims.netted, 2);
}

async fn reason_of_with(before: &[ClaimRow], row: ClaimRow) -> Option<String> {
    let id = row.claim_id.clone().unwrap();
    let mut rows = before.to_vec();
    rows.push(row);
    let (_dir, lake) = lake_with(&rows).await;
    validate(&lake, MAR).await;
    collect_reasons(&lake, "claims", MAR)
        .await
        .get(&id)
        .cloned()
}

#[tokio::test]
async fn inpatient_dates() {
    let r = ClaimRow::inpatient("X", "H1", "2025-03-10 09:00:00", "2025-03-09", "2025-03-08");
    assert_eq!(reason_of(r).await.as_deref(), Some("inpatient_dates"));
    // same-day admission and discharge is fine
    let r = ClaimRow::inpatient(
        "X2",
        "H1",
        "2025-03-10 09:00:00",
        "2025-03-09",
        "2025-03-09",
    );
    assert_eq!(reason_of(r).await, None);
    let _ = date("2025-03-09");
}

#[tokio::test]
async fn pharmacy_fund_without_prescriber() {
    let mut r = ClaimRow::pharmacy("X", "P1", None, "2025-03-10 09:00:00");
    r.payers = [
        Some(d("0.01")),
        Some(d("0.00")),
        Some(d("0.00")),
        Some(d("79.99")),
        Some(d("20.00")),
    ];
    assert_eq!(
        reason_of(r).await.as_deref(),
        Some("pharmacy_fund_without_prescriber")
    );
    // an account-only purchase is valid
    let r = ClaimRow::pharmacy("X2", "P1", None, "2025-03-10 09:00:00");
    assert_eq!(reason_of(r).await, None);
}

#[tokio::test]
async fn item_reasons_and_netted_items() {
    let target = ok("T1");
    let mut bad = ok("B1");
    bad.fees[0] = Some(d("1.00"));
    let rows = vec![
        ok("OK1"),
        bad,
        target.clone(),
        target.reversal("R1", "2025-03-12 10:00:00"),
    ];
    let (_dir, lake) = lake_with(&rows).await;
    write_items(
        &lake,
        2025,
        3,
        &[
            ("OK1", 1, "W1", "40.00"),
            ("OK1", 2, "S1", "45.00"),
            ("B1", 1, "W1", "40.00"),
            ("T1", 1, "W1", "40.00"),
            ("ZZ", 1, "W1", "40.00"),
        ],
    )
    .await;
    let (ctx, v) = validate(&lake, MAR).await;
    assert_eq!(v.items.read, 5);
    assert_eq!(v.items.used, 2);
    assert_eq!(v.items.netted, 1);
    assert_eq!(v.items.quarantined.get("claim_quarantined"), Some(&1));
    assert_eq!(v.items.quarantined.get("orphan_item"), Some(&1));
    let n = ctx
        .sql("SELECT * FROM items_valid")
        .await
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn schema_errors_name_file_and_column() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_reference(&lake).await;
    // drop a column
    let batch = claimlake_tests::fixtures::claims_batch(&[ok("A")]);
    let idx = batch.schema().index_of("cash_paid").unwrap();
    let mut cols = batch.columns().to_vec();
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    cols.remove(idx);
    fields.remove(idx);
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    let b = arrow::array::RecordBatch::try_new(schema.clone(), cols).unwrap();
    lake.write_parquet("claims/year=2025/month=03/part-000.parquet", &schema, &[b])
        .await
        .unwrap();
    let ctx = new_session(Some(2));
    let err = validate_month(&lake, &ctx, MAR)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("claims/year=2025/month=03/part-000.parquet"),
        "{err}"
    );
    assert!(err.contains("cash_paid"), "{err}");
    // a wrong type
    let batch = claimlake_tests::fixtures::claims_batch(&[ok("A")]);
    let idx = batch.schema().index_of("herbal_doses").unwrap();
    let mut cols = batch.columns().to_vec();
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    cols[idx] = Arc::new(StringArray::from(vec!["3"]));
    fields[idx] = Arc::new(arrow::datatypes::Field::new(
        "herbal_doses",
        arrow::datatypes::DataType::Utf8,
        true,
    ));
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    let b = arrow::array::RecordBatch::try_new(schema.clone(), cols).unwrap();
    lake.write_parquet("claims/year=2025/month=03/part-000.parquet", &schema, &[b])
        .await
        .unwrap();
    let err = validate_month(&lake, &ctx, MAR)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("herbal_doses") && err.contains("Utf8"),
        "{err}"
    );
    // an unreadable file
    lake.put(
        "claims/year=2025/month=03/part-000.parquet",
        bytes_of(b"not parquet"),
    )
    .await
    .unwrap();
    let err = validate_month(&lake, &ctx, MAR)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("part-000.parquet") && err.contains("unreadable"),
        "{err}"
    );
}

fn bytes_of(b: &'static [u8]) -> bytes::Bytes {
    bytes::Bytes::from_static(b)
}
