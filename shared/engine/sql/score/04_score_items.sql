-- Annual scores: indicator points (annual-scores.md "Indicator points"). The rubric is data:
-- every row of `score_indicators` (the policy's [[score.indicator]]) is scored here by its
-- source and method, so adding an indicator of a known source or changing a weight is a policy
-- edit.
--
-- Grain: one row per (institution with status scored, indicator), keyed (institution_id,
-- indicator_id); pending and disqualified institutions have no rows.
-- applies      the institution's kind is in the indicator's applies_to (every kind when absent)
-- applicable   applies, and a value exists or the source is an assessment (a missing
--              assessment is applicable with value NULL and 0 points: its weight stays in the
--              denominator)
-- value        num / den rounded to 6 decimals (NULL when the indicator does not apply)
-- points       NULL when not applicable; else round2 of the method's formula on the exact
--              fraction num / den, in 0..weight:
--   deduct         max(0, weight - per_yellow x yellows - per_red x reds)
--   lower_better   weight at value <= good, 0 at value >= bad, else weight x (bad - value) / (bad - good)
--   higher_better  weight at value >= good, 0 at value <= bad, else weight x (value - bad) / (good - bad)
--   scaled         weight x score / 100
--   (value <= good is decided as num <= good x den, den > 0; the one division is div2's)
-- flag         missing_assessment:<part> / no_value:<indicator_id> for an indicator that applies
--              but has no value
WITH grid AS (
  SELECT p.institution_id, i.ord, i.indicator_id, i.weight, i.source, i.part, i.method,
         i.per_yellow, i.per_red, i.good, i.bad,
         k.indicator_id IS NOT NULL AS applies
  FROM score_indicators i
  CROSS JOIN population p
  LEFT JOIN score_indicator_kinds k ON k.indicator_id = i.indicator_id AND k.kind = p.kind
  WHERE p.status = 'scored'
),
valued AS (
  SELECT g.*, v.num, v.den, v.yellows, v.reds,
         g.applies AND (v.num IS NOT NULL OR g.part IS NOT NULL) AS applicable
  FROM grid g
  LEFT JOIN indicator_values v ON v.institution_id = g.institution_id AND v.source = g.source
),
deducted AS (
  SELECT *,
         weight - COALESCE(per_yellow, 0) * COALESCE(yellows, 0)
                - COALESCE(per_red, 0) * COALESCE(reds, 0) AS deduct_rest
  FROM valued
)
SELECT institution_id, ord, indicator_id, weight, applicable,
       CASE WHEN applies AND num IS NOT NULL THEN div6(num, den) END AS value,
       CASE
         WHEN NOT applicable THEN NULL
         WHEN num IS NULL THEN CAST(0 AS DECIMAL(38, 2))
         WHEN method = 'deduct' THEN
           CASE WHEN deduct_rest > 0 THEN round2(deduct_rest) ELSE CAST(0 AS DECIMAL(38, 2)) END
         WHEN method = 'lower_better' THEN
           CASE
             WHEN num <= good * den THEN round2(weight)
             WHEN num >= bad * den THEN CAST(0 AS DECIMAL(38, 2))
             ELSE div2(weight * (bad * den - num), (bad - good) * den)
           END
         WHEN method = 'higher_better' THEN
           CASE
             WHEN num >= good * den THEN round2(weight)
             WHEN num <= bad * den THEN CAST(0 AS DECIMAL(38, 2))
             ELSE div2(weight * (num - bad * den), (good - bad) * den)
           END
         WHEN method = 'scaled' THEN div2(weight * num, 100 * den)
       END AS points,
       CASE
         WHEN applies AND num IS NULL AND part IS NOT NULL THEN 'missing_assessment:' || part
         WHEN applies AND num IS NULL THEN 'no_value:' || indicator_id
       END AS flag
FROM deducted
ORDER BY institution_id, indicator_id
