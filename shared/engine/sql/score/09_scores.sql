-- Annual scores output `scores` (outputs.md): one row per scored institution (every status).
--
-- Grain: one row per institution of `score_bonus`, keyed institution_id, sorted by it.
-- Types: total, reserve, released, forfeited, bonus Decimal128(18,2); release_ratio
-- Decimal128(20,6). decision_reason and flags are '' when there is nothing to say; flags lists
-- the indicator flags in rubric order, then the history flags.
SELECT institution_id, budget_class, kind, status,
       CAST(total AS DECIMAL(18, 2)) AS total,
       grade, decision, decision_reason,
       CAST(reserve AS DECIMAL(18, 2)) AS reserve,
       CAST(release_ratio AS DECIMAL(20, 6)) AS release_ratio,
       CAST(released AS DECIMAL(18, 2)) AS released,
       CAST(forfeited AS DECIMAL(18, 2)) AS forfeited,
       CAST(bonus AS DECIMAL(18, 2)) AS bonus,
       CAST(concat_ws(';', item_flags, history_flags) AS VARCHAR) AS flags,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM score_bonus
ORDER BY institution_id
