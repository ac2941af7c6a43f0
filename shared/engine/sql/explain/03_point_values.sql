-- Explain, point-value section (monthly-settlement.md Steps 5-7): the official point values of
-- ${year}-${mm} of every cell the institution's lines draw on.
--
-- Grain: one row per cell (payment_class, budget_class, fee_class): the cell of each item, case
-- and chemo line; for chemo and flow lines also the outpatient cells (value_class, drug|other)
-- whose point values price their points. Inputs: r_point_values, explain_lines (02).
WITH used AS (
  SELECT payment_class, budget_class, fee_class FROM explain_lines
  WHERE line_kind IN ('item', 'case', 'chemo')
  UNION
  SELECT 'outpatient', value_class, 'drug' FROM explain_lines
  WHERE line_kind IN ('chemo', 'flow_in', 'flow_out') AND value_class IS NOT NULL
  UNION
  SELECT 'outpatient', value_class, 'other' FROM explain_lines
  WHERE line_kind IN ('chemo', 'flow_in', 'flow_out') AND value_class IS NOT NULL
)
SELECT p.payment_class, p.budget_class, p.fee_class, p.cumulative_budget, p.chemo_deduction,
       p.effective_points, p.point_value, p.item_point_value, COALESCE(p.floored, FALSE) AS floored
FROM r_point_values p
JOIN used u
  ON u.payment_class = p.payment_class AND u.budget_class = p.budget_class
 AND u.fee_class = p.fee_class
WHERE p.year = '${year}' AND p.month = '${mm}'
ORDER BY CASE p.payment_class WHEN 'outpatient' THEN 0 ELSE 1 END, p.budget_class, p.fee_class
