-- Suspicion rule R03, first step (quarterly-warnings.md Part D): outpatient claims in buckets.
--
-- Grain: one row per outpatient-type claim of the quarter (claim_id) whose institution's
-- budget_class has a cluster_min_patients entry; spilled to a working file as `r03_bucketed`,
-- because the next step reads it twice and DataFusion would otherwise scan and join the
-- quarter's claims again for each read.
-- Inputs: q_claims, institutions, warn_cluster_min_patients (budget_class, min_patients: the
-- policy's rules.cluster_min_patients; a class without an entry is not checked).
-- Outpatient-type claims (general/special outpatient, pharmacy) fall in bucket
-- floor(minutes from midnight of settle_time / ${cluster_bucket_minutes}) of their institution and
-- settle date.
WITH outpatient AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, CAST(c.settle_time AS DATE) AS settle_date,
         CAST(date_part('hour', c.settle_time) AS BIGINT) * 60
           + CAST(date_part('minute', c.settle_time) AS BIGINT) AS minute_of_day,
         m.min_patients
  FROM warn_cluster_min_patients m
  JOIN institutions i ON m.budget_class = i.budget_class
  JOIN q_claims c ON i.institution_id = c.institution_id
  WHERE c.visit_type IN ('general_outpatient', 'special_outpatient', 'pharmacy')
    AND c.reverses_claim_id IS NULL
)
SELECT claim_id, institution_id, patient_id, settle_date, min_patients,
       minute_of_day / ${cluster_bucket_minutes} AS bucket
FROM outpatient
