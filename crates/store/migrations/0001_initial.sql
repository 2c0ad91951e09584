-- otsensor store, SQLite schema.
--
-- Times are RFC 3339 UTC text with nine fractional digits ("2025-01-31T12:00:00.000000000Z"),
-- so that text order is time order and values read back exactly. Enumerations are stored by the
-- names core gives them (Protocol::name, Outcome::name, Change::name).

-- What to scan: one row per configured scan, and one per ad-hoc command-line scan.
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,  -- "plc", "switch", "wem", "rdns"
    protocol    TEXT    NOT NULL,  -- Protocol::name
    targets     TEXT    NOT NULL,  -- the target set as the operator wrote it
    spec        TEXT    NOT NULL,  -- JSON: the full scan specification
    created_at  TEXT    NOT NULL
);

-- One execution of a scan.
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    scan_id          INTEGER NOT NULL REFERENCES scans (id),
    status           TEXT    NOT NULL
        CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'interrupted')),
    started_at       TEXT    NOT NULL,
    ended_at         TEXT,
    targets_total    INTEGER NOT NULL,
    probed           INTEGER NOT NULL DEFAULT 0,
    identified       INTEGER NOT NULL DEFAULT 0,
    new_devices      INTEGER NOT NULL DEFAULT 0,
    updated_devices  INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX runs_scan ON runs (scan_id);
-- Safety rule "one run per scan": at most one running run per scan.
CREATE UNIQUE INDEX runs_one_running_per_scan ON runs (scan_id) WHERE status = 'running';

-- The inventory. `key` (DeviceKey text form) is the identity; parent_id, position, ip, mac,
-- vendor, type and name repeat parts of the key and of `attributes` for filtering.
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    parent_id   INTEGER REFERENCES devices (id),
    position    TEXT,              -- Position text form, for sub-devices
    ip          TEXT,              -- the device's address, or its top-level ancestor's
    mac         TEXT,
    vendor      TEXT,
    type        TEXT,              -- DeviceType::name
    name        TEXT,
    attributes  TEXT    NOT NULL,  -- JSON: core::device::Attributes
    first_seen  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL
);
CREATE INDEX devices_parent ON devices (parent_id);
CREATE INDEX devices_ip ON devices (ip);
CREATE INDEX devices_mac ON devices (mac);
CREATE INDEX devices_vendor ON devices (vendor);
CREATE INDEX devices_type ON devices (type);

-- Every attribute a run added or changed, and which protocol said so.
CREATE TABLE device_history (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices (id),
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    attribute   TEXT    NOT NULL,
    old_value   TEXT,
    new_value   TEXT    NOT NULL,
    source      TEXT    NOT NULL,  -- Protocol::name
    at          TEXT    NOT NULL
);
CREATE INDEX device_history_device ON device_history (device_id);
CREATE INDEX device_history_run ON device_history (run_id);

-- The devices a run saw, and whether it created, enriched or only saw them again.
CREATE TABLE run_devices (
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    device_id  INTEGER NOT NULL REFERENCES devices (id),
    change     TEXT    NOT NULL CHECK (change IN ('new', 'enriched', 'unchanged')),
    PRIMARY KEY (run_id, device_id)
);
CREATE INDEX run_devices_device ON run_devices (device_id);

-- One line per probed target of a run.
CREATE TABLE probe_log (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    address      TEXT    NOT NULL,
    protocol     TEXT    NOT NULL,  -- Protocol::name
    outcome      TEXT    NOT NULL   -- Outcome::name
        CHECK (outcome IN ('identified', 'no_response', 'refused', 'error', 'cancelled')),
    error        TEXT,
    started_at   TEXT    NOT NULL,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX probe_log_run ON probe_log (run_id);
