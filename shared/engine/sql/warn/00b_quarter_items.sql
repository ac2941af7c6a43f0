-- Warnings inputs: the items of the quarter's netted claims (R02, R07).
--
-- Grain: one row per item line of a claim in q_claims, keyed (claim_id, line_no). Items of a
-- claim cancelled within the quarter go with it.
-- Columns: only those the rules read (claim_id, line_no, item_code, days_supply).
-- How: month_items_k are the used items of month k, whose claim ids are used claims of the same
-- month (ingest step 04); q_claims (00a) is those claims less the reversal rows and the claims
-- that a reversal of the quarter cancelled. So the items wanted are the months' used items less
-- those of the few reversal and cancelled claim ids: an anti-join against thousands of ids, not
-- a semi-join against the quarter's ~15M claim ids (which built a hash table of all of them).
WITH all_items AS (
  SELECT claim_id, line_no, item_code, days_supply FROM month_items_1
  UNION ALL SELECT claim_id, line_no, item_code, days_supply FROM month_items_2
  UNION ALL SELECT claim_id, line_no, item_code, days_supply FROM month_items_3
),
all_rows AS (
  SELECT claim_id, is_reversal, reverses_claim_id, target_month FROM month_claims_1
  UNION ALL SELECT claim_id, is_reversal, reverses_claim_id, target_month FROM month_claims_2
  UNION ALL SELECT claim_id, is_reversal, reverses_claim_id, target_month FROM month_claims_3
),
dropped AS (
  SELECT DISTINCT claim_id FROM (
    SELECT claim_id FROM all_rows WHERE is_reversal
    UNION ALL
    SELECT reverses_claim_id AS claim_id FROM all_rows
    WHERE is_reversal AND target_month BETWEEN ${first_month} AND ${last_month}
  )
)
SELECT i.claim_id, i.line_no, i.item_code, i.days_supply
FROM dropped d
RIGHT JOIN all_items i ON i.claim_id = d.claim_id
WHERE d.claim_id IS NULL
