-- Visitor monitoring: visits (monitoring sessions) and the tag's page views.

ALTER TABLE sites ADD COLUMN monitor_idle_minutes   INTEGER NOT NULL DEFAULT 30;
ALTER TABLE sites ADD COLUMN monitor_retention_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE sites ADD COLUMN cookieless_counting    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN full_ip                INTEGER NOT NULL DEFAULT 0;

CREATE TABLE monitor_sessions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id           INTEGER NOT NULL REFERENCES sites (id),
    visitor_id        INTEGER NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    token_hash        BLOB    NOT NULL UNIQUE,
    started_at        INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    previous_visit_at INTEGER,
    visit_number      INTEGER NOT NULL,
    current_url       TEXT    NOT NULL DEFAULT '',
    current_title     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX monitor_sessions_by_visitor ON monitor_sessions (visitor_id, started_at);
CREATE INDEX monitor_sessions_live ON monitor_sessions (site_id, last_seen_at);

-- Append-only, written in batches; purged by age per site.
CREATE TABLE page_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id    INTEGER NOT NULL,
    visitor_id INTEGER REFERENCES visitors (id) ON DELETE CASCADE,
    session_id INTEGER REFERENCES monitor_sessions (id) ON DELETE CASCADE,
    tab        TEXT,
    url        TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    referrer   TEXT    NOT NULL,
    ip         TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX page_events_by_session ON page_events (session_id, id);
CREATE INDEX page_events_by_site_at ON page_events (site_id, at);

-- The tag's visitor tokens: one per place a browser keeps one (a customer
-- domain's first-party cookie, the third-party cookie), all naming the same
-- visitor when the cross-domain visit links them.
CREATE TABLE monitor_visitor_tokens (
    token_hash BLOB    PRIMARY KEY NOT NULL,
    visitor_id INTEGER NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX monitor_visitor_tokens_by_visitor ON monitor_visitor_tokens (visitor_id);
