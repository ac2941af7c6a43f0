-- Annual scores: the value of every indicator source per institution (annual-scores.md
-- "Indicator sources"), as an exact fraction num / den so that points are decided on exact
-- values (04), never on a rounded display value.
--
-- Grain: one row per (institution of `population`, source) that has a value, keyed
-- (institution_id, source). den > 0 on every row. Inputs: year_claims (00, the year's valid,
-- netted claims summed per institution), year_cards, year_suspicions, assessments. Sources:
--   cards               yellows + reds of the year's card ledger (yellows, reds kept apart for
--                       the deduct method)
--   suspicion_rate      distinct claims in the year's suspicions (any rule) per 1000 valid,
--                       netted claims of the year at the institution; 0 without claims
--   drug_ratio_vs_peer  annual drug ratio (western + patent + herbal) / total over the claims of
--                       warnings.scope_visit_types, divided by the pooled ratio of the peer group
--                       (budget_class; institutions with >= ${min_visits} such claims in the
--                       year): (drugs x peer_total) / (total x peer_drugs); no row when either
--                       ratio is undefined (no own total, no peers, peer drugs 0)
--   vbp_share           sum vbp_amount / sum (western + patent) over all the year's claims; no row
--                       when there are no such drugs
--   assessment:<part>   the part's score in inputs/assessments; no row when missing
WITH peer AS (
  SELECT r.budget_class,
         SUM(c.scope_drugs) AS peer_drugs,
         SUM(c.scope_total) AS peer_total
  FROM institutions r
  JOIN year_claims c ON c.institution_id = r.institution_id
  WHERE c.scope_claims >= ${min_visits}
  GROUP BY r.budget_class
),
cards_per AS (
  SELECT institution_id,
         SUM(CASE WHEN color = 'yellow' THEN 1 ELSE 0 END) AS yellows,
         SUM(CASE WHEN color = 'red' THEN 1 ELSE 0 END) AS reds
  FROM year_cards
  GROUP BY institution_id
),
suspicious AS (
  SELECT institution_id, COUNT(DISTINCT claim_id) AS claims
  FROM year_suspicions
  GROUP BY institution_id
)
SELECT p.institution_id, 'cards' AS source,
       CAST(COALESCE(k.yellows, 0) + COALESCE(k.reds, 0) AS DECIMAL(38, 4)) AS num,
       CAST(1 AS DECIMAL(38, 4)) AS den,
       CAST(COALESCE(k.yellows, 0) AS BIGINT) AS yellows,
       CAST(COALESCE(k.reds, 0) AS BIGINT) AS reds
FROM population p
LEFT JOIN cards_per k ON k.institution_id = p.institution_id
UNION ALL
SELECT p.institution_id, 'suspicion_rate',
       CAST(CASE WHEN COALESCE(c.claims, 0) > 0 THEN 1000 * COALESCE(s.claims, 0) ELSE 0 END
            AS DECIMAL(38, 4)),
       CAST(CASE WHEN COALESCE(c.claims, 0) > 0 THEN c.claims ELSE 1 END AS DECIMAL(38, 4)),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)
FROM population p
LEFT JOIN year_claims c ON c.institution_id = p.institution_id
LEFT JOIN suspicious s ON s.institution_id = p.institution_id
UNION ALL
SELECT p.institution_id, 'drug_ratio_vs_peer',
       CAST(c.scope_drugs * q.peer_total AS DECIMAL(38, 4)),
       CAST(c.scope_total * q.peer_drugs AS DECIMAL(38, 4)),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)
FROM population p
JOIN year_claims c ON c.institution_id = p.institution_id
JOIN peer q ON q.budget_class = p.budget_class
WHERE c.scope_total > 0 AND q.peer_total > 0 AND q.peer_drugs > 0
UNION ALL
SELECT p.institution_id, 'vbp_share',
       CAST(c.vbp AS DECIMAL(38, 4)),
       CAST(c.western_patent AS DECIMAL(38, 4)),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)
FROM population p
JOIN year_claims c ON c.institution_id = p.institution_id
WHERE c.western_patent > 0
UNION ALL
SELECT p.institution_id, 'assessment:' || a.part,
       CAST(a.score AS DECIMAL(38, 4)),
       CAST(1 AS DECIMAL(38, 4)),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)
FROM population p
JOIN assessments a ON a.institution_id = p.institution_id
