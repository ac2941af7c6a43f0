//! Hand-made lake rows. [`ClaimRow::outpatient`] is a valid general-outpatient claim; a test
//! changes the one field its rule is about.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use claimlake_lake::{Lake, contract};
use rust_decimal::Decimal;

/// Parses a decimal literal ("12.50").
pub fn d(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

/// Days since 1970-01-01 of a date "YYYY-MM-DD".
pub fn date(s: &str) -> i32 {
    let d = chrono_like_days(s);
    d as i32
}

fn chrono_like_days(s: &str) -> i64 {
    let parts: Vec<i64> = s.split('-').map(|p| p.parse().expect("date")).collect();
    let (y, m, dd) = (parts[0], parts[1], parts[2]);
    // days from civil (Howard Hinnant's algorithm)
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Milliseconds since the epoch of a local wall-clock time "YYYY-MM-DD HH:MM:SS".
pub fn ts(s: &str) -> i64 {
    let (day, time) = s.split_once(' ').expect("date and time");
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().expect("time")).collect();
    (chrono_like_days(day) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1000
}

/// One claims row; `None` is a null.
#[derive(Debug, Clone)]
pub struct ClaimRow {
    pub claim_id: Option<String>,
    pub institution_id: Option<String>,
    pub prescriber_institution_id: Option<String>,
    pub patient_id: Option<String>,
    pub patient_gender: Option<String>,
    pub insurance_type: Option<String>,
    pub insured_region: Option<String>,
    pub visit_type: Option<String>,
    pub special_disease: Option<String>,
    pub pay_method: Option<String>,
    pub case_group: Option<String>,
    pub case_points: Option<Decimal>,
    pub drg_weight: Option<Decimal>,
    pub diagnosis_code: Option<String>,
    pub doctor_id: Option<String>,
    pub settle_time: Option<i64>,
    pub admit_date: Option<i32>,
    pub discharge_date: Option<i32>,
    /// total, western, patent, herbal, consumable, service
    pub fees: [Option<Decimal>; 6],
    pub herbal_doses: Option<i32>,
    /// vbp_amount, vbp_points, key_drug_amount
    pub drugs: [Option<Decimal>; 3],
    /// pool, serious, other, account, cash
    pub payers: [Option<Decimal>; 5],
    pub reverses_claim_id: Option<String>,
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

impl ClaimRow {
    /// A valid item-paid general-outpatient claim of 100.00 yuan at `institution` on `time`.
    pub fn outpatient(id: &str, institution: &str, time: &str) -> Self {
        ClaimRow {
            claim_id: s(id),
            institution_id: s(institution),
            prescriber_institution_id: None,
            patient_id: s("P1"),
            patient_gender: s("F"),
            insurance_type: s("employee"),
            insured_region: s("local"),
            visit_type: s("general_outpatient"),
            special_disease: None,
            pay_method: s("item"),
            case_group: None,
            case_points: None,
            drg_weight: None,
            diagnosis_code: s("J06.900"),
            doctor_id: s("D1"),
            settle_time: Some(ts(time)),
            admit_date: None,
            discharge_date: None,
            fees: [
                Some(d("100.00")),
                Some(d("40.00")),
                Some(d("10.00")),
                Some(d("0.00")),
                Some(d("5.00")),
                Some(d("45.00")),
            ],
            herbal_doses: Some(0),
            drugs: [Some(d("10.00")), Some(d("12.00")), Some(d("5.00"))],
            payers: [
                Some(d("60.00")),
                Some(d("0.00")),
                Some(d("0.00")),
                Some(d("20.00")),
                Some(d("20.00")),
            ],
            reverses_claim_id: None,
        }
    }

    /// A valid pharmacy claim at `pharmacy` filled from `prescriber`'s prescription.
    pub fn pharmacy(id: &str, pharmacy: &str, prescriber: Option<&str>, time: &str) -> Self {
        let mut r = Self::outpatient(id, pharmacy, time);
        r.visit_type = s("pharmacy");
        r.prescriber_institution_id = prescriber.map(str::to_string);
        r.doctor_id = None;
        if prescriber.is_none() {
            // a personal-account purchase: no pooled fund
            r.payers = [
                Some(d("0.00")),
                Some(d("0.00")),
                Some(d("0.00")),
                Some(d("80.00")),
                Some(d("20.00")),
            ];
        }
        r
    }

    /// A valid inpatient DRG case claim.
    pub fn inpatient(
        id: &str,
        institution: &str,
        time: &str,
        admit: &str,
        discharge: &str,
    ) -> Self {
        let mut r = Self::outpatient(id, institution, time);
        r.visit_type = s("inpatient");
        r.pay_method = s("case");
        r.case_group = s("ES23");
        r.case_points = Some(d("120.5000"));
        r.drg_weight = Some(d("1.2050"));
        r.admit_date = Some(date(admit));
        r.discharge_date = Some(date(discharge));
        r
    }

    /// The exact mirror (reversal) of this claim under a new id and time.
    pub fn reversal(&self, id: &str, time: &str) -> Self {
        let mut r = self.clone();
        r.claim_id = s(id);
        r.settle_time = Some(ts(time));
        r.reverses_claim_id = self.claim_id.clone();
        r.case_points = r.case_points.map(|v| -v);
        r.herbal_doses = r.herbal_doses.map(|v| -v);
        for v in r
            .fees
            .iter_mut()
            .chain(r.drugs.iter_mut())
            .chain(r.payers.iter_mut())
        {
            *v = v.map(|x| -x);
        }
        r
    }
}

fn dec_array(values: impl Iterator<Item = Option<Decimal>>, p: u8, sc: u32) -> ArrayRef {
    let ints: Vec<Option<i128>> = values
        .map(|v| {
            v.map(|mut x| {
                x.rescale(sc);
                x.mantissa()
            })
        })
        .collect();
    Arc::new(
        Decimal128Array::from(ints)
            .with_precision_and_scale(p, sc as i8)
            .expect("decimal type"),
    )
}

fn str_array(values: impl Iterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(values.collect::<Vec<_>>()))
}

/// Builds a claims batch with the contract schema.
pub fn claims_batch(rows: &[ClaimRow]) -> RecordBatch {
    let mut cols: Vec<ArrayRef> = vec![
        str_array(rows.iter().map(|r| r.claim_id.clone())),
        str_array(rows.iter().map(|r| r.institution_id.clone())),
        str_array(rows.iter().map(|r| r.prescriber_institution_id.clone())),
        str_array(rows.iter().map(|r| r.patient_id.clone())),
        str_array(rows.iter().map(|r| r.patient_gender.clone())),
        str_array(rows.iter().map(|r| r.insurance_type.clone())),
        str_array(rows.iter().map(|r| r.insured_region.clone())),
        str_array(rows.iter().map(|r| r.visit_type.clone())),
        str_array(rows.iter().map(|r| r.special_disease.clone())),
        str_array(rows.iter().map(|r| r.pay_method.clone())),
        str_array(rows.iter().map(|r| r.case_group.clone())),
        dec_array(rows.iter().map(|r| r.case_points), 20, 4),
        dec_array(rows.iter().map(|r| r.drg_weight), 10, 4),
        str_array(rows.iter().map(|r| r.diagnosis_code.clone())),
        str_array(rows.iter().map(|r| r.doctor_id.clone())),
        Arc::new(TimestampMillisecondArray::from(
            rows.iter().map(|r| r.settle_time).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            rows.iter().map(|r| r.admit_date).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            rows.iter().map(|r| r.discharge_date).collect::<Vec<_>>(),
        )),
    ];
    for i in 0..6 {
        cols.push(dec_array(rows.iter().map(|r| r.fees[i]), 18, 2));
    }
    cols.push(Arc::new(Int32Array::from(
        rows.iter().map(|r| r.herbal_doses).collect::<Vec<_>>(),
    )));
    for i in 0..3 {
        cols.push(dec_array(rows.iter().map(|r| r.drugs[i]), 18, 2));
    }
    for i in 0..5 {
        cols.push(dec_array(rows.iter().map(|r| r.payers[i]), 18, 2));
    }
    cols.push(str_array(rows.iter().map(|r| r.reverses_claim_id.clone())));
    RecordBatch::try_new(contract::claims(), cols).expect("claims batch")
}

/// One claim_items row: (claim_id, line_no, item_code, amount).
pub fn items_batch(rows: &[(&str, i32, &str, &str)]) -> RecordBatch {
    RecordBatch::try_new(
        contract::claim_items(),
        vec![
            str_array(rows.iter().map(|r| Some(r.0.to_string()))),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            str_array(rows.iter().map(|r| Some(r.2.to_string()))),
            dec_array(rows.iter().map(|_| Some(d("1.000"))), 12, 3),
            dec_array(rows.iter().map(|r| Some(d(r.3))), 18, 2),
            Arc::new(Int32Array::from(vec![None::<i32>; rows.len()])),
        ],
    )
    .expect("items batch")
}

/// The registry of the hand-made lakes: H1 tertiary hospital, H2 TCM hospital, C1 clinic,
/// F1 family-doctor clinic, P1 and P2 pharmacies.
pub fn institutions_batch() -> RecordBatch {
    let rows = [
        ("H1", "hospital", "tertiary", 3),
        ("H2", "hospital", "tcm", 2),
        ("C1", "clinic", "other_primary", 1),
        ("F1", "clinic", "family_doctor_primary", 1),
        ("P1", "pharmacy", "pharmacy", 0),
        ("P2", "pharmacy", "pharmacy", 0),
    ];
    RecordBatch::try_new(
        contract::institutions(),
        vec![
            str_array(rows.iter().map(|r| Some(r.0.to_string()))),
            str_array(rows.iter().map(|r| Some(format!("{} name", r.0)))),
            str_array(rows.iter().map(|r| Some(r.1.to_string()))),
            str_array(rows.iter().map(|r| Some(r.2.to_string()))),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            str_array(rows.iter().map(|_| Some("d1".to_string()))),
            str_array(rows.iter().map(|_| None)),
            Arc::new(Date32Array::from(vec![None::<i32>; rows.len()])),
            Arc::new(Date32Array::from(vec![None::<i32>; rows.len()])),
        ],
    )
    .expect("institutions batch")
}

/// A catalogue with one item per fee class.
pub fn catalog_batch() -> RecordBatch {
    RecordBatch::try_new(
        contract::catalog(),
        vec![
            str_array(["W1", "S1"].iter().map(|v| Some(v.to_string()))),
            str_array(["drug", "exam"].iter().map(|v| Some(v.to_string()))),
            str_array(["western", "service"].iter().map(|v| Some(v.to_string()))),
            Arc::new(BooleanArray::from(vec![false, false])),
            Arc::new(BooleanArray::from(vec![false, false])),
            str_array([None, None].into_iter()),
        ],
    )
    .expect("catalog batch")
}

/// Writes the registry and catalogue of the hand-made lakes.
pub async fn write_reference(lake: &Lake) {
    lake.write_parquet(
        "reference/institutions/part-000.parquet",
        &contract::institutions(),
        &[institutions_batch()],
    )
    .await
    .expect("write institutions");
    lake.write_parquet(
        "reference/catalog/part-000.parquet",
        &contract::catalog(),
        &[catalog_batch()],
    )
    .await
    .expect("write catalog");
}

/// Writes one claims file of month `year-month` (file name `name`, e.g. `part-000.parquet`).
pub async fn write_claims(lake: &Lake, year: i32, month: u32, name: &str, rows: &[ClaimRow]) {
    lake.write_parquet(
        &format!("claims/year={year}/month={month:02}/{name}"),
        &contract::claims(),
        &[claims_batch(rows)],
    )
    .await
    .expect("write claims");
}

/// Writes one claim_items file of month `year-month`.
pub async fn write_items(lake: &Lake, year: i32, month: u32, rows: &[(&str, i32, &str, &str)]) {
    lake.write_parquet(
        &format!("claim_items/year={year}/month={month:02}/part-000.parquet"),
        &contract::claim_items(),
        &[items_batch(rows)],
    )
    .await
    .expect("write items");
}

/// A new lake in a temporary folder holding one generated year, 2025, of `scale` from `seed`:
/// the prologue of every test over generated data. Keep the folder alive as long as the lake.
pub async fn generated_lake(
    scale: claimlake_datagen::Scale,
    seed: u64,
) -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    claimlake_datagen::generate(
        &lake,
        &claimlake_datagen::GenConfig::new(2025, scale, seed),
        &|_| {},
    )
    .await
    .unwrap();
    (dir, lake)
}
