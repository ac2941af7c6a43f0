-- Suspicion rule R02 (quarterly-warnings.md Part D): chronic over-buying 超量购药.
--
-- Grain: one row per flagged claim of the quarter (rule R02, claim_id).
-- Inputs: r02_lines (r02a_overbuy_lines.sql: the special-outpatient patients' drug lines with a
-- days_supply).
-- A (patient, item_code) hits when Σ days_supply > days in the quarter × (1 + overbuy_tolerance)
-- and the lines come from ≥ 2 institutions; Σ days_supply is an integer, so "> limit" is decided
-- exactly as "> ${overbuy_max_days}" = floor(limit), computed by the runner. Every claim with a
-- line of a hitting pair is flagged; a claim hit through several items is one row, detail naming
-- the smallest item_code.
WITH hits AS (
  SELECT patient_id, item_code, SUM(days_supply) AS days,
         COUNT(DISTINCT institution_id) AS institutions
  FROM r02_lines
  GROUP BY patient_id, item_code
  HAVING SUM(days_supply) > ${overbuy_max_days} AND COUNT(DISTINCT institution_id) >= 2
),
flagged AS (
  SELECT l.claim_id, l.institution_id, l.patient_id, l.settle_date, h.item_code, h.days,
         h.institutions,
         ROW_NUMBER() OVER (PARTITION BY l.claim_id ORDER BY h.item_code) AS rn
  FROM hits h
  JOIN r02_lines l ON h.patient_id = l.patient_id AND h.item_code = l.item_code
)
SELECT 'R02' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat(item_code, ': ', CAST(days AS VARCHAR), ' days at ',
              CAST(institutions AS VARCHAR), ' institutions') AS detail
FROM flagged
WHERE rn = 1
ORDER BY claim_id
