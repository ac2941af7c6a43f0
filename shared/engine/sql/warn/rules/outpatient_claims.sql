-- Suspicion rules' shared working table: the quarter's outpatient-type claims.
--
-- Grain: one row per outpatient-type claim (general/special outpatient, pharmacy) of q_claims
-- that is not a reversal row, keyed claim_id; spilled to a working file as `q_outpatient`.
-- Inputs: q_claims.
-- Columns: what R03 and R04 group these claims by: institution, patient, settle date, and the
-- minute of the day of settle_time (R03's buckets). R04 reads it twice (its groups, then their
-- claims) and R03 once: one scan of the quarter's ~15M claims instead of three.
SELECT claim_id, institution_id, patient_id, CAST(settle_time AS DATE) AS settle_date,
       CAST(date_part('hour', settle_time) AS BIGINT) * 60
         + CAST(date_part('minute', settle_time) AS BIGINT) AS minute_of_day
FROM q_claims
WHERE visit_type IN ('general_outpatient', 'special_outpatient', 'pharmacy')
  AND reverses_claim_id IS NULL
