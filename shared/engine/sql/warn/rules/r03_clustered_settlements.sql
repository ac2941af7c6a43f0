-- Suspicion rule R03 (quarterly-warnings.md Part D): clustered settlements 集中时段结算.
--
-- Grain: one row per flagged claim of the quarter (rule R03, claim_id).
-- Inputs: r03_candidates (r03b_crowded_claims.sql: the claims of buckets with at least
-- min_patients claims, with their bucket and min_patients).
-- A bucket with ≥ min_patients[budget_class] distinct patients flags every claim in it; detail
-- gives the bucket's claim count and start time.
WITH patients AS (
  SELECT institution_id, settle_date, bucket, patient_id, min_patients, COUNT(*) AS claims
  FROM r03_candidates
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
JOIN r03_candidates o
  ON b.institution_id = o.institution_id AND b.settle_date = o.settle_date
 AND b.bucket = o.bucket
ORDER BY o.claim_id
