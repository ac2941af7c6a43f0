-- Annual scores input: the year's valid claims, netted within the year (annual-scores.md "valid,
-- netted claims of the year"; data-contract.md "Reversals"), summed per institution for the
-- indicator sources (03), so the year is scanned once and never held in memory.
--
-- Grain: one row per institution with at least one valid, netted claim of ${year}, keyed
-- institution_id.
-- Netting: `year_rows` holds the used claims of each month (ingest's claims_valid: quarantined
-- rows and same-month netted pairs already removed). A valid reversal always names a claim of
-- its own year (an orphan across the year end is quarantined), so a cross-month reversal drops
-- the claim it cancels; reversal rows never count themselves.
-- Columns: claims (all visit types); scope_claims, scope_drugs (western + patent + herbal) and
-- scope_total over the claims of warnings.scope_visit_types; vbp (vbp_amount) and
-- western_patent (western + patent) over all claims.
WITH cancelled AS (
  SELECT DISTINCT reverses_claim_id AS claim_id FROM year_rows WHERE is_reversal
),
netted AS (
  SELECT y.institution_id, y.visit_type IN (${scope_visit_types}) AS in_scope,
         CAST(y.total_amount AS DECIMAL(38, 2)) AS total_amount,
         CAST(y.western_drug_amount + y.patent_drug_amount + y.herbal_amount AS DECIMAL(38, 2))
           AS drugs,
         CAST(y.western_drug_amount + y.patent_drug_amount AS DECIMAL(38, 2)) AS western_patent,
         CAST(y.vbp_amount AS DECIMAL(38, 2)) AS vbp_amount
  FROM cancelled c
  RIGHT JOIN year_rows y ON c.claim_id = y.claim_id
  WHERE NOT y.is_reversal AND c.claim_id IS NULL
)
SELECT institution_id,
       CAST(COUNT(*) AS BIGINT) AS claims,
       CAST(SUM(CASE WHEN in_scope THEN 1 ELSE 0 END) AS BIGINT) AS scope_claims,
       SUM(CASE WHEN in_scope THEN drugs ELSE CAST(0 AS DECIMAL(38, 2)) END) AS scope_drugs,
       SUM(CASE WHEN in_scope THEN total_amount ELSE CAST(0 AS DECIMAL(38, 2)) END) AS scope_total,
       SUM(vbp_amount) AS vbp,
       SUM(western_patent) AS western_patent
FROM netted
GROUP BY institution_id
ORDER BY institution_id
