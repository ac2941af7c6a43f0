-- Annual scores: redistribution of the forfeited guarantee (annual-scores.md "Quality
-- guarantee"; 001 art 37).
--
-- Grain: one row per institution of `score_guarantee`, keyed institution_id, with its bonus.
-- pool        sum forfeited over every institution (disqualified ones' whole reserve included;
--             pending ones forfeit nothing)
-- recipients  when redistribute_forfeit: grade excellent, decision renew, reserve > 0
-- bonus       round2(pool x reserve / sum reserve of the recipients) each, except the recipient
--             with the largest reserve (ties: smaller institution_id), which absorbs the
--             residual: pool - the others' bonuses; 0 for everyone else
-- Invariant: sum bonus = pool when there is a recipient, else 0 (the pool stays undistributed).
WITH pool AS (
  SELECT SUM(forfeited) AS pool FROM score_guarantee
),
recipients AS (
  SELECT g.institution_id, g.reserve,
         ROW_NUMBER() OVER (ORDER BY g.reserve DESC, g.institution_id) AS rk,
         SUM(g.reserve) OVER () AS recipient_reserve
  FROM score_guarantee g
  CROSS JOIN score_policy s
  WHERE s.redistribute_forfeit AND g.grade = 'excellent' AND g.decision = 'renew'
    AND g.reserve > 0
),
shares AS (
  SELECT r.institution_id, r.rk, div2(p.pool * r.reserve, r.recipient_reserve) AS share
  FROM recipients r
  CROSS JOIN pool p
),
others AS (
  SELECT SUM(share) AS others FROM shares WHERE rk > 1
)
SELECT g.*,
       CASE
         WHEN s.rk = 1 THEN p.pool - COALESCE(o.others, CAST(0 AS DECIMAL(38, 2)))
         WHEN s.rk > 1 THEN s.share
         ELSE CAST(0 AS DECIMAL(38, 2))
       END AS bonus
FROM score_guarantee g
CROSS JOIN pool p
CROSS JOIN others o
LEFT JOIN shares s ON s.institution_id = g.institution_id
ORDER BY g.institution_id
