-- Step 7 of ingest validation: the month's ledger, what later months of the year must know.
--
-- Grain: one row per claim_id held in this month (rows that passed rules 1-10 and were not
-- duplicates), keyed claim_id.
-- status: 'claim' (valid non-reversal), 'reversal' (valid reversal), 'rejected' (holds its id
--         but was quarantined by a later rule).
SELECT claim_id, part_month, source_file, row_no,
       CASE
         WHEN final_reason IS NOT NULL THEN 'rejected'
         WHEN is_reversal THEN 'reversal'
         ELSE 'claim'
       END AS status,
       reverses_claim_id,
       netted
FROM claim_rows
WHERE reason_2 IS NULL
ORDER BY source_file, row_no
