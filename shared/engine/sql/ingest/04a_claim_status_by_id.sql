-- Step 4a of ingest validation: the status of each claim_id of the month, for its items.
--
-- Grain: one row per claim_id of the month's claim rows. st: 3 netted (a valid row that a
-- same-month reversal cancelled), 2 used (a valid row), 1 quarantined (only rejected rows).
SELECT claim_id,
       MAX(CASE WHEN final_reason IS NULL AND netted THEN 3
                WHEN final_reason IS NULL THEN 2
                ELSE 1 END) AS st
FROM claim_status
WHERE claim_id IS NOT NULL
GROUP BY claim_id
