-- Warnings output `indicators`: the operating indicators (Part A) and the institution inpatient
-- indicators (Part D, which do not count toward hits or cards), long format.
--
-- Grain: one row per (institution_id, indicator), sorted by them.
SELECT institution_id, indicator, budget_class, value, peer_value, threshold, hit, eligible,
       policy_year, policy_version
FROM operating_indicators
UNION ALL
SELECT institution_id, indicator, budget_class,
       CAST(value AS DECIMAL(20, 6)), CAST(peer_value AS DECIMAL(20, 6)),
       CAST(threshold AS DECIMAL(20, 6)), hit, eligible,
       CAST(${policy_year} AS INT), CAST(${policy_version} AS INT)
FROM inpatient_indicators
ORDER BY institution_id, indicator
