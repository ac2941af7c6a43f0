-- Settlement Steps 4 and 6: cumulative outpatient lines before valuation.
--
-- Grain: one row per (budget institution, outpatient cell (value_class, drug|other), line kind
-- item|case), cumulative over months 1..${month}.
-- declared = Σ declared points (item lines include flowed-in pharmacy claims); reduction = Σ of
-- the months' volume-price reductions (item lines only); effective = declared - reduction;
-- cost = Σ actual cost of the fee class (for the case surplus rule).
WITH pts AS (
  SELECT budget_institution_id, value_class, 'drug' AS fee_class, line_kind,
         SUM(drug_points) AS declared, SUM(drug_cost) AS cost
  FROM agg
  WHERE exclusion IS NULL AND payment_class = 'outpatient'
  GROUP BY budget_institution_id, value_class, line_kind
  UNION ALL
  SELECT budget_institution_id, value_class, 'other' AS fee_class, line_kind,
         SUM(other_points) AS declared, SUM(other_cost) AS cost
  FROM agg
  WHERE exclusion IS NULL AND payment_class = 'outpatient'
  GROUP BY budget_institution_id, value_class, line_kind
),
red AS (
  SELECT budget_institution_id, fee_class, SUM(reduction) AS reduction
  FROM volume_price_all
  GROUP BY budget_institution_id, fee_class
)
SELECT p.budget_institution_id, p.value_class, p.fee_class, p.line_kind, p.declared, p.cost,
       CASE WHEN p.line_kind = 'item' THEN COALESCE(r.reduction, 0) ELSE 0 END AS reduction,
       p.declared
         - CASE WHEN p.line_kind = 'item' THEN COALESCE(r.reduction, 0) ELSE 0 END AS effective
FROM pts p
LEFT JOIN red r
  ON r.budget_institution_id = p.budget_institution_id AND r.fee_class = p.fee_class
