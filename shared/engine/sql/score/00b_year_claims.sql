-- Annual scores input: the year's valid, netted claims summed per institution (the twelve
-- months of 00a added up; cross-month reversals net out there).
--
-- Grain: one row per institution with at least one valid, netted claim of ${year}, keyed
-- institution_id (claims > 0: an institution whose every claim was cancelled has none).
-- Columns as in 00a, for the whole year.
SELECT institution_id,
       CAST(SUM(claims) AS BIGINT) AS claims,
       CAST(SUM(scope_claims) AS BIGINT) AS scope_claims,
       SUM(scope_drugs) AS scope_drugs,
       SUM(scope_total) AS scope_total,
       SUM(vbp) AS vbp,
       SUM(western_patent) AS western_patent
FROM month_claims
GROUP BY institution_id
HAVING SUM(claims) > 0
ORDER BY institution_id
