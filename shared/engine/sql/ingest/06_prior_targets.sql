-- Step 6 of ingest validation: the full rows of the earlier-month claims named by this month's
-- reversals (read back from their source files at the position the ledger recorded).
--
-- Grain: one row per (source_file, row_no) of prior_target_keys.
SELECT r.*,
       CASE WHEN r.visit_type = 'pharmacy' THEN r.prescriber_institution_id END AS prescriber_id
FROM prior_target_keys k
JOIN prior_raw r ON r.source_file = k.source_file AND r.row_no = k.row_no
