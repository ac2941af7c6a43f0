-- Step 3b of ingest validation: every input claim row of the month with its final status.
--
-- Grain: one row per input claim row, keyed (file_no, row_no). Registered as a view: it re-reads
-- the month's files each time it is used, so no full copy of a month is held in memory.
-- `exceptions` holds the few rows that are quarantined, netted or reversals (from 03); every
-- other row is a plain valid claim.
SELECT c.*,
       CASE WHEN c.visit_type = 'pharmacy' THEN c.prescriber_institution_id END AS prescriber_id,
       c.reverses_claim_id IS NOT NULL AS is_reversal,
       e.final_reason,
       COALESCE(e.netted, FALSE) AS netted,
       e.target_month
FROM exceptions e
RIGHT JOIN claims_in c ON e.file_no = c.file_no AND e.row_no = c.row_no
