-- Warnings Part A, input of the operating indicators (运行指标, seed 000 三(一)1): each
-- institution's in-scope quarter totals, in one pass over the quarter's claims.
--
-- Grain: one row per institution with an in-scope claim (visit types of
-- warnings.scope_visit_types), keyed institution_id.
-- visits = claims; patients = distinct patients; frequent_patients = patients with
-- >= ${high_frequency_visits} claims at the institution; drugs = Σ western + patent + herbal;
-- key_drugs = Σ key_drug_amount; total = Σ total_amount (exact decimals, no rounding).
-- Kept as its own table because 01b reads it fifteen times (five indicators, three uses each);
-- counting patients through the (institution, patient) groups avoids a COUNT(DISTINCT).
WITH per_patient AS (
  SELECT institution_id, patient_id,
         COUNT(*) AS visits,
         SUM(western_drug_amount + patent_drug_amount + herbal_amount) AS drugs,
         SUM(total_amount) AS total,
         SUM(key_drug_amount) AS key_drugs
  FROM q_claims
  WHERE visit_type IN (${scope_visit_types})
  GROUP BY institution_id, patient_id
)
SELECT institution_id,
       CAST(SUM(visits) AS BIGINT) AS visits,
       CAST(COUNT(*) AS BIGINT) AS patients,
       CAST(SUM(drugs) AS DECIMAL(38, 2)) AS drugs,
       CAST(SUM(total) AS DECIMAL(38, 2)) AS total,
       CAST(SUM(key_drugs) AS DECIMAL(38, 2)) AS key_drugs,
       CAST(SUM(CASE WHEN visits >= ${high_frequency_visits} THEN 1 ELSE 0 END) AS BIGINT)
         AS frequent_patients
FROM per_patient
GROUP BY institution_id
