-- Explain, exclusions section (monthly-settlement.md Step 1): the institution's claims of
-- ${year}-${mm} that were valid but not settled, counted by reason.
--
-- Grain: one row per reason (agreement_suspended, outside_agreement, account_only) with at least
-- one claim. Σ claims = claims_excluded_month of the statement.
-- Inputs: r_excluded_claims, explain_target.
SELECT e.reason, COUNT(*) AS claims
FROM r_excluded_claims e
JOIN explain_target t ON t.institution_id = e.institution_id
WHERE e.year = '${year}' AND e.month = '${mm}'
GROUP BY e.reason
ORDER BY e.reason
