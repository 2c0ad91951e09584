-- otsensor store: switch discovery (issue 4).
--
-- Links between devices for the device map, as the devices at one end report them (a switch's
-- LLDP/CDP neighbours and the stations on its access ports), and SNMP credentials, sealed.

-- One row per link a device reported. `remote_key` is the other end's DeviceKey text ('' when the
-- neighbour has neither address nor MAC, then only `remote_name` says who it is); its row id is in
-- `remote_device_id` when the other end is in the inventory. A link the reporting device no
-- longer reports becomes inactive (active = 0) when that device is read again.
CREATE TABLE links (
    id                INTEGER PRIMARY KEY,
    device_id         INTEGER NOT NULL REFERENCES devices (id),
    port              TEXT    NOT NULL DEFAULT '',
    if_index          INTEGER,
    remote_key        TEXT    NOT NULL DEFAULT '',
    remote_device_id  INTEGER REFERENCES devices (id),
    remote_name       TEXT    NOT NULL DEFAULT '',
    remote_port       TEXT    NOT NULL DEFAULT '',
    kind              TEXT    NOT NULL CHECK (kind IN ('lldp', 'cdp', 'access')),
    vlan              INTEGER,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    first_seen        TEXT    NOT NULL,
    last_seen         TEXT    NOT NULL,
    run_id            INTEGER NOT NULL REFERENCES runs (id)
);
CREATE UNIQUE INDEX links_identity
    ON links (device_id, port, kind, remote_key, remote_name, remote_port);
CREATE INDEX links_remote ON links (remote_device_id);
CREATE INDEX links_active ON links (active);

-- SNMP credentials (communities, v3 users with their passwords), sealed with ChaCha20-Poly1305
-- under the data directory's key file (secret.key, as the WEM credentials): `sealed` is the nonce
-- and the ciphertext; the row name is the associated data, so a sealed value cannot be moved to
-- another row. `summary` (version, user, protocols) holds no secret.
CREATE TABLE snmp_credentials (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    summary     TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
