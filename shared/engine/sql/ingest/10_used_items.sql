-- Step 10 of ingest: the month's used item rows (not quarantined, not netted), what the
-- computations read as `items_valid`.
--
-- Grain: one row per used item row, keyed (file_no, row_no). Registered as a view: it re-reads
-- the month's item files each time it is used.
-- Inputs: used_items_in: the month's item files without the rows `item_exceptions` lists (the
--         items quarantined or netted, from 04 or from the month's validation record); Parquet
--         skips those rows, so no join of the month's ~26M items with their keys.
-- Invariant: exactly the items whose final status is used.
SELECT i.*,
       CAST(NULL AS VARCHAR) AS final_reason,
       FALSE AS netted
FROM used_items_in i
