-- Step 3a of ingest validation: the full rows the mirror check compares, read back from the
-- month's files: this month's reversal rows that passed rules 1-11, and the valid claims of
-- this month that they name.
--
-- Grain: one row per such input row, keyed (file_no, row_no). Small: reversals are rare.
WITH named AS (
  SELECT DISTINCT reverses_claim_id AS claim_id FROM deduped
  WHERE reason_2 IS NULL AND is_reversal
),
wanted AS (
  SELECT file_no, row_no FROM deduped WHERE reason_2 IS NULL AND is_reversal
  UNION ALL
  SELECT d.file_no, d.row_no
  FROM named n
  JOIN deduped d ON d.claim_id = n.claim_id
  WHERE d.reason_2 IS NULL AND NOT d.is_reversal AND d.late_reason IS NULL
)
SELECT c.*,
       CASE WHEN c.visit_type = 'pharmacy' THEN c.prescriber_institution_id END AS prescriber_id
FROM wanted w
JOIN claims_in c ON c.file_no = w.file_no AND c.row_no = w.row_no
