-- Warnings Parts B and C: associated and warned institutions (seed 000 三(一)2-3).
--
-- Grain: one row per institution with in-scope or inpatient claims in the quarter, keyed
-- institution_id.
-- visits = in-scope claims; hits = operating indicators hit; operating_detected = hits >=
-- min_hits; top_patients = distinct top patients seen in scope; top_patient_cost_share =
-- their in-scope cost there / its in-scope cost (6 decimals); associated = share >=
-- min_cost_share (exact) AND top_patients >= min_top_patients; warned = eligible AND
-- operating_detected AND associated (the overlap, "重叠机构").
-- Plan: one pass over the quarter's claims finds the members and their in-scope visits and cost
-- (an inpatient-only member has 0 visits and a NULL cost, read as 0 below); the top patients'
-- cost is a second pass, joined with the few top patients.
WITH scope AS (
  SELECT * FROM q_claims WHERE visit_type IN (${scope_visit_types})
),
cost AS (
  SELECT institution_id,
         CAST(SUM(CASE WHEN visit_type IN (${scope_visit_types}) THEN 1 ELSE 0 END) AS BIGINT)
           AS visits,
         CAST(SUM(CASE WHEN visit_type IN (${scope_visit_types}) THEN total_amount END)
           AS DECIMAL(38, 2)) AS total
  FROM q_claims
  WHERE visit_type IN (${scope_visit_types}) OR visit_type = 'inpatient'
  GROUP BY institution_id
),
top_cost AS (
  SELECT s.institution_id, CAST(COUNT(DISTINCT s.patient_id) AS BIGINT) AS top_patients,
         CAST(SUM(s.total_amount) AS DECIMAL(38, 2)) AS top_total
  FROM top_patients t
  JOIN scope s ON s.patient_id = t.patient_id
  GROUP BY s.institution_id
),
hits AS (
  SELECT institution_id, CAST(SUM(CASE WHEN hit THEN 1 ELSE 0 END) AS BIGINT) AS hits,
         BOOL_OR(eligible) AS eligible
  FROM operating_indicators GROUP BY institution_id
),
joined AS (
  SELECT c.institution_id, r.budget_class,
         COALESCE(c.visits, 0) AS visits,
         COALESCE(h.hits, 0) AS hits,
         COALESCE(h.eligible, FALSE) AS eligible,
         COALESCE(t.top_patients, 0) AS top_patients,
         COALESCE(t.top_total, CAST(0 AS DECIMAL(38, 2))) AS top_total,
         COALESCE(c.total, CAST(0 AS DECIMAL(38, 2))) AS total
  FROM cost c
  LEFT JOIN institutions r ON r.institution_id = c.institution_id
  LEFT JOIN top_cost t ON t.institution_id = c.institution_id
  LEFT JOIN hits h ON h.institution_id = c.institution_id
),
decided AS (
  SELECT j.*,
         j.hits >= s.min_hits AS operating_detected,
         j.total <> 0 AND j.top_total >= s.min_cost_share * j.total
           AND j.top_patients >= s.min_top_patients AS associated
  FROM joined j CROSS JOIN warning_policy s
)
SELECT institution_id, budget_class, visits, hits, operating_detected, top_patients,
       CAST(CASE WHEN total <> 0 THEN div6(top_total, total) ELSE 0 END AS DECIMAL(20, 6))
         AS top_patient_cost_share,
       associated,
       eligible AND operating_detected AND associated AS warned,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM decided
ORDER BY institution_id
