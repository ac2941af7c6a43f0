-- Step 5 of ingest when a settlement reuses the month's validation record (record.rs): which
-- earlier-month claims this month's mirrors name, so that 06 reads back only those rows for
-- 09's claims basis.
--
-- Grain: one row per earlier-month claim named by a used reversal of this month, keyed
-- (source_file, row_no) of the claim's holding row.
-- Inputs: exceptions (the record's claim rows: quarantined, netted, reversals, with their
--         status), reversals_in (only the used reversals' rows, read back from the files),
--         ledger_prior (the ledgers of months 1..m-1).
-- Invariant: a subset of 05's keys for the same month. 05 takes every reversal that passed
-- rules 1-11, because the mirror check (03) needs their targets; 09 joins the used reversals
-- alone (a same-month reversal is netted, not used), and finds the same target for each here.
-- Plan: the few used reversals first (the hash join's build side); the earlier ledgers stream
-- past them.
WITH used_reversals AS (
  SELECT c.reverses_claim_id
  FROM exceptions e
  JOIN reversals_in c ON c.file_no = e.file_no AND c.row_no = e.row_no
  WHERE e.final_reason IS NULL AND NOT e.netted
)
SELECT DISTINCT l.source_file, l.row_no, l.part_month
FROM used_reversals r
JOIN ledger_prior l ON l.claim_id = r.reverses_claim_id
WHERE l.status = 'claim'
