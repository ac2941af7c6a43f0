-- Warnings Part A: operating indicators (运行指标, seed 000 三(一)1).
--
-- Grain: one row per (institution with an in-scope claim, indicator), keyed (institution_id,
-- indicator). Scope: visit types of warnings.scope_visit_types; peer group = budget_class.
-- value = num / den of the institution; peer_value = Σ num / Σ den over the ELIGIBLE institutions
-- of the peer group (itself included; pooled, "全市同级别机构平均水平"); zero denominators give
-- NULL and no hit. eligible = visits >= min_visits.
-- ratio: hit when value > peer x (1 + margin), decided exactly by cross-multiplying;
-- percentile: hit when value >= the peer group's P-th nearest-rank percentile of the eligible
-- institutions' values (exact comparison of the two ratios).
-- value, peer_value and threshold are stored rounded to 6 decimals.
-- Input: operating_base (01a), one row per institution with its in-scope totals.
WITH base AS (
  SELECT p.*, r.budget_class, p.visits >= ${min_visits} AS eligible
  FROM operating_base p
  LEFT JOIN institutions r ON r.institution_id = p.institution_id
),
long AS (
  SELECT institution_id, budget_class, eligible, 'drug_ratio' AS indicator,
         CAST(drugs AS DECIMAL(38, 2)) AS num, CAST(total AS DECIMAL(38, 2)) AS den FROM base
  UNION ALL
  SELECT institution_id, budget_class, eligible, 'key_drug_ratio',
         CAST(key_drugs AS DECIMAL(38, 2)), CAST(drugs AS DECIMAL(38, 2)) FROM base
  UNION ALL
  SELECT institution_id, budget_class, eligible, 'cost_per_visit',
         CAST(total AS DECIMAL(38, 2)), CAST(visits AS DECIMAL(38, 2)) FROM base
  UNION ALL
  SELECT institution_id, budget_class, eligible, 'visits_per_patient',
         CAST(visits AS DECIMAL(38, 2)), CAST(patients AS DECIMAL(38, 2)) FROM base
  UNION ALL
  SELECT institution_id, budget_class, eligible, 'high_frequency_share',
         CAST(frequent_patients AS DECIMAL(38, 2)), CAST(patients AS DECIMAL(38, 2)) FROM base
),
peer AS (
  SELECT budget_class, indicator, SUM(num) AS peer_num, SUM(den) AS peer_den
  FROM long WHERE eligible GROUP BY budget_class, indicator
),
with_margin AS (
  SELECT l.*, p.peer_num, p.peer_den,
         COALESCE(m.margin, s.margin) AS margin
  FROM long l
  LEFT JOIN peer p ON p.budget_class = l.budget_class AND p.indicator = l.indicator
  LEFT JOIN warning_margins m ON m.indicator = l.indicator
  CROSS JOIN warning_policy s
),
-- percentile method: the eligible institutions' non-null values of each peer group, ranked
ranked AS (
  SELECT budget_class, indicator, num, den,
         ROW_NUMBER() OVER (PARTITION BY budget_class, indicator
                            ORDER BY div18(num, den), institution_id) AS rk,
         COUNT(*) OVER (PARTITION BY budget_class, indicator) AS n
  FROM long WHERE eligible AND den <> 0
),
percentile AS (
  -- nearest rank: the ceil(P/100 x n)-th value, i.e. the first rank with rank x 100 >= P x n
  SELECT budget_class, indicator, num AS p_num, den AS p_den FROM (
    SELECT r.*, ROW_NUMBER() OVER (PARTITION BY budget_class, indicator ORDER BY rk) AS first_rank
    FROM ranked r CROSS JOIN warning_policy s
    WHERE r.rk * 100 >= s.percentile * r.n
  ) WHERE first_rank = 1
)
SELECT w.institution_id, w.indicator, w.budget_class,
       CAST(CASE WHEN w.den <> 0 THEN div6(w.num, w.den) END AS DECIMAL(20, 6)) AS value,
       CAST(CASE WHEN w.peer_den <> 0 THEN div6(w.peer_num, w.peer_den) END AS DECIMAL(20, 6))
         AS peer_value,
       CAST(CASE
              WHEN s.method = 'percentile' THEN
                CASE WHEN pc.p_den <> 0 THEN div6(pc.p_num, pc.p_den) END
              WHEN w.peer_den <> 0 THEN div6(w.peer_num * (1 + w.margin), w.peer_den)
            END AS DECIMAL(20, 6)) AS threshold,
       COALESCE(
         w.eligible AND w.den <> 0 AND (
           (s.method = 'ratio' AND w.peer_den <> 0
              AND w.num * w.peer_den > w.peer_num * (1 + w.margin) * w.den)
           OR (s.method = 'percentile' AND pc.p_den <> 0
              AND w.num * pc.p_den >= pc.p_num * w.den)),
         FALSE) AS hit,
       w.eligible,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM with_margin w
CROSS JOIN warning_policy s
LEFT JOIN percentile pc ON pc.budget_class = w.budget_class AND pc.indicator = w.indicator
ORDER BY w.institution_id, w.indicator
