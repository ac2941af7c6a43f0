-- Settlement: the month's aggregates, what later months reuse instead of rescanning claims.
--
-- Grain: one row per (institution_id, budget_institution_id, payment_class, cell_class,
-- value_class, line_kind, pay_method, insurance_type, flowed, exclusion) of month ${year}-${mm}.
-- Invariant: Σ over the rows equals Σ over the month's claim treatment (02 only groups).
SELECT
  institution_id, budget_institution_id, payment_class, cell_class, value_class, line_kind,
  pay_method, insurance_type, flowed, exclusion,
  SUM(drug_points) AS drug_points,
  SUM(other_points) AS other_points,
  SUM(inpatient_points) AS inpatient_points,
  SUM(drug_adjustable) AS drug_adjustable,
  SUM(other_adjustable) AS other_adjustable,
  SUM(drug_cost) AS drug_cost,
  SUM(other_cost) AS other_cost,
  SUM(vbp_bonus_points) AS vbp_bonus_points,
  SUM(total_amount) AS total_amount,
  SUM(personal_burden) AS personal_burden,
  SUM(account_paid) AS account_paid,
  SUM(pool_paid) AS pool_paid,
  SUM(serious_paid) AS serious_paid,
  SUM(other_paid) AS other_paid,
  CAST(SUM(CASE WHEN is_reversal THEN 0 ELSE 1 END) AS BIGINT) AS claims,
  CAST(${policy_year} AS INT) AS policy_year,
  CAST(${policy_version} AS INT) AS policy_version
FROM claim_treatment
GROUP BY institution_id, budget_institution_id, payment_class, cell_class, value_class,
         line_kind, pay_method, insurance_type, flowed, exclusion
ORDER BY institution_id, budget_institution_id, payment_class, cell_class, value_class,
         line_kind, pay_method, insurance_type, flowed, exclusion
