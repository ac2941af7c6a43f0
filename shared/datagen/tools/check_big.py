#!/usr/bin/env python3
"""Vectorised (pyarrow) background-margin check of one quarter of a large generated lake.

Computes, on the valid claims of the quarter (rows with a patient id, no reversal pairs; bad rows
are too rare to matter at this scale), the five operating indicators per institution against
the pooled peer values, the associated-patient shares, the largest 10-minute cluster per class
and counts of claims that match R05/R08 thresholds, and prints how close the background comes to
each threshold (planted institutions and patients `P9…` excluded).

usage: python3 check_big.py LAKE_ROOT YEAR QUARTER
"""
import glob
import math
import sys
import tomllib

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def main():
    root, year, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    pol = tomllib.load(open(f"{root}/policy/{year}.toml", "rb")) if glob.glob(f"{root}/policy/{year}.toml") else None
    months = [(q - 1) * 3 + k for k in (1, 2, 3)]
    cols = ["claim_id", "institution_id", "patient_id", "visit_type", "settle_time", "total_amount",
            "western_drug_amount", "patent_drug_amount", "herbal_amount", "key_drug_amount",
            "reverses_claim_id", "insured_region"]
    tabs = []
    for m in months:
        for f in sorted(glob.glob(f"{root}/claims/year={year}/month={m:02d}/*.parquet")):
            tabs.append(pq.ParquetFile(f).read(columns=cols))
    t = pa.concat_tables(tabs)
    print("rows", t.num_rows)
    rev = t.filter(pc.is_valid(t["reverses_claim_id"]))
    gone = pa.concat_arrays([rev["claim_id"].combine_chunks(), rev["reverses_claim_id"].combine_chunks()])
    t = t.filter(pc.and_(pc.is_null(t["reverses_claim_id"]), pc.invert(pc.is_in(t["claim_id"], value_set=gone))))
    t = t.filter(pc.is_valid(t["patient_id"]))
    insts = pq.read_table(glob.glob(f"{root}/reference/institutions/*.parquet")[0]).to_pylist()
    cls = {r["institution_id"]: r["budget_class"] for r in insts}
    warned = set()
    w = pq.read_table(f"{root}/truth/warned.parquet").to_pylist()
    warned = {r["institution_id"] for r in w if r["quarter"] == q}
    scope = t.filter(pc.is_in(t["visit_type"], value_set=pa.array(["general_outpatient", "special_outpatient", "pharmacy"])))
    f64 = pa.float64()
    scope = scope.append_column("drug", pc.add(pc.add(scope["western_drug_amount"].cast(f64), scope["patent_drug_amount"].cast(f64)), scope["herbal_amount"].cast(f64)))
    scope = scope.append_column("tot", scope["total_amount"].cast(f64))
    scope = scope.append_column("key", scope["key_drug_amount"].cast(f64))
    per_inst = scope.group_by("institution_id").aggregate([("tot", "sum"), ("drug", "sum"), ("key", "sum"), ("claim_id", "count"), ("patient_id", "count_distinct")]).to_pylist()
    pi = scope.group_by(["institution_id", "patient_id"]).aggregate([("claim_id", "count")])
    hf = pi.filter(pc.greater_equal(pi["claim_id_count"], 12)).group_by("institution_id").aggregate([("patient_id", "count")]).to_pylist()
    hfm = {r["institution_id"]: r["patient_id_count"] for r in hf}
    minv = pol["warnings"]["min_visits"] if pol else 300
    peers = {}
    rows = []
    for r in per_inst:
        i = r["institution_id"]
        v = r["claim_id_count"]
        n = r["patient_id_count_distinct"]
        ind = {"drug_ratio": (r["drug_sum"], r["tot_sum"]), "key_drug_ratio": (r["key_sum"], r["drug_sum"]),
               "cost_per_visit": (r["tot_sum"], v), "visits_per_patient": (v, n), "high_frequency_share": (hfm.get(i, 0), n)}
        rows.append((i, v, ind))
        if v >= minv:
            p = peers.setdefault(cls[i], {})
            for k, (a, b) in ind.items():
                x = p.setdefault(k, [0.0, 0.0])
                x[0] += a
                x[1] += b
    worst = {}
    for i, v, ind in rows:
        if v < minv or i in warned:
            continue
        for k, (a, b) in ind.items():
            pa_, pb = peers[cls[i]][k]
            if b == 0 or pa_ == 0:
                continue
            ratio = (a / b) / (pa_ / pb)
            if ratio > worst.get(k, (0, None))[0]:
                worst[k] = (round(ratio, 3), i)
    print("worst background value/peer:", worst)
    eligible = sum(1 for _, v, _ in rows if v >= minv)
    print("institutions with in-scope claims", len(rows), "eligible", eligible)
    # Part B
    pcst = scope.group_by("patient_id").aggregate([("tot", "sum")])
    n = pcst.num_rows
    srt = pcst.sort_by([("tot_sum", "descending"), ("patient_id", "ascending")])
    topn = math.ceil(0.01 * n)
    med = pc.approximate_median(pcst["tot_sum"]).as_py()
    top = srt.slice(0, topn)
    top = top.filter(pc.greater_equal(top["tot_sum"], 5 * med))
    print("patients", n, "top", top.num_rows, "of", topn, "median ~", round(med, 2), "top threshold", top["tot_sum"][-1].as_py() if top.num_rows else None)
    ts = scope.filter(pc.is_in(scope["patient_id"], value_set=top["patient_id"]))
    tagg = {r["institution_id"]: r for r in ts.group_by("institution_id").aggregate([("tot", "sum"), ("patient_id", "count_distinct")]).to_pylist()}
    tot = {r["institution_id"]: r["tot_sum"] for r in per_inst}
    ws = (0, None)
    assoc = []
    for i, r in tagg.items():
        share = r["tot_sum"] / tot[i]
        if r["patient_id_count_distinct"] >= 3 and i not in warned:
            if share > ws[0]:
                ws = (round(share, 3), i)
            if share >= 0.2:
                assoc.append(i)
    print("worst background top share:", ws, "associated background:", assoc[:10])
    print("warned (truth):", sorted(warned), "their top share:", {i: round(tagg[i]["tot_sum"] / tot[i], 3) for i in warned if i in tagg})
    # R03 largest background cluster per class
    out = t.filter(pc.is_in(t["visit_type"], value_set=pa.array(["general_outpatient", "special_outpatient", "pharmacy"])))
    out = out.filter(pc.invert(pc.starts_with(out["patient_id"], "P9")))
    ms = pc.cast(out["settle_time"], pa.int64())
    bucket = pc.divide(ms, 600_000)
    out = out.append_column("bucket", bucket)
    b = out.group_by(["institution_id", "bucket"]).aggregate([("patient_id", "count_distinct")])
    ids = pa.array(list(cls.keys()))
    classes = pa.array(list(cls.values()))
    b = b.append_column("class", pc.take(classes, pc.index_in(b["institution_id"], value_set=ids)))
    mx = {r["class"]: r["patient_id_count_distinct_max"] for r in b.group_by("class").aggregate([("patient_id_count_distinct", "max")]).to_pylist()}
    print("largest background 10-minute cluster per class:", mx)
    r05 = out.filter(pc.and_(pc.is_in(out["visit_type"], value_set=pa.array(["general_outpatient", "pharmacy"])), pc.greater_equal(out["total_amount"].cast(f64), 5000.0)))
    print("background R05 hits:", r05.num_rows)
    inp = t.filter(pc.and_(pc.equal(t["visit_type"], "inpatient"), pc.equal(t["insured_region"], "cross_province")))
    inp = inp.filter(pc.invert(pc.starts_with(inp["patient_id"], "P9")))
    print("background R08 hits:", inp.filter(pc.greater_equal(inp["total_amount"].cast(f64), 30000.0)).num_rows)
    sd = out.append_column("day", pc.divide(ms, 86_400_000)).group_by(["patient_id", "institution_id", "day"]).aggregate([("claim_id", "count")])
    print("background max same-day claims at one institution:", pc.max(sd["claim_id_count"]).as_py())


if __name__ == "__main__":
    main()
