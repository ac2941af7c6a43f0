-- Explain, volume-price section (monthly-settlement.md Step 4): the institution's monthly
-- reductions of months 1..${month} of ${year}, whose sum is the reduction_points of its item
-- lines in ${year}-${mm}.
--
-- Grain: one row per (month, fee class drug|other) in which the institution, as budget
-- institution, had settled item-kind outpatient claims; as each month's settle wrote it.
-- Inputs: r_volume_price (results/volume_price, all partitions), explain_target.
SELECT CAST(v.month AS INT) AS month, v.fee_class, v.adjustable_points, v.doctor_days,
       v.threshold, v.excess, v.reduction, v.policy_version
FROM r_volume_price v
JOIN explain_target t ON t.institution_id = v.institution_id
WHERE v.year = '${year}' AND v.month <= '${mm}'
ORDER BY fee_class, month
