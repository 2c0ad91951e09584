-- otsensor store: what the sensor service adds (issue 7): people and their access, the audit log,
-- stored scan definitions with their schedules, and a sortable address for the devices list.
--
-- Same conventions as 0001: RFC 3339 UTC text times with nine fractional digits, enumerations
-- stored by name, JSON as text.

-- People who may use the service, with one role each.
CREATE TABLE users (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT    NOT NULL UNIQUE,
    role                  TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'readonly')),
    password_hash         TEXT    NOT NULL,   -- argon2id, PHC string
    must_change_password  INTEGER NOT NULL DEFAULT 0,  -- a one-time password: change at first login
    disabled              INTEGER NOT NULL DEFAULT 0,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
);

-- Browser sessions. Only a SHA-256 of the cookie's secret is kept, so the file alone opens none.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TEXT    NOT NULL,
    last_used_at  TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,   -- the absolute end; idle expiry is judged from last_used_at
    client        TEXT                -- the address the session was opened from
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens for automation, each owned by a user and acting with the user's role.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,   -- SHA-256 of the secret, never the secret
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    last_used_at  TEXT,
    expires_at    TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Who did what, when: every change and every scan start and stop.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT    NOT NULL,
    actor   TEXT    NOT NULL,   -- a user name, or "scheduler", "system", "cli"
    via     TEXT    NOT NULL,   -- "session", "token", "scheduler", "system", "cli"
    action  TEXT    NOT NULL,   -- "scan.create", "run.start", "user.update", ...
    target  TEXT,               -- "scan:3", "run:12", "user:alice", ...
    detail  TEXT    NOT NULL,   -- JSON, never holding a secret
    client  TEXT                -- the client address, for requests
);
CREATE INDEX audit_log_at ON audit_log (at);

-- A scan an operator defined to keep (one per row of `scans` that is not an ad-hoc command-line
-- scan): whether it is on, its schedule and its maintenance window. Deleting one keeps its runs.
CREATE TABLE scan_definitions (
    scan_id             INTEGER PRIMARY KEY REFERENCES scans (id),
    enabled             INTEGER NOT NULL,
    schedule            TEXT,      -- JSON core::schedule::Schedule; NULL: on demand only
    maintenance_window  TEXT,      -- JSON core::schedule::MaintenanceWindow; NULL: any time
    created_by          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    deleted_at          TEXT
);
CREATE INDEX scan_definitions_live ON scan_definitions (deleted_at);

-- Who or what started a run: "manual" (with the user) or "scheduled".
CREATE TABLE run_origins (
    run_id   INTEGER PRIMARY KEY REFERENCES runs (id),
    trigger  TEXT    NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
    actor    TEXT    NOT NULL
);

-- The device's address as fixed-width hex ("4:7f00000a", "6:<32 hex>"), so that text order is
-- address order and a subnet is a range; filled by the store on every save.
ALTER TABLE devices ADD COLUMN ip_sort TEXT;
CREATE INDEX devices_ip_sort ON devices (ip_sort);
CREATE INDEX devices_last_seen ON devices (last_seen);
