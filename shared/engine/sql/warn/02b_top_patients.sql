-- Warnings Part B: top patients (关联指标, seed 000 三(一)2).
--
-- Grain: one row per top patient of the quarter, keyed patient_id (restricted: person-level).
-- Patient quarter cost = Σ total_amount of the patient's in-scope claims at all institutions.
-- Top = among the first ceil(top_share x patients) by cost descending (ties: patient_id
-- ascending), those whose cost is also >= median_multiple x the median patient cost (even
-- count: the mean of the two middle values). Decided exactly: rank - 1 < top_share x n, and
-- cost x (number of middle values) >= median_multiple x Σ middle values.
-- Input: quarter_patients (02a).
WITH patients AS (SELECT patient_id, quarter_cost FROM quarter_patients),
ranked AS (
  SELECT patient_id, quarter_cost,
         ROW_NUMBER() OVER (ORDER BY quarter_cost DESC, patient_id ASC) AS rk,
         COUNT(*) OVER () AS n
  FROM patients
),
ascending AS (
  SELECT quarter_cost,
         ROW_NUMBER() OVER (ORDER BY quarter_cost ASC, patient_id ASC) AS r,
         COUNT(*) OVER () AS n
  FROM patients
),
middle AS (
  SELECT SUM(quarter_cost) AS middle_sum, CAST(COUNT(*) AS BIGINT) AS middle_count
  FROM ascending WHERE r = (n + 1) / 2 OR r = (n + 2) / 2
)
SELECT r.patient_id,
       CAST(r.quarter_cost AS DECIMAL(18, 2)) AS quarter_cost,
       CAST(r.rk AS BIGINT) AS rank,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM middle m
CROSS JOIN warning_policy s
CROSS JOIN ranked r
WHERE CAST(r.rk - 1 AS DECIMAL(20, 0)) < s.top_share * r.n
  AND r.quarter_cost * m.middle_count >= s.median_multiple * m.middle_sum
ORDER BY r.patient_id
