-- Settlement Steps 5 and 6: outpatient cumulative budgets and point values.
--
-- Grain: one row per outpatient cell (budget_class, drug|other) with a budget entry or points.
-- EP = Σ effective points of the cell (item + case; chemo is not in outpatient cells);
-- PV = round6(CB / EP), NULL when EP = 0; PV_item = min(PV, item_point_value_cap).
WITH ep AS (
  SELECT value_class AS budget_class, fee_class, SUM(effective) AS effective_points
  FROM outpatient_lines
  GROUP BY value_class, fee_class
),
cells AS (
  SELECT budget_class, fee_class FROM budgets WHERE payment_class = 'outpatient'
  UNION
  SELECT budget_class, fee_class FROM ep
)
SELECT c.budget_class, c.fee_class, b.cumulative_budget,
       COALESCE(e.effective_points, 0) AS effective_points,
       CASE WHEN COALESCE(e.effective_points, 0) <> 0
            THEN div6(b.cumulative_budget, e.effective_points) END AS point_value,
       CASE WHEN COALESCE(e.effective_points, 0) <> 0
            THEN LEAST(div6(b.cumulative_budget, e.effective_points), s.item_point_value_cap)
       END AS item_point_value
FROM cells c
LEFT JOIN budgets b
  ON b.payment_class = 'outpatient' AND b.budget_class = c.budget_class
 AND b.fee_class = c.fee_class
LEFT JOIN ep e ON e.budget_class = c.budget_class AND e.fee_class = c.fee_class
CROSS JOIN settlement_policy s
