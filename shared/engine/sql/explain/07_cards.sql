-- Explain, cards section (monthly-settlement.md Steps 1 and 9; quarterly-warnings.md Part C):
-- the institution's cards that act on ${year}-${mm} or on the month before (a hold there
-- explains a release now).
--
-- Grain: one row per card of the card ledger (results/cards, every quarter) of the institution
-- acting on month_index ${month_index} or ${month_index} - 1 (month_index = year x 12 + month
-- - 1). A card acts on effect_months months from effect_from_month (YYYY-MM).
-- Inputs: r_cards, explain_target.
WITH mine AS (
  SELECT c.color, c.year, c.quarter, c.effect, c.effect_from_month,
         CAST(c.effect_months AS BIGINT) AS effect_months,
         CAST(substr(c.effect_from_month, 1, 4) AS BIGINT) * 12
           + CAST(substr(c.effect_from_month, 6, 2) AS BIGINT) - 1 AS from_index
  FROM r_cards c
  JOIN explain_target t ON t.institution_id = c.institution_id
),
acting AS (
  SELECT m.*,
         m.from_index <= ${month_index} AND ${month_index} < m.from_index + m.effect_months
           AS acts_this_month,
         m.from_index <= ${month_index} - 1 AND ${month_index} - 1 < m.from_index + m.effect_months
           AS acted_prev_month
  FROM mine m
)
SELECT color, year, quarter, effect, effect_from_month, effect_months, acts_this_month,
       acted_prev_month
FROM acting
WHERE acts_this_month OR acted_prev_month
ORDER BY effect_from_month, effect, color
