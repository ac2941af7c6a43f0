-- Explain, lines section (monthly-settlement.md Steps 4-8): the institution's settlement lines
-- of ${year}-${mm}, cumulative from January, as settle wrote them.
--
-- Grain: one row per line of the institution, keyed (payment_class, budget_class, fee_class,
-- line_kind). value_class = the outpatient budget class whose point values price the line: the
-- line's own class for outpatient item/case and flow lines, the institution's registry class for
-- chemo lines (Step 6: chemo points are valued in the outpatient cells of class(b)), NULL for
-- inpatient item/case lines (priced by their inpatient cell).
-- Inputs: r_settlement_lines, explain_target, explain_institution (00).
SELECT l.payment_class, l.budget_class, l.fee_class, l.line_kind,
       l.declared_points, l.reduction_points, l.effective_points, l.actual_cost, l.amount,
       l.policy_version,
       CASE
         WHEN l.payment_class = 'outpatient' THEN l.budget_class
         WHEN l.line_kind = 'chemo' THEN i.budget_class
       END AS value_class
FROM r_settlement_lines l
JOIN explain_target t ON t.institution_id = l.institution_id
LEFT JOIN explain_institution i ON i.institution_id = l.institution_id
WHERE l.year = '${year}' AND l.month = '${mm}'
ORDER BY CASE l.payment_class WHEN 'outpatient' THEN 0 ELSE 1 END,
         CASE l.line_kind
           WHEN 'item' THEN 0 WHEN 'case' THEN 1 WHEN 'chemo' THEN 2
           WHEN 'flow_out' THEN 3 WHEN 'flow_in' THEN 4 ELSE 5
         END,
         l.budget_class, l.fee_class
