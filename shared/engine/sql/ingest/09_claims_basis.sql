-- Step 9 of ingest: the month's used claims as the computations see them.
--
-- Grain: one row per used claim row of the month (claims_valid), keyed claim_id.
-- A cross-month reversal is a mirror claim (data-contract.md): its amounts, case points and
-- herbal doses are taken back to the cancelled claim's (positive) values and `sign` is -1, so the
-- computations derive points from the cancelled claim and negate them ("nothing is recomputed
-- from the negative amounts"); `treat_time` is the cancelled claim's settle time, at which the
-- mirror is judged ("treated as the cancelled claim was treated").
-- Invariant: sign = 1 exactly for non-reversal rows.
-- Plan: two parts, so only the few mirrors are joined with the claims they cancel (every used
-- reversal is a mirror: a same-month reversal is netted, not used) and the month's millions of
-- plain claims pass through as they are.
SELECT
  v.claim_id, v.institution_id, v.prescriber_id, v.patient_id, v.insurance_type,
  v.visit_type, v.special_disease, v.pay_method, v.doctor_id, v.settle_time,
  v.is_reversal,
  1 AS sign,
  v.settle_time AS treat_time,
  v.case_points, v.total_amount, v.western_drug_amount, v.patent_drug_amount, v.herbal_amount,
  v.consumable_amount, v.service_amount, v.vbp_amount, v.vbp_points, v.pool_fund_paid,
  v.serious_illness_paid, v.other_fund_paid, v.account_paid, v.cash_paid
FROM claims_valid v
WHERE NOT v.is_reversal
UNION ALL
SELECT
  v.claim_id, v.institution_id, v.prescriber_id, v.patient_id, v.insurance_type,
  v.visit_type, v.special_disease, v.pay_method, v.doctor_id, v.settle_time,
  v.is_reversal,
  -1 AS sign,
  COALESCE(t.settle_time, v.settle_time) AS treat_time,
  -v.case_points AS case_points,
  -v.total_amount AS total_amount,
  -v.western_drug_amount AS western_drug_amount,
  -v.patent_drug_amount AS patent_drug_amount,
  -v.herbal_amount AS herbal_amount,
  -v.consumable_amount AS consumable_amount,
  -v.service_amount AS service_amount,
  -v.vbp_amount AS vbp_amount,
  -v.vbp_points AS vbp_points,
  -v.pool_fund_paid AS pool_fund_paid,
  -v.serious_illness_paid AS serious_illness_paid,
  -v.other_fund_paid AS other_fund_paid,
  -v.account_paid AS account_paid,
  -v.cash_paid AS cash_paid
FROM prior_targets t
RIGHT JOIN claims_valid v ON t.claim_id = v.reverses_claim_id
WHERE v.is_reversal
