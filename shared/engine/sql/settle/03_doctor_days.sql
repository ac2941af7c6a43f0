-- Settlement Step 4: doctor-days of month ${year}-${mm}.
--
-- Grain: one row per budget institution with own settled general/special outpatient claims.
-- doctor_days = distinct (doctor_id, settle date) over those claims, any pay method, chemo
-- included, reversal rows not counted.
-- Plan: the distinct pairs are a GROUP BY on the two columns (formatting each of a city month's
-- ~4M dates as text to count distinct strings cost most of this step).
WITH worked AS (
  SELECT DISTINCT budget_institution_id, doctor_id, CAST(settle_time AS DATE) AS day
  FROM claim_treatment
  WHERE exclusion IS NULL
    AND NOT is_reversal
    AND visit_type IN ('general_outpatient', 'special_outpatient')
    AND institution_id = budget_institution_id
)
SELECT budget_institution_id,
       CAST(COUNT(*) AS BIGINT) AS doctor_days,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM worked
GROUP BY budget_institution_id
ORDER BY budget_institution_id
