-- Explain, header: the institution as the registry describes it (name, kind, budget class,
-- agreement dates), to say which outpatient cells price its points.
--
-- Grain: at most one row, the institution of `explain_target` (none when the registry does not
-- list it). Inputs: r_institutions (reference/institutions), explain_target (one row).
SELECT i.institution_id, i.name, i.kind, i.budget_class,
       CAST(i.agreement_start AS VARCHAR) AS agreement_start,
       CAST(i.agreement_end AS VARCHAR) AS agreement_end
FROM r_institutions i
JOIN explain_target t ON t.institution_id = i.institution_id
LIMIT 1
