-- Sites, people, sessions, remember-me series, login throttling and the audit log.
--
-- Conventions (kept so the schema ports to PostgreSQL as-is, type names aside):
-- timestamps are INTEGER unix seconds supplied by the application's clock
-- (never DEFAULT CURRENT_TIMESTAMP); token hashes and selectors are BLOBs
-- (BYTEA); enums are TEXT as written by their `as_str`, checked when read
-- back rather than by CHECK constraints, so adding a variant needs no table
-- rebuild; booleans are INTEGER 0/1 (BOOLEAN).

CREATE TABLE sites (
    -- The public site number (e.g. 1001): chosen, never generated.
    id         INTEGER PRIMARY KEY NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE people (
    -- AUTOINCREMENT: an ID is never reused, so old sessions or audit entries
    -- can never point at a newer person.
    id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id       INTEGER NOT NULL REFERENCES sites (id),
    -- Already normalised (trimmed, lower-cased) by `Email::parse`.
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (site_id, email)
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: the token itself is never stored.
    id_hash      BLOB    PRIMARY KEY NOT NULL,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    interface    TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    restored     INTEGER NOT NULL,
    -- Selector of the remember-me series tied to this session, if any.
    remember_selector BLOB,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_by_person ON sessions (person_id);
-- Also serves "newest sessions of a site" without a sort.
CREATE INDEX sessions_by_site ON sessions (site_id, created_at);

CREATE TABLE remember (
    -- The public half of the token; the validator is stored only hashed.
    selector       BLOB    PRIMARY KEY NOT NULL,
    person_id      INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    site_id        INTEGER NOT NULL REFERENCES sites (id),
    interface      TEXT    NOT NULL,
    validator_hash BLOB    NOT NULL,
    previous_hash  BLOB,
    rotated_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    ip             TEXT,
    user_agent     TEXT
);
CREATE INDEX remember_by_person ON remember (person_id);

CREATE TABLE throttles (
    key             TEXT    PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);

-- No foreign keys: the log must outlive the people and sites it mentions.
CREATE TABLE audit (
    -- AUTOINCREMENT: IDs only grow, so they order events appended at the same second.
    id        INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    site_id   INTEGER,
    person_id INTEGER,
    actor_id  INTEGER,
    interface TEXT,
    ip        TEXT,
    detail    TEXT    NOT NULL
);
CREATE INDEX audit_by_site_at ON audit (site_id, at);
CREATE INDEX audit_by_person ON audit (person_id);
