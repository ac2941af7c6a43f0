#!/usr/bin/env python3
"""Independent checker of a generated lake against its truth/ (development aid).

Re-implements, straight from the rulebook, the validation of data-contract.md, the suspicion
rules R01-R08 and the warnings Parts A-C of quarterly-warnings.md, and compares with the
generator's truth files. Also prints the margins of the background (how far the closest
background institution is from a hit / from association) and the point values the generated
policy gives (cumulative, per month).

usage: python3 check.py LAKE_ROOT [YEAR]
"""
import glob
import math
import os
import sys
import tomllib
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pyarrow.parquet as pq

MONEY = ["total_amount", "western_drug_amount", "patent_drug_amount", "herbal_amount",
         "consumable_amount", "service_amount", "vbp_amount", "vbp_points", "key_drug_amount",
         "pool_fund_paid", "serious_illness_paid", "other_fund_paid", "account_paid", "cash_paid"]


def rows(path):
    t = pq.ParquetFile(path).read()  # no hive partition columns
    return t.to_pylist()


def main():
    root = sys.argv[1]
    year = int(sys.argv[2]) if len(sys.argv) > 2 else None
    if year is None:
        year = int(sorted(os.listdir(os.path.join(root, "claims")))[0].split("=")[1])
    pol = tomllib.load(open(os.path.join(root, f"policy/{year}.toml"), "rb"))
    insts = {r["institution_id"]: r for r in rows(glob.glob(root + "/reference/institutions/*.parquet")[0])}
    cat = {r["item_code"]: r for r in rows(glob.glob(root + "/reference/catalog/*.parquet")[0])}
    months = sorted(int(p.split("=")[-1]) for p in glob.glob(f"{root}/claims/year={year}/month=*"))
    print("months", months, "institutions", len(insts))

    # ---------------- validation ----------------
    enums = {
        "patient_gender": {"M", "F"},
        "insurance_type": {"employee", "resident"},
        "insured_region": {"local", "in_province", "cross_province"},
        "visit_type": {"general_outpatient", "special_outpatient", "inpatient", "pharmacy"},
        "pay_method": {"item", "case"},
    }
    held = set()
    valid_nonrev = {}  # id -> (month, row)
    cancelled = set()
    qcounts = defaultdict(int)
    recon = {}
    claims_by_month = {}  # month -> list of valid rows (non-netted handled later)
    reversal_of = {}  # valid reversal id -> target id
    for m in months:
        files = sorted(glob.glob(f"{root}/claims/year={year}/month={m:02d}/*.parquet"))
        allrows = []
        for f in files:
            allrows.extend(rows(f))
        status = [None] * len(allrows)
        first_day = (year, m)
        for i, r in enumerate(allrows):
            reason = None
            vt = r["visit_type"]
            req = ["claim_id", "institution_id", "patient_id", "insurance_type", "insured_region",
                   "visit_type", "pay_method", "settle_time", "herbal_doses"] + MONEY
            if any(r[c] is None for c in req):
                reason = "missing_field"
            elif vt == "special_outpatient" and r["special_disease"] is None:
                reason = "missing_field"
            elif r["pay_method"] == "case" and r["case_points"] is None:
                reason = "missing_field"
            elif vt == "inpatient" and (r["admit_date"] is None or r["discharge_date"] is None):
                reason = "missing_field"
            elif vt in ("general_outpatient", "special_outpatient") and r["doctor_id"] is None:
                reason = "missing_field"
            if reason is None:
                for c, allowed in enums.items():
                    if r[c] is not None and r[c] not in allowed:
                        reason = "bad_enum"
                        break
            rev = r["reverses_claim_id"] is not None
            if reason is None:
                mo = [r[c] for c in MONEY]
                if mo[0] != sum(mo[1:6]):
                    reason = "fee_parts_mismatch"
                elif mo[0] != sum(mo[9:14]):
                    reason = "payer_parts_mismatch"
                elif (not rev and any(x < 0 for x in mo)) or (rev and any(x > 0 for x in mo)):
                    reason = "negative_amount"
                elif abs(mo[6]) > abs(mo[1] + mo[2]) or abs(mo[8]) > abs(mo[1] + mo[2] + mo[3]):
                    reason = "vbp_exceeds_drugs"
            if reason is None:
                presc = r["prescriber_institution_id"] if vt == "pharmacy" else None
                if r["institution_id"] not in insts or (presc is not None and presc not in insts):
                    reason = "unknown_institution"
                elif presc is not None and insts[presc]["kind"] == "pharmacy":
                    reason = "invalid_prescriber"
                elif (vt == "pharmacy") != (insts[r["institution_id"]]["kind"] == "pharmacy"):
                    reason = "visit_type_mismatch"
                elif (r["settle_time"].year, r["settle_time"].month) != first_day:
                    reason = "wrong_partition"
                elif r["claim_id"] in held:
                    reason = "duplicate_claim"
            if reason is None:
                held.add(r["claim_id"])
                if not rev:
                    if vt == "inpatient" and r["discharge_date"] < r["admit_date"]:
                        reason = "inpatient_dates"
                    elif vt == "pharmacy" and r["prescriber_institution_id"] is None and r["pool_fund_paid"] > 0:
                        reason = "pharmacy_fund_without_prescriber"
                    else:
                        valid_nonrev[r["claim_id"]] = (m, r)
            status[i] = reason
        # reversals in reading order
        for i, r in enumerate(allrows):
            if status[i] is not None or r["reverses_claim_id"] is None:
                continue
            t = r["reverses_claim_id"]
            if t not in valid_nonrev or t in cancelled:
                status[i] = "orphan_reversal"
                continue
            orig = valid_nonrev[t][1]
            ok = True
            for c in r:
                if c in ("claim_id", "settle_time", "reverses_claim_id"):
                    continue
                if c in MONEY or c in ("herbal_doses", "case_points"):
                    a, b = r[c], orig[c]
                    if (a is None) != (b is None) or (a is not None and a != -b):
                        ok = False
                elif r[c] != orig[c]:
                    ok = False
            if not ok:
                status[i] = "reversal_mismatch"
                continue
            if r["visit_type"] == "inpatient" and r["discharge_date"] < r["admit_date"]:
                status[i] = "inpatient_dates"
                continue
            cancelled.add(t)
            reversal_of[r["claim_id"]] = t
        # netting within the month
        netted = set()
        for i, r in enumerate(allrows):
            if status[i] is None and r["reverses_claim_id"] is not None:
                t = r["reverses_claim_id"]
                if valid_nonrev[t][0] == m:
                    netted.add(r["claim_id"])
                    netted.add(t)
        nq = 0
        for i, r in enumerate(allrows):
            if status[i] is not None:
                qcounts[("claims", m, status[i])] += 1
                nq += 1
        valid_rows = [r for i, r in enumerate(allrows) if status[i] is None]
        claims_by_month[m] = valid_rows
        nn = sum(1 for r in valid_rows if r["claim_id"] in netted)
        recon[("claims", m)] = (len(allrows), len(allrows) - nq - nn, nq, nn)
        # items
        ids_all = defaultdict(list)
        for i, r in enumerate(allrows):
            ids_all[r["claim_id"]].append(status[i])
        ifiles = sorted(glob.glob(f"{root}/claim_items/year={year}/month={m:02d}/*.parquet"))
        iq = inn = ni = 0
        for f in ifiles:
            for it in rows(f):
                ni += 1
                st = ids_all.get(it["claim_id"])
                if st is None:
                    qcounts[("claim_items", m, "orphan_item")] += 1
                    iq += 1
                elif all(s is not None for s in st):
                    qcounts[("claim_items", m, "claim_quarantined")] += 1
                    iq += 1
                elif it["claim_id"] in netted:
                    inn += 1
        recon[("claim_items", m)] = (ni, ni - iq - inn, iq, inn)

    truth_q = {(r["table"], r["month"], r["reason"]): r["rows"] for r in rows(root + "/truth/quarantine_counts.parquet")}
    mine_q = {k: v for k, v in qcounts.items()}
    if truth_q == mine_q:
        print("quarantine counts: MATCH", sum(truth_q.values()), "rows,", len({k[2] for k in truth_q}), "reasons")
    else:
        print("quarantine counts: DIFFER")
        for k in sorted(set(truth_q) | set(mine_q)):
            if truth_q.get(k) != mine_q.get(k):
                print("  ", k, "truth", truth_q.get(k), "checker", mine_q.get(k))
    truth_r = {(r["table"], r["month"]): (r["read"], r["used"], r["quarantined"], r["netted"]) for r in rows(root + "/truth/reconciliation.parquet")}
    print("reconciliation:", "MATCH" if truth_r == recon else ("DIFFER", [(k, truth_r.get(k), recon.get(k)) for k in recon if truth_r.get(k) != recon.get(k)][:5]))

    # row-level contract checks of valid rows
    bad = 0
    for m, vr in claims_by_month.items():
        for r in vr:
            if r["reverses_claim_id"] is None and r["vbp_points"] < r["vbp_amount"]:
                bad += 1
    print("vbp_points < vbp_amount on valid rows:", bad)

    # items of valid rows
    items_by_claim = defaultdict(list)
    for m in months:
        for f in sorted(glob.glob(f"{root}/claim_items/year={year}/month={m:02d}/*.parquet")):
            for it in rows(f):
                items_by_claim[it["claim_id"]].append(it)

    # ---------------- quarters ----------------
    truth_s = defaultdict(set)
    for r in rows(root + "/truth/suspicions.parquet"):
        truth_s[(r["quarter"], r["rule_id"])].add(r["claim_id"])
    truth_w = defaultdict(set)
    for r in rows(root + "/truth/warned.parquet"):
        truth_w[r["quarter"]].add(r["institution_id"])
    planned_warned = set().union(*truth_w.values()) if truth_w else set()
    rules = pol["rules"]
    warn = pol["warnings"]
    margins = {k: Fraction(v) for k, v in warn.get("margins", {}).items()}
    default_margin = Fraction(warn["margin"])
    scope = set(warn["scope_visit_types"])
    outtypes = {"general_outpatient", "special_outpatient", "pharmacy"}
    for q in range(1, 5):
        qm = [(q - 1) * 3 + k for k in (1, 2, 3)]
        if not all(m in months for m in qm):
            continue
        qclaims = {}
        for m in qm:
            for r in claims_by_month[m]:
                if r["reverses_claim_id"] is None:
                    qclaims[r["claim_id"]] = r
        for m in qm:
            for r in claims_by_month[m]:
                t = r["reverses_claim_id"]
                if t is not None and t in qclaims:
                    del qclaims[t]
        ctx = {}
        pm = qm[0] - 1
        if pm in claims_by_month:
            for r in claims_by_month[pm]:
                if r["reverses_claim_id"] is None:
                    ctx[r["claim_id"]] = r
            for r in claims_by_month[pm]:
                t = r["reverses_claim_id"]
                if t is not None and t in ctx:
                    del ctx[t]
        found = defaultdict(set)
        Q = list(qclaims.values())
        inp_q = [r for r in Q if r["visit_type"] == "inpatient"]
        inp_all = inp_q + [r for r in ctx.values() if r["visit_type"] == "inpatient"]
        byp = defaultdict(list)
        for r in inp_all:
            byp[r["patient_id"]].append(r)
        for L in inp_q:
            for E in byp[L["patient_id"]]:
                if E["claim_id"] == L["claim_id"]:
                    continue
                if E["discharge_date"] <= L["admit_date"] and 0 <= (L["admit_date"] - E["discharge_date"]).days <= rules["readmission_days"] and E["diagnosis_code"][:3] == L["diagnosis_code"][:3]:
                    found["R01"].add(L["claim_id"])
        # R02
        dq = sum(((__import__("calendar").monthrange(year, m)[1]) for m in qm))
        lim = Fraction(dq) * (1 + Fraction(rules["overbuy_tolerance"]))
        special_pat = {r["patient_id"] for r in Q if r["visit_type"] == "special_outpatient"}
        per = defaultdict(lambda: [0, set(), set()])
        for r in Q:
            if r["patient_id"] in special_pat and r["visit_type"] in ("special_outpatient", "pharmacy"):
                for it in items_by_claim.get(r["claim_id"], []):
                    c = cat.get(it["item_code"])
                    if c and c["fee_class"] in ("western", "patent", "herbal") and it["days_supply"] is not None:
                        e = per[(r["patient_id"], it["item_code"])]
                        e[0] += it["days_supply"]
                        e[1].add(r["institution_id"])
                        e[2].add(r["claim_id"])
        for k, e in per.items():
            if e[0] > lim and len(e[1]) >= 2:
                found["R02"] |= e[2]
        # R03
        buckets = defaultdict(list)
        outq = [r for r in Q if r["visit_type"] in outtypes]
        for r in outq:
            t = r["settle_time"]
            b = (t.hour * 60 + t.minute) // rules["cluster_bucket_minutes"]
            buckets[(r["institution_id"], t.date(), b)].append(r)
        maxbucket = defaultdict(int)
        for k, rs in buckets.items():
            cls = insts[k[0]]["budget_class"]
            n = len({r["patient_id"] for r in rs})
            if not any(r["patient_id"].startswith("P9") for r in rs):
                maxbucket[cls] = max(maxbucket[cls], n)
            if n >= rules["cluster_min_patients"][cls]:
                found["R03"] |= {r["claim_id"] for r in rs}
        # R04
        sd = defaultdict(list)
        for r in outq:
            sd[(r["patient_id"], r["institution_id"], r["settle_time"].date())].append(r)
        for k, rs in sd.items():
            if len(rs) >= rules["repeat_same_day_min"]:
                found["R04"] |= {r["claim_id"] for r in rs}
        # R05
        lo = Decimal(rules["large_outpatient_amount"])
        for r in Q:
            if r["visit_type"] in ("general_outpatient", "pharmacy") and r["total_amount"] >= lo:
                found["R05"].add(r["claim_id"])
        # R06
        stays = defaultdict(list)
        for r in inp_q:
            stays[r["patient_id"]].append(r)
        for r in list(Q) + list(ctx.values()):
            if r["visit_type"] in outtypes:
                d = r["settle_time"].date()
                for s in stays.get(r["patient_id"], []):
                    if s["admit_date"] < d < s["discharge_date"]:
                        found["R06"].add(r["claim_id"])
        # R07
        for r in Q:
            g = r["patient_gender"]
            if g is None:
                continue
            for it in items_by_claim.get(r["claim_id"], []):
                c = cat.get(it["item_code"])
                if c and c["gender_limit"] is not None and c["gender_limit"] != g:
                    found["R07"].add(r["claim_id"])
        # R08
        xa = Decimal(rules["cross_province_inpatient_amount"])
        for r in inp_q:
            if r["insured_region"] == "cross_province" and r["total_amount"] >= xa:
                found["R08"].add(r["claim_id"])
        ok = True
        for rule in ["R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08"]:
            t = truth_s.get((q, rule), set())
            f = found.get(rule, set())
            if t != f:
                ok = False
                print(f"  Q{q} {rule}: truth {len(t)} found {len(f)}; missing {sorted(t - f)[:5]} extra {sorted(f - t)[:5]}")
        print(f"Q{q} suspicions:", "MATCH" if ok else "DIFFER", {r: len(found.get(r, ())) for r in sorted(found)},
              "max background bucket", dict(maxbucket))

        # warnings Part A
        sc = [r for r in Q if r["visit_type"] in scope]
        st = defaultdict(lambda: {"visits": 0, "pat": defaultdict(int), "drug": 0, "key": 0, "total": 0, "cost": defaultdict(Decimal)})
        for r in sc:
            s = st[r["institution_id"]]
            s["visits"] += 1
            s["pat"][r["patient_id"]] += 1
            s["drug"] += r["western_drug_amount"] + r["patent_drug_amount"] + r["herbal_amount"]
            s["key"] += r["key_drug_amount"]
            s["total"] += r["total_amount"]
        minv = warn["min_visits"]
        hf = warn["high_frequency_visits"]

        def ind(s):
            n = len(s["pat"])
            return {
                "drug_ratio": (Fraction(s["drug"]), Fraction(s["total"])),
                "key_drug_ratio": (Fraction(s["key"]), Fraction(s["drug"])),
                "cost_per_visit": (Fraction(s["total"]), Fraction(s["visits"])),
                "visits_per_patient": (Fraction(s["visits"]), Fraction(n)),
                "high_frequency_share": (Fraction(sum(1 for v in s["pat"].values() if v >= hf)), Fraction(n)),
            }
        peers = defaultdict(lambda: defaultdict(lambda: [Fraction(0), Fraction(0)]))
        for i, s in st.items():
            if s["visits"] >= minv:
                cls = insts[i]["budget_class"]
                for k, (a, b) in ind(s).items():
                    peers[cls][k][0] += a
                    peers[cls][k][1] += b
        operating = {}
        worst = defaultdict(lambda: (0, None))
        for i, s in st.items():
            if s["visits"] < minv:
                continue
            cls = insts[i]["budget_class"]
            hits = 0
            for k, (a, b) in ind(s).items():
                pa, pb = peers[cls][k]
                if b == 0 or pb == 0:
                    continue
                v = a / b
                pv = pa / pb
                mg = margins.get(k, default_margin)
                if v > pv * (1 + mg):
                    hits += 1
                if i not in planned_warned and pv > 0:
                    ratio = float(v / pv)
                    if ratio > worst[k][0]:
                        worst[k] = (round(ratio, 3), i)
            operating[i] = hits >= warn["min_hits"]
        # Part B
        pc = defaultdict(Decimal)
        for r in sc:
            pc[r["patient_id"]] += r["total_amount"]
        costs = sorted(pc.items(), key=lambda kv: (-kv[1], kv[0]))
        vals = sorted(pc.values())
        n = len(vals)
        med = vals[n // 2] if n % 2 == 1 else (vals[n // 2 - 1] + vals[n // 2]) / 2
        topn = math.ceil(Fraction(warn["associated"]["top_share"]) * n)
        mult = Decimal(warn["associated"]["median_multiple"])
        top = {p for p, c in costs[:topn] if c >= mult * med}
        tc = defaultdict(Decimal)
        tp = defaultdict(set)
        for r in sc:
            if r["patient_id"] in top:
                tc[r["institution_id"]] += r["total_amount"]
                tp[r["institution_id"]].add(r["patient_id"])
        assoc = {}
        worst_share = (0, None)
        for i, s in st.items():
            share = tc[i] / s["total"] if s["total"] else 0
            assoc[i] = share >= Decimal(warn["associated"]["min_cost_share"]) and len(tp[i]) >= warn["associated"]["min_top_patients"]
            if i not in planned_warned and len(tp[i]) >= 3 and share > worst_share[0]:
                worst_share = (round(float(share), 3), i)
        warned = {i for i in st if st[i]["visits"] >= minv and operating.get(i) and assoc.get(i)}
        print(f"Q{q} warned:", sorted(warned), "truth", sorted(truth_w.get(q, set())),
              "MATCH" if warned == truth_w.get(q, set()) else "DIFFER")
        print(f"   top patients {len(top)}/{topn} of {n}, median {med}; worst background value/peer:",
              {k: v for k, v in worst.items()}, "worst background top share (>=3 top):", worst_share,
              "associated background:", sorted(i for i in assoc if assoc[i] and i not in planned_warned))

    # ---------------- point values (Steps 1-7, without card suspensions) ----------------
    budgets = {(b["payment_class"], b["budget_class"], b["fee_class"]): Decimal(b["annual"]) for b in pol["budget"]}
    weights = [Decimal(w) for w in pol["settlement"]["monthly_weights"]]
    conv = Decimal(pol["settlement"]["inpatient_item_conversion"]["base_avg_cost"]) * Decimal(pol["settlement"]["inpatient_item_conversion"]["cpi_factor"]) / Decimal(pol["settlement"]["inpatient_item_conversion"]["points_per_weight"])
    vp = pol.get("volume_price", {})
    thr = {(t["budget_class"], t["fee_class"]): Decimal(t["per_doctor_day"]) for t in vp.get("threshold", [])}
    ovr = {(t["institution_id"], t["fee_class"]): Decimal(t["per_doctor_day"]) for t in vp.get("override", [])}
    tiers = [(Decimal(t["over_ratio_from"]), Decimal(t["over_ratio_to"]) if "over_ratio_to" in t else None, Decimal(t["coefficient"])) for t in vp.get("tier", [])]
    cls = {i: r["budget_class"] for i, r in insts.items()}

    def active(i, d):
        r = insts[i]
        return (r["agreement_start"] is None or d >= r["agreement_start"]) and (r["agreement_end"] is None or d <= r["agreement_end"])

    def q4(x):
        return x.quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")

    def points(r):
        mo = {c: r[c] for c in MONEY}
        if r["visit_type"] == "inpatient":
            if r["pay_method"] == "case":
                return "inp", r["case_points"], None
            return "inp", q4(mo["total_amount"] / conv), None
        raw = mo["western_drug_amount"] + mo["patent_drug_amount"] + mo["consumable_amount"] - mo["vbp_amount"] + mo["vbp_points"]
        if r["pay_method"] == "case":
            d = min(raw, r["case_points"])
            o = r["case_points"] - d
        else:
            d, o = raw, mo["herbal_amount"] + mo["service_amount"]
        kind = "chemo" if r["visit_type"] == "special_outpatient" and r["special_disease"] == "cancer_chemo" else "out"
        return kind, d, o

    cum = defaultdict(Decimal)  # (cell) -> effective points
    chemo_pts = defaultdict(Decimal)  # (class(b), f) -> chemo points
    print("point values (cumulative):")
    for m in months:
        netted_ids = set()
        vr = claims_by_month[m]
        ids = {r["claim_id"] for r in vr}
        for r in vr:
            if r["reverses_claim_id"] in ids:
                netted_ids.add(r["claim_id"])
                netted_ids.add(r["reverses_claim_id"])
        adj = defaultdict(Decimal)
        dd = defaultdict(set)
        for r in vr:
            if r["claim_id"] in netted_ids:
                continue
            sign = 1
            src = r
            if r["reverses_claim_id"] is not None:
                sign = -1
                src = valid_nonrev[r["reverses_claim_id"]][1]
            presc = src["prescriber_institution_id"] if src["visit_type"] == "pharmacy" else None
            day = src["settle_time"].date()
            if not active(src["institution_id"], day) or (presc and not active(presc, day)):
                continue
            if src["visit_type"] == "pharmacy" and presc is None:
                continue
            b = presc or src["institution_id"]
            kind, d, o = points(src)
            if kind == "inp":
                cum[("inpatient", "tcm" if cls[b] == "tcm" else "western")] += sign * d
                continue
            if kind == "chemo":
                chemo_pts[(cls[b], "drug", "tcm" if cls[b] == "tcm" else "western")] += sign * d
                chemo_pts[(cls[b], "other", "tcm" if cls[b] == "tcm" else "western")] += sign * o
            else:
                cum[("outpatient", cls[b], "drug")] += sign * d
                cum[("outpatient", cls[b], "other")] += sign * o
                if src["pay_method"] == "item":
                    adj[(b, "drug")] += sign * (src["western_drug_amount"] + src["patent_drug_amount"] + src["consumable_amount"] - src["vbp_amount"])
                    adj[(b, "other")] += sign * src["service_amount"]
            if sign == 1 and src["visit_type"] in ("general_outpatient", "special_outpatient"):
                dd[b].add((src["doctor_id"], day))
        nred = 0
        for (b, f), a in adj.items():
            t = ovr.get((b, f), thr.get((cls[b], f)))
            D = len(dd.get(b, ()))
            if t is None or D == 0:
                continue
            T = t * D
            e = max(Decimal(0), a - T)
            red = Decimal(0)
            for fr, to, co in tiers:
                top = e if to is None else min(e, to * T)
                red += max(Decimal(0), top - fr * T) * (1 - co)
            if red > 0:
                nred += 1
            cum[("outpatient", cls[b], f)] -= q4(red)
        wsum = sum(weights[:m])
        pv = {}
        for (pc_, bc, fc), annual in budgets.items():
            if pc_ != "outpatient":
                continue
            ep = cum[("outpatient", bc, fc)]
            if ep > 0:
                pv[(bc, fc)] = (annual * wsum).quantize(Decimal("0.01")) / ep
        chemo_amt = defaultdict(Decimal)
        for (bc, f, wt), p in chemo_pts.items():
            chemo_amt[wt] += p * min(pv.get((bc, f), Decimal(0)), Decimal(1))
        inp = {}
        for wt in ("western", "tcm"):
            ep = cum[("inpatient", wt)]
            cb = (budgets[("inpatient", wt, "all")] * wsum).quantize(Decimal("0.01")) - chemo_amt[wt]
            if ep > 0:
                inp[wt] = cb / ep / conv
        print(f"  {m:02d}: reduced institutions {nred}; outpatient", " ".join(f"{k[0][:4]}/{k[1][:2]}={float(v):.3f}" for k, v in sorted(pv.items())),
              "; inpatient/conv", " ".join(f"{k}={float(v):.3f}" for k, v in inp.items()))


if __name__ == "__main__":
    main()
