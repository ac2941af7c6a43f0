-- Institution inpatient indicators (quarterly-warnings.md Part D, seed 002 measure 2).
--
-- Grain: one row per (institution_id, indicator) for every institution with an inpatient claim
-- in the quarter; indicator is admissions_per_patient (住院人次人头比) or cmi.
-- Inputs: q_claims, institutions, warn_inpatient_policy (one row: margin =
-- rules.institution.margin).
-- admissions_per_patient = inpatient claims / distinct patients; cmi = mean drg_weight of the
-- inpatient case claims that have one (null when none). eligible = ≥ ${min_admissions} inpatient
-- claims. Peer group = budget_class; peer value = pooled Σ num / Σ den over the eligible
-- institutions of the group (itself included). Hit = eligible ∧ value > peer × (1 + margin),
-- decided exactly by cross-multiplying (num × peer_den > peer_num × den × (1 + margin));
-- value, peer_value and threshold are rounded half away from zero to 6 decimals (div6).
-- Ineligible institutions get null peer_value and threshold and hit = false.
WITH inpatient AS (
  SELECT c.institution_id, i.budget_class, c.patient_id, c.pay_method, c.drg_weight
  FROM institutions i
  JOIN q_claims c ON i.institution_id = c.institution_id
  WHERE c.visit_type = 'inpatient' AND c.reverses_claim_id IS NULL
),
per_institution AS (
  SELECT institution_id, budget_class,
         COUNT(*) AS admissions,
         COUNT(DISTINCT patient_id) AS patients,
         SUM(CASE WHEN pay_method = 'case' THEN drg_weight END) AS weight_sum,
         COUNT(CASE WHEN pay_method = 'case' THEN drg_weight END) AS weighted_cases
  FROM inpatient
  GROUP BY institution_id, budget_class
),
long AS (
  SELECT institution_id, budget_class, 'admissions_per_patient' AS indicator,
         admissions >= ${min_admissions} AS eligible,
         CAST(admissions AS DECIMAL(24, 4)) AS num, CAST(patients AS DECIMAL(20, 0)) AS den
  FROM per_institution
  UNION ALL
  SELECT institution_id, budget_class, 'cmi' AS indicator,
         admissions >= ${min_admissions} AS eligible,
         CAST(COALESCE(weight_sum, 0) AS DECIMAL(24, 4)) AS num,
         CAST(weighted_cases AS DECIMAL(20, 0)) AS den
  FROM per_institution
),
peer AS (
  SELECT budget_class, indicator, SUM(num) AS peer_num, SUM(den) AS peer_den
  FROM long
  WHERE eligible AND den > 0
  GROUP BY budget_class, indicator
),
factor AS (
  SELECT 1 + margin AS factor FROM warn_inpatient_policy
)
SELECT l.institution_id, l.indicator, l.budget_class,
       CAST(div6(l.num, l.den) AS DECIMAL(20, 6)) AS value,
       CASE WHEN l.eligible THEN CAST(div6(p.peer_num, p.peer_den) AS DECIMAL(20, 6)) END
         AS peer_value,
       CASE WHEN l.eligible
            THEN CAST(div6(p.peer_num * (SELECT factor FROM factor), p.peer_den) AS DECIMAL(20, 6))
       END AS threshold,
       COALESCE(l.eligible AND l.den > 0 AND p.peer_den > 0
                AND l.num * p.peer_den > p.peer_num * l.den * (SELECT factor FROM factor), false)
         AS hit,
       l.eligible
FROM long l
LEFT JOIN peer p ON p.budget_class = l.budget_class AND p.indicator = l.indicator
ORDER BY l.institution_id, l.indicator
