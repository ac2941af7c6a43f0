-- Suspicion rule R06 (quarterly-warnings.md Part D): outpatient during a stay 住院期间门诊结算.
--
-- Grain: one row per flagged claim (rule R06, claim_id); flagged claims come from the quarter or
-- the month before it.
-- Inputs: q_claims (outpatient claims and the stays), prev_claims (outpatient claims only).
-- An outpatient-type claim (general/special outpatient, pharmacy) is flagged when its settle date
-- is strictly after admit_date and strictly before discharge_date of one of the same patient's
-- inpatient claims of the quarter (the admission and discharge days are not "during"). Range
-- join: equi-join on patient_id first, then the date condition; the stays (few) are the hash
-- table, the outpatient claims stream past it. detail names the stay with the
-- smallest claim_id.
WITH outpatient AS (
  SELECT claim_id, institution_id, patient_id, CAST(settle_time AS DATE) AS settle_date
  FROM q_claims
  WHERE visit_type IN ('general_outpatient', 'special_outpatient', 'pharmacy')
    AND reverses_claim_id IS NULL
  UNION ALL
  SELECT claim_id, institution_id, patient_id, CAST(settle_time AS DATE) AS settle_date
  FROM prev_claims
  WHERE visit_type IN ('general_outpatient', 'special_outpatient', 'pharmacy')
    AND reverses_claim_id IS NULL
),
stays AS (
  SELECT claim_id, patient_id, admit_date, discharge_date
  FROM q_claims
  WHERE visit_type = 'inpatient' AND reverses_claim_id IS NULL
),
pairs AS (
  SELECT o.claim_id, o.institution_id, o.patient_id, o.settle_date, s.claim_id AS stay_id,
         ROW_NUMBER() OVER (PARTITION BY o.claim_id ORDER BY s.claim_id) AS rn
  FROM stays s
  JOIN outpatient o ON s.patient_id = o.patient_id
  WHERE o.settle_date > s.admit_date AND o.settle_date < s.discharge_date
)
SELECT 'R06' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat('during stay ', stay_id) AS detail
FROM pairs
WHERE rn = 1
ORDER BY claim_id
