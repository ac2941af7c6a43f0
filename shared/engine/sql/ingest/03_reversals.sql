-- Step 3 of ingest validation: orphan_reversal, reversal_mismatch, then the late row rules,
-- and netting.
--
-- Grain: one row per input claim row of the month, keyed (file_no, row_no) (narrow).
-- Inputs: deduped (02, narrow), mirror_rows (03a: full rows of the reversals and the claims of
--         this month they name), prior_targets (earlier-month valid claims named by this
--         month's reversals, full rows), ledger_prior (earlier months' holders and valid
--         reversals).
-- Rules (data-contract.md):
--   orphan_reversal   the named claim is no valid non-reversal claim of this year in this or an
--                     earlier month, or an earlier reversal (reading order) already cancelled it
--   reversal_mismatch not the exact mirror: the 14 money columns, herbal_doses and case_points
--                     negated, every other column except claim_id, settle_time and
--                     reverses_claim_id equal (prescriber compared as it means something)
-- Output: final_reason (NULL = valid), netted (a valid same-month reversal and the claim it
--         cancels, both dropped from the computations), target_month (a valid reversal's
--         cancelled claim's month).
WITH month_claims AS (
  -- mirror_rows holds the reversals that passed rules 1-11 and the valid claims of this month
  -- they name (03a): its non-reversal rows are exactly those claims. (A join with `deduped`
  -- here made DataFusion build a hash table of the month's ~5M rows to find ~4k.)
  SELECT m.* FROM mirror_rows m
  WHERE m.reverses_claim_id IS NULL
),
targets AS (
  SELECT claim_id, institution_id, prescriber_id, patient_id, patient_gender, insurance_type,
         insured_region, visit_type, special_disease, pay_method, case_group, case_points,
         drg_weight, diagnosis_code, doctor_id, admit_date, discharge_date, total_amount,
         western_drug_amount, patent_drug_amount, herbal_amount, consumable_amount,
         service_amount, herbal_doses, vbp_amount, vbp_points, key_drug_amount, pool_fund_paid,
         serious_illness_paid, other_fund_paid, account_paid, cash_paid, part_month AS target_month
  FROM month_claims
  UNION ALL
  SELECT claim_id, institution_id, prescriber_id, patient_id, patient_gender, insurance_type,
         insured_region, visit_type, special_disease, pay_method, case_group, case_points,
         drg_weight, diagnosis_code, doctor_id, admit_date, discharge_date, total_amount,
         western_drug_amount, patent_drug_amount, herbal_amount, consumable_amount,
         service_amount, herbal_doses, vbp_amount, vbp_points, key_drug_amount, pool_fund_paid,
         serious_illness_paid, other_fund_paid, account_paid, cash_paid, part_month AS target_month
  FROM prior_targets
),
cancelled_prior AS (
  SELECT DISTINCT reverses_claim_id AS claim_id FROM ledger_prior WHERE status = 'reversal'
),
rev AS (
  SELECT
    d.file_no, d.row_no, d.reverses_claim_id, d.late_reason, t.target_month,
    t.claim_id IS NOT NULL AND cp.claim_id IS NULL AS target_ok,
    COALESCE(
          r.total_amount = -t.total_amount
      AND r.western_drug_amount = -t.western_drug_amount
      AND r.patent_drug_amount = -t.patent_drug_amount
      AND r.herbal_amount = -t.herbal_amount
      AND r.consumable_amount = -t.consumable_amount
      AND r.service_amount = -t.service_amount
      AND r.vbp_amount = -t.vbp_amount
      AND r.vbp_points = -t.vbp_points
      AND r.key_drug_amount = -t.key_drug_amount
      AND r.pool_fund_paid = -t.pool_fund_paid
      AND r.serious_illness_paid = -t.serious_illness_paid
      AND r.other_fund_paid = -t.other_fund_paid
      AND r.account_paid = -t.account_paid
      AND r.cash_paid = -t.cash_paid
      AND r.herbal_doses = -t.herbal_doses
      AND (r.case_points IS NOT DISTINCT FROM -t.case_points)
      AND (r.institution_id IS NOT DISTINCT FROM t.institution_id)
      AND (r.prescriber_id IS NOT DISTINCT FROM t.prescriber_id)
      AND (r.patient_id IS NOT DISTINCT FROM t.patient_id)
      AND (r.patient_gender IS NOT DISTINCT FROM t.patient_gender)
      AND (r.insurance_type IS NOT DISTINCT FROM t.insurance_type)
      AND (r.insured_region IS NOT DISTINCT FROM t.insured_region)
      AND (r.visit_type IS NOT DISTINCT FROM t.visit_type)
      AND (r.special_disease IS NOT DISTINCT FROM t.special_disease)
      AND (r.pay_method IS NOT DISTINCT FROM t.pay_method)
      AND (r.case_group IS NOT DISTINCT FROM t.case_group)
      AND (r.drg_weight IS NOT DISTINCT FROM t.drg_weight)
      AND (r.diagnosis_code IS NOT DISTINCT FROM t.diagnosis_code)
      AND (r.doctor_id IS NOT DISTINCT FROM t.doctor_id)
      AND (r.admit_date IS NOT DISTINCT FROM t.admit_date)
      AND (r.discharge_date IS NOT DISTINCT FROM t.discharge_date),
      FALSE) AS mirror_ok
  FROM deduped d
  JOIN mirror_rows r ON r.file_no = d.file_no AND r.row_no = d.row_no
  LEFT JOIN targets t ON t.claim_id = d.reverses_claim_id
  LEFT JOIN cancelled_prior cp ON cp.claim_id = d.reverses_claim_id
  WHERE d.reason_2 IS NULL AND d.is_reversal
),
canceller AS (
  -- the first reversal in reading order that cancels its claim
  SELECT reverses_claim_id, file_no, row_no FROM (
    SELECT reverses_claim_id, file_no, row_no,
           ROW_NUMBER() OVER (PARTITION BY reverses_claim_id ORDER BY file_no, row_no) AS rn
    FROM rev WHERE target_ok AND mirror_ok AND late_reason IS NULL
  ) WHERE rn = 1
),
rev_status AS (
  SELECT
    v.file_no, v.row_no, v.target_month,
    CASE
      WHEN NOT v.target_ok THEN 'orphan_reversal'
      WHEN c.file_no IS NOT NULL
        AND (v.file_no > c.file_no
             OR (v.file_no = c.file_no AND v.row_no > c.row_no)) THEN 'orphan_reversal'
      WHEN NOT v.mirror_ok THEN 'reversal_mismatch'
      ELSE v.late_reason
    END AS rev_reason
  FROM rev v
  LEFT JOIN canceller c ON c.reverses_claim_id = v.reverses_claim_id
),
netted_claims AS (
  -- claims of this month cancelled by a valid reversal of this month
  SELECT DISTINCT d.reverses_claim_id AS claim_id
  FROM deduped d
  JOIN rev_status s ON s.file_no = d.file_no AND s.row_no = d.row_no
  WHERE s.rev_reason IS NULL AND s.target_month = ${month}
)
SELECT
  d.*,
  CASE
    WHEN d.reason_2 IS NOT NULL THEN d.reason_2
    WHEN d.is_reversal THEN s.rev_reason
    ELSE d.late_reason
  END AS final_reason,
  s.target_month,
  CASE
    WHEN d.reason_2 IS NOT NULL THEN FALSE
    WHEN d.is_reversal THEN s.rev_reason IS NULL AND s.target_month = ${month}
    ELSE d.late_reason IS NULL AND n.claim_id IS NOT NULL
  END AS netted
-- The two small tables are the build sides (written first: neither has statistics for the
-- planner to swap on), and the month's rows stream past them.
FROM netted_claims n
RIGHT JOIN (
  rev_status s
  RIGHT JOIN deduped d ON s.file_no = d.file_no AND s.row_no = d.row_no
) ON n.claim_id = d.claim_id AND NOT d.is_reversal
