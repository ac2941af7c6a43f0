-- Settlement Steps 5 and 7: inpatient cells.
--
-- Grain: one row per inpatient cell (western|tcm, fee class all) with a budget entry or points.
-- CB' = CB - Σ chemo amounts of the cell, floored at 0 (floored = true, chemo_deduction = the
-- full Σ); EP = Σ inpatient points (converted item + case); PV = round6(CB' / EP), no cap.
WITH ep AS (
  SELECT cell_class AS budget_class, SUM(inpatient_points) AS effective_points
  FROM agg
  WHERE exclusion IS NULL AND payment_class = 'inpatient' AND line_kind IN ('item', 'case')
  GROUP BY cell_class
),
chemo AS (
  SELECT cell_class AS budget_class, SUM(amount) AS chemo_amount
  FROM chemo_lines GROUP BY cell_class
),
cells AS (
  SELECT budget_class FROM budgets WHERE payment_class = 'inpatient'
  UNION SELECT budget_class FROM ep
  UNION SELECT budget_class FROM chemo
)
SELECT c.budget_class, 'all' AS fee_class, b.cumulative_budget,
       COALESCE(ch.chemo_amount, 0) AS chemo_deduction,
       COALESCE(e.effective_points, 0) AS effective_points,
       b.cumulative_budget - COALESCE(ch.chemo_amount, 0) < 0 AS floored,
       CASE WHEN COALESCE(e.effective_points, 0) <> 0
            THEN div6(GREATEST(b.cumulative_budget - COALESCE(ch.chemo_amount, 0), 0),
                      e.effective_points) END AS point_value
FROM cells c
LEFT JOIN budgets b
  ON b.payment_class = 'inpatient' AND b.budget_class = c.budget_class
LEFT JOIN ep e ON e.budget_class = c.budget_class
LEFT JOIN chemo ch ON ch.budget_class = c.budget_class
