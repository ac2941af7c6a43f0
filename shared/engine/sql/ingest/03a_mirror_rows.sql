-- Step 3a of ingest validation: the full rows the mirror check compares, read back from the
-- month's files: this month's reversal rows that passed rules 1-11, and the valid claims of
-- this month that they name.
--
-- Grain: one row per such input row, keyed (file_no, row_no). Small: reversals are rare.
-- Inputs: mirror_keys (03a_mirror_keys.sql), mirror_in (the month's files restricted to those
-- rows; the join keeps exactly the keyed rows whatever the restriction reads).
SELECT c.*,
       CASE WHEN c.visit_type = 'pharmacy' THEN c.prescriber_institution_id END AS prescriber_id
FROM mirror_keys w
JOIN mirror_in c ON c.file_no = w.file_no AND c.row_no = w.row_no
