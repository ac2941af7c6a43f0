-- Step 10 of ingest, on reuse of a month's validation record: every input item row of the month
-- with the status its validation gave it (ingest/record.rs).
--
-- Grain: one row per input item row, keyed (file_no, row_no); the same rows, columns and
-- statuses as step 04 gave when the month was validated, while the month's files, the registry
-- and the earlier ledgers are unchanged (the record is only reused then).
-- Inputs: items_in (ordered scan of claim_items/year=${year}/month=${mm}), item_exceptions (the
-- record's items that are not used: a final_reason, or netted). Every other item is used.
SELECT
  i.*,
  e.final_reason,
  COALESCE(e.netted, FALSE) AS netted
FROM item_exceptions e
RIGHT JOIN items_in i ON e.file_no = i.file_no AND e.row_no = i.row_no
