-- Suspicion rule R07 (quarterly-warnings.md Part D): sex-inconsistent item 性别不符.
--
-- Grain: one row per flagged claim of the quarter (rule R07, claim_id).
-- Inputs: q_claims, q_items, catalog.
-- A claim is flagged when one of its items has a catalogue gender_limit that is set and differs
-- from the claim's non-null patient_gender. A null gender is not judged; items not in the
-- catalogue are not judged (inner join). detail names the smallest such item_code.
WITH hits AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, CAST(c.settle_time AS DATE) AS settle_date,
         i.item_code, k.gender_limit,
         ROW_NUMBER() OVER (PARTITION BY c.claim_id ORDER BY i.item_code, i.line_no) AS rn
  FROM q_items i
  JOIN q_claims c ON c.claim_id = i.claim_id
  JOIN catalog k ON k.item_code = i.item_code
  WHERE c.reverses_claim_id IS NULL
    AND c.patient_gender IS NOT NULL
    AND k.gender_limit IS NOT NULL
    AND k.gender_limit <> c.patient_gender
)
SELECT 'R07' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat('item ', item_code, ' limited to ', gender_limit) AS detail
FROM hits
WHERE rn = 1
ORDER BY claim_id
