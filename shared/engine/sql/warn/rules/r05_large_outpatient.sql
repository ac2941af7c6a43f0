-- Suspicion rule R05 (quarterly-warnings.md Part D): single large outpatient amount 单次大额.
--
-- Grain: one row per flagged claim of the quarter (rule R05, claim_id).
-- Inputs: q_claims.
-- General-outpatient or pharmacy claim (not special outpatient: 门特 such as chemo and dialysis
-- are expected to be large) with total_amount ≥ rules.large_outpatient_amount. The runner passes
-- the threshold rounded up to the fen (${large_outpatient_amount}), which decides ≥ exactly on
-- 2-decimal amounts.
SELECT 'R05' AS rule_id, claim_id, institution_id, patient_id,
       CAST(settle_time AS DATE) AS settle_date,
       concat('total ', CAST(total_amount AS VARCHAR)) AS detail
FROM q_claims
WHERE visit_type IN ('general_outpatient', 'pharmacy')
  AND reverses_claim_id IS NULL
  AND total_amount >= CAST('${large_outpatient_amount}' AS DECIMAL(38, 2))
ORDER BY claim_id
