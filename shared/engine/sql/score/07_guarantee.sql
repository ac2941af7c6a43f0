-- Annual scores: the quality guarantee (annual-scores.md "Quality guarantee"; 003 art 5, 14, 17).
--
-- Grain: one row per institution of `score_decisions`, keyed institution_id.
-- reserve        sum withheld_month of the 12 official statements of ${year} (0 without any)
-- release_ratio  scored: the ratio of the release tier with the highest min_score <= total;
--                disqualified: 0; pending: NULL (held until the case closes)
-- released       scored: round2(reserve x ratio); otherwise 0
-- forfeited      scored and disqualified: reserve - released (all of it when disqualified);
--                pending: 0
-- Invariant: reserve = released + forfeited, except pending (released = forfeited = 0).
WITH reserve AS (
  SELECT institution_id, SUM(withheld_month) AS reserve
  FROM year_statements
  GROUP BY institution_id
),
tier AS (
  SELECT d.institution_id, r.ratio,
         ROW_NUMBER() OVER (PARTITION BY d.institution_id ORDER BY r.min_score DESC) AS rn
  FROM score_decisions d
  JOIN score_releases r ON r.min_score <= d.total
  WHERE d.status = 'scored'
),
base AS (
  SELECT d.*,
         CAST(COALESCE(v.reserve, 0) AS DECIMAL(38, 2)) AS reserve,
         CASE
           WHEN d.status = 'scored' THEN CAST(t.ratio AS DECIMAL(38, 6))
           WHEN d.status = 'disqualified' THEN CAST(0 AS DECIMAL(38, 6))
         END AS release_ratio
  FROM score_decisions d
  LEFT JOIN reserve v ON v.institution_id = d.institution_id
  LEFT JOIN tier t ON t.institution_id = d.institution_id AND t.rn = 1
)
SELECT b.*,
       CASE WHEN b.status = 'scored' THEN round2(b.reserve * b.release_ratio)
            ELSE CAST(0 AS DECIMAL(38, 2)) END AS released,
       CASE WHEN b.status = 'scored' THEN b.reserve - round2(b.reserve * b.release_ratio)
            WHEN b.status = 'disqualified' THEN b.reserve
            ELSE CAST(0 AS DECIMAL(38, 2)) END AS forfeited
FROM base b
ORDER BY b.institution_id
