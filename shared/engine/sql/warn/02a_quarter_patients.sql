-- Warnings Part B, input of the top patients (关联指标, seed 000 三(一)2): each patient's
-- quarter cost.
--
-- Grain: one row per patient with an in-scope claim (visit types of
-- warnings.scope_visit_types), keyed patient_id (restricted: person-level; never written).
-- quarter_cost = Σ total_amount of the patient's in-scope claims at all institutions (exact).
-- Kept as its own table because 02b reads it three times (the count, the costs in ascending order
-- for the median, the costly patients ranked for the top).
SELECT patient_id, SUM(total_amount) AS quarter_cost
FROM q_claims
WHERE visit_type IN (${scope_visit_types})
GROUP BY patient_id
