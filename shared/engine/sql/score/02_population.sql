-- Annual scores: the scored institutions and their status (annual-scores.md "Scored
-- institutions", "Status and consequences").
--
-- Grain: one row per institution with at least one valid, netted claim of ${year} or a row in
-- inputs/assessments of ${year}, keyed institution_id. kind and budget_class come from the
-- registry (NULL when the registry does not know the institution: the engine stops, naming it).
-- status: disqualified when investigations say withheld_materials (003 art 17; it wins over a
-- concurrent under_investigation row), pending when under_investigation (003 art 16), else
-- scored. An investigations row of an institution outside this set changes nothing (the report
-- notes it).
WITH ids AS (
  SELECT institution_id, 'claims' AS origin FROM year_claims
  UNION ALL
  SELECT institution_id, 'assessments' AS origin FROM assessments
),
population AS (
  SELECT institution_id,
         MAX(CASE WHEN origin = 'claims' THEN 1 ELSE 0 END) = 1 AS has_claims,
         MAX(CASE WHEN origin = 'assessments' THEN 1 ELSE 0 END) = 1 AS has_assessment
  FROM ids GROUP BY institution_id
),
investigated AS (
  SELECT institution_id,
         MAX(CASE WHEN status = 'withheld_materials' THEN 1 ELSE 0 END) = 1 AS withheld,
         MAX(CASE WHEN status = 'under_investigation' THEN 1 ELSE 0 END) = 1 AS under
  FROM investigations GROUP BY institution_id
)
SELECT p.institution_id, r.kind, r.budget_class, p.has_claims, p.has_assessment,
       CASE
         WHEN COALESCE(v.withheld, FALSE) THEN 'disqualified'
         WHEN COALESCE(v.under, FALSE) THEN 'pending'
         ELSE 'scored'
       END AS status
FROM population p
LEFT JOIN institutions r ON r.institution_id = p.institution_id
LEFT JOIN investigated v ON v.institution_id = p.institution_id
ORDER BY p.institution_id
