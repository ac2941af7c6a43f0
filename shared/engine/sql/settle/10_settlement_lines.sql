-- Settlement Steps 6-8: every line of the month's cumulative settlement.
--
-- Grain: one row per (institution_id, payment_class, budget_class, fee_class, line_kind), the
-- output table `settlement_lines`. Outpatient item/case lines are valued at PV_item / PV with the
-- surplus rule for case lines; inpatient item/case lines at the inpatient PV (case: surplus rule
-- against Σ total_amount of the case claims); chemo and flow lines come from 07 and 09.
-- Invariant: settlement_cum of an institution (Step 9) = Σ amount of its lines.
WITH outpatient AS (
  SELECT l.budget_institution_id AS institution_id, 'outpatient' AS payment_class,
         l.value_class AS budget_class, l.fee_class, l.line_kind,
         l.declared, l.reduction, l.effective, l.cost,
         CASE
           WHEN v.point_value IS NULL THEN 0
           WHEN l.line_kind = 'item' THEN round2(l.effective * v.item_point_value)
           WHEN round2(l.effective * v.point_value) <= l.cost THEN round2(l.effective * v.point_value)
           ELSE l.cost + round2(s.case_surplus_retention * (round2(l.effective * v.point_value) - l.cost))
         END AS amount
  FROM outpatient_lines l
  LEFT JOIN outpatient_point_values v
    ON v.budget_class = l.value_class AND v.fee_class = l.fee_class
  CROSS JOIN settlement_policy s
),
inpatient_pts AS (
  SELECT budget_institution_id, cell_class, line_kind,
         SUM(inpatient_points) AS declared, SUM(total_amount) AS cost
  FROM agg
  WHERE exclusion IS NULL AND payment_class = 'inpatient' AND line_kind IN ('item', 'case')
  GROUP BY budget_institution_id, cell_class, line_kind
),
inpatient AS (
  SELECT p.budget_institution_id AS institution_id, 'inpatient' AS payment_class,
         p.cell_class AS budget_class, 'all' AS fee_class, p.line_kind,
         p.declared, 0 AS reduction, p.declared AS effective, p.cost,
         CASE
           WHEN v.point_value IS NULL THEN 0
           WHEN p.line_kind = 'item' THEN round2(p.declared * v.point_value)
           WHEN round2(p.declared * v.point_value) <= p.cost THEN round2(p.declared * v.point_value)
           ELSE p.cost + round2(s.case_surplus_retention * (round2(p.declared * v.point_value) - p.cost))
         END AS amount
  FROM inpatient_pts p
  LEFT JOIN inpatient_point_values v ON v.budget_class = p.cell_class
  CROSS JOIN settlement_policy s
),
lines AS (
  SELECT institution_id, payment_class, budget_class, fee_class, line_kind,
         declared, reduction, effective, cost, amount FROM outpatient
  UNION ALL
  SELECT institution_id, payment_class, budget_class, fee_class, line_kind,
         declared, reduction, effective, cost, amount FROM inpatient
  UNION ALL
  SELECT budget_institution_id, 'inpatient', cell_class, 'all', 'chemo',
         declared, 0, declared AS effective, cost, amount FROM chemo_lines
  UNION ALL
  SELECT institution_id, 'outpatient', budget_class, 'all', line_kind,
         points, 0, points AS effective, actual, amount FROM flow_lines
)
SELECT institution_id, payment_class, budget_class, fee_class, line_kind,
       CAST(declared AS DECIMAL(20, 4)) AS declared_points,
       CAST(reduction AS DECIMAL(20, 4)) AS reduction_points,
       CAST(effective AS DECIMAL(20, 4)) AS effective_points,
       CAST(cost AS DECIMAL(18, 2)) AS actual_cost,
       CAST(amount AS DECIMAL(18, 2)) AS amount,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM lines
ORDER BY institution_id, payment_class, budget_class, fee_class, line_kind
