-- Settlement Step 1: the output table `excluded_claims` of month ${month}.
--
-- Grain: one row per valid claim row of the month that is not settled, keyed claim_id.
SELECT claim_id, institution_id, exclusion AS reason,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM claim_treatment
WHERE exclusion IS NOT NULL
ORDER BY claim_id
