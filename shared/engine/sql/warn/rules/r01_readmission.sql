-- Suspicion rule R01 (quarterly-warnings.md Part D): 15-day readmission 重复住院.
--
-- Grain: one row per flagged inpatient claim of the quarter (rule R01, claim_id).
-- Inputs: q_claims (the quarter's valid, netted claims), prev_claims (the month before the
-- quarter, netted within itself).
-- A quarter inpatient claim c is flagged when another inpatient claim p of the same patient (any
-- institution; quarter or month before) has p.discharge_date <= c.admit_date, the gap
-- c.admit_date - p.discharge_date in 0..${readmission_days} days (both ends included) and the same
-- first 3 characters of diagnosis_code. Range join: equi-join on patient_id first, then the date
-- window (never a cross join). detail names the closest earlier stay (smallest gap, then
-- claim_id). Invariant: claim_id unique; the flagged claim is never its own earlier stay.
WITH stays AS (
  SELECT claim_id, patient_id, discharge_date, left(diagnosis_code, 3) AS dx3
  FROM q_claims
  WHERE visit_type = 'inpatient' AND reverses_claim_id IS NULL
  UNION ALL
  SELECT claim_id, patient_id, discharge_date, left(diagnosis_code, 3) AS dx3
  FROM prev_claims
  WHERE visit_type = 'inpatient' AND reverses_claim_id IS NULL
),
pairs AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, CAST(c.settle_time AS DATE) AS settle_date,
         p.claim_id AS prior_id,
         CAST(c.admit_date AS INT) - CAST(p.discharge_date AS INT) AS gap
  FROM q_claims c
  JOIN stays p
    ON p.patient_id = c.patient_id
   AND p.claim_id <> c.claim_id
  WHERE c.visit_type = 'inpatient' AND c.reverses_claim_id IS NULL
    AND p.discharge_date <= c.admit_date
    AND CAST(c.admit_date AS INT) - CAST(p.discharge_date AS INT) <= ${readmission_days}
    AND p.dx3 = left(c.diagnosis_code, 3)
),
ranked AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY claim_id ORDER BY gap, prior_id) AS rn
  FROM pairs
)
SELECT 'R01' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat('readmitted ', CAST(gap AS VARCHAR), ' days after ', prior_id) AS detail
FROM ranked
WHERE rn = 1
ORDER BY claim_id
