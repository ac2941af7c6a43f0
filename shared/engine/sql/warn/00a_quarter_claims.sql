-- Warnings inputs: the quarter's valid claims, netted within the quarter (quarterly-warnings.md,
-- data-contract.md "Reversals").
--
-- Grain: one row per valid non-reversal claim of months ${first_month}..${last_month} of
-- ${year} that no valid reversal of the quarter cancels, keyed claim_id.
-- A reversal in the quarter of a claim of the quarter drops both; a reversal of a claim of an
-- earlier quarter is ignored (that quarter is closed); reversal rows never count themselves.
WITH all_rows AS (
  SELECT * FROM month_claims_1
  UNION ALL SELECT * FROM month_claims_2
  UNION ALL SELECT * FROM month_claims_3
),
cancelled AS (
  SELECT DISTINCT reverses_claim_id AS claim_id FROM all_rows
  WHERE is_reversal AND target_month BETWEEN ${first_month} AND ${last_month}
)
SELECT a.*
FROM cancelled c
RIGHT JOIN all_rows a ON c.claim_id = a.claim_id
WHERE NOT a.is_reversal AND c.claim_id IS NULL
