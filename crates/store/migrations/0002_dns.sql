-- Reverse DNS: the configured DNS servers, the subnets each one resolves, and the counts of
-- every lookup run. The names found go into `devices` (attributes name, fqdn, fqdn_looked_up)
-- and their changes into `device_history`, like any other scan's.

-- One configured DNS server. Its runs are runs of its own scan (`scan_id`, kind "rdns"), so
-- the rule "one run per scan" keeps two runs of one server apart.
CREATE TABLE dns_servers (
    id          INTEGER PRIMARY KEY,
    scan_id     INTEGER NOT NULL UNIQUE REFERENCES scans (id),
    address     TEXT    NOT NULL,                                  -- IP address
    port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    labels      INTEGER NOT NULL CHECK (labels BETWEEN 1 AND 127),  -- labels of a name shown
    schedule    TEXT    NOT NULL,   -- Schedule text form: "every 6 hours", "02:30, 14:00"
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    rate        INTEGER NOT NULL CHECK (rate >= 0),                 -- queries/s, 0: no limit
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- The subnets a server resolves, in the order given.
CREATE TABLE dns_server_subnets (
    server_id  INTEGER NOT NULL REFERENCES dns_servers (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    subnet     TEXT    NOT NULL,   -- CIDR block, host bits cleared
    PRIMARY KEY (server_id, position)
);

-- What one lookup run counted. The run itself (status, times, probe log) is in `runs`.
CREATE TABLE rdns_runs (
    run_id     INTEGER PRIMARY KEY REFERENCES runs (id),
    server_id  INTEGER REFERENCES dns_servers (id) ON DELETE SET NULL,  -- NULL: command line
    server     TEXT    NOT NULL,   -- ADDR:PORT asked
    labels     INTEGER NOT NULL,
    looked_up  INTEGER NOT NULL,   -- addresses looked up
    found      INTEGER NOT NULL,   -- addresses with a name
    missing    INTEGER NOT NULL,   -- addresses without one (NXDOMAIN, no PTR record)
    failed     INTEGER NOT NULL,   -- addresses without an answer (timeout, SERVFAIL, REFUSED, ...)
    devices    INTEGER NOT NULL,   -- inventory devices among the addresses found
    changed    INTEGER NOT NULL    -- of these, those whose host name or FQDN changed
);
CREATE INDEX rdns_runs_server ON rdns_runs (server_id);
