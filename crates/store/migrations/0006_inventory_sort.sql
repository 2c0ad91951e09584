-- Indexes for the devices list's sort orders (store::inventory): one per column and direction,
-- matching `ORDER BY (col IS NULL), col DIR, key DIR, id` exactly, so a page reads its rows in
-- order from the index instead of sorting every device (bench/RESULTS-api.md: the first page by
-- address at 100,000 devices went from a 37 ms sort to 0.1 ms).

CREATE INDEX devices_sort_ip_asc ON devices ((ip_sort IS NULL), ip_sort, key, id);
CREATE INDEX devices_sort_ip_desc ON devices ((ip_sort IS NULL), ip_sort DESC, key DESC, id);
CREATE INDEX devices_sort_vendor_asc ON devices ((vendor IS NULL), vendor, key, id);
CREATE INDEX devices_sort_vendor_desc ON devices ((vendor IS NULL), vendor DESC, key DESC, id);
CREATE INDEX devices_sort_type_asc ON devices ((type IS NULL), type, key, id);
CREATE INDEX devices_sort_type_desc ON devices ((type IS NULL), type DESC, key DESC, id);
CREATE INDEX devices_sort_name_asc ON devices ((name IS NULL), name, key, id);
CREATE INDEX devices_sort_name_desc ON devices ((name IS NULL), name DESC, key DESC, id);
CREATE INDEX devices_sort_first_seen_asc ON devices ((first_seen IS NULL), first_seen, key, id);
CREATE INDEX devices_sort_first_seen_desc ON devices ((first_seen IS NULL), first_seen DESC, key DESC, id);
CREATE INDEX devices_sort_last_seen_asc ON devices ((last_seen IS NULL), last_seen, key, id);
CREATE INDEX devices_sort_last_seen_desc ON devices ((last_seen IS NULL), last_seen DESC, key DESC, id);
