#!/usr/bin/env python3
"""Where a devices-list page's time goes in SQLite: the queries `store::listing` builds for a few
kinds of page (the ids of the page from an index, then the devices by id; the total from a
filter column's index or the trigram search index), their query plans and their time in
Python's sqlite3 on the benchmark's store (read-only, with the server's memory-mapped reads).
Prints a Markdown table.

The server runs its own SQLite (bundled with sqlx); Python's may be older. Where an older one
lacks a function the store uses (`json_group_array(... ORDER BY ...)`, SQLite 3.44), the inner
query (the ids in order, LIMIT/OFFSET) is timed instead; it is where the work is.

    explain.py DATA/otsensor.db
"""

import json
import sqlite3
import sys
import time

IDS = "SELECT d.id FROM devices d INDEXED BY {index} WHERE 1 = 1{where} {order} LIMIT {limit} OFFSET {offset}"


def order(col, desc=False, pinned=False):
    d = "DESC" if desc else "ASC"
    if pinned:
        return f"ORDER BY {col} {d}, d.key {d}, d.id"
    return f"ORDER BY ({col} IS NULL), {col} {d}, d.key {d}, d.id"


def ids(index, where="", col="d.ip_sort", desc=False, offset=0, limit=50, pinned=False):
    return IDS.format(index=index, where=where, order=order(col, desc, pinned), limit=limit,
                      offset=offset)


def distinct(column, index, test):
    return (f"WITH RECURSIVE v(x) AS (SELECT (SELECT {column} FROM devices INDEXED BY {index} "
            f"WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1) UNION ALL SELECT (SELECT "
            f"{column} FROM devices INDEXED BY {index} WHERE {column} > v.x ORDER BY {column} "
            f"LIMIT 1) FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE {test}")


def cases(con, total):
    last = max(0, (total - 1) // 50 * 50)
    siemens = [r[0] for r in con.execute(
        distinct("vendor", "devices_by_vendor", "x LIKE '%Siemens%'"))]
    s7 = [r[0] for r in con.execute(distinct(
        "protocols", "devices_by_protocols",
        "EXISTS (SELECT 1 FROM json_each(v.x) p WHERE p.value = 's7')"))]
    vendors = json.dumps(siemens)
    protos = json.dumps(s7)
    big_ids = [r[0] for r in con.execute(ids("devices_list_ip_asc", offset=50000, limit=1000))]
    rows = ("SELECT group_concat(d.id, ','), group_concat(ifnull(d.parent_id, ''), ','), "
            "group_concat(d.key, char(30)), group_concat(d.attributes, char(30)), "
            "group_concat(d.first_seen, char(30)), group_concat(d.last_seen, char(30)) "
            "FROM devices d WHERE d.id IN (SELECT value FROM json_each('%s'))" % json.dumps(big_ids))
    fts = "SELECT rowid FROM device_search WHERE device_search MATCH '\"cpu 1516\"'"
    modicon = "SELECT rowid FROM device_search WHERE device_search MATCH '\"modicon\"'"
    return [
        ("count, no filter", "SELECT COUNT(*) FROM devices d"),
        ("first page by address (ids)", ids("devices_list_ip_asc")),
        ("last page by address (ids)", ids("devices_list_ip_asc", offset=last)),
        ("1,000 per page at 50,000 (ids)", ids("devices_list_ip_asc", offset=50000, limit=1000)),
        ("1,000 devices by id (one row)", rows),
        ("vendors containing Siemens (skip scan)",
         distinct("vendor", "devices_by_vendor", "x LIKE '%Siemens%'")),
        ("type=plc, count", "SELECT COUNT(*) FROM devices d INDEXED BY devices_by_type "
         "WHERE 1 = 1 AND d.type = 'plc'"),
        ("type=plc by name, page 2 (walk: 19,407 match)",
         ids("devices_list_name_asc", " AND +d.type = 'plc'", "d.name", offset=50)),
        ("type=hmi by name, page 2 (sorted apart: 2,298 match)",
         ids("devices_by_type", " AND d.type = 'hmi'", "d.name", offset=50)),
        ("vendor=Siemens by vendor desc, page 3 (seek)",
         ids("devices_list_vendor_desc",
             f" AND (d.vendor IS NULL) = 0 AND d.vendor BETWEEN '{min(siemens)}' AND "
             f"'{max(siemens)}' AND +d.vendor IN (SELECT value FROM json_each('{vendors}'))",
             "d.vendor", True, 100, pinned=True)),
        ("protocol=s7&top_level, count",
         "SELECT COUNT(*) FROM devices d INDEXED BY devices_by_protocols WHERE 1 = 1 AND "
         f"d.protocols IN (SELECT value FROM json_each('{protos}')) AND d.parent_id IS NULL"),
        ("protocol=s7&top_level by last_seen desc (walk)",
         ids("devices_list_last_seen_desc",
             f" AND +d.protocols IN (SELECT value FROM json_each('{protos}')) "
             "AND +d.parent_id IS NULL", "d.last_seen", True)),
        ("subnet=127.33.20.0/24, count", "SELECT COUNT(*) FROM devices d INDEXED BY devices_by_ip "
         "WHERE 1 = 1 AND d.ip_sort BETWEEN '4:7f211400' AND '4:7f2114ff'"),
        ("q=CPU 1516, count (trigram phrase)",
         "SELECT COUNT(*) FROM device_search WHERE device_search MATCH '\"cpu 1516\"'"),
        ("q=CPU 1516 by address, page 2 (walk)",
         ids("devices_list_ip_asc", f" AND d.id IN ({fts})", offset=50)),
        ("q=Modicon&top_level by type (walk to the end: no type)",
         ids("devices_list_type_asc", f" AND d.id IN ({modicon}) AND +d.parent_id IS NULL",
             "d.type", offset=50)),
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
    con.execute("PRAGMA mmap_size = 1073741824")
    (total,) = con.execute("SELECT COUNT(*) FROM devices").fetchone()
    print(f"{total:,} devices; ms per query in Python's sqlite3 {sqlite3.sqlite_version} (mean of 5, "
          "memory-mapped reads), plan as SQLite gives it.\n")
    print("| query | ms | plan |")
    print("|---|---:|---|")
    for name, sql in cases(con, total):
        try:
            ms, plan = timed(con, sql)
            print(f"| {name} | {ms:.2f} | {plan} |")
        except sqlite3.Error as e:
            print(f"| {name} | - | {e} |")
    con.close()


if __name__ == "__main__":
    main()
