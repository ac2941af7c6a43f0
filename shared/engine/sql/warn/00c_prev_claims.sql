-- Warnings inputs: the claims of the month before the quarter (R01 and R06 look back into it).
--
-- Grain: one row per valid non-reversal claim of that month (netted within the month by ingest),
-- keyed claim_id; empty when the lake has no claims for that month.
-- Columns: only those R01 and R06 read.
SELECT claim_id, institution_id, patient_id, visit_type, diagnosis_code, settle_time,
       admit_date, discharge_date, reverses_claim_id
FROM prev_month_claims
WHERE reverses_claim_id IS NULL
