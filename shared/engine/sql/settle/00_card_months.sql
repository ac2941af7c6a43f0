-- Settlement Steps 1 and 9: the settlement months each card acts on (quarterly-warnings.md
-- Part C), from the card ledger (the union of every quarter's `cards`).
--
-- Grain: one row per (institution, effect, month) in force; month_index = year x 12 + month - 1.
-- A card acts on `effect_months` months from `effect_from_month` (YYYY-MM), in whichever year.
SELECT DISTINCT institution_id, effect,
       CAST(substr(effect_from_month, 1, 4) AS BIGINT) * 12
         + CAST(substr(effect_from_month, 6, 2) AS BIGINT) - 1 + k AS month_index
FROM (
  SELECT institution_id, effect, effect_from_month,
         unnest(range(0, CAST(effect_months AS BIGINT))) AS k
  FROM cards_all
)
