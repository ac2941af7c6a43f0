-- Suspicion rule R02, first step (quarterly-warnings.md Part D): the lines R02 weighs.
--
-- Grain: one row per item line (claim_id, line_no) of the lines below; spilled to a working
-- file as `r02_lines`, because r02_overbuy.sql reads it twice (the per-pair sums, then the
-- claims of the hitting pairs) and DataFusion would otherwise join the quarter's items again
-- for each read.
-- Inputs: q_claims, q_items, catalog.
-- Patients: those with a special-outpatient claim in the quarter. Lines: their special-outpatient
-- and pharmacy claims' item lines whose catalogue fee_class is western/patent/herbal and whose
-- days_supply is not null.
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
)
SELECT l.claim_id, l.institution_id, l.patient_id, l.settle_date, l.item_code, l.days_supply
FROM drug_codes k
JOIN claim_lines l ON l.item_code = k.item_code
