-- Settlement Step 8: prescriptions filled at pharmacies (处方流转, 001 art 24).
--
-- Grain: one row per (institution, budget class of the prescriber, line kind flow_in|flow_out),
-- cumulative. Per (pharmacy p, prescriber b): flow = Σ_f round2(points(p,b,f) x PV_item of b's
-- outpatient cell f) over declared points; amount = min(flow, actual), actual = Σ total_amount of
-- those claims. p gets flow_in (+), b flow_out (-), keyed (outpatient, class(b), all).
WITH pair_points AS (
  SELECT institution_id AS pharmacy_id, budget_institution_id AS prescriber_id, value_class,
         SUM(drug_points) AS drug_points, SUM(other_points) AS other_points,
         SUM(total_amount) AS actual
  FROM agg
  WHERE exclusion IS NULL AND flowed
  GROUP BY institution_id, budget_institution_id, value_class
),
pairs AS (
  SELECT p.*,
         COALESCE(round2(p.drug_points * d.item_point_value), 0)
           + COALESCE(round2(p.other_points * o.item_point_value), 0) AS flow
  FROM pair_points p
  LEFT JOIN outpatient_point_values d ON d.budget_class = p.value_class AND d.fee_class = 'drug'
  LEFT JOIN outpatient_point_values o ON o.budget_class = p.value_class AND o.fee_class = 'other'
),
capped AS (
  SELECT *, LEAST(flow, actual) AS amount, drug_points + other_points AS points FROM pairs
)
SELECT pharmacy_id AS institution_id, value_class AS budget_class, 'flow_in' AS line_kind,
       SUM(points) AS points, SUM(actual) AS actual, SUM(amount) AS amount
FROM capped GROUP BY pharmacy_id, value_class
UNION ALL
SELECT prescriber_id AS institution_id, value_class AS budget_class, 'flow_out' AS line_kind,
       -SUM(points) AS points, -SUM(actual) AS actual, -SUM(amount) AS amount
FROM capped GROUP BY prescriber_id, value_class
