-- Step 8 of ingest validation: row reconciliation of one table (${table}).
--
-- Grain: one row per (outcome, reason); outcome is used / netted / quarantined.
-- Invariant: the counts add up to the rows read.
SELECT
  CASE WHEN final_reason IS NOT NULL THEN 'quarantined'
       WHEN netted THEN 'netted'
       ELSE 'used' END AS outcome,
  final_reason AS reason,
  COUNT(*) AS rows
FROM ${table}
GROUP BY 1, 2
ORDER BY 1, 2
