#!/usr/bin/env python3
"""Compares a generated lake's warnings with the generator's ground truth, per quarter.

For each quarter given (default: every quarter with results): warned institutions
(results/warnings, warned = true) against truth/warned.parquet, and suspicions
(restricted/suspicions, per rule R01-R08) against truth/suspicions.parquet, printing recall
and precision per rule. Exits 1 on any difference. The tests do the same on tiny and small
lakes; this script is for the city scale, which CI does not run.

usage: scripts/check-warnings-truth.py LAKE_ROOT [2025Q1 ...]
"""
import glob
import os
import sys

import pyarrow.parquet as pq


def read(pattern):
    files = sorted(glob.glob(pattern))
    out = []
    for f in files:
        out.extend(pq.ParquetFile(f).read().to_pylist())
    return out


def main():
    root = sys.argv[1]
    quarters = sys.argv[2:]
    if not quarters:
        for d in sorted(glob.glob(os.path.join(root, "results/warnings/year=*/quarter=*"))):
            y = d.split("year=")[1].split("/")[0]
            q = d.split("quarter=")[1]
            quarters.append(f"{y}Q{int(q)}")
    warned_truth = read(os.path.join(root, "truth/warned.parquet"))
    susp_truth = read(os.path.join(root, "truth/suspicions.parquet"))
    ok = True
    print("| quarter | rule | planted | found | recall | precision |")
    print("|---|---|---:|---:|---:|---:|")
    for label in quarters:
        year, q = int(label[:4]), int(label[5:])
        part = f"year={year}/quarter={q}"
        warned = {r["institution_id"] for r in read(os.path.join(root, f"results/warnings/{part}/*.parquet")) if r["warned"]}
        planted = {r["institution_id"] for r in warned_truth if r["year"] == year and r["quarter"] == q}
        same = warned == planted
        ok &= same
        print(f"| {label} | warned institutions | {len(planted)} | {len(warned)} | "
              f"{'equal' if same else 'DIFFERENT'} | |")
        if not same:
            print(f"  missed {sorted(planted - warned)[:10]} extra {sorted(warned - planted)[:10]}")
        found = {(r["rule_id"], r["claim_id"]) for r in read(os.path.join(root, f"restricted/suspicions/{part}/*.parquet"))}
        truth = {(r["rule_id"], r["claim_id"]) for r in susp_truth if r["year"] == year and r["quarter"] == q}
        for rule in [f"R0{i}" for i in range(1, 9)]:
            f = {c for (r, c) in found if r == rule}
            t = {c for (r, c) in truth if r == rule}
            hit = len(f & t)
            recall = hit / len(t) if t else 1.0
            precision = hit / len(f) if f else 1.0
            ok &= f == t
            print(f"| {label} | {rule} | {len(t)} | {len(f)} | {recall:.3f} | {precision:.3f} |")
    print("ALL EQUAL" if ok else "DIFFERENCES FOUND")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
