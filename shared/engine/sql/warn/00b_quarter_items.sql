-- Warnings inputs: the item lines of the quarter's months (R02, R07).
--
-- Grain: one row per used item line of months ${first_month}..${last_month}, keyed
-- (claim_id, line_no).
-- Columns: only those the rules read (claim_id, line_no, item_code, days_supply).
-- A view, not a working file: only R02 and R07 read it, each keeping a few of the ~80M lines by
-- a join, so reading the months' files twice costs less than copying every line once.
-- Not netted: the lines of reversal rows and of claims a reversal of the quarter cancelled are
-- here too. Every rule reaches lines only through an inner join with q_claims (00a), which holds
-- neither, so they never count. (Netting here was an anti-join of the quarter's ~77M lines
-- against the cancelled ids, in the `small RIGHT JOIN big … IS NULL` form that DataFusion 55
-- plans wrong when it swaps the join's sides: see README, Decisions.)
SELECT claim_id, line_no, item_code, days_supply FROM month_items_1
UNION ALL SELECT claim_id, line_no, item_code, days_supply FROM month_items_2
UNION ALL SELECT claim_id, line_no, item_code, days_supply FROM month_items_3
