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
WITH patients AS (
  SELECT DISTINCT patient_id
  FROM q_claims
  WHERE visit_type = 'special_outpatient' AND reverses_claim_id IS NULL
),
lines AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, CAST(c.settle_time AS DATE) AS settle_date,
         i.item_code, CAST(i.days_supply AS BIGINT) AS days_supply
  FROM q_items i
  JOIN q_claims c ON c.claim_id = i.claim_id
  JOIN catalog k ON k.item_code = i.item_code
  JOIN patients pt ON pt.patient_id = c.patient_id
  WHERE c.visit_type IN ('special_outpatient', 'pharmacy') AND c.reverses_claim_id IS NULL
    AND k.fee_class IN ('western', 'patent', 'herbal')
    AND i.days_supply IS NOT NULL
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
  FROM lines l
  JOIN hits h ON h.patient_id = l.patient_id AND h.item_code = l.item_code
)
SELECT 'R02' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat(item_code, ': ', CAST(days AS VARCHAR), ' days at ',
              CAST(institutions AS VARCHAR), ' institutions') AS detail
FROM flagged
WHERE rn = 1
ORDER BY claim_id
