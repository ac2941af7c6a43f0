-- Suspicion rule R03, second step (quarterly-warnings.md Part D): the claims of crowded buckets.
--
-- Grain: one row per claim (claim_id) of r03_bucketed whose bucket (institution_id,
-- settle_date, bucket) holds at least min_patients claims; spilled as `r03_candidates`, which
-- r03_clustered_settlements.sql reads twice.
-- Inputs: r03_bucketed (r03a_outpatient_buckets.sql).
-- A bucket can have min_patients distinct patients only if it has that many claims: counting
-- claims first (a plain count per bucket) leaves the few crowded buckets, and only their claims
-- get the per-patient count. (COUNT(DISTINCT) over every bucket of a city quarter kept ~10M
-- hash sets alive at once.)
WITH crowded AS (
  SELECT institution_id, settle_date, bucket
  FROM r03_bucketed
  GROUP BY institution_id, settle_date, bucket, min_patients
  HAVING COUNT(*) >= min_patients
)
SELECT o.*
FROM crowded c
JOIN r03_bucketed o
  ON o.institution_id = c.institution_id AND o.settle_date = c.settle_date
 AND o.bucket = c.bucket
