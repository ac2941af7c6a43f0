//! The benchmark's scan floors read what the computations decode.
//!
//! A floor is the time DataFusion takes to read exactly the columns a computation reads from
//! the lake's files (bench/README.md). Its column list is kept beside the engine's steps; this
//! test runs the computation with the lake's record of decoded columns on
//! (`ordered_scan::record_decoded_columns`) and compares. The record is process-wide, so this
//! file holds one test: another running in the same process would add its scans.

use std::collections::BTreeSet;

use claimlake_datagen::Scale;
use claimlake_domain::period::Month;
use claimlake_engine::runs;
use claimlake_engine::settle::REUSED_CLAIM_COLUMNS;
use claimlake_lake::layout;
use claimlake_lake::ordered_scan::{decoded_columns, record_decoded_columns};

fn month(k: u32) -> Month {
    Month {
        year: 2025,
        month: k,
    }
}

/// The union of the columns decoded from the files under `folder`.
fn decoded_under(folder: &str) -> BTreeSet<String> {
    decoded_columns()
        .into_iter()
        .filter(|(key, _)| key.starts_with(folder))
        .flat_map(|(_, columns)| columns)
        .collect()
}

/// March settled again with its validation record current (`recompute --month`, the bench's
/// "record reused" row) decodes exactly `REUSED_CLAIM_COLUMNS` of March's claims and nothing of
/// its items; the first settlement, which validates, decodes every claims column.
#[tokio::test]
async fn a_reused_settlement_decodes_the_floors_columns() {
    let (_dir, lake) = claimlake_tests::fixtures::generated_lake(Scale::Tiny, 11).await;
    for k in 1..=2 {
        runs::settle(&lake, month(k)).await.unwrap();
    }
    let claims = layout::claims_month(month(3));
    let items = layout::claim_items_month(month(3));

    record_decoded_columns();
    let run = runs::settle(&lake, month(3)).await.unwrap();
    assert!(!run.outcome.validation.reused);
    let contract: BTreeSet<String> = claimlake_lake::contract::claims()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        decoded_under(&claims),
        contract,
        "a validation reads every column"
    );

    record_decoded_columns();
    let run = runs::recompute_month(&lake, month(3), &runs::RunOptions::default())
        .await
        .unwrap();
    assert!(run.outcome.validation.reused);
    let floor: BTreeSet<String> = REUSED_CLAIM_COLUMNS.iter().map(|c| c.to_string()).collect();
    assert_eq!(floor.len(), REUSED_CLAIM_COLUMNS.len(), "no column twice");
    let read = decoded_under(&claims);
    assert!(
        !read.is_empty(),
        "March's claims are scanned under {claims}"
    );
    assert_eq!(
        read,
        floor,
        "decoded but not in the floor: {:?}; in the floor but not decoded: {:?}",
        read.difference(&floor).collect::<Vec<_>>(),
        floor.difference(&read).collect::<Vec<_>>()
    );
    assert_eq!(decoded_under(&items), BTreeSet::new(), "no item column");
}
