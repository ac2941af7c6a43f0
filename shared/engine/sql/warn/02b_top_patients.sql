-- Warnings Part B: top patients (关联指标, seed 000 三(一)2).
--
-- Grain: one row per top patient of the quarter, keyed patient_id (restricted: person-level).
-- Patient quarter cost = Σ total_amount of the patient's in-scope claims at all institutions.
-- Top = among the first ceil(top_share x patients) by cost descending (ties: patient_id
-- ascending), those whose cost is also >= median_multiple x the median patient cost (even
-- count: the mean of the two middle values). Decided exactly: rank - 1 < top_share x n, and
-- cost x (number of middle values) >= median_multiple x Σ middle values.
-- Input: quarter_patients (02a).
-- Plan: a city quarter has ~6M patients, and a window over all of them is one sort on one core.
-- - The median needs only the sorted costs, so that sort carries the costs alone (which
--   patient holds a tied middle cost does not change its value).
-- - The cost test comes before the ranking. It is monotone in cost, so every patient ranked
--   above one who passes passes too: a passing patient's rank among those who pass is its rank
--   among all patients. Only the few who pass are sorted with their patient_id.
WITH counted AS (
  SELECT COUNT(*) AS n FROM quarter_patients
),
ascending AS (
  SELECT quarter_cost, ROW_NUMBER() OVER (ORDER BY quarter_cost ASC) AS r
  FROM quarter_patients
),
middle AS (
  SELECT SUM(a.quarter_cost) AS middle_sum, CAST(COUNT(*) AS BIGINT) AS middle_count
  FROM counted c
  CROSS JOIN ascending a
  WHERE a.r = (c.n + 1) / 2 OR a.r = (c.n + 2) / 2
),
costly AS (
  SELECT p.patient_id, p.quarter_cost
  FROM middle m
  CROSS JOIN warning_policy s
  CROSS JOIN quarter_patients p
  WHERE p.quarter_cost * m.middle_count >= s.median_multiple * m.middle_sum
),
ranked AS (
  SELECT patient_id, quarter_cost,
         ROW_NUMBER() OVER (ORDER BY quarter_cost DESC, patient_id ASC) AS rk
  FROM costly
)
SELECT r.patient_id,
       CAST(r.quarter_cost AS DECIMAL(18, 2)) AS quarter_cost,
       CAST(r.rk AS BIGINT) AS rank,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM counted c
CROSS JOIN warning_policy s
CROSS JOIN ranked r
WHERE CAST(r.rk - 1 AS DECIMAL(20, 0)) < s.top_share * c.n
ORDER BY r.patient_id
