-- Step 3a of ingest validation, keys: which rows the mirror check compares in full: this
-- month's reversal rows that passed rules 1-11, and the valid claims of this month that they
-- name.
--
-- Grain: one row per such input row, keyed (file_no, row_no), with its file's key
-- (source_file). Small: reversals are rare. The engine reads just these rows back from the
-- month's files (a row selection: the other rows are skipped, not decoded) as `mirror_in` for
-- 03a_mirror_rows.sql.
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
SELECT w.file_no, w.row_no, f.source_file
FROM scan_files f
JOIN wanted w ON w.file_no = f.file_no
