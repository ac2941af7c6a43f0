//! Golden quarterly-warnings tests (quarterly-warnings.md Parts A–C): tiny hand-built lakes
//! whose every expected number is worked out by hand in the comment beside its assertion, and
//! the cards' effect on the monthly settlement (monthly-settlement.md Step 9).
//!
//! Conventions: claims are item-paid general-outpatient claims built by [`claim`] with a drug
//! part (western) and an "other" part (service), paid entirely by the pool, so `total_amount =
//! drugs + other`, `key_drug_amount = 0` (key_drug_ratio is 0 everywhere and never hits) and the
//! settlement's fund equals the total. Every policy here is the golden settlement policy
//! (tests/src/golden.rs) plus a `[warnings]` section written by [`warnings_toml`];
//! `high_frequency_visits = 99` so `high_frequency_share` is 0 everywhere and never hits.

use bytes::Bytes;
use claimlake_domain::period::{Month, Quarter};
use claimlake_engine::settle::{SettleOutcome, settle_month};
use claimlake_engine::warn::{WarnOutcome, warn_quarter};
use claimlake_lake::{Lake, layout};
use claimlake_tests::fixtures::{ClaimRow, d, write_claims};
use claimlake_tests::golden::{GoldenClaim, GoldenPolicy, Inst, ResultTable, write_registry};
use rust_decimal::Decimal;

/// A pool-paid general-outpatient claim of `patient` at `institution` on the 10th of
/// `year-month`: western drugs `drugs`, service `other`.
fn claim(
    id: &str,
    institution: &str,
    patient: &str,
    (year, month): (i32, u32),
    drugs: &str,
    other: &str,
) -> ClaimRow {
    let mut r = ClaimRow::outpatient(id, institution, &format!("{year}-{month:02}-10 09:30:00"))
        .fees(drugs, "0", "0", "0", other);
    r.patient_id = Some(patient.into());
    let total: Decimal = d(drugs) + d(other);
    r.payers(&total.to_string(), "0", "0", "0", "0")
}

/// The `[warnings]` section of a test policy.
struct Warn<'a> {
    min_visits: u32,
    method: &'a str,
    margin: &'a str,
    percentile: u32,
    min_hits: u32,
    margins: &'a [(&'a str, &'a str)],
    top_share: &'a str,
    median_multiple: &'a str,
    min_cost_share: &'a str,
    min_top_patients: u32,
}

impl Default for Warn<'_> {
    fn default() -> Self {
        Warn {
            min_visits: 1,
            method: "ratio",
            margin: "0.30",
            percentile: 90,
            min_hits: 1,
            margins: &[],
            top_share: "0.50",
            median_multiple: "2",
            min_cost_share: "0.50",
            min_top_patients: 1,
        }
    }
}

fn warnings_toml(w: &Warn) -> String {
    let mut t = format!(
        "\n[warnings]\nscope_visit_types = [\"general_outpatient\", \"special_outpatient\", \
         \"pharmacy\"]\nmin_visits = {}\nmethod = \"{}\"\nmargin = \"{}\"\npercentile = {}\n\
         min_hits = {}\nhigh_frequency_visits = 99\n",
        w.min_visits, w.method, w.margin, w.percentile, w.min_hits
    );
    if !w.margins.is_empty() {
        t.push_str("\n[warnings.margins]\n");
        for (k, v) in w.margins {
            t.push_str(&format!("{k} = \"{v}\"\n"));
        }
    }
    t.push_str(&format!(
        "\n[warnings.associated]\ntop_share = \"{}\"\nmedian_multiple = \"{}\"\n\
         min_cost_share = \"{}\"\nmin_top_patients = {}\n",
        w.top_share, w.median_multiple, w.min_cost_share, w.min_top_patients
    ));
    t
}

/// Writes `policy/<year>.toml`: the golden settlement policy plus the `[warnings]` section.
async fn put_policy(lake: &Lake, year: i32, policy: &GoldenPolicy, w: &Warn<'_>) {
    let text = policy.to_toml(year) + &warnings_toml(w);
    lake.put(&format!("policy/{year}.toml"), Bytes::from(text))
        .await
        .expect("write policy");
}

async fn new_lake(registry: &[Inst]) -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_registry(&lake, registry).await;
    (dir, lake)
}

fn quarter(year: i32, q: u32) -> Quarter {
    Quarter::new(year, q).unwrap()
}

async fn warn(lake: &Lake, year: i32, q: u32) -> WarnOutcome {
    warn_quarter(lake, quarter(year, q))
        .await
        .unwrap_or_else(|e| panic!("warn {year}-Q{q}: {e}"))
}

fn table(out: &WarnOutcome, name: &str) -> ResultTable {
    ResultTable::new(name, out.table(name))
}

/// The cards file of a quarter as the settlement reads it.
async fn cards_file(lake: &Lake, year: i32, q: u32) -> ResultTable {
    let key = layout::quarterly_result("cards", quarter(year, q));
    let bytes = lake
        .get_opt(&key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {key}"));
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024).unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    ResultTable::new("cards", &batches)
}

/// The quarter's tables are computed with `Utf8View` strings (working files are read back as
/// views), and every Parquet output still has plain `Utf8` strings (outputs.md), one type for
/// every BI reader.
async fn strings_are_written_plain(lake: &Lake, out: &WarnOutcome) {
    use arrow::datatypes::DataType;
    let computed_views = out.tables.iter().any(|(_, batches)| {
        batches.iter().any(|b| {
            b.schema()
                .fields()
                .iter()
                .any(|f| f.data_type() == &DataType::Utf8View)
        })
    });
    assert!(computed_views, "no computed table has a Utf8View column");
    let parquet: Vec<_> = out
        .outputs
        .iter()
        .filter(|o| o.key.ends_with(".parquet"))
        .collect();
    assert!(parquet.len() >= 5, "{parquet:?}");
    for o in parquet {
        let bytes = lake.get(&o.key).await.unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        for f in reader.schema().fields() {
            assert!(
                !matches!(f.data_type(), DataType::Utf8View | DataType::LargeUtf8),
                "{} column {} is {}",
                o.key,
                f.name(),
                f.data_type()
            );
        }
    }
}

fn ind<'a>(t: &'a ResultTable, inst: &str, indicator: &str) -> &'a claimlake_tests::golden::Row {
    t.row(&[("institution_id", inst), ("indicator", indicator)])
}

// ---------------------------------------------------------------------------------------------

/// Part A, ratio method: a value exactly at peer × (1 + margin) does not hit, one a cent above
/// does; a per-indicator margin override; an ineligible institution keeps its rows, never hits
/// and is not in the peer pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratio_margin_edges_override_and_ineligible() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H3", "tertiary"),
        Inst::hospital("H4", "tertiary"),
        Inst::hospital("H2", "tcm"),
        Inst::hospital("H5", "tcm"),
    ];
    let (_dir, lake) = new_lake(&registry).await;
    let w = Warn {
        min_visits: 2,
        margin: "0.50",
        margins: &[("cost_per_visit", "0.25")],
        // one top patient (see `no_top_patient_quarter`): cut ceil(0.1 × 9) = 1 → PC (150,
        // ties by id) ≥ 1 × median 100
        top_share: "0.10",
        median_multiple: "1",
        ..Warn::default()
    };
    put_policy(&lake, 2025, &GoldenPolicy::default(), &w).await;
    let (jan, feb, mar) = ((2025, 1), (2025, 2), (2025, 3));
    // tertiary: H1 2 visits, total 100, drugs 60; H3 2 visits, total 300, drugs 100;
    // H4 1 visit (< min_visits 2: ineligible), total 100, drugs 100.
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            claim("A1", "H1", "PA", jan, "30.00", "20.00"),
            claim("A2", "H1", "PB", jan, "30.00", "20.00"),
        ],
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[
            claim("B1", "H3", "PC", feb, "50.00", "100.00"),
            claim("B2", "H3", "PD", feb, "50.00", "100.00"),
            claim("B3", "H4", "PE", feb, "100.00", "0.00"),
        ],
    )
    .await;
    // tcm: H2 2 visits, total 100, drugs 60.01; H5 as H3.
    write_claims(
        &lake,
        2025,
        3,
        "part-000.parquet",
        &[
            claim("C1", "H2", "PF", mar, "30.01", "19.99"),
            claim("C2", "H2", "PG", mar, "30.00", "20.00"),
            claim("C3", "H5", "PH", mar, "50.00", "100.00"),
            claim("C4", "H5", "PI", mar, "50.00", "100.00"),
        ],
    )
    .await;
    let out = warn(&lake, 2025, 1).await;
    let t = table(&out, "indicators");
    assert_eq!(t.len(), 25); // 5 institutions × 5 indicators, H4 included

    // tertiary drug_ratio: peer pooled over H1 and H3 only = (60 + 100) / (100 + 300) = 0.4
    // (with H4 it would be 260 / 500 = 0.52); threshold 0.4 × 1.5 = 0.6; H1 = 60 / 100 = 0.6
    // exactly at the threshold: not strictly above, no hit.
    let r = ind(&t, "H1", "drug_ratio");
    assert_eq!(r.dec("value"), d("0.600000"));
    assert_eq!(r.dec("peer_value"), d("0.400000"));
    assert_eq!(r.dec("threshold"), d("0.600000"));
    assert!(r.flag("eligible"));
    assert!(!r.flag("hit"));
    // tcm drug_ratio: peer (60.01 + 100) / 400 = 0.400025, threshold 0.6000375 (stored
    // round6 = 0.600038); H2 = 60.01 / 100 = 0.6001 > 0.6000375: hit.
    let r = ind(&t, "H2", "drug_ratio");
    assert_eq!(r.dec("value"), d("0.600100"));
    assert_eq!(r.dec("peer_value"), d("0.400025"));
    assert_eq!(r.dec("threshold"), d("0.600038"));
    assert!(r.flag("hit"));

    // cost_per_visit, margin override 0.25: tertiary peer (100 + 300) / (2 + 2) = 100,
    // threshold 125; H3 = 300 / 2 = 150 > 125: hit (with the global margin 0.50 the threshold
    // would be 150 and 150 would not hit). H1 = 50: no hit.
    let r = ind(&t, "H3", "cost_per_visit");
    assert_eq!(r.dec("value"), d("150.000000"));
    assert_eq!(r.dec("peer_value"), d("100.000000"));
    assert_eq!(r.dec("threshold"), d("125.000000"));
    assert!(r.flag("hit"));
    assert!(!ind(&t, "H1", "cost_per_visit").flag("hit"));
    // same in tcm: H5 150 > 125.
    assert!(ind(&t, "H5", "cost_per_visit").flag("hit"));
    // the other indicators keep the global margin: visits_per_patient 1 everywhere (peer 1,
    // threshold 1.5), key_drug_ratio 0 (peer 0), high_frequency_share 0: no hits.
    let r = ind(&t, "H1", "visits_per_patient");
    assert_eq!(r.dec("threshold"), d("1.500000"));
    assert!(!r.flag("hit"));

    // H4: 1 visit < min_visits 2: rows present with its values, never a hit, not a peer.
    for indicator in [
        "drug_ratio",
        "key_drug_ratio",
        "cost_per_visit",
        "visits_per_patient",
        "high_frequency_share",
    ] {
        let r = ind(&t, "H4", indicator);
        assert!(!r.flag("eligible"), "{indicator}");
        assert!(!r.flag("hit"), "{indicator}");
    }
    let r = ind(&t, "H4", "drug_ratio");
    assert_eq!(r.dec("value"), d("1.000000")); // 100 / 100, far above 0.6, still no hit
    assert_eq!(r.dec("peer_value"), d("0.400000"));
    let r = ind(&t, "H4", "cost_per_visit");
    assert_eq!(r.dec("value"), d("100.000000"));
    assert!(!r.flag("hit"));

    // hits per institution: H1 0; H2 1 (drug_ratio); H3 1 and H5 1 (cost_per_visit); H4 0.
    let wt = table(&out, "warnings");
    assert_eq!(wt.texts("institution_id"), ["H1", "H2", "H3", "H4", "H5"]);
    assert_eq!(wt.row(&[("institution_id", "H1")]).int("hits"), 0);
    assert_eq!(wt.row(&[("institution_id", "H2")]).int("hits"), 1);
    assert_eq!(wt.row(&[("institution_id", "H3")]).int("hits"), 1);
    assert_eq!(wt.row(&[("institution_id", "H4")]).int("hits"), 0);
    assert!(
        wt.row(&[("institution_id", "H3")])
            .flag("operating_detected")
    );
    assert!(
        !wt.row(&[("institution_id", "H4")])
            .flag("operating_detected")
    );
}

/// Part A, percentile method: nearest rank `ceil(P/100 × n)` in ascending order; a value equal
/// to the percentile value hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percentile_nearest_rank() {
    let ids = ["T1", "T2", "T3", "T4", "T5"];
    let registry: Vec<Inst> = ids.iter().map(|i| Inst::hospital(i, "tertiary")).collect();
    let (_dir, lake) = new_lake(&registry).await;
    let w = Warn {
        method: "percentile",
        percentile: 65,
        // one top patient (see `no_top_patient_quarter`): Q0, 100 ≥ 1 × median 100
        top_share: "0.10",
        median_multiple: "1",
        ..Warn::default()
    };
    put_policy(&lake, 2025, &GoldenPolicy::default(), &w).await;
    // One visit of 100.00 each; drug ratios T1 0.1, T2 0.2, T3 0.3, T4 0.4, T5 0.5; T5 in
    // March, T4 in February, the rest in January.
    let rows: Vec<(u32, ClaimRow)> = ids
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let drugs = format!("{}.00", 10 * (i + 1));
            let other = format!("{}.00", 100 - 10 * (i + 1));
            let month = match i {
                3 => 2,
                4 => 3,
                _ => 1,
            };
            let id = format!("X{i}");
            let p = format!("Q{i}");
            (month, claim(&id, inst, &p, (2025, month), &drugs, &other))
        })
        .collect();
    for m in 1..=3 {
        let month: Vec<ClaimRow> = rows
            .iter()
            .filter(|(mm, _)| *mm == m)
            .map(|(_, r)| r.clone())
            .collect();
        write_claims(&lake, 2025, m, "part-000.parquet", &month).await;
    }
    let out = warn(&lake, 2025, 1).await;
    let t = table(&out, "indicators");
    // n = 5, P = 65: rank ceil(0.65 × 5 = 3.25) = 4 → the 4th smallest value 0.4 (floor or
    // round-to-nearest would give rank 3 → 0.3). T4 = 0.4 ≥ 0.4 hits (equality), T5 hits,
    // T3 = 0.3 does not.
    for (inst, hit) in [
        ("T1", false),
        ("T2", false),
        ("T3", false),
        ("T4", true),
        ("T5", true),
    ] {
        let r = ind(&t, inst, "drug_ratio");
        assert_eq!(r.dec("threshold"), d("0.400000"), "{inst}");
        assert_eq!(r.flag("hit"), hit, "{inst}");
    }
    // pooled peer value is still reported: (10 + 20 + 30 + 40 + 50) / 500 = 0.3
    assert_eq!(ind(&t, "T1", "drug_ratio").dec("peer_value"), d("0.300000"));
    // cost_per_visit is 100 everywhere: the 4th value is 100 and every 100 ≥ 100 hits.
    assert!(ind(&t, "T1", "cost_per_visit").flag("hit"));
    assert_eq!(
        ind(&t, "T1", "cost_per_visit").dec("threshold"),
        d("100.000000")
    );
}

/// Part B: the top-patient cut (ceil(top_share × n), ties in cost by patient_id ascending), the
/// even-count median (mean of the two middle values), a patient exactly at median_multiple ×
/// median (included); the associated rule with a cost share exactly at min_cost_share and
/// min_top_patients; an institution with inpatient claims only is a row of the warnings with no
/// in-scope visits or cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_patients_and_associated() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H3", "tertiary"),
        Inst::hospital("H9", "tertiary"),
        Inst::clinic("C1", "other_primary"),
    ];
    let (_dir, lake) = new_lake(&registry).await;
    let policy = GoldenPolicy::default();
    let w = Warn {
        top_share: "0.15",
        median_multiple: "3",
        min_cost_share: "0.60",
        min_top_patients: 2,
        ..Warn::default()
    };
    put_policy(&lake, 2025, &policy, &w).await;
    // Ten patients, one claim each (all drugs):
    //   H1 (January): P03 600, P05 600, P04 590, P08 150, P02 60   → H1 total 2000
    //   H3 (February): P07 600, P06 250, P01 100, P09 50           → H3 total 1000
    //   C1 (March): P10 70
    //   H9 (March): P11, one inpatient claim (not in scope: not a patient of Part B)
    // ascending: 50, 60, 70, 100, 150 | 250, 590, 600, 600, 600 → median (150 + 250) / 2 = 200
    // (lower middle 150 would give 450, upper 250 would give 750); 3 × 200 = 600.
    let c = |id: &str, inst: &str, p: &str, m: u32, amt: &str| {
        claim(id, inst, p, (2025, m), amt, "0.00")
    };
    write_claims(
        &lake,
        2025,
        1,
        "part-000.parquet",
        &[
            c("A1", "H1", "P03", 1, "600.00"),
            c("A2", "H1", "P05", 1, "600.00"),
            c("A3", "H1", "P04", 1, "590.00"),
            c("A4", "H1", "P08", 1, "150.00"),
            c("A5", "H1", "P02", 1, "60.00"),
        ],
    )
    .await;
    write_claims(
        &lake,
        2025,
        2,
        "part-000.parquet",
        &[
            c("B1", "H3", "P07", 2, "600.00"),
            c("B2", "H3", "P06", 2, "250.00"),
            c("B3", "H3", "P01", 2, "100.00"),
            c("B4", "H3", "P09", 2, "50.00"),
        ],
    )
    .await;
    write_claims(
        &lake,
        2025,
        3,
        "part-000.parquet",
        &[c("C1", "C1", "P10", 3, "70.00"), {
            let mut r = ClaimRow::inpatient(
                "D1",
                "H9",
                "2025-03-12 10:00:00",
                "2025-03-02",
                "2025-03-12",
            );
            r.patient_id = Some("P11".into());
            r
        }],
    )
    .await;

    // Run 1, top_share 0.15: cut ceil(0.15 × 10 = 1.5) = 2 (floor would be 1). By cost
    // descending, ties by patient_id: 1 P03 600, 2 P05 600, 3 P07 600, 4 P04 590. The cut keeps
    // P03 and P05 (P07 ties in cost but sorts after them); both are exactly 600 = 3 × median:
    // included.
    let out = warn(&lake, 2025, 1).await;
    strings_are_written_plain(&lake, &out).await;
    let top = table(&out, "top_patients");
    assert_eq!(top.texts("patient_id"), ["P03", "P05"]);
    assert_eq!(top.row(&[("patient_id", "P03")]).int("rank"), 1);
    assert_eq!(top.row(&[("patient_id", "P05")]).int("rank"), 2);
    assert_eq!(
        top.row(&[("patient_id", "P05")]).dec("quarter_cost"),
        d("600.00")
    );
    // H1: top cost 600 + 600 = 1200 of 2000 = 0.60 exactly = min_cost_share (≥: included), 2 top
    // patients ≥ min_top_patients 2 → associated. H3, C1: no top patient.
    let wt = table(&out, "warnings");
    let h1 = wt.row(&[("institution_id", "H1")]);
    assert_eq!(h1.int("top_patients"), 2);
    assert_eq!(h1.dec("top_patient_cost_share"), d("0.600000"));
    assert!(h1.flag("associated"));
    // nobody hits an operating indicator here? H1 cost_per_visit 400 vs tertiary peer
    // 3000 / 9 = 333.33 × 1.3 = 433.33: no hit; drug_ratio 1 everywhere: no; so not warned.
    assert!(!h1.flag("warned"));
    let h3 = wt.row(&[("institution_id", "H3")]);
    assert_eq!(h3.int("top_patients"), 0);
    assert!(!h3.flag("associated"));
    // H9 (inpatient only): a member with 0 visits, 0 top patients, share 0, not associated.
    let h9 = wt.row(&[("institution_id", "H9")]);
    assert_eq!(h9.int("visits"), 0);
    assert_eq!(h9.int("top_patients"), 0);
    assert_eq!(h9.dec("top_patient_cost_share"), d("0.000000"));
    assert!(!h9.flag("associated"));
    assert_eq!(wt.texts("institution_id"), ["C1", "H1", "H3", "H9"]);

    // Run 2, top_share 0.40: cut ceil(4.0) = 4 → P03, P05, P07, P04; P04 590 < 600 drops.
    let w = Warn {
        top_share: "0.40",
        ..w
    };
    put_policy(&lake, 2025, &policy, &w).await;
    let out = warn(&lake, 2025, 1).await;
    let top = table(&out, "top_patients");
    assert_eq!(top.texts("patient_id"), ["P03", "P05", "P07"]);
    assert_eq!(top.row(&[("patient_id", "P07")]).int("rank"), 3);
    let wt = table(&out, "warnings");
    // H3: P07's 600 of 1000 = 0.60 exactly, but 1 top patient < min_top_patients 2.
    let h3 = wt.row(&[("institution_id", "H3")]);
    assert_eq!(h3.int("top_patients"), 1);
    assert_eq!(h3.dec("top_patient_cost_share"), d("0.600000"));
    assert!(!h3.flag("associated"));
    assert!(wt.row(&[("institution_id", "H1")]).flag("associated"));
    assert!(!wt.row(&[("institution_id", "C1")]).flag("associated"));
}

// ---------------------------------------------------------------------------------------------
// Cards. A "warned quarter" (policy: ratio, margin 0.30, min_visits 1, top_share 0.50,
// median_multiple 2, min_cost_share 0.50, min_top_patients 1), H1 and H3 tertiary:
//   month 1: H1 patient A (drugs 900, other 100 → 1000); H3 patient B 100
//   month 2: H1 patient D 100; H3 patient C 100
//   month 3: H1 patient E 100; H3 patient F 100          (every 100 = drugs 50 + other 50)
// Warned: H1 cost_per_visit 1200 / 3 = 400 > peer 1500 / 6 = 250 × 1.3 = 325 → hit;
// patients A 1000, five at 100: median 100, 2 × 100 = 200 → only A is a top patient (cut
// ceil(0.5 × 6) = 3 keeps A, B, C; B and C are below 200); H1's share 1000 / 1200 ≥ 0.5 with 1
// top patient → associated → warned. H3: no hit, no top patient.
// Not warned: month 1 is H1 A 400 (200 + 200) and H3 B 400: cost per visit 600 / 3 = 200 at
// both (peer 200, no hit; drug ratio 0.5 both); A and B (400 ≥ 2 × median 100) are top patients,
// so both institutions are associated (400 / 600) but not operating-detected: not warned.

fn card_policy(yellow: u32, red: u32) -> GoldenPolicy {
    GoldenPolicy {
        yellow_hold_months: yellow,
        red_suspend_months: red,
        ..GoldenPolicy::default()
    }
    .outpatient("tertiary", "1000000.00", "1000000.00")
}

async fn write_quarter(lake: &Lake, year: i32, q: u32, warned: bool) {
    let first = (q - 1) * 3 + 1;
    let tag = format!("{year}Q{q}");
    let ((a_drugs, a_other), b) = if warned {
        (("900.00", "100.00"), "50.00")
    } else {
        (("200.00", "200.00"), "200.00")
    };
    let patients = [("A", "B"), ("D", "C"), ("E", "F")];
    for (k, (h1p, h3p)) in patients.iter().enumerate() {
        let m = first + k as u32;
        let ((dr, ot), h3) = if k == 0 {
            ((a_drugs, a_other), b)
        } else {
            (("50.00", "50.00"), "50.00")
        };
        write_claims(
            lake,
            year,
            m,
            "part-000.parquet",
            &[
                claim(&format!("{tag}-H1-{k}"), "H1", h1p, (year, m), dr, ot),
                claim(&format!("{tag}-H3-{k}"), "H3", h3p, (year, m), h3, h3),
            ],
        )
        .await;
    }
}

/// Part C: yellow cards, the red card from the 2nd yellow of the year, Q4 cards issued in
/// January of the next year but counted in the old year, and the count restarting in a new year.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yellow_red_and_q4_cards() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H3", "tertiary"),
    ];
    let (_dir, lake) = new_lake(&registry).await;
    put_policy(&lake, 2025, &card_policy(2, 3), &Warn::default()).await;
    put_policy(&lake, 2026, &card_policy(2, 3), &Warn::default()).await;

    // Q1: H1 warned → a yellow card issued April 2025, payment hold for 2 months.
    write_quarter(&lake, 2025, 1, true).await;
    let out = warn(&lake, 2025, 1).await;
    let wt = table(&out, "warnings");
    let h1 = wt.row(&[("institution_id", "H1")]);
    assert!(h1.flag("operating_detected") && h1.flag("associated") && h1.flag("warned"));
    assert_eq!(h1.dec("top_patient_cost_share"), d("0.833333")); // round6(1000 / 1200)
    assert!(!wt.row(&[("institution_id", "H3")]).flag("warned"));
    let top = table(&out, "top_patients");
    assert_eq!(top.texts("patient_id"), ["A"]);
    let cards = table(&out, "cards");
    assert_eq!(cards.len(), 1);
    let y = cards.row(&[("institution_id", "H1"), ("color", "yellow")]);
    assert_eq!(y.int("year"), 2025);
    assert_eq!(y.int("quarter"), 1);
    assert_eq!(y.int("issue_year"), 2025);
    assert_eq!(y.int("issue_month"), 4);
    assert_eq!(y.text("effect"), "payment_hold");
    assert_eq!(y.text("effect_from_month"), "2025-04");
    assert_eq!(y.int("effect_months"), 2); // yellow_hold_months
    assert_eq!(y.int("yellow_count_in_year"), 1);
    assert_eq!(cards_file(&lake, 2025, 1).await.len(), 1);

    // Q2: warned again → 2nd yellow of 2025 and a red card, both from July.
    write_quarter(&lake, 2025, 2, true).await;
    let out = warn(&lake, 2025, 2).await;
    let cards = table(&out, "cards");
    assert_eq!(cards.len(), 2);
    let y = cards.row(&[("institution_id", "H1"), ("color", "yellow")]);
    assert_eq!(y.int("yellow_count_in_year"), 2);
    assert_eq!(y.text("effect_from_month"), "2025-07");
    let r = cards.row(&[("institution_id", "H1"), ("color", "red")]);
    assert_eq!(r.text("effect"), "agreement_suspended");
    assert_eq!(r.text("effect_from_month"), "2025-07");
    assert_eq!(r.int("issue_month"), 7);
    assert_eq!(r.int("effect_months"), 3); // red_suspend_months
    assert_eq!(r.int("yellow_count_in_year"), 2);

    // Q3 not warned (associated but no operating hit): no cards.
    write_quarter(&lake, 2025, 3, false).await;
    let out = warn(&lake, 2025, 3).await;
    assert!(table(&out, "cards").is_empty());
    let wt = table(&out, "warnings");
    let h1 = wt.row(&[("institution_id", "H1")]);
    assert!(h1.flag("associated"));
    assert_eq!(h1.int("hits"), 0);
    assert!(!h1.flag("warned"));

    // Q4 warned: 3rd yellow of 2025 (+ red), issued January 2026 but year 2025.
    write_quarter(&lake, 2025, 4, true).await;
    let out = warn(&lake, 2025, 4).await;
    let cards = table(&out, "cards");
    assert_eq!(cards.len(), 2);
    for color in ["yellow", "red"] {
        let c = cards.row(&[("institution_id", "H1"), ("color", color)]);
        assert_eq!(c.int("year"), 2025);
        assert_eq!(c.int("quarter"), 4);
        assert_eq!(c.int("issue_year"), 2026);
        assert_eq!(c.int("issue_month"), 1);
        assert_eq!(c.text("effect_from_month"), "2026-01");
        assert_eq!(c.int("yellow_count_in_year"), 3);
    }

    // 2026 Q1 warned: counting restarts (the Q4 2025 card counts in 2025): 1st yellow, no red.
    write_quarter(&lake, 2026, 1, true).await;
    let out = warn(&lake, 2026, 1).await;
    let cards = table(&out, "cards");
    assert_eq!(cards.len(), 1);
    let y = cards.row(&[("institution_id", "H1"), ("color", "yellow")]);
    assert_eq!(y.int("yellow_count_in_year"), 1);
    assert_eq!(y.text("effect_from_month"), "2026-04");
}

/// Part C: re-running an earlier quarter replaces its cards and re-derives the red cards of the
/// later quarters of the year.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_earlier_quarter_rederives_later_red_cards() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H3", "tertiary"),
    ];
    let (_dir, lake) = new_lake(&registry).await;
    put_policy(&lake, 2025, &card_policy(1, 1), &Warn::default()).await;
    write_quarter(&lake, 2025, 1, true).await;
    write_quarter(&lake, 2025, 2, true).await;
    write_quarter(&lake, 2025, 4, true).await;
    let first = warn(&lake, 2025, 1).await;
    assert!(first.rederived.is_empty()); // no later quarter has cards yet
    warn(&lake, 2025, 2).await;
    warn(&lake, 2025, 4).await; // Q3 never run: its cards file is absent and counts nothing
    let q2 = cards_file(&lake, 2025, 2).await;
    assert_eq!(q2.len(), 2); // yellow (2nd) + red
    let q4 = cards_file(&lake, 2025, 4).await;
    assert_eq!(q4.len(), 2); // yellow (3rd) + red
    assert_eq!(
        q4.row(&[("institution_id", "H1"), ("color", "yellow")])
            .int("yellow_count_in_year"),
        3
    );

    // Q1 corrected: H1's visit A becomes 100 → not warned; re-run Q1.
    write_quarter(&lake, 2025, 1, false).await;
    let out = warn(&lake, 2025, 1).await;
    assert!(table(&out, "cards").is_empty());
    assert!(cards_file(&lake, 2025, 1).await.is_empty());
    assert_eq!(out.rederived.len(), 2, "{:?}", out.rederived); // Q2 and Q4 changed
    // Q2: now H1's 1st yellow of 2025: no red card any more.
    let q2 = cards_file(&lake, 2025, 2).await;
    assert_eq!(q2.len(), 1);
    let y = q2.row(&[("institution_id", "H1"), ("color", "yellow")]);
    assert_eq!(y.int("yellow_count_in_year"), 1);
    assert_eq!(y.text("effect_from_month"), "2025-07");
    // Q4: 2nd yellow: still a red card, count 2.
    let q4 = cards_file(&lake, 2025, 4).await;
    assert_eq!(q4.len(), 2);
    for color in ["yellow", "red"] {
        let c = q4.row(&[("institution_id", "H1"), ("color", color)]);
        assert_eq!(c.int("yellow_count_in_year"), 2);
        assert_eq!(c.text("effect_from_month"), "2026-01");
    }

    // Re-running Q1 once more changes nothing later: nothing re-derived.
    let again = warn(&lake, 2025, 1).await;
    assert!(again.rederived.is_empty(), "{:?}", again.rederived);
}

// ---------------------------------------------------------------------------------------------

async fn settle(lake: &Lake, month: u32) -> SettleOutcome {
    let m = Month { year: 2025, month };
    let out = settle_month(lake, m)
        .await
        .unwrap_or_else(|e| panic!("settle {m}: {e}"));
    assert_eq!(out.validation.claims.quarantined_total(), 0);
    out
}

/// The cards in the settlement: Q1's yellow card holds April's payment and May releases it;
/// Q2's red card (2nd yellow) excludes July's claims of H1 as agreement_suspended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_in_the_settlement() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H3", "tertiary"),
    ];
    let (_dir, lake) = new_lake(&registry).await;
    put_policy(&lake, 2025, &card_policy(1, 1), &Warn::default()).await;
    write_quarter(&lake, 2025, 1, true).await;
    write_quarter(&lake, 2025, 2, true).await;
    write_claims(
        &lake,
        2025,
        7,
        "part-000.parquet",
        &[
            claim("J1", "H1", "A", (2025, 7), "50.00", "50.00"),
            claim("J2", "H3", "B", (2025, 7), "50.00", "50.00"),
        ],
    )
    .await;
    let q1 = warn(&lake, 2025, 1).await;
    assert_eq!(table(&q1, "cards").len(), 1); // yellow from 2025-04, 1 month
    let q2 = warn(&lake, 2025, 2).await;
    assert_eq!(table(&q2, "cards").len(), 2); // yellow + red from 2025-07, 1 month

    for m in 1..=3 {
        let out = settle(&lake, m).await;
        let st = ResultTable::new("statements", out.table("statements"));
        assert!(!st.row(&[("institution_id", "H1")]).flag("on_hold"));
    }
    // April: H1's claim A is 900 drug + 100 other points; both cells' budgets (1,000,000 ×
    // 0.40 cumulative) are far above the points: PV_item 1.00, settlement 1000.00, all pool:
    // fund 1000.00; withheld round2(1000 × 0.05) = 50.00; payable 950.00, all held (yellow).
    let apr = settle(&lake, 4).await;
    let st = ResultTable::new("statements", apr.table("statements"));
    let s = st.row(&[("institution_id", "H1")]);
    assert_eq!(s.dec("fund_month"), d("1000.00"));
    assert_eq!(s.dec("withheld_month"), d("50.00"));
    assert_eq!(s.dec("payable_month"), d("950.00"));
    assert!(s.flag("on_hold"));
    assert_eq!(s.dec("held_month"), s.dec("payable_month"));
    assert_eq!(s.dec("held_balance"), d("950.00"));
    assert_eq!(s.dec("paid_month"), d("0.00"));
    // H3 is not held: fund 100, withheld 5, paid 95.
    let s = st.row(&[("institution_id", "H3")]);
    assert!(!s.flag("on_hold"));
    assert_eq!(s.dec("paid_month"), d("95.00"));

    // May (the hold lasted 1 month): H1 fund 100.00, withheld 5.00, payable 95.00; released
    // 950.00; paid 95.00 + 950.00 = 1045.00; balance 0.
    let may = settle(&lake, 5).await;
    let st = ResultTable::new("statements", may.table("statements"));
    let s = st.row(&[("institution_id", "H1")]);
    assert!(!s.flag("on_hold"));
    assert_eq!(s.dec("payable_month"), d("95.00"));
    assert_eq!(s.dec("held_month"), d("0.00"));
    assert_eq!(s.dec("released_month"), d("950.00"));
    assert_eq!(s.dec("held_balance"), d("0.00"));
    assert_eq!(s.dec("paid_month"), d("1045.00"));

    settle(&lake, 6).await;
    // July: the red card suspends H1's agreement: J1 excluded, J2 (H3) settled.
    let jul = settle(&lake, 7).await;
    let ex = ResultTable::new("excluded_claims", jul.table("excluded_claims"));
    assert_eq!(ex.texts("claim_id"), ["J1"]);
    let r = ex.row(&[("claim_id", "J1")]);
    assert_eq!(r.text("reason"), "agreement_suspended");
    assert_eq!(r.text("institution_id"), "H1");
    // settlement_lines are cumulative from January: H1's drug points stay at January–June's
    // 2 × (900 + 50 + 50) = 2000 and other at 2 × (100 + 50 + 50) = 400 (J1 not added); H3's
    // drug points grow to 6 × 50 + 50 (J2) = 350.
    let lines = ResultTable::new("settlement_lines", jul.table("settlement_lines"));
    let points = |inst: &str, fee: &str| {
        lines
            .row(&[("institution_id", inst), ("fee_class", fee)])
            .dec("declared_points")
    };
    assert_eq!(points("H1", "drug"), d("2000.0000"));
    assert_eq!(points("H1", "other"), d("400.0000"));
    assert_eq!(points("H3", "drug"), d("350.0000"));
}

/// A quarter in which no patient is a top patient (every patient costs 100; 2 × median = 200):
/// every institution is simply not associated (Part B), and the quarter must still produce its
/// tables. (It used to fail on an empty top-patient set: a decimal type mismatch in
/// `sql/warn/03_warnings.sql`, fixed with explicit casts.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_top_patient_quarter() {
    let registry = vec![
        Inst::hospital("H1", "tertiary"),
        Inst::hospital("H3", "tertiary"),
    ];
    let (_dir, lake) = new_lake(&registry).await;
    put_policy(&lake, 2025, &card_policy(1, 1), &Warn::default()).await;
    for m in 1..=3 {
        write_claims(
            &lake,
            2025,
            m,
            "part-000.parquet",
            &[
                claim(&format!("N{m}"), "H1", "A", (2025, m), "50.00", "50.00"),
                claim(&format!("M{m}"), "H3", "B", (2025, m), "50.00", "50.00"),
            ],
        )
        .await;
    }
    let out = warn(&lake, 2025, 1).await;
    assert!(table(&out, "top_patients").is_empty());
    let wt = table(&out, "warnings");
    assert_eq!(wt.len(), 2);
    for inst in ["H1", "H3"] {
        let r = wt.row(&[("institution_id", inst)]);
        assert_eq!(r.int("top_patients"), 0);
        assert_eq!(r.dec("top_patient_cost_share"), d("0.000000"));
        assert!(!r.flag("associated") && !r.flag("warned"));
    }
    assert!(table(&out, "cards").is_empty());
}
