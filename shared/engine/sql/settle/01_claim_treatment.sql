-- Settlement Steps 1-3 per claim (monthly-settlement.md): exclusion, budget institution and
-- cell, declared and adjustable points, VBP bonus points.
--
-- Grain: one row per used claim row of month ${year}-${mm} (claims_basis), keyed claim_id.
-- Inputs: claims_basis, institutions, card_months, settlement_policy; ${chemo_diseases} is the
-- policy's inpatient-budget diseases as a list of SQL strings (NULL when none).
-- Every measure is signed (negated for a mirror): a mirror claim carries the negated points of
-- the claim it cancels, in that claim's cells and kinds.
-- Invariants: exclusion is NULL (settled) or one of agreement_suspended / outside_agreement /
-- account_only, checked in that order; a settled claim lands in exactly one payment class.
-- Every join has the small side (policy, cards, registry) first: it is the hash table, and the
-- month's claims stream past it (never held in memory whole).
WITH suspended AS (
  SELECT DISTINCT institution_id, month_index FROM card_months
  WHERE effect = 'agreement_suspended'
),
base AS (
  SELECT
    c.*,
    CAST(c.treat_time AS DATE) AS treat_date,
    CAST(date_part('year', c.treat_time) AS BIGINT) * 12
      + CAST(date_part('month', c.treat_time) AS BIGINT) - 1 AS treat_mi,
    COALESCE(c.prescriber_id, c.institution_id) AS budget_institution_id,
    c.visit_type = 'pharmacy' AND c.prescriber_id IS NOT NULL AS flowed,
    c.visit_type = 'special_outpatient'
      AND COALESCE(c.special_disease IN (${chemo_diseases}), FALSE) AS chemo
  FROM claims_basis c
),
with_cards AS (
  SELECT b.*, si.institution_id IS NOT NULL AS suspended_here
  FROM suspended si
  RIGHT JOIN base b ON si.institution_id = b.institution_id AND si.month_index = b.treat_mi
),
with_prescriber_cards AS (
  SELECT b.*, sp.institution_id IS NOT NULL AS suspended_prescriber
  FROM suspended sp
  RIGHT JOIN with_cards b ON sp.institution_id = b.prescriber_id AND sp.month_index = b.treat_mi
),
with_agreement AS (
  SELECT b.*, ii.agreement_start AS i_start, ii.agreement_end AS i_end,
         ii.budget_class AS i_class
  FROM institutions ii
  RIGHT JOIN with_prescriber_cards b ON ii.institution_id = b.institution_id
),
-- The budget institution is the prescriber when there is one, else the institution
-- (budget_institution_id above), so its class is read in the same two registry lookups as the
-- agreement dates rather than in a third pass over the month's claims.
with_class AS (
  SELECT b.*, ip.agreement_start AS p_start, ip.agreement_end AS p_end,
         CASE WHEN b.prescriber_id IS NOT NULL THEN ip.budget_class ELSE b.i_class END
           AS value_class
  FROM institutions ip
  RIGHT JOIN with_agreement b ON ip.institution_id = b.prescriber_id
),
judged AS (
  SELECT
    b.*,
    CASE
      WHEN b.suspended_here OR b.suspended_prescriber THEN 'agreement_suspended'
      WHEN b.treat_date < b.i_start OR b.treat_date > b.i_end
        OR b.treat_date < b.p_start OR b.treat_date > b.p_end
        THEN 'outside_agreement'
      WHEN b.visit_type = 'pharmacy' AND b.prescriber_id IS NULL
        THEN 'account_only'
    END AS exclusion,
    CASE WHEN b.value_class = 'tcm' THEN 'tcm' ELSE 'western' END AS wt_class,
    b.western_drug_amount + b.patent_drug_amount + b.consumable_amount
      - b.vbp_amount + b.vbp_points AS raw_drug
  FROM with_class b
),
-- The measures of the claim's own (positive) amounts, before its sign.
measured AS (
SELECT
  j.claim_id, j.institution_id, j.budget_institution_id, j.prescriber_id, j.insurance_type,
  j.visit_type, j.pay_method, j.doctor_id, j.settle_time, j.is_reversal, j.sign, j.flowed,
  j.exclusion, j.value_class,
  CASE WHEN j.visit_type = 'inpatient' OR j.chemo THEN 'inpatient' ELSE 'outpatient' END
    AS payment_class,
  CASE WHEN j.visit_type = 'inpatient' OR j.chemo THEN j.wt_class ELSE j.value_class END
    AS cell_class,
  CASE WHEN j.chemo THEN 'chemo' ELSE j.pay_method END AS line_kind,
  -- Step 3, outpatient, chemo and pharmacy claims: drug and other points
  CASE
    WHEN j.visit_type = 'inpatient' THEN 0
    WHEN j.pay_method = 'item' THEN j.raw_drug
    ELSE LEAST(j.raw_drug, j.case_points)
  END AS drug_points,
  CASE
    WHEN j.visit_type = 'inpatient' THEN 0
    WHEN j.pay_method = 'item' THEN j.herbal_amount + j.service_amount
    ELSE j.case_points - LEAST(j.raw_drug, j.case_points)
  END AS other_points,
  -- Step 3, inpatient claims: case points, or item points converted (round4)
  CASE
    WHEN j.visit_type <> 'inpatient' THEN 0
    WHEN j.pay_method = 'case' THEN j.case_points
    ELSE div4(j.total_amount * s.points_per_weight, s.base_avg_cost * s.cpi_factor)
  END AS inpatient_points,
  -- actual cost by fee class (surplus rule)
  (j.western_drug_amount + j.patent_drug_amount + j.consumable_amount) AS drug_cost,
  (j.herbal_amount + j.service_amount) AS other_cost,
  -- Step 4: adjustable points of item-kind outpatient claims (not chemo, not case)
  CASE WHEN j.visit_type <> 'inpatient' AND NOT j.chemo AND j.pay_method = 'item'
       THEN j.western_drug_amount + j.patent_drug_amount + j.consumable_amount - j.vbp_amount
       ELSE 0 END AS drug_adjustable,
  CASE WHEN j.visit_type <> 'inpatient' AND NOT j.chemo AND j.pay_method = 'item'
       THEN j.service_amount ELSE 0 END AS other_adjustable,
  -- Step 9: VBP bonus points of the institution's own item-kind outpatient claims
  CASE WHEN j.visit_type <> 'inpatient' AND NOT j.chemo AND j.pay_method = 'item' AND NOT j.flowed
       THEN GREATEST(j.vbp_points - j.vbp_amount, 0) ELSE 0 END AS vbp_bonus_points,
  j.total_amount AS total_amount,
  (j.account_paid + j.cash_paid) AS personal_burden,
  j.account_paid AS account_paid,
  j.pool_fund_paid AS pool_paid,
  j.serious_illness_paid AS serious_paid,
  j.other_fund_paid AS other_paid
FROM settlement_policy s
CROSS JOIN judged j
)
-- Signed: a mirror's measures negated. Written as a CASE, not `x * sign`: DataFusion evaluates
-- a CASE's THEN alone on a batch where every row takes it (every batch of plain claims, which
-- come apart from the few mirrors), while a product casts and multiplies every row of every
-- measure (2.4 s of CPU in a city month). Cast to DECIMAL(38, scale), the type `x * sign` had,
-- so the month's aggregates keep their types.
SELECT
  m.claim_id, m.institution_id, m.budget_institution_id, m.prescriber_id, m.insurance_type,
  m.visit_type, m.pay_method, m.doctor_id, m.settle_time, m.is_reversal, m.sign, m.flowed,
  m.exclusion, m.value_class, m.payment_class, m.cell_class, m.line_kind,
  CAST(CASE WHEN m.sign = 1 THEN m.drug_points ELSE -m.drug_points END AS DECIMAL(38, 4))
    AS drug_points,
  CAST(CASE WHEN m.sign = 1 THEN m.other_points ELSE -m.other_points END AS DECIMAL(38, 4))
    AS other_points,
  CAST(CASE WHEN m.sign = 1 THEN m.inpatient_points ELSE -m.inpatient_points END AS DECIMAL(38, 4))
    AS inpatient_points,
  CAST(CASE WHEN m.sign = 1 THEN m.drug_cost ELSE -m.drug_cost END AS DECIMAL(38, 2))
    AS drug_cost,
  CAST(CASE WHEN m.sign = 1 THEN m.other_cost ELSE -m.other_cost END AS DECIMAL(38, 2))
    AS other_cost,
  CAST(CASE WHEN m.sign = 1 THEN m.drug_adjustable ELSE -m.drug_adjustable END AS DECIMAL(38, 2))
    AS drug_adjustable,
  CAST(CASE WHEN m.sign = 1 THEN m.other_adjustable ELSE -m.other_adjustable END AS DECIMAL(38, 2))
    AS other_adjustable,
  CAST(CASE WHEN m.sign = 1 THEN m.vbp_bonus_points ELSE -m.vbp_bonus_points END AS DECIMAL(38, 2))
    AS vbp_bonus_points,
  CAST(CASE WHEN m.sign = 1 THEN m.total_amount ELSE -m.total_amount END AS DECIMAL(38, 2))
    AS total_amount,
  CAST(CASE WHEN m.sign = 1 THEN m.personal_burden ELSE -m.personal_burden END AS DECIMAL(38, 2))
    AS personal_burden,
  CAST(CASE WHEN m.sign = 1 THEN m.account_paid ELSE -m.account_paid END AS DECIMAL(38, 2))
    AS account_paid,
  CAST(CASE WHEN m.sign = 1 THEN m.pool_paid ELSE -m.pool_paid END AS DECIMAL(38, 2))
    AS pool_paid,
  CAST(CASE WHEN m.sign = 1 THEN m.serious_paid ELSE -m.serious_paid END AS DECIMAL(38, 2))
    AS serious_paid,
  CAST(CASE WHEN m.sign = 1 THEN m.other_paid ELSE -m.other_paid END AS DECIMAL(38, 2))
    AS other_paid
FROM measured m
