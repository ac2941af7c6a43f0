#!/usr/bin/env python3
"""Checks that the Glue tables of template.yaml describe the Parquet files the engine writes.

usage: check_glue_tables.py TEMPLATE LAKE_DIR

For every AWS::Glue::Table of the template, the Parquet files under LAKE_DIR/<area>/<table>/
must have exactly the table's columns, in order and with the Athena types that match their
Arrow types, plus the partition columns (year, month or quarter, typed int) in their folder
names. Tables with no files in the lake are listed as not checked. Exits 1 on any mismatch.
(Used by the S3 end-to-end test on the lake it has just computed.)
"""
import glob
import os
import re
import sys

import pyarrow.parquet as pq
import yaml


class Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags kept as plain values."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


Loader.add_multi_constructor("!", _tag)


def athena_type(arrow_type):
    text = str(arrow_type)
    m = re.fullmatch(r"decimal128\((\d+), (\d+)\)", text)
    if m:
        return f"decimal({m.group(1)},{m.group(2)})"
    return {
        "string": "string",
        "large_string": "string",
        "int64": "bigint",
        "int32": "int",
        "bool": "boolean",
        "date32[day]": "date",
        "timestamp[us]": "timestamp",
    }.get(text, f"<no Athena type for {text}>")


def main():
    template, lake = sys.argv[1], sys.argv[2]
    with open(template, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=Loader)
    failures, checked, unchecked = [], [], []
    for name, res in doc["Resources"].items():
        if res["Type"] != "AWS::Glue::Table":
            continue
        ti = res["Properties"]["TableInput"]
        sd = ti["StorageDescriptor"]
        folder = sd["Location"].split("${LakePrefix}/", 1)[1].strip("/")
        parts = [(p["Name"], p["Type"]) for p in ti["PartitionKeys"]]
        if any(t != "int" for _, t in parts):
            failures.append(f"{ti['Name']}: partition keys must be int: {parts}")
        want = [(c["Name"], c["Type"]) for c in sd["Columns"]]
        files = sorted(glob.glob(os.path.join(lake, folder, "**", "*.parquet"), recursive=True))
        if not files:
            unchecked.append(ti["Name"])
            continue
        for path in files:
            rel = os.path.relpath(path, os.path.join(lake, folder))
            keys = [seg.split("=")[0] for seg in rel.split(os.sep)[:-1]]
            if keys != [p for p, _ in parts]:
                failures.append(f"{folder}/{rel}: partition folders {keys}, table has {parts}")
            schema = pq.read_schema(path)
            got = [
                (n, athena_type(t))
                for n, t in zip(schema.names, schema.types)
                if n not in dict(parts)
            ]
            if got != want:
                failures.append(
                    f"{folder}/{rel}:\n  file:  {got}\n  table: {want}"
                )
                break
        checked.append(ti["Name"])
    print(f"glue tables checked against the lake: {', '.join(checked) or 'none'}")
    if unchecked:
        print(f"not in this lake (not checked): {', '.join(unchecked)}")
    for f in failures:
        print("MISMATCH", f)
    sys.exit(1 if failures or not checked else 0)


if __name__ == "__main__":
    main()
