-- Step 4 of ingest validation: claim_items.
--
-- Grain: one row per input item row of the month, keyed (file_no, row_no). A view over the
-- month's item files (never held in memory whole).
-- Inputs: items_in (ordered scan of claim_items/year=${year}/month=${mm}), claim_status_by_id
-- (one row per claim_id of the month's claims: 1 quarantined, 2 used, 3 netted).
-- Rules: an item whose claim_id is in no claims row of its partition -> orphan_item; whose claim
-- rows were all quarantined -> claim_quarantined; the items of a netted claim are netted.
-- Invariant: every item row gets exactly one of used / netted / quarantined.
-- Plan: `st` is never NULL in claim_status_by_id, so a NULL `st` is a claim id the month does not
-- hold; the join carries only `st` from its build side (the month's 5M ids are not copied into
-- every output row).
SELECT
  i.*,
  CASE
    WHEN s.st IS NULL THEN 'orphan_item'
    WHEN s.st = 1 THEN 'claim_quarantined'
  END AS final_reason,
  COALESCE(s.st = 3, FALSE) AS netted
FROM claim_status_by_id s
RIGHT JOIN items_in i ON s.claim_id = i.claim_id
