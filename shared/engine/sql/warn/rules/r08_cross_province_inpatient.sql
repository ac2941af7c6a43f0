-- Suspicion rule R08 (quarterly-warnings.md Part D): large cross-province stay 跨省大额住院.
--
-- Grain: one row per flagged claim of the quarter (rule R08, claim_id).
-- Inputs: q_claims.
-- Inpatient claim with insured_region = cross_province and total_amount ≥
-- rules.cross_province_inpatient_amount; the runner passes the threshold rounded up to the fen
-- (${cross_province_inpatient_amount}), which decides ≥ exactly on 2-decimal amounts.
SELECT 'R08' AS rule_id, claim_id, institution_id, patient_id,
       CAST(settle_time AS DATE) AS settle_date,
       concat('total ', CAST(total_amount AS VARCHAR)) AS detail
FROM q_claims
WHERE visit_type = 'inpatient'
  AND insured_region = 'cross_province'
  AND reverses_claim_id IS NULL
  AND total_amount >= CAST('${cross_province_inpatient_amount}' AS DECIMAL(38, 2))
ORDER BY claim_id
