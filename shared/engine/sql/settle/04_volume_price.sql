-- Settlement Step 4: volume-price reduction (量价挂钩) of every month k <= ${month}.
--
-- Grain: one row per (month, budget institution, fee class drug|other) where the institution had
-- settled item-kind outpatient claims (own or flowed-in; not chemo, not case) in that month.
-- A = adjustable points; D = doctor-days; T = per_doctor_day x D (institution override first,
-- else by budget class and fee class); no threshold or D = 0 -> threshold, excess NULL and no
-- reduction. E = max(0, A - T); each tier takes the part of E between from x T and to x T
-- (open-ended last tier: the rest); reduction = round4(Σ part x (1 - coefficient)).
WITH item_rows AS (
  SELECT month, budget_institution_id, value_class, drug_adjustable, other_adjustable
  FROM agg
  WHERE exclusion IS NULL AND payment_class = 'outpatient' AND line_kind = 'item'
),
adjustable AS (
  SELECT month, budget_institution_id, value_class, 'drug' AS fee_class,
         SUM(drug_adjustable) AS adjustable_points
  FROM item_rows GROUP BY month, budget_institution_id, value_class
  UNION ALL
  SELECT month, budget_institution_id, value_class, 'other' AS fee_class,
         SUM(other_adjustable) AS adjustable_points
  FROM item_rows GROUP BY month, budget_institution_id, value_class
),
limits AS (
  SELECT a.*,
         COALESCE(d.doctor_days, 0) AS doctor_days,
         CASE WHEN COALESCE(d.doctor_days, 0) > 0
              THEN COALESCE(o.per_doctor_day, t.per_doctor_day) * d.doctor_days END AS threshold
  FROM adjustable a
  LEFT JOIN vp_overrides o
    ON o.institution_id = a.budget_institution_id AND o.fee_class = a.fee_class
  LEFT JOIN vp_thresholds t
    ON t.budget_class = a.value_class AND t.fee_class = a.fee_class
  LEFT JOIN doctor_days_all d
    ON d.month = a.month AND d.budget_institution_id = a.budget_institution_id
),
excess AS (
  SELECT l.*,
         CASE WHEN l.threshold IS NOT NULL
              THEN GREATEST(l.adjustable_points - l.threshold, 0) END AS excess
  FROM limits l
),
parts AS (
  SELECT e.month, e.budget_institution_id, e.fee_class,
         GREATEST(
           LEAST(e.excess, COALESCE(t.over_ratio_to * e.threshold, e.excess))
             - t.over_ratio_from * e.threshold,
           0) * (1 - t.coefficient) AS reduced
  FROM excess e
  JOIN vp_tiers t ON e.threshold IS NOT NULL
)
SELECT e.month, e.budget_institution_id, e.value_class, e.fee_class, e.adjustable_points,
       e.doctor_days, e.threshold, e.excess,
       COALESCE(round4(SUM(p.reduced)), round4(0)) AS reduction
FROM excess e
LEFT JOIN parts p
  ON p.month = e.month AND p.budget_institution_id = e.budget_institution_id
 AND p.fee_class = e.fee_class
GROUP BY e.month, e.budget_institution_id, e.value_class, e.fee_class, e.adjustable_points,
         e.doctor_days, e.threshold, e.excess
