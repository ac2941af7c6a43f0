-- Step 4 of ingest validation: claim_items.
--
-- Grain: one row per input item row of the month, keyed (source_file, row_no).
-- Inputs: items_in (ordered scan of claim_items/year=${year}/month=${mm}), claim_rows (03).
-- Rules: an item whose claim_id is in no claims row of its partition -> orphan_item; whose claim
-- rows were all quarantined -> claim_quarantined; the items of a netted claim are netted.
-- Invariant: every item row gets exactly one of used / netted / quarantined.
WITH claim_status AS (
  SELECT claim_id,
         MAX(CASE WHEN final_reason IS NULL AND netted THEN 3
                  WHEN final_reason IS NULL THEN 2
                  ELSE 1 END) AS st
  FROM claim_rows
  WHERE claim_id IS NOT NULL
  GROUP BY claim_id
)
SELECT
  i.*,
  CASE
    WHEN s.claim_id IS NULL THEN 'orphan_item'
    WHEN s.st = 1 THEN 'claim_quarantined'
  END AS final_reason,
  COALESCE(s.st = 3, FALSE) AS netted
FROM items_in i
LEFT JOIN claim_status s ON s.claim_id = i.claim_id
