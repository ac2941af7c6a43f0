-- Step 3b of ingest validation: the month's used claim rows (not quarantined, not netted), what
-- the computations read as `claims_valid`.
--
-- Grain: one row per used claim row, keyed (file_no, row_no). Registered as a view: it re-reads
-- the month's files each time it is used, so no full copy of a month is held in memory.
-- Inputs: exceptions (from 03, or the month's validation record): the few rows that are
--         quarantined, netted or reversals, with their status; every other row is a plain valid
--         claim.
--         plain_in: the month's claim files without the rows `exceptions` lists (Parquet skips
--         them: no join of every row with the exceptions' keys).
--         reversals_in: only the rows of the used (valid, not netted) reversals, read back.
-- Invariant: the two parts are disjoint and together are exactly the rows whose final status is
-- used: final_reason IS NULL AND NOT netted.
SELECT c.*,
       CASE WHEN c.visit_type = 'pharmacy' THEN c.prescriber_institution_id END AS prescriber_id,
       c.reverses_claim_id IS NOT NULL AS is_reversal,
       CAST(NULL AS VARCHAR) AS final_reason,
       FALSE AS netted,
       CAST(NULL AS INT) AS target_month
FROM plain_in c
UNION ALL
SELECT c.*,
       CASE WHEN c.visit_type = 'pharmacy' THEN c.prescriber_institution_id END AS prescriber_id,
       c.reverses_claim_id IS NOT NULL AS is_reversal,
       e.final_reason,
       e.netted,
       e.target_month
FROM exceptions e
JOIN reversals_in c ON c.file_no = e.file_no AND c.row_no = e.row_no
WHERE e.final_reason IS NULL AND NOT e.netted
