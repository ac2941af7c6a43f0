-- Warnings inputs: the items of the quarter's netted claims (R02, R07).
--
-- Grain: one row per item line of a claim in q_claims, keyed (claim_id, line_no). Items of a
-- claim cancelled within the quarter go with it.
-- Columns: only those the rules read (claim_id, line_no, item_code, days_supply).
WITH all_items AS (
  SELECT claim_id, line_no, item_code, days_supply FROM month_items_1
  UNION ALL SELECT claim_id, line_no, item_code, days_supply FROM month_items_2
  UNION ALL SELECT claim_id, line_no, item_code, days_supply FROM month_items_3
),
kept AS (SELECT DISTINCT claim_id FROM q_claims)
SELECT i.claim_id, i.line_no, i.item_code, i.days_supply
FROM kept k
JOIN all_items i ON i.claim_id = k.claim_id
