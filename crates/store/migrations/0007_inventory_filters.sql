-- The devices list's filters without reading every device (store::listing; bench/RESULTS-api.md:
-- filtered pages at 100,000 devices took 0.1-0.8 s, mostly the total of a filtered list).
--
-- 1. `protocols`: the attributes' protocol array as SQLite writes it (`json_extract(attributes,
--    '$.protocols')`, e.g. `["s7"]`), so the protocol filter reads a column instead of parsing
--    every device's JSON. The store writes it with every device; the triggers below fix it for any
--    other writer (a row whose column already matches is left alone).
-- 2. Index per sort column and direction (replacing 0006's): the ORDER BY as before, then every
--    column a filter other than the text search tests (parent_id, type, vendor, ip_sort,
--    protocols), so a filtered page walks the index in order and never reads a device it skips.
-- 3. Index per filter column (type, vendor, protocols, ip_sort) holding the other filter columns
--    and every sort column: the total of a filtered list, and the page of a short one (sorted
--    apart), read from the index alone.
-- 4. `device_search`: a trigram index (FTS5, contentless, no positions) of each device's key and
--    attribute JSON, kept by triggers. The text search asks it for the devices holding every
--    trigram of the text, then checks those with the LIKE it always used: same results, without
--    reading the devices that cannot match.

ALTER TABLE devices ADD COLUMN protocols TEXT;
UPDATE devices SET protocols = json_extract(attributes, '$.protocols');

CREATE TRIGGER devices_protocols_insert AFTER INSERT ON devices
WHEN new.protocols IS NOT json_extract(new.attributes, '$.protocols')
BEGIN
    UPDATE devices SET protocols = json_extract(new.attributes, '$.protocols') WHERE id = new.id;
END;

CREATE TRIGGER devices_protocols_update AFTER UPDATE OF attributes, protocols ON devices
WHEN new.protocols IS NOT json_extract(new.attributes, '$.protocols')
BEGIN
    UPDATE devices SET protocols = json_extract(new.attributes, '$.protocols') WHERE id = new.id;
END;

DROP INDEX devices_sort_ip_asc;
DROP INDEX devices_sort_ip_desc;
DROP INDEX devices_sort_vendor_asc;
DROP INDEX devices_sort_vendor_desc;
DROP INDEX devices_sort_type_asc;
DROP INDEX devices_sort_type_desc;
DROP INDEX devices_sort_name_asc;
DROP INDEX devices_sort_name_desc;
DROP INDEX devices_sort_first_seen_asc;
DROP INDEX devices_sort_first_seen_desc;
DROP INDEX devices_sort_last_seen_asc;
DROP INDEX devices_sort_last_seen_desc;
-- prefixes of the filter indexes below
DROP INDEX devices_type;
DROP INDEX devices_vendor;
DROP INDEX devices_ip_sort;

CREATE INDEX devices_list_ip_asc ON devices
    ((ip_sort IS NULL), ip_sort, key, id, parent_id, type, vendor, protocols);
CREATE INDEX devices_list_ip_desc ON devices
    ((ip_sort IS NULL), ip_sort DESC, key DESC, id, parent_id, type, vendor, protocols);
CREATE INDEX devices_list_vendor_asc ON devices
    ((vendor IS NULL), vendor, key, id, parent_id, type, ip_sort, protocols);
CREATE INDEX devices_list_vendor_desc ON devices
    ((vendor IS NULL), vendor DESC, key DESC, id, parent_id, type, ip_sort, protocols);
CREATE INDEX devices_list_type_asc ON devices
    ((type IS NULL), type, key, id, parent_id, vendor, ip_sort, protocols);
CREATE INDEX devices_list_type_desc ON devices
    ((type IS NULL), type DESC, key DESC, id, parent_id, vendor, ip_sort, protocols);
CREATE INDEX devices_list_name_asc ON devices
    ((name IS NULL), name, key, id, parent_id, type, vendor, ip_sort, protocols);
CREATE INDEX devices_list_name_desc ON devices
    ((name IS NULL), name DESC, key DESC, id, parent_id, type, vendor, ip_sort, protocols);
CREATE INDEX devices_list_first_seen_asc ON devices
    ((first_seen IS NULL), first_seen, key, id, parent_id, type, vendor, ip_sort, protocols);
CREATE INDEX devices_list_first_seen_desc ON devices
    ((first_seen IS NULL), first_seen DESC, key DESC, id, parent_id, type, vendor, ip_sort, protocols);
CREATE INDEX devices_list_last_seen_asc ON devices
    ((last_seen IS NULL), last_seen, key, id, parent_id, type, vendor, ip_sort, protocols);
CREATE INDEX devices_list_last_seen_desc ON devices
    ((last_seen IS NULL), last_seen DESC, key DESC, id, parent_id, type, vendor, ip_sort, protocols);

CREATE INDEX devices_by_type ON devices
    (type, parent_id, vendor, protocols, ip_sort, name, first_seen, last_seen, key);
CREATE INDEX devices_by_vendor ON devices
    (vendor, parent_id, type, protocols, ip_sort, name, first_seen, last_seen, key);
CREATE INDEX devices_by_protocols ON devices
    (protocols, parent_id, type, vendor, ip_sort, name, first_seen, last_seen, key);
CREATE INDEX devices_by_ip ON devices
    (ip_sort, parent_id, type, vendor, protocols, name, first_seen, last_seen, key);

CREATE VIRTUAL TABLE device_search USING fts5(
    key, attributes, content = '', detail = none, columnsize = 0,
    tokenize = 'trigram case_sensitive 0'
);
INSERT INTO device_search (rowid, key, attributes) SELECT id, key, attributes FROM devices;

CREATE TRIGGER device_search_insert AFTER INSERT ON devices
BEGIN
    INSERT INTO device_search (rowid, key, attributes) VALUES (new.id, new.key, new.attributes);
END;

CREATE TRIGGER device_search_update AFTER UPDATE OF id, key, attributes ON devices
WHEN old.id IS NOT new.id OR old.key IS NOT new.key OR old.attributes IS NOT new.attributes
BEGIN
    INSERT INTO device_search (device_search, rowid, key, attributes)
        VALUES ('delete', old.id, old.key, old.attributes);
    INSERT INTO device_search (rowid, key, attributes) VALUES (new.id, new.key, new.attributes);
END;

CREATE TRIGGER device_search_delete AFTER DELETE ON devices
BEGIN
    INSERT INTO device_search (device_search, rowid, key, attributes)
        VALUES ('delete', old.id, old.key, old.attributes);
END;
