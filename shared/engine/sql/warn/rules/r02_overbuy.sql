-- Suspicion rule R02 (quarterly-warnings.md Part D): chronic over-buying 超量购药.
--
-- Grain: one row per flagged claim of the quarter (rule R02, claim_id).
-- Inputs: q_claims, q_items, catalog.
-- Patients: those with a special-outpatient claim in the quarter. Lines: their special-outpatient
-- and pharmacy claims' item lines whose catalogue fee_class is western/patent/herbal and whose
-- days_supply is not null. A (patient, item_code) hits when Σ days_supply > days in the quarter
-- × (1 + overbuy_tolerance) and the lines come from ≥ 2 institutions; Σ days_supply is an
-- integer, so "> limit" is decided exactly as "> ${overbuy_max_days}" = floor(limit), computed by
-- the runner. Every claim with a line of a hitting pair is flagged; a claim hit through several
-- items is one row, detail naming the smallest item_code.
-- Join order (the left input is the hash table): the patients' special-outpatient and pharmacy
-- claims, then their item lines (streamed), then the drug catalogue codes before those lines.
WITH patients AS (
  SELECT DISTINCT patient_id
  FROM q_claims
  WHERE visit_type = 'special_outpatient' AND reverses_claim_id IS NULL
),
claims AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, CAST(c.settle_time AS DATE) AS settle_date
  FROM patients pt
  JOIN q_claims c ON c.patient_id = pt.patient_id
  WHERE c.visit_type IN ('special_outpatient', 'pharmacy') AND c.reverses_claim_id IS NULL
),
claim_lines AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, c.settle_date,
         i.item_code, CAST(i.days_supply AS BIGINT) AS days_supply
  FROM claims c
  JOIN q_items i ON i.claim_id = c.claim_id
  WHERE i.days_supply IS NOT NULL
),
drug_codes AS (
  SELECT item_code FROM catalog WHERE fee_class IN ('western', 'patent', 'herbal')
),
lines AS (
  SELECT l.*
  FROM drug_codes k
  JOIN claim_lines l ON l.item_code = k.item_code
),
hits AS (
  SELECT patient_id, item_code, SUM(days_supply) AS days,
         COUNT(DISTINCT institution_id) AS institutions
  FROM lines
  GROUP BY patient_id, item_code
  HAVING SUM(days_supply) > ${overbuy_max_days} AND COUNT(DISTINCT institution_id) >= 2
),
flagged AS (
  SELECT l.claim_id, l.institution_id, l.patient_id, l.settle_date, h.item_code, h.days,
         h.institutions,
         ROW_NUMBER() OVER (PARTITION BY l.claim_id ORDER BY h.item_code) AS rn
  FROM hits h
  JOIN lines l ON h.patient_id = l.patient_id AND h.item_code = l.item_code
)
SELECT 'R02' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat(item_code, ': ', CAST(days AS VARCHAR), ' days at ',
              CAST(institutions AS VARCHAR), ' institutions') AS detail
FROM flagged
WHERE rn = 1
ORDER BY claim_id
