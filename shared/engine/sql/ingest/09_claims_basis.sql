-- Step 9 of ingest: the month's used claims as the computations see them.
--
-- Grain: one row per used claim row of the month (claims_valid), keyed claim_id.
-- A cross-month reversal is a mirror claim (data-contract.md): its amounts, case points and
-- herbal doses are taken back to the cancelled claim's (positive) values and `sign` is -1, so the
-- computations derive points from the cancelled claim and negate them ("nothing is recomputed
-- from the negative amounts"); `treat_time` is the cancelled claim's settle time, at which the
-- mirror is judged ("treated as the cancelled claim was treated").
-- Invariant: sign = 1 exactly for non-reversal rows.
SELECT
  v.claim_id, v.institution_id, v.prescriber_id, v.patient_id, v.insurance_type,
  v.visit_type, v.special_disease, v.pay_method, v.doctor_id, v.settle_time,
  v.is_reversal,
  CASE WHEN v.is_reversal THEN -1 ELSE 1 END AS sign,
  COALESCE(t.settle_time, v.settle_time) AS treat_time,
  CASE WHEN v.is_reversal THEN -v.case_points ELSE v.case_points END AS case_points,
  CASE WHEN v.is_reversal THEN -v.total_amount ELSE v.total_amount END AS total_amount,
  CASE WHEN v.is_reversal THEN -v.western_drug_amount ELSE v.western_drug_amount END AS western_drug_amount,
  CASE WHEN v.is_reversal THEN -v.patent_drug_amount ELSE v.patent_drug_amount END AS patent_drug_amount,
  CASE WHEN v.is_reversal THEN -v.herbal_amount ELSE v.herbal_amount END AS herbal_amount,
  CASE WHEN v.is_reversal THEN -v.consumable_amount ELSE v.consumable_amount END AS consumable_amount,
  CASE WHEN v.is_reversal THEN -v.service_amount ELSE v.service_amount END AS service_amount,
  CASE WHEN v.is_reversal THEN -v.vbp_amount ELSE v.vbp_amount END AS vbp_amount,
  CASE WHEN v.is_reversal THEN -v.vbp_points ELSE v.vbp_points END AS vbp_points,
  CASE WHEN v.is_reversal THEN -v.pool_fund_paid ELSE v.pool_fund_paid END AS pool_fund_paid,
  CASE WHEN v.is_reversal THEN -v.serious_illness_paid ELSE v.serious_illness_paid END AS serious_illness_paid,
  CASE WHEN v.is_reversal THEN -v.other_fund_paid ELSE v.other_fund_paid END AS other_fund_paid,
  CASE WHEN v.is_reversal THEN -v.account_paid ELSE v.account_paid END AS account_paid,
  CASE WHEN v.is_reversal THEN -v.cash_paid ELSE v.cash_paid END AS cash_paid
FROM prior_targets t
RIGHT JOIN claims_valid v ON v.is_reversal AND t.claim_id = v.reverses_claim_id
