-- Settlement Step 4: the output table `volume_price` of month ${month}.
--
-- Grain: two rows (drug, other) per budget institution with settled item-kind outpatient
-- claims in the month, keyed (institution_id, fee_class).
SELECT budget_institution_id AS institution_id, fee_class,
       CAST(adjustable_points AS DECIMAL(20, 4)) AS adjustable_points,
       CAST(doctor_days AS BIGINT) AS doctor_days,
       CAST(threshold AS DECIMAL(20, 4)) AS threshold,
       CAST(excess AS DECIMAL(20, 4)) AS excess,
       CAST(reduction AS DECIMAL(20, 4)) AS reduction,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM volume_price_all
WHERE month = ${month}
ORDER BY institution_id, fee_class
