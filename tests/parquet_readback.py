#!/usr/bin/env python3
"""Reads a Parquet file that Dropsync wrote with pyarrow, an outside reader,
and compares it with what it should hold.

    python3 tests/parquet_readback.py FILE.parquet EXPECTED.json

EXPECTED.json:

    {"columns": [{"name": "ts", "arrow": "timestamp[us, tz=UTC]",
                  "logical": "Timestamp(isAdjustedToUTC=true, ...)"}, ...],
     "rows": [[...], ...]}

`arrow` is the type pyarrow reads the column as, `logical` the Parquet
logical type as pyarrow prints it ("None" for none). Each value is in this
canonical JSON form: null, booleans, integers and strings as they are;
floats as numbers, or "nan", "inf", "-inf", "-0.0" (which JSON cannot say);
bytes in hex; dates as YYYY-MM-DD; timestamps as microseconds since
1970-01-01T00:00:00Z (the value must be time-zone aware, in UTC); decimals
as their exact text ("-7.000").

Exits 0 when everything matches, 1 with each difference on stderr.
Run by the Rust test `format::parquet::tests::pyarrow_reads_every_type_back`.
"""

import datetime
import decimal
import json
import math
import sys

import pyarrow.parquet as pq

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def canonical(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == 0 and math.copysign(1, v) < 0:
            return "-0.0"
        return v
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None or v.utcoffset() != datetime.timedelta(0):
            raise ValueError(f"timestamp {v!r} is not in UTC")
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    raise ValueError(f"no canonical form for {type(v).__name__} {v!r}")


def main(path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    problems = []

    table = pq.read_table(path)
    parquet_schema = pq.ParquetFile(path).schema
    names = [c["name"] for c in expected["columns"]]
    if table.column_names != names:
        problems.append(f"columns {table.column_names}, expected {names}")
    else:
        for i, c in enumerate(expected["columns"]):
            arrow = str(table.schema.field(i).type)
            if arrow != c["arrow"]:
                problems.append(f"column {c['name']!r}: pyarrow type {arrow}, expected {c['arrow']}")
            logical = str(parquet_schema.column(i).logical_type)
            if logical != c["logical"]:
                problems.append(
                    f"column {c['name']!r}: Parquet logical type {logical}, expected {c['logical']}"
                )

    rows = [list(r.values()) for r in table.to_pylist()]
    if len(rows) != len(expected["rows"]):
        problems.append(f"{len(rows)} rows, expected {len(expected['rows'])}")
    for n, (got, want) in enumerate(zip(rows, expected["rows"])):
        for name, g, w in zip(names, got, want):
            try:
                g = canonical(g)
            except ValueError as e:
                problems.append(f"row {n} column {name!r}: {e}")
                continue
            if g != w or type(g) is not type(w):
                problems.append(f"row {n} column {name!r}: read {g!r}, expected {w!r}")

    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"{path}: {len(rows)} rows of {len(names)} columns read back by pyarrow as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
