-- Suspicion rule R03, first step (quarterly-warnings.md Part D): outpatient claims in buckets.
--
-- Grain: one row per outpatient-type claim of the quarter (claim_id) whose institution's
-- budget_class has a cluster_min_patients entry; spilled to a working file as `r03_bucketed`,
-- because the next step reads it twice and DataFusion would otherwise join the quarter's
-- outpatient claims again for each read.
-- Inputs: q_outpatient (outpatient_claims.sql: the quarter's outpatient-type claims with the
-- minute of the day they settled), institutions, warn_cluster_min_patients (budget_class,
-- min_patients: the policy's rules.cluster_min_patients; a class without an entry is not
-- checked).
-- Outpatient-type claims (general/special outpatient, pharmacy) fall in bucket
-- floor(minutes from midnight of settle_time / ${cluster_bucket_minutes}) of their institution and
-- settle date.
SELECT c.claim_id, c.institution_id, c.patient_id, c.settle_date, m.min_patients,
       c.minute_of_day / ${cluster_bucket_minutes} AS bucket
FROM warn_cluster_min_patients m
JOIN institutions i ON m.budget_class = i.budget_class
JOIN q_outpatient c ON i.institution_id = c.institution_id
