#!/usr/bin/env python3
"""Where a devices-list page's time goes in SQLite: the queries `store::inventory::select_page`
builds (as of this benchmark's writing: COUNT(*), then the page ordered by
`(col IS NULL), col, key, id` with LIMIT/OFFSET), their query plans and their time in Python's
sqlite3 on the benchmark's store, next to the same page with an index matching that ORDER BY
(made on a copy of the store). Prints a Markdown table.

    explain.py DATA/otsensor.db
"""

import os
import shutil
import sqlite3
import sys
import tempfile
import time

COLS = "d.id, d.parent_id, d.key, d.attributes, d.first_seen, d.last_seen"


def page(where, col, desc, offset, limit=50):
    d = "DESC" if desc else "ASC"
    return (f"SELECT {COLS} FROM devices d WHERE 1 = 1{where} "
            f"ORDER BY ({col} IS NULL), {col} {d}, d.key {d}, d.id LIMIT {limit} OFFSET {offset}")


def cases(total):
    last = max(0, (total - 1) // 50 * 50)
    return [
        ("count, no filter", "SELECT COUNT(*) FROM devices d WHERE 1 = 1"),
        ("first page by address", page("", "d.ip_sort", False, 0)),
        ("last page by address", page("", "d.ip_sort", False, last)),
        ("first page by vendor, desc", page("", "d.vendor", True, 0)),
        ("first page by name", page("", "d.name", False, 0)),
        ("type=plc, by name, page 2", page(" AND d.type = 'plc'", "d.name", False, 50)),
        ("1,000 per page by address, first", page("", "d.ip_sort", False, 0, 1000)),
    ]


def timed(con, sql, n=5):
    plan = "; ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql))
    con.execute(sql).fetchall()
    t = time.perf_counter()
    for _ in range(n):
        con.execute(sql).fetchall()
    return (time.perf_counter() - t) / n * 1000, plan


def main():
    db = sys.argv[1]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    (total,) = con.execute("SELECT COUNT(*) FROM devices").fetchone()
    rows = [(name, *timed(con, sql)) for name, sql in cases(total)]
    con.close()
    with tempfile.TemporaryDirectory(prefix="bench-api-explain.") as tmp:
        copy = os.path.join(tmp, "copy.db")
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        for col in ["ip_sort", "vendor", "name"]:
            dst.execute(f"CREATE INDEX bench_{col}_asc ON devices (({col} IS NULL), {col}, key, id)")
            dst.execute(f"CREATE INDEX bench_{col}_desc ON devices (({col} IS NULL), {col} DESC, key DESC, id)")
        dst.commit()
        indexed = [timed(dst, sql) for _, sql in cases(total)]
        dst.close()
    print(f"{total:,} devices; ms per query in Python's sqlite3 (mean of 5), plan as SQLite gives it.\n")
    print("| query | ms now | plan now | ms with an index on ((col IS NULL), col, key, id) | plan then |")
    print("|---|---:|---|---:|---|")
    for (name, ms, plan), (ms2, plan2) in zip(rows, indexed):
        print(f"| {name} | {ms:.1f} | {plan} | {ms2:.1f} | {plan2} |")


if __name__ == "__main__":
    main()
