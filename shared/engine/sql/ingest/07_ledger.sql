-- Step 7 of ingest validation: the month's ledger, what later months of the year must know.
--
-- Grain: one row per claim_id held in this month (rows that passed rules 1-10 and were not
-- duplicates), keyed claim_id.
-- status: 'claim' (valid non-reversal), 'reversal' (valid reversal), 'rejected' (holds its id
--         but was quarantined by a later rule).
SELECT s.claim_id, s.part_month, f.source_file, s.row_no,
       CASE
         WHEN s.final_reason IS NOT NULL THEN 'rejected'
         WHEN s.is_reversal THEN 'reversal'
         ELSE 'claim'
       END AS status,
       s.reverses_claim_id,
       s.netted
FROM claim_status s
JOIN scan_files f ON f.file_no = s.file_no
WHERE s.reason_2 IS NULL
ORDER BY s.file_no, s.row_no
