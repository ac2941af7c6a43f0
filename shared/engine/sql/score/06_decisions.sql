-- Annual scores: decisions, in the rulebook's order (annual-scores.md "Status and
-- consequences"), each with its reason.
--
-- Grain: one row per institution of `score_totals`, keyed institution_id.
-- disqualified -> terminate (withheld_materials, 003 art 17); pending -> pending (003 art 16).
-- Scored institutions, first rule that applies:
--   1. no_renewal  grade fail this year and failed in each of the previous
--                  consecutive_fail_years - 1 years (003 art 15); "failed" = grade fail or
--                  status disqualified in results/scores of that year (`score_history`, one row
--                  per institution and year present; `score_history_years` lists the years
--                  needed). A missing year or row = not known to have failed: not applied, and
--                  the failing institution is flagged no_renewal_not_applied:no_history_<year>.
--   2. terminate   terminate_below > 0 and total < terminate_below (002 measure 7)
--   3. terminate   bottom_elimination_share > 0 and among the lowest floor(share x n) totals of
--                  the n scored institutions of its peer group (budget_class), ranked by total
--                  then institution_id (末位淘汰); an institution in those slots already decided
--                  by 1 or 2 keeps its decision and still uses its slot
--   4. renew
-- floor(share x n) is exact: share x n is a decimal >= 0 and the cast to BIGINT truncates.
WITH history AS (
  SELECT t.institution_id,
         SUM(CASE WHEN h.failed THEN 1 ELSE 0 END) AS failed_years,
         string_agg(CASE WHEN h.institution_id IS NULL
                         THEN 'no_renewal_not_applied:no_history_' || CAST(y.year AS VARCHAR)
                    END, ';' ORDER BY y.year DESC) AS missing
  FROM score_totals t
  CROSS JOIN score_history_years y
  LEFT JOIN score_history h ON h.institution_id = t.institution_id AND h.year = y.year
  WHERE t.status = 'scored'
  GROUP BY t.institution_id
),
ranked AS (
  SELECT institution_id,
         ROW_NUMBER() OVER (PARTITION BY budget_class ORDER BY total, institution_id) AS rk,
         COUNT(*) OVER (PARTITION BY budget_class) AS peers
  FROM score_totals
  WHERE status = 'scored'
),
rules AS (
  SELECT t.*,
         t.status = 'scored' AND t.grade = 'fail'
           AND COALESCE(h.failed_years, 0) = s.fail_years_before AS no_renewal,
         CASE WHEN t.status = 'scored' AND t.grade = 'fail' THEN h.missing END AS history_flags,
         t.status = 'scored' AND s.terminate_below > 0 AND t.total < s.terminate_below
           AS below_floor,
         COALESCE(s.bottom_elimination_share > 0
                  AND r.rk <= CAST(s.bottom_elimination_share * r.peers AS BIGINT), FALSE)
           AS bottom,
         s.fail_years_before + 1 AS fail_years,
         s.terminate_below, s.bottom_elimination_share
  FROM score_totals t
  CROSS JOIN score_policy s
  LEFT JOIN history h ON h.institution_id = t.institution_id
  LEFT JOIN ranked r ON r.institution_id = t.institution_id
)
SELECT institution_id, kind, budget_class, status, total, grade, item_flags,
       CAST(history_flags AS VARCHAR) AS history_flags,
       bottom,
       CASE
         WHEN status = 'disqualified' THEN 'terminate'
         WHEN status = 'pending' THEN 'pending'
         WHEN no_renewal THEN 'no_renewal'
         WHEN below_floor THEN 'terminate'
         WHEN bottom THEN 'terminate'
         ELSE 'renew'
       END AS decision,
       CASE
         WHEN status = 'disqualified' THEN 'withheld_materials'
         WHEN status = 'pending' THEN 'under_investigation: score pending (003 art 16)'
         WHEN no_renewal THEN
           'failed ' || CAST(fail_years AS VARCHAR) || ' consecutive years (003 art 15)'
         WHEN below_floor THEN
           'total below ' || CAST(terminate_below AS VARCHAR) || ' (002 measure 7)'
         WHEN bottom THEN
           'bottom ' || CAST(bottom_elimination_share AS VARCHAR) || ' of ' || budget_class
             || ' (末位淘汰)'
         ELSE ''
       END AS decision_reason
FROM rules
ORDER BY institution_id
