-- Suspicion rule R04 (quarterly-warnings.md Part D): repeated same-day settlements 单人多次结算.
--
-- Grain: one row per flagged claim of the quarter (rule R04, claim_id).
-- Inputs: q_outpatient (outpatient_claims.sql; read twice: the groups, then their claims).
-- ≥ ${repeat_same_day_min} outpatient-type claims (general/special outpatient, pharmacy) of one
-- patient at one institution on one settle date flag all of them; detail gives the count.
WITH groups AS (
  SELECT patient_id, institution_id, settle_date, COUNT(*) AS claims
  FROM q_outpatient
  GROUP BY patient_id, institution_id, settle_date
  HAVING COUNT(*) >= ${repeat_same_day_min}
)
SELECT 'R04' AS rule_id, o.claim_id, o.institution_id, o.patient_id, o.settle_date,
       concat(CAST(g.claims AS VARCHAR), ' claims on ', CAST(o.settle_date AS VARCHAR)) AS detail
FROM groups g
JOIN q_outpatient o
  ON g.patient_id = o.patient_id AND g.institution_id = o.institution_id
 AND g.settle_date = o.settle_date
ORDER BY o.claim_id
