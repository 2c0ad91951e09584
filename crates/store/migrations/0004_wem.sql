-- Windows endpoint monitoring (WEM): scan ranges with their credentials, the schedule, and the
-- results of the last WEM scan. The probe log of WEM scans lives in probe_log (only the last
-- scan's is kept); the hosts themselves go to the inventory like every other scan's devices.

-- Scan ranges FROM..TO with the account used on them. The password is encrypted at rest
-- (ChaCha20-Poly1305 under the key file `secret.key` of the data directory: 12-byte nonce, then
-- the ciphertext and its tag; the range FROM-TO is the associated data).
CREATE TABLE wem_ranges (
    id         INTEGER PRIMARY KEY,
    position   INTEGER NOT NULL,   -- order of the ranges as imported
    from_ip    TEXT    NOT NULL,
    to_ip      TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    password   BLOB    NOT NULL,
    disabled   INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    UNIQUE (from_ip, to_ip)
);

-- The WEM settings: one row.
CREATE TABLE wem_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    schedule   TEXT    NOT NULL,   -- JSON: core::wem::WemSchedule
    scan_id    INTEGER REFERENCES scans (id)   -- the scan whose runs are WEM scans
);

-- The results of the last WEM scan: one row per host that answered.
CREATE TABLE wem_results (
    address    TEXT    NOT NULL PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    result     TEXT    NOT NULL    -- JSON: core::wem::WemResult
);
