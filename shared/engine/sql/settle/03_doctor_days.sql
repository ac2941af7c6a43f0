-- Settlement Step 4: doctor-days of month ${year}-${mm}.
--
-- Grain: one row per budget institution with own settled general/special outpatient claims.
-- doctor_days = distinct (doctor_id, settle date) over those claims, any pay method, chemo
-- included, reversal rows not counted.
SELECT budget_institution_id,
       CAST(COUNT(DISTINCT concat(doctor_id, '|', CAST(CAST(settle_time AS DATE) AS VARCHAR))) AS BIGINT)
         AS doctor_days,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM claim_treatment
WHERE exclusion IS NULL
  AND NOT is_reversal
  AND visit_type IN ('general_outpatient', 'special_outpatient')
  AND institution_id = budget_institution_id
GROUP BY budget_institution_id
ORDER BY budget_institution_id
