-- Annual scores: the checks of the externally supplied annual inputs (data-contract.md
-- "inputs/assessments", "inputs/investigations"). A failing row stops the run with a message
-- naming its file and row; there is no quarantine for these inputs (a wrong external score must
-- be corrected at its source, not dropped).
--
-- Grain: one row per failing input row and rule, keyed (source_file, row_no, problem), in
-- reading order. Empty = the inputs are usable.
-- Rules: assessments need institution_id, part and a score in 0..100, one row per
-- (institution_id, part); investigations need institution_id and a status of
-- under_investigation / withheld_materials.
WITH dup AS (
  SELECT institution_id, part, COUNT(*) AS n, MIN(source_file) AS first_file
  FROM assessments GROUP BY institution_id, part HAVING COUNT(*) > 1
)
SELECT source_file, row_no, problem FROM (
  SELECT a.source_file, a.row_no,
         CASE
           WHEN a.institution_id IS NULL THEN 'institution_id is null'
           WHEN a.part IS NULL THEN 'part is null'
           WHEN a.score IS NULL THEN 'score is null'
           WHEN a.score < 0 OR a.score > 100 THEN
             'score ' || CAST(a.score AS VARCHAR) || ' is outside 0..100'
         END AS problem
  FROM assessments a
  UNION ALL
  SELECT a.source_file, a.row_no,
         'institution ' || a.institution_id || ' has ' || CAST(d.n AS VARCHAR) ||
         ' rows for part ' || a.part || ' (one row per institution and part)'
  FROM dup d
  JOIN assessments a ON a.institution_id = d.institution_id AND a.part = d.part
  UNION ALL
  SELECT i.source_file, i.row_no,
         CASE
           WHEN i.institution_id IS NULL THEN 'institution_id is null'
           WHEN i.status IS NULL OR i.status NOT IN ('under_investigation', 'withheld_materials')
             THEN 'status ' || COALESCE(i.status, 'NULL') ||
                  ' is not under_investigation or withheld_materials'
         END
  FROM investigations i
)
WHERE problem IS NOT NULL
ORDER BY source_file, row_no, problem
