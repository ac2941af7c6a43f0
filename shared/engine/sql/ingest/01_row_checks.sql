-- Step 1 of ingest validation (data-contract.md, "Validation"): the row-level rules.
--
-- Grain: one row per input claim row of the month, keyed (file_no, row_no). Narrow: only the
-- keys and the reasons, so a city month (millions of rows) stays small in memory; the full rows
-- are re-read from the files where they are needed.
-- Inputs:  claims_in (ordered scan of claims/year=${year}/month=${mm}), institutions.
-- Output columns added:
--   is_reversal    reverses_claim_id IS NOT NULL
--   early_reason   the FIRST failing rule among missing_field .. wrong_partition (rules 1-10),
--                  NULL when all pass; duplicate_claim, orphan_reversal and reversal_mismatch
--                  come next (02, 03) and need other rows
--   late_reason    inpatient_dates / pharmacy_fund_without_prescriber, which the contract checks
--                  after the reversal rules; applied in 03 only to rows that pass 1-13
-- Plan: the rules that read only the row come first (`own`), so the two registry lookups join
-- narrow rows (keys and reasons) instead of all ~35 contract columns: each join copies every
-- column it carries for each of the month's rows. The registry (small) is the build side of
-- each join, the month's rows stream past it. early_reason is the first non-NULL of the three
-- groups, in the contract's rule order.
WITH own AS (
  SELECT
    c.file_no, c.row_no, c.part_month, c.claim_id, c.reverses_claim_id, c.institution_id,
    c.prescriber_institution_id, c.visit_type,
    CASE
      -- missing_field: not-null columns, then the columns required by visit_type / pay_method
      WHEN c.claim_id IS NULL OR c.institution_id IS NULL OR c.patient_id IS NULL
        OR c.insurance_type IS NULL OR c.insured_region IS NULL OR c.visit_type IS NULL
        OR c.pay_method IS NULL OR c.settle_time IS NULL OR c.herbal_doses IS NULL
        OR c.total_amount IS NULL OR c.western_drug_amount IS NULL OR c.patent_drug_amount IS NULL
        OR c.herbal_amount IS NULL OR c.consumable_amount IS NULL OR c.service_amount IS NULL
        OR c.vbp_amount IS NULL OR c.vbp_points IS NULL OR c.key_drug_amount IS NULL
        OR c.pool_fund_paid IS NULL OR c.serious_illness_paid IS NULL OR c.other_fund_paid IS NULL
        OR c.account_paid IS NULL OR c.cash_paid IS NULL
        OR (c.visit_type = 'special_outpatient' AND c.special_disease IS NULL)
        OR (c.pay_method = 'case' AND c.case_points IS NULL)
        OR (c.visit_type = 'inpatient' AND (c.admit_date IS NULL OR c.discharge_date IS NULL))
        OR (c.visit_type IN ('general_outpatient', 'special_outpatient') AND c.doctor_id IS NULL)
        THEN 'missing_field'
      -- bad_enum: coded columns outside their lists (patient_gender may be NULL)
      WHEN c.insurance_type NOT IN ('employee', 'resident')
        OR c.insured_region NOT IN ('local', 'in_province', 'cross_province')
        OR c.visit_type NOT IN ('general_outpatient', 'special_outpatient', 'inpatient', 'pharmacy')
        OR c.pay_method NOT IN ('item', 'case')
        OR (c.patient_gender IS NOT NULL AND c.patient_gender NOT IN ('M', 'F'))
        THEN 'bad_enum'
      -- fee_parts_mismatch / payer_parts_mismatch: exact to the fen
      WHEN c.total_amount <> c.western_drug_amount + c.patent_drug_amount + c.herbal_amount
                            + c.consumable_amount + c.service_amount
        THEN 'fee_parts_mismatch'
      WHEN c.total_amount <> c.pool_fund_paid + c.serious_illness_paid + c.other_fund_paid
                            + c.account_paid + c.cash_paid
        THEN 'payer_parts_mismatch'
      -- negative_amount: < 0 on a claim, > 0 on a reversal
      WHEN (c.reverses_claim_id IS NULL AND LEAST(
              c.total_amount, c.western_drug_amount, c.patent_drug_amount, c.herbal_amount,
              c.consumable_amount, c.service_amount, c.vbp_amount, c.vbp_points, c.key_drug_amount,
              c.pool_fund_paid, c.serious_illness_paid, c.other_fund_paid, c.account_paid,
              c.cash_paid) < 0)
        OR (c.reverses_claim_id IS NOT NULL AND GREATEST(
              c.total_amount, c.western_drug_amount, c.patent_drug_amount, c.herbal_amount,
              c.consumable_amount, c.service_amount, c.vbp_amount, c.vbp_points, c.key_drug_amount,
              c.pool_fund_paid, c.serious_illness_paid, c.other_fund_paid, c.account_paid,
              c.cash_paid) > 0)
        THEN 'negative_amount'
      -- vbp_exceeds_drugs: on magnitudes, so reversals pass
      WHEN abs(c.vbp_amount) > abs(c.western_drug_amount + c.patent_drug_amount)
        OR abs(c.key_drug_amount) > abs(c.western_drug_amount + c.patent_drug_amount + c.herbal_amount)
        THEN 'vbp_exceeds_drugs'
    END AS row_reason,
    -- wrong_partition comes after the registry rules
    CASE
      WHEN c.settle_time < TIMESTAMP '${month_start}' OR c.settle_time >= TIMESTAMP '${next_month_start}'
        THEN 'wrong_partition'
    END AS partition_reason,
    CASE
      WHEN c.discharge_date < c.admit_date THEN 'inpatient_dates'
      WHEN c.visit_type = 'pharmacy' AND c.prescriber_institution_id IS NULL AND c.pool_fund_paid > 0
        THEN 'pharmacy_fund_without_prescriber'
    END AS late_reason
  FROM claims_in c
),
with_institution AS (
  SELECT o.*, i.institution_id AS registered_id, i.kind AS registered_kind
  FROM institutions i
  RIGHT JOIN own o ON i.institution_id = o.institution_id
)
SELECT
  c.file_no, c.row_no, c.part_month, c.claim_id, c.reverses_claim_id,
  c.reverses_claim_id IS NOT NULL AS is_reversal,
  COALESCE(
    c.row_reason,
    CASE
      -- unknown_institution: the settling institution, or a pharmacy claim's named prescriber
      WHEN c.registered_id IS NULL
        OR (c.visit_type = 'pharmacy' AND c.prescriber_institution_id IS NOT NULL AND p.institution_id IS NULL)
        THEN 'unknown_institution'
      WHEN c.visit_type = 'pharmacy' AND p.kind = 'pharmacy'
        THEN 'invalid_prescriber'
      WHEN (c.visit_type = 'pharmacy' AND c.registered_kind <> 'pharmacy')
        OR (c.visit_type <> 'pharmacy' AND c.registered_kind = 'pharmacy')
        THEN 'visit_type_mismatch'
    END,
    c.partition_reason
  ) AS early_reason,
  c.late_reason
FROM institutions p
RIGHT JOIN with_institution c
  ON c.visit_type = 'pharmacy' AND p.institution_id = c.prescriber_institution_id
