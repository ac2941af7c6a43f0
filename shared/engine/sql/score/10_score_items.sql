-- Annual scores output `score_items` (outputs.md): the points of every indicator of every
-- institution with status scored.
--
-- Grain: one row per (institution_id, indicator_id) of `score_items_all`, sorted by the key.
-- Types: value Decimal128(20,6) (NULL when the indicator does not apply or has no value),
-- weight and points Decimal128(18,2) (points NULL when not applicable).
SELECT institution_id, indicator_id,
       CAST(value AS DECIMAL(20, 6)) AS value,
       CAST(weight AS DECIMAL(18, 2)) AS weight,
       CAST(points AS DECIMAL(18, 2)) AS points,
       applicable,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM score_items_all
ORDER BY institution_id, indicator_id
