-- Step 2 of ingest validation: duplicate_claim.
--
-- Grain: one row per input claim row of the month (as 01), keyed (file_no, row_no).
-- Rule: a row that passes rules 1-10 is a duplicate when its claim_id is already held by a row
-- that passed them earlier in reading order: in an earlier month of the year (ledger_prior holds
-- exactly those holders) or earlier in this month (path order, then row order).
-- Output: reason_2 = early_reason, else 'duplicate_claim', else NULL.
-- Invariant: among rows with reason_2 IS NULL, claim_id is unique in the year so far.
SELECT
  k.*,
  CASE
    WHEN k.early_reason IS NOT NULL THEN k.early_reason
    WHEN lp.claim_id IS NOT NULL THEN 'duplicate_claim'
    WHEN ROW_NUMBER() OVER (
           PARTITION BY k.claim_id, k.early_reason IS NULL
           ORDER BY k.file_no, k.row_no) > 1 THEN 'duplicate_claim'
  END AS reason_2
FROM checked k
-- No DISTINCT: a claim_id is held by at most one row of the year (the invariant below), so the
-- earlier ledgers are streamed past this month's rows instead of being de-duplicated in memory.
LEFT JOIN ledger_prior lp
  ON lp.claim_id = k.claim_id AND k.early_reason IS NULL
