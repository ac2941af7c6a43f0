-- Warnings output `restricted/suspicions` (Part D): one row per (rule_id, claim_id) flagged by
-- R01-R08, person-level (restricted prefix).
SELECT rule_id, claim_id, institution_id, patient_id, settle_date, detail,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM suspicions_raw
ORDER BY rule_id, claim_id
