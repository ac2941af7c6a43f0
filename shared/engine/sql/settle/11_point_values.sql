-- Settlement Steps 5-7: the output table `point_values`.
--
-- Grain: one row per cell with a budget entry or points (payment_class, budget_class,
-- fee_class). Outpatient cells have no chemo deduction and are never floored; inpatient rows
-- have item_point_value = point_value.
SELECT 'outpatient' AS payment_class, budget_class, fee_class,
       CAST(COALESCE(cumulative_budget, 0) AS DECIMAL(18, 2)) AS cumulative_budget,
       CAST(0 AS DECIMAL(18, 2)) AS chemo_deduction,
       CAST(effective_points AS DECIMAL(20, 4)) AS effective_points,
       CAST(point_value AS DECIMAL(20, 6)) AS point_value,
       CAST(item_point_value AS DECIMAL(20, 6)) AS item_point_value,
       FALSE AS floored,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM outpatient_point_values
UNION ALL
SELECT 'inpatient', budget_class, fee_class,
       CAST(COALESCE(cumulative_budget, 0) AS DECIMAL(18, 2)),
       CAST(chemo_deduction AS DECIMAL(18, 2)),
       CAST(effective_points AS DECIMAL(20, 4)),
       CAST(point_value AS DECIMAL(20, 6)),
       CAST(point_value AS DECIMAL(20, 6)),
       COALESCE(floored, FALSE),
       CAST(${policy_year} AS INT),
       CAST(${policy_version} AS INT)
FROM inpatient_point_values
ORDER BY payment_class, budget_class, fee_class
