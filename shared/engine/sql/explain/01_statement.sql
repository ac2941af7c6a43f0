-- Explain, statement section (monthly-settlement.md Step 9): the institution's official
-- statement of ${year}-${mm} beside the previous official figures it was computed against.
--
-- Grain: at most one row, the institution of `explain_target`; none when it has no statement
-- row in ${year}-${mm}. Inputs: r_statements (results/statements, all partitions; the partition
-- columns are the folder names as text, '2025' and '03').
-- prev_*  : the statement of ${year}-${before_mm}, the month before in the same year (fund_cum,
--           vbp_accrued_cum for fund_month and vbp_accrued_month; in January month '00' does
--           not exist, so 0: "0 if none").
-- carry_* : the statement of ${prev_year}-${prev_mm} (held balance and hold, which carry across
--           the year end: January reads December).
WITH mine AS (
  SELECT s.*
  FROM r_statements s
  JOIN explain_target t ON t.institution_id = s.institution_id
),
cur AS (
  SELECT * FROM mine WHERE year = '${year}' AND month = '${mm}'
),
prev AS (
  SELECT institution_id, fund_cum, vbp_accrued_cum
  FROM mine WHERE year = '${year}' AND month = '${before_mm}'
),
carry AS (
  SELECT institution_id, held_balance, on_hold
  FROM mine WHERE year = '${prev_year}' AND month = '${prev_mm}'
)
SELECT c.institution_id,
       c.settlement_cum, c.personal_burden_cum, c.fund_cum, c.fund_month,
       c.vbp_accrued_cum, c.vbp_accrued_month, c.withheld_month, c.payable_month,
       c.on_hold, c.held_month, c.held_balance, c.released_month, c.paid_month,
       c.account_month, c.claims_settled_month, c.claims_excluded_month,
       c.policy_year, c.policy_version,
       p.institution_id IS NOT NULL AS has_prev,
       COALESCE(p.fund_cum, CAST(0 AS DECIMAL(18, 2))) AS prev_fund_cum,
       COALESCE(p.vbp_accrued_cum, CAST(0 AS DECIMAL(18, 2))) AS prev_vbp_accrued_cum,
       k.institution_id IS NOT NULL AS has_carry,
       COALESCE(k.held_balance, CAST(0 AS DECIMAL(18, 2))) AS carry_held_balance,
       COALESCE(k.on_hold, FALSE) AS carry_on_hold
FROM cur c
LEFT JOIN prev p ON p.institution_id = c.institution_id
LEFT JOIN carry k ON k.institution_id = c.institution_id
