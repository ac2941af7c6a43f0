-- Explain, fund-split section (monthly-settlement.md Step 10): how the institution's fund_cum of
-- ${year}-${mm} splits over insurance types and fund kinds.
--
-- Grain: one row per (payment_class, insurance_type, fund_kind) of the institution, as settle
-- wrote it. Σ amount_cum = fund_cum, Σ amount_month = fund_month.
-- Inputs: r_fund_split, explain_target.
SELECT f.payment_class, f.insurance_type, f.fund_kind, f.amount_cum, f.amount_month
FROM r_fund_split f
JOIN explain_target t ON t.institution_id = f.institution_id
WHERE f.year = '${year}' AND f.month = '${mm}'
ORDER BY f.payment_class, f.insurance_type, f.fund_kind
