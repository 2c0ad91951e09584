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
-- 4. `device_search`: a trigram index (FTS5, contentless, with positions) of each device's key
--    and attribute values, kept by triggers: the text search finds the devices whose key or
--    attribute JSON contains the text as a phrase query, exactly (see below), without reading
--    any device.

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

-- The text the search index holds for a device's attributes: the attribute JSON without the
-- field names below (and without those whose value is null), ASCII letters in lower case, as
-- SQLite's lower() makes them. A search text that contains none of `"`, `:`, `,`, braces,
-- brackets or a backslash, and is no part of one of these names nor of null/true/false, occurs
-- in the JSON (LIKE: any case of ASCII letters) exactly when its lower case occurs in this text:
-- what is removed ends before a quote and starts after `{` or `,`, which such a text cannot
-- reach across. store::listing holds a text to these rules (reading the names from
-- device_search_omitted) and searches any other text the plain way.
CREATE TABLE device_search_omitted (name TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO device_search_omitted (name) VALUES
    ('mac'), ('name'), ('fqdn'), ('fqdn_looked_up'), ('type'), ('vendor'), ('model'), ('product_name'), ('product_code'), ('firmware'), ('hardware'), ('serial'), ('plc_mode'), ('vendor_url'), ('application'), ('software_version'), ('location'), ('description'), ('vendor_id'), ('bacnet_instance'), ('type_name'), ('reported_ip'), ('status'), ('os'), ('domain'), ('interfaces'), ('hotfixes'), ('software'), ('protocols'), ('version'), ('build'), ('service_pack'), ('architecture'), ('installed'), ('last_boot');

-- in steps of five names (a single expression nesting 70 replace() calls overflows the parser
-- of older SQLite builds, such as the one Python's sqlite3 uses to seed the benchmark)

CREATE VIEW device_search_step1 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"mac":null,', ''), '"mac":', '"')
        , '"name":null,', ''), '"name":', '"')
        , '"fqdn":null,', ''), '"fqdn":', '"')
        , '"fqdn_looked_up":null,', ''), '"fqdn_looked_up":', '"')
        , '"type":null,', ''), '"type":', '"')
FROM devices;

CREATE VIEW device_search_step2 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"vendor":null,', ''), '"vendor":', '"')
        , '"model":null,', ''), '"model":', '"')
        , '"product_name":null,', ''), '"product_name":', '"')
        , '"product_code":null,', ''), '"product_code":', '"')
        , '"firmware":null,', ''), '"firmware":', '"')
FROM device_search_step1;

CREATE VIEW device_search_step3 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"hardware":null,', ''), '"hardware":', '"')
        , '"serial":null,', ''), '"serial":', '"')
        , '"plc_mode":null,', ''), '"plc_mode":', '"')
        , '"vendor_url":null,', ''), '"vendor_url":', '"')
        , '"application":null,', ''), '"application":', '"')
FROM device_search_step2;

CREATE VIEW device_search_step4 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"software_version":null,', ''), '"software_version":', '"')
        , '"location":null,', ''), '"location":', '"')
        , '"description":null,', ''), '"description":', '"')
        , '"vendor_id":null,', ''), '"vendor_id":', '"')
        , '"bacnet_instance":null,', ''), '"bacnet_instance":', '"')
FROM device_search_step3;

CREATE VIEW device_search_step5 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"type_name":null,', ''), '"type_name":', '"')
        , '"reported_ip":null,', ''), '"reported_ip":', '"')
        , '"status":null,', ''), '"status":', '"')
        , '"os":null,', ''), '"os":', '"')
        , '"domain":null,', ''), '"domain":', '"')
FROM device_search_step4;

CREATE VIEW device_search_step6 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"interfaces":null,', ''), '"interfaces":', '"')
        , '"hotfixes":null,', ''), '"hotfixes":', '"')
        , '"software":null,', ''), '"software":', '"')
        , '"protocols":null,', ''), '"protocols":', '"')
        , '"version":null,', ''), '"version":', '"')
FROM device_search_step5;

CREATE VIEW device_search_step7 (id, key, attributes) AS SELECT id, key,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(attributes
        , '"build":null,', ''), '"build":', '"')
        , '"service_pack":null,', ''), '"service_pack":', '"')
        , '"architecture":null,', ''), '"architecture":', '"')
        , '"installed":null,', ''), '"installed":', '"')
        , '"last_boot":null,', ''), '"last_boot":', '"')
FROM device_search_step6;

CREATE VIEW device_search_text (id, key, attributes) AS
    SELECT id, lower(key), lower(attributes) FROM device_search_step7;

-- Trigrams with their positions (a phrase query is then an exact substring test), no content
-- of its own: key and attributes as device_search_text gives them.
CREATE VIRTUAL TABLE device_search USING fts5(
    key, attributes, content = '', columnsize = 0, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO device_search (rowid, key, attributes) SELECT id, key, attributes FROM device_search_text;

CREATE TRIGGER device_search_insert AFTER INSERT ON devices
BEGIN
    INSERT INTO device_search (rowid, key, attributes)
        SELECT id, key, attributes FROM device_search_text WHERE id = new.id;
END;

-- a contentless index forgets a row given the text it was given
CREATE TRIGGER device_search_update_old BEFORE UPDATE OF id, key, attributes ON devices
WHEN old.id IS NOT new.id OR old.key IS NOT new.key OR old.attributes IS NOT new.attributes
BEGIN
    INSERT INTO device_search (device_search, rowid, key, attributes)
        SELECT 'delete', id, key, attributes FROM device_search_text WHERE id = old.id;
END;

CREATE TRIGGER device_search_update_new AFTER UPDATE OF id, key, attributes ON devices
WHEN old.id IS NOT new.id OR old.key IS NOT new.key OR old.attributes IS NOT new.attributes
BEGIN
    INSERT INTO device_search (rowid, key, attributes)
        SELECT id, key, attributes FROM device_search_text WHERE id = new.id;
END;

CREATE TRIGGER device_search_delete BEFORE DELETE ON devices
BEGIN
    INSERT INTO device_search (device_search, rowid, key, attributes)
        SELECT 'delete', id, key, attributes FROM device_search_text WHERE id = old.id;
END;
