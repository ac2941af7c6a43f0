-- Settlement Step 9: the statement of every settling institution (001 art 26, 27; 003 art 5).
--
-- Grain: one row per institution with a valid claim in months 1..${month}, a settlement line, or
-- a non-zero held balance carried from December of the previous year; keyed institution_id.
-- Cumulative: settlement (Σ lines), personal burden (Σ account + cash of settled claims),
-- fund = settlement - burden, VBP accrual Σ_c round2(B x PV_item). Month: fund_month and
-- vbp_accrued_month against the previous official month; withheld = round2(max(0, fund_month -
-- vbp_month) x rate); payable; a month under a yellow-card hold holds the payable (also
-- negative), the first month without hold releases the previous held balance.
-- Invariant: paid_month = payable_month - held_month + released_month.
WITH lines AS (
  SELECT institution_id, SUM(amount) AS settlement_cum
  FROM settlement_lines GROUP BY institution_id
),
burden AS (
  SELECT institution_id, SUM(personal_burden) AS personal_burden_cum
  FROM agg WHERE exclusion IS NULL GROUP BY institution_id
),
bonus_points AS (
  SELECT budget_institution_id, value_class, SUM(vbp_bonus_points) AS bonus
  FROM agg
  WHERE exclusion IS NULL AND payment_class = 'outpatient' AND line_kind = 'item' AND NOT flowed
  GROUP BY budget_institution_id, value_class
),
vbp AS (
  SELECT b.budget_institution_id AS institution_id,
         SUM(COALESCE(round2(b.bonus * v.item_point_value), 0)) AS vbp_accrued_cum
  FROM bonus_points b
  LEFT JOIN outpatient_point_values v ON v.budget_class = b.value_class AND v.fee_class = 'drug'
  GROUP BY b.budget_institution_id
),
month_claims AS (
  SELECT institution_id,
         SUM(CASE WHEN exclusion IS NULL THEN claims ELSE 0 END) AS claims_settled,
         SUM(CASE WHEN exclusion IS NOT NULL THEN claims ELSE 0 END) AS claims_excluded,
         SUM(CASE WHEN exclusion IS NULL OR exclusion = 'account_only' THEN account_paid ELSE 0 END)
           AS account_month
  FROM agg WHERE month = ${month} GROUP BY institution_id
),
members AS (
  SELECT institution_id FROM agg
  UNION SELECT institution_id FROM lines
  UNION SELECT institution_id FROM carry_statements WHERE held_balance <> 0
),
hold AS (
  SELECT DISTINCT institution_id FROM card_months
  WHERE effect = 'payment_hold' AND month_index = ${month_index}
),
cum AS (
  SELECT m.institution_id,
         COALESCE(l.settlement_cum, 0) AS settlement_cum,
         COALESCE(b.personal_burden_cum, 0) AS personal_burden_cum,
         COALESCE(l.settlement_cum, 0) - COALESCE(b.personal_burden_cum, 0) AS fund_cum,
         COALESCE(v.vbp_accrued_cum, 0) AS vbp_accrued_cum,
         h.institution_id IS NOT NULL AS on_hold,
         COALESCE(c.held_balance, 0) AS prev_held_balance,
         COALESCE(p.fund_cum, 0) AS prev_fund_cum,
         COALESCE(p.vbp_accrued_cum, 0) AS prev_vbp_accrued_cum,
         COALESCE(mc.account_month, 0) AS account_month,
         COALESCE(mc.claims_settled, 0) AS claims_settled_month,
         COALESCE(mc.claims_excluded, 0) AS claims_excluded_month
  FROM (SELECT DISTINCT institution_id FROM members) m
  LEFT JOIN lines l ON l.institution_id = m.institution_id
  LEFT JOIN burden b ON b.institution_id = m.institution_id
  LEFT JOIN vbp v ON v.institution_id = m.institution_id
  LEFT JOIN hold h ON h.institution_id = m.institution_id
  LEFT JOIN carry_statements c ON c.institution_id = m.institution_id
  LEFT JOIN prev_statements p ON p.institution_id = m.institution_id
  LEFT JOIN month_claims mc ON mc.institution_id = m.institution_id
),
monthly AS (
  SELECT c.*,
         c.fund_cum - c.prev_fund_cum AS fund_month,
         c.vbp_accrued_cum - c.prev_vbp_accrued_cum AS vbp_accrued_month
  FROM cum c
),
withheld AS (
  SELECT m.*,
         round2(GREATEST(m.fund_month - m.vbp_accrued_month, 0) * s.quality_guarantee_rate)
           AS withheld_month
  FROM monthly m CROSS JOIN settlement_policy s
),
payable AS (
  SELECT w.*, w.fund_month - w.vbp_accrued_month - w.withheld_month AS payable_month FROM withheld w
),
held AS (
  SELECT p.*,
         CASE WHEN p.on_hold THEN p.payable_month ELSE 0 END AS held_month,
         CASE WHEN p.on_hold THEN 0 ELSE p.prev_held_balance END AS released_month
  FROM payable p
)
SELECT institution_id,
       CAST(settlement_cum AS DECIMAL(18, 2)) AS settlement_cum,
       CAST(personal_burden_cum AS DECIMAL(18, 2)) AS personal_burden_cum,
       CAST(fund_cum AS DECIMAL(18, 2)) AS fund_cum,
       CAST(fund_month AS DECIMAL(18, 2)) AS fund_month,
       CAST(vbp_accrued_cum AS DECIMAL(18, 2)) AS vbp_accrued_cum,
       CAST(vbp_accrued_month AS DECIMAL(18, 2)) AS vbp_accrued_month,
       CAST(withheld_month AS DECIMAL(18, 2)) AS withheld_month,
       CAST(payable_month AS DECIMAL(18, 2)) AS payable_month,
       on_hold,
       CAST(held_month AS DECIMAL(18, 2)) AS held_month,
       CAST(prev_held_balance + held_month - released_month AS DECIMAL(18, 2)) AS held_balance,
       CAST(released_month AS DECIMAL(18, 2)) AS released_month,
       CAST(payable_month - held_month + released_month AS DECIMAL(18, 2)) AS paid_month,
       CAST(account_month AS DECIMAL(18, 2)) AS account_month,
       CAST(claims_settled_month AS BIGINT) AS claims_settled_month,
       CAST(claims_excluded_month AS BIGINT) AS claims_excluded_month,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM held
ORDER BY institution_id
