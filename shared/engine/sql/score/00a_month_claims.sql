-- Annual scores input, per month: the used claims of month ${month} of ${year} summed per
-- institution, so a city year is never held in memory (annual-scores.md "valid, netted claims
-- of the year"; data-contract.md "Reversals").
--
-- Grain: one row per institution with a used claim row in the month, keyed institution_id.
-- Input `claims_valid`: ingest's used rows of the month (quarantined rows and same-month netted
-- pairs already removed). A valid cross-month reversal is the exact mirror of the claim it
-- cancels (same institution and visit type, every amount negated; anything else is quarantined
-- as reversal_mismatch, a second reversal as orphan_reversal, and one naming a claim of another
-- year as orphan_reversal), so adding it with sign -1 to the counts and with its own negative
-- amounts to the sums nets the cancelled claim out of the year exactly (00b).
-- Columns: claims (all visit types), scope_claims, scope_drugs (western + patent + herbal) and
-- scope_total over warnings.scope_visit_types, vbp (vbp_amount) and western_patent
-- (western + patent) over all visit types; counts signed, amounts as stored.
SELECT institution_id,
       CAST(SUM(CASE WHEN is_reversal THEN -1 ELSE 1 END) AS BIGINT) AS claims,
       CAST(SUM(CASE WHEN visit_type IN (${scope_visit_types})
                     THEN CASE WHEN is_reversal THEN -1 ELSE 1 END ELSE 0 END) AS BIGINT)
         AS scope_claims,
       SUM(CASE WHEN visit_type IN (${scope_visit_types})
                THEN CAST(western_drug_amount + patent_drug_amount + herbal_amount
                          AS DECIMAL(38, 2))
                ELSE CAST(0 AS DECIMAL(38, 2)) END) AS scope_drugs,
       SUM(CASE WHEN visit_type IN (${scope_visit_types})
                THEN CAST(total_amount AS DECIMAL(38, 2))
                ELSE CAST(0 AS DECIMAL(38, 2)) END) AS scope_total,
       SUM(CAST(vbp_amount AS DECIMAL(38, 2))) AS vbp,
       SUM(CAST(western_drug_amount + patent_drug_amount AS DECIMAL(38, 2))) AS western_patent
FROM claims_valid
GROUP BY institution_id
ORDER BY institution_id
