-- Suspicion rule R03 (quarterly-warnings.md Part D): clustered settlements 集中时段结算.
--
-- Grain: one row per flagged claim of the quarter (rule R03, claim_id).
-- Inputs: q_claims, institutions, warn_cluster_min_patients (budget_class, min_patients: the
-- policy's rules.cluster_min_patients; a class without an entry is not checked).
-- Outpatient-type claims (general/special outpatient, pharmacy) fall in bucket
-- floor(minutes from midnight of settle_time / ${cluster_bucket_minutes}) of their institution and
-- settle date. A bucket with ≥ min_patients[budget_class] distinct patients flags every claim in
-- it; detail gives the bucket's claim count and start time.
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
),
bucketed AS (
  SELECT *, minute_of_day / ${cluster_bucket_minutes} AS bucket
  FROM outpatient
),
-- A bucket can have min_patients distinct patients only if it has that many claims: counting
-- claims first (a plain count per bucket) leaves the few crowded buckets, and only their claims
-- get the per-patient count. (COUNT(DISTINCT) over every bucket of a city quarter kept ~10M
-- hash sets alive at once.)
crowded AS (
  SELECT institution_id, settle_date, bucket
  FROM bucketed
  GROUP BY institution_id, settle_date, bucket, min_patients
  HAVING COUNT(*) >= min_patients
),
candidates AS (
  SELECT o.*
  FROM crowded c
  JOIN bucketed o
    ON o.institution_id = c.institution_id AND o.settle_date = c.settle_date
   AND o.bucket = c.bucket
),
patients AS (
  SELECT institution_id, settle_date, bucket, patient_id, min_patients, COUNT(*) AS claims
  FROM candidates
  GROUP BY institution_id, settle_date, bucket, patient_id, min_patients
),
buckets AS (
  SELECT institution_id, settle_date, bucket, SUM(claims) AS claims
  FROM patients
  GROUP BY institution_id, settle_date, bucket, min_patients
  HAVING COUNT(*) >= min_patients
)
SELECT 'R03' AS rule_id, o.claim_id, o.institution_id, o.patient_id, o.settle_date,
       concat(CAST(b.claims AS VARCHAR), ' claims in bucket ', CAST(o.settle_date AS VARCHAR), ' ',
              lpad(CAST(b.bucket * ${cluster_bucket_minutes} / 60 AS VARCHAR), 2, '0'), ':',
              lpad(CAST(b.bucket * ${cluster_bucket_minutes} % 60 AS VARCHAR), 2, '0')) AS detail
FROM buckets b
JOIN candidates o
  ON b.institution_id = o.institution_id AND b.settle_date = o.settle_date
 AND b.bucket = o.bucket
ORDER BY o.claim_id
