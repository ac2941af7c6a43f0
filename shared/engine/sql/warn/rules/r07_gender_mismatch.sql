-- Suspicion rule R07 (quarterly-warnings.md Part D): sex-inconsistent item 性别不符.
--
-- Grain: one row per flagged claim of the quarter (rule R07, claim_id).
-- Inputs: q_claims, q_items, catalog.
-- A claim is flagged when one of its items has a catalogue gender_limit that is set and differs
-- from the claim's non-null patient_gender. A null gender is not judged; items not in the
-- catalogue are not judged (inner join). detail names the smallest such item_code.
-- Join order (the left input is the hash table): the few gender-limited catalogue items, then
-- their item lines, then the claims those lines belong to.
WITH limited AS (
  SELECT item_code, gender_limit FROM catalog WHERE gender_limit IS NOT NULL
),
lines AS (
  SELECT i.claim_id, i.line_no, i.item_code, k.gender_limit
  FROM limited k
  JOIN q_items i ON i.item_code = k.item_code
),
hits AS (
  SELECT c.claim_id, c.institution_id, c.patient_id, CAST(c.settle_time AS DATE) AS settle_date,
         l.item_code, l.gender_limit,
         ROW_NUMBER() OVER (PARTITION BY c.claim_id ORDER BY l.item_code, l.line_no) AS rn
  FROM lines l
  JOIN q_claims c ON c.claim_id = l.claim_id
  WHERE c.reverses_claim_id IS NULL
    AND c.patient_gender IS NOT NULL
    AND l.gender_limit <> c.patient_gender
)
SELECT 'R07' AS rule_id, claim_id, institution_id, patient_id, settle_date,
       concat('item ', item_code, ' limited to ', gender_limit) AS detail
FROM hits
WHERE rn = 1
ORDER BY claim_id
