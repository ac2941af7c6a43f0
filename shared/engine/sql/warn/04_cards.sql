-- Warnings Part C: the quarter's cards (预警亮牌, seed 000 三(三)-(四)).
--
-- Grain: one row per (institution_id, color) of quarter ${quarter} of ${year}.
-- Every warned institution gets a yellow card, issued in the first month after the quarter
-- (${issue_month}, in ${issue_year}: Q4 cards act in January of the next year but count in
-- ${year}). yellow_count_in_year = its yellows of ${year} in earlier quarters (earlier_yellows,
-- from the card ledger) + 1; from the 2nd yellow of the year on, a red card comes with it.
-- Yellow: payment hold for yellow_hold_months from the issue month; red: agreement suspended
-- for red_suspend_months from the issue month (month counts of the ${year} policy).
WITH yellow AS (
  SELECT w.institution_id,
         CAST(COALESCE(e.yellows, 0) + 1 AS BIGINT) AS yellow_count_in_year
  FROM warnings_q w
  LEFT JOIN earlier_yellows e ON e.institution_id = w.institution_id
  WHERE w.warned
),
cards AS (
  SELECT institution_id, 'yellow' AS color, 'payment_hold' AS effect,
         CAST(c.yellow_hold_months AS BIGINT) AS effect_months, yellow_count_in_year
  FROM yellow CROSS JOIN card_policy c
  UNION ALL
  SELECT institution_id, 'red', 'agreement_suspended',
         CAST(c.red_suspend_months AS BIGINT), yellow_count_in_year
  FROM yellow CROSS JOIN card_policy c
  WHERE yellow_count_in_year >= 2
)
SELECT institution_id, color,
       CAST(${year} AS INT) AS year,
       CAST(${quarter} AS INT) AS quarter,
       CAST(${issue_year} AS INT) AS issue_year,
       CAST(${issue_month} AS INT) AS issue_month,
       effect,
       '${issue_year}-${issue_mm}' AS effect_from_month,
       effect_months,
       yellow_count_in_year,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM cards
ORDER BY institution_id, color
