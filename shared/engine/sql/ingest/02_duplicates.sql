-- Step 2 of ingest validation: duplicate_claim.
--
-- Grain: one row per input claim row of the month (as 01), keyed (file_no, row_no).
-- Rule: a row that passes rules 1-10 is a duplicate when its claim_id is already held by a row
-- that passed them earlier in reading order: in an earlier month of the year (ledger_prior holds
-- exactly those holders) or earlier in this month (path order, then row order).
-- Output: reason_2 = early_reason, else 'duplicate_claim', else NULL.
-- Invariant: among rows with reason_2 IS NULL, claim_id is unique in the year so far.
--
-- Plan: almost every claim_id occurs once in a month, so the reading-order ranking (a sort)
-- runs only over the ids that occur more than once (`repeated`, found by a hash aggregate);
-- ranking every row of a city month by claim_id was this step's whole cost.
WITH repeated AS (
  SELECT claim_id
  FROM checked
  WHERE early_reason IS NULL
  GROUP BY claim_id
  HAVING COUNT(*) > 1
),
-- Rows of a repeated claim_id after its first holder of the month, by reading order.
later_copies AS (
  SELECT file_no, row_no
  FROM (
    SELECT k.file_no, k.row_no,
           ROW_NUMBER() OVER (PARTITION BY k.claim_id ORDER BY k.file_no, k.row_no) AS n
    FROM repeated r
    JOIN checked k ON k.claim_id = r.claim_id AND k.early_reason IS NULL
  ) ranked
  WHERE n > 1
),
-- This month's ids (of rows passing rules 1-10) that an earlier month of the year already holds:
-- few. The planner builds its hash table on the smaller input (an empty ledger in January), and
-- the month's rows then probe this small set instead of being held whole as a build side.
held_before AS (
  SELECT DISTINCT k.claim_id
  FROM checked k
  JOIN ledger_prior lp ON lp.claim_id = k.claim_id
  WHERE k.early_reason IS NULL
)
SELECT
  k.*,
  CASE
    WHEN k.early_reason IS NOT NULL THEN k.early_reason
    WHEN h.claim_id IS NOT NULL THEN 'duplicate_claim'
    WHEN lc.row_no IS NOT NULL THEN 'duplicate_claim'
  END AS reason_2
FROM held_before h
RIGHT JOIN (
  later_copies lc
  RIGHT JOIN checked k ON lc.file_no = k.file_no AND lc.row_no = k.row_no
) ON h.claim_id = k.claim_id AND k.early_reason IS NULL
