-- Step 5 of ingest validation (orchestration): which earlier-month claims this month's
-- reversals name, so that only those rows are read back for the mirror check.
--
-- Grain: one row per earlier-month valid claim named by a reversal of this month that passed
-- rules 1-11, keyed (source_file, row_no) of the claim's holding row.
SELECT DISTINCT l.source_file, l.row_no, l.part_month
FROM deduped r
JOIN ledger_prior l ON l.claim_id = r.reverses_claim_id
WHERE r.reason_2 IS NULL AND r.is_reversal AND l.status = 'claim'
