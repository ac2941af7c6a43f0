-- Settlement Step 10: fund split (001 art 28).
--
-- Grain: one row per (institution_id, payment_class, insurance_type, fund_kind) with non-zero
-- cumulative actual payments, or a row in the previous month, or the fallback row of a class
-- without fund payments. fund_cum(i, p) = Σ i's lines of class p - personal burden of i's
-- settled claims of class p, split in proportion to the cumulative actual payments: round2 each
-- share; the share with the largest payments absorbs the residual (ties: employee before
-- resident, then pool, serious_illness, other). No payments: all to (employee|resident, pool)
-- by which type has more claims (employee only when strictly more).
-- Invariant: Σ amount_cum over an (institution, class) = its fund_cum.
WITH class_lines AS (
  SELECT institution_id, payment_class, SUM(amount) AS amount
  FROM settlement_lines GROUP BY institution_id, payment_class
),
class_claims AS (
  SELECT institution_id, payment_class, SUM(personal_burden) AS burden,
         SUM(CASE WHEN insurance_type = 'employee' THEN claims ELSE 0 END) AS employee_claims,
         SUM(CASE WHEN insurance_type = 'resident' THEN claims ELSE 0 END) AS resident_claims
  FROM agg WHERE exclusion IS NULL GROUP BY institution_id, payment_class
),
classes AS (
  SELECT institution_id, payment_class FROM class_lines
  UNION SELECT institution_id, payment_class FROM class_claims
),
fund AS (
  SELECT c.institution_id, c.payment_class,
         COALESCE(l.amount, 0) - COALESCE(k.burden, 0) AS fund_cum,
         CASE WHEN COALESCE(k.employee_claims, 0) > COALESCE(k.resident_claims, 0)
              THEN 'employee' ELSE 'resident' END AS fallback_type
  FROM classes c
  LEFT JOIN class_lines l ON l.institution_id = c.institution_id AND l.payment_class = c.payment_class
  LEFT JOIN class_claims k ON k.institution_id = c.institution_id AND k.payment_class = c.payment_class
),
pays AS (
  SELECT institution_id, payment_class, insurance_type, 'pool' AS fund_kind, SUM(pool_paid) AS paid
  FROM agg WHERE exclusion IS NULL GROUP BY institution_id, payment_class, insurance_type
  UNION ALL
  SELECT institution_id, payment_class, insurance_type, 'serious_illness', SUM(serious_paid)
  FROM agg WHERE exclusion IS NULL GROUP BY institution_id, payment_class, insurance_type
  UNION ALL
  SELECT institution_id, payment_class, insurance_type, 'other', SUM(other_paid)
  FROM agg WHERE exclusion IS NULL GROUP BY institution_id, payment_class, insurance_type
),
totals AS (
  SELECT institution_id, payment_class, SUM(paid) AS total FROM pays
  GROUP BY institution_id, payment_class
),
keys AS (
  SELECT institution_id, payment_class, insurance_type, fund_kind FROM pays WHERE paid <> 0
  UNION
  SELECT institution_id, payment_class, insurance_type, fund_kind FROM prev_fund_split
  UNION
  SELECT f.institution_id, f.payment_class, f.fallback_type, 'pool'
  FROM fund f
  LEFT JOIN totals t ON t.institution_id = f.institution_id AND t.payment_class = f.payment_class
  WHERE COALESCE(t.total, 0) = 0
),
shares AS (
  SELECT k.institution_id, k.payment_class, k.insurance_type, k.fund_kind,
         f.fund_cum, COALESCE(p.paid, 0) AS paid, COALESCE(t.total, 0) AS total,
         COALESCE(t.total, 0) = 0 AND k.insurance_type = f.fallback_type AND k.fund_kind = 'pool'
           AS fallback,
         CASE WHEN COALESCE(t.total, 0) <> 0
              THEN div2(f.fund_cum * COALESCE(p.paid, 0), t.total) ELSE 0 END AS share
  FROM keys k
  JOIN fund f ON f.institution_id = k.institution_id AND f.payment_class = k.payment_class
  LEFT JOIN pays p
    ON p.institution_id = k.institution_id AND p.payment_class = k.payment_class
   AND p.insurance_type = k.insurance_type AND p.fund_kind = k.fund_kind
  LEFT JOIN totals t ON t.institution_id = k.institution_id AND t.payment_class = k.payment_class
),
ranked AS (
  SELECT s.*,
         ROW_NUMBER() OVER (
           PARTITION BY s.institution_id, s.payment_class
           ORDER BY CASE WHEN s.fallback THEN 0 ELSE 1 END,
                    s.paid DESC,
                    CASE s.insurance_type WHEN 'employee' THEN 0 ELSE 1 END,
                    CASE s.fund_kind WHEN 'pool' THEN 0 WHEN 'serious_illness' THEN 1 ELSE 2 END
         ) AS rk,
         SUM(s.share) OVER (PARTITION BY s.institution_id, s.payment_class) AS share_sum
  FROM shares s
),
final AS (
  SELECT r.institution_id, r.payment_class, r.insurance_type, r.fund_kind,
         CASE WHEN r.rk = 1 THEN r.share + (r.fund_cum - r.share_sum) ELSE r.share END AS amount_cum
  FROM ranked r
)
SELECT f.institution_id, f.payment_class, f.insurance_type, f.fund_kind,
       CAST(f.amount_cum AS DECIMAL(18, 2)) AS amount_cum,
       CAST(f.amount_cum - COALESCE(p.amount_cum, 0) AS DECIMAL(18, 2)) AS amount_month,
       CAST(${policy_year} AS INT) AS policy_year,
       CAST(${policy_version} AS INT) AS policy_version
FROM final f
LEFT JOIN prev_fund_split p
  ON p.institution_id = f.institution_id AND p.payment_class = f.payment_class
 AND p.insurance_type = f.insurance_type AND p.fund_kind = f.fund_kind
ORDER BY f.institution_id, f.payment_class, f.insurance_type, f.fund_kind
