-- Settlement Step 6 (chemo): chemo claims valued at the outpatient point values of their budget
-- institution's class, paid from the inpatient cell.
--
-- Grain: one row per budget institution with settled chemo claims, cumulative.
-- Per (fee class, pay method): item -> round2(points x PV_item); case -> alloc = round2(points x
-- PV) with the surplus rule against the fee class's actual cost of those claims; no point value
-- -> 0. The line sums them; its points are the declared chemo points.
WITH pts AS (
  SELECT budget_institution_id, value_class, cell_class, pay_method, 'drug' AS fee_class,
         SUM(drug_points) AS declared, SUM(drug_cost) AS cost, SUM(total_amount) AS total
  FROM agg WHERE exclusion IS NULL AND line_kind = 'chemo'
  GROUP BY budget_institution_id, value_class, cell_class, pay_method
  UNION ALL
  SELECT budget_institution_id, value_class, cell_class, pay_method, 'other' AS fee_class,
         SUM(other_points) AS declared, SUM(other_cost) AS cost, 0 AS total
  FROM agg WHERE exclusion IS NULL AND line_kind = 'chemo'
  GROUP BY budget_institution_id, value_class, cell_class, pay_method
),
valued AS (
  SELECT p.*,
         CASE
           WHEN v.point_value IS NULL THEN 0
           WHEN p.pay_method = 'item' THEN round2(p.declared * v.item_point_value)
           WHEN round2(p.declared * v.point_value) <= p.cost THEN round2(p.declared * v.point_value)
           ELSE p.cost + round2(s.case_surplus_retention * (round2(p.declared * v.point_value) - p.cost))
         END AS amount
  FROM pts p
  LEFT JOIN outpatient_point_values v
    ON v.budget_class = p.value_class AND v.fee_class = p.fee_class
  CROSS JOIN settlement_policy s
)
SELECT budget_institution_id, cell_class, SUM(declared) AS declared, SUM(total) AS cost,
       SUM(amount) AS amount
FROM valued
GROUP BY budget_institution_id, cell_class
