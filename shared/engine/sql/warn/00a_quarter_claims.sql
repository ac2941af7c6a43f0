-- Warnings inputs: the quarter's valid claims, netted within the quarter (quarterly-warnings.md,
-- data-contract.md "Reversals").
--
-- Grain: one row per valid non-reversal claim of months ${first_month}..${last_month} of
-- ${year} that no valid reversal of the quarter cancels, keyed claim_id.
-- A reversal in the quarter of a claim of the quarter drops both; a reversal of a claim of an
-- earlier quarter is ignored (that quarter is closed); reversal rows never count themselves.
-- Columns: only those the later warning steps and rules read (18 of the contract's 35): this
-- table is written to working files and read back by every step, so a city quarter's ~15M
-- rows should not carry the payer split, fee parts and codes nothing reads.
WITH all_rows AS (
  SELECT * FROM month_claims_1
  UNION ALL SELECT * FROM month_claims_2
  UNION ALL SELECT * FROM month_claims_3
),
cancelled AS (
  SELECT DISTINCT reverses_claim_id AS claim_id FROM all_rows
  WHERE is_reversal AND target_month BETWEEN ${first_month} AND ${last_month}
)
SELECT a.claim_id, a.institution_id, a.patient_id, a.patient_gender, a.insured_region,
       a.visit_type, a.pay_method, a.drg_weight, a.diagnosis_code, a.settle_time,
       a.admit_date, a.discharge_date, a.total_amount, a.western_drug_amount,
       a.patent_drug_amount, a.herbal_amount, a.key_drug_amount, a.reverses_claim_id
FROM cancelled c
RIGHT JOIN all_rows a ON c.claim_id = a.claim_id
WHERE NOT a.is_reversal AND c.claim_id IS NULL
