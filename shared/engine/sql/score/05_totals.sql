-- Annual scores: totals and grades (annual-scores.md "Indicator points", "Status and
-- consequences"; 100-point scale, 003 art 14).
--
-- Grain: one row per institution of `population` (every status), keyed institution_id.
-- total  scored only: round2(sum points x 100 / sum weights of the applicable indicators),
--        so an institution some indicators do not apply to is renormalised to 100;
--        NULL for pending and disqualified institutions
-- grade  scored only: excellent (total >= excellent_from), pass (>= pass_from), fail
-- item_flags  the flags of its indicators in rubric order, ';'-separated (NULL when none)
WITH sums AS (
  SELECT institution_id,
         SUM(points) AS points,
         SUM(CASE WHEN applicable THEN weight END) AS weights,
         string_agg(flag, ';' ORDER BY ord) AS item_flags
  FROM score_items_all
  GROUP BY institution_id
),
totals AS (
  SELECT p.institution_id, p.kind, p.budget_class, p.status, s.weights AS applicable_weight,
         CASE WHEN p.status = 'scored' THEN div2(s.points * 100, s.weights) END AS total,
         CAST(s.item_flags AS VARCHAR) AS item_flags
  FROM population p
  LEFT JOIN sums s ON s.institution_id = p.institution_id
)
SELECT t.*,
       CASE
         WHEN t.total IS NULL THEN CAST(NULL AS VARCHAR)
         WHEN t.total >= s.excellent_from THEN 'excellent'
         WHEN t.total >= s.pass_from THEN 'pass'
         ELSE 'fail'
       END AS grade
FROM totals t
CROSS JOIN score_policy s
ORDER BY t.institution_id
