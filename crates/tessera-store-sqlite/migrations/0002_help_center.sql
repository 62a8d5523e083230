-- The Help Center: site settings, knowledge base, votes and comments,
-- visitors, consent records and page views. Same conventions as 0001.

-- Site settings. Lists (languages, embedding origins) are newline-separated
-- text: they are small, always read whole and never queried by element.
ALTER TABLE sites ADD COLUMN languages         TEXT    NOT NULL DEFAULT 'en';
ALTER TABLE sites ADD COLUMN default_language  TEXT    NOT NULL DEFAULT 'en';
ALTER TABLE sites ADD COLUMN embed_origins     TEXT    NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN solution_type     TEXT    NOT NULL DEFAULT 'third_party';
ALTER TABLE sites ADD COLUMN consent_mode      TEXT    NOT NULL DEFAULT 'opt_in';
ALTER TABLE sites ADD COLUMN registration_open INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sites ADD COLUMN updated_at        INTEGER NOT NULL DEFAULT 0;
-- Existing sites were last changed when they were created.
UPDATE sites SET updated_at = created_at;

-- Host names are looked up on every Help Center request, and one host
-- belongs to one site at most: a table with the host as key.
CREATE TABLE site_hosts (
    host    TEXT    PRIMARY KEY NOT NULL,
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE
);
CREATE INDEX site_hosts_by_site ON site_hosts (site_id);

CREATE TABLE categories (
    id        INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id   INTEGER NOT NULL REFERENCES sites (id),
    parent_id INTEGER REFERENCES categories (id),
    position  INTEGER NOT NULL
);
CREATE INDEX categories_by_site ON categories (site_id, parent_id, position);

CREATE TABLE category_names (
    category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    language    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    PRIMARY KEY (category_id, language)
);

CREATE TABLE articles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    category_id  INTEGER NOT NULL REFERENCES categories (id),
    author_id    INTEGER NOT NULL REFERENCES people (id),
    status       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    published_at INTEGER,
    views        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_by_site ON articles (site_id, status, created_at);
CREATE INDEX articles_by_category ON articles (category_id);

CREATE TABLE article_translations (
    article_id    INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    language      TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    body_markdown TEXT    NOT NULL,
    -- Rendered and sanitised when saved.
    body_html     TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (article_id, language)
);

-- Full-text index of the translations, kept in step by the store code (not
-- triggers, so the PostgreSQL backend can do the same with tsvector).
-- unicode61 with diacritics removed: "decembre" finds "décembre".
CREATE VIRTUAL TABLE article_search USING fts5 (
    title,
    body,
    article_id UNINDEXED,
    language UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- A browser known to a site. `token_hash` is the hash of the visitor cookie
-- (persistent, with consent) or of the visit cookie (browser session); NULL
-- once consent is withdrawn, so an old cookie no longer finds it.
CREATE TABLE visitors (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    token_hash   BLOB    UNIQUE,
    persistent   INTEGER NOT NULL,
    person_id    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX visitors_by_site_seen ON visitors (site_id, last_seen_at);
CREATE INDEX visitors_by_person ON visitors (person_id);

-- Where an activity (page view, vote, comment) stands in the order events
-- happened. Timestamps are whole seconds, so a vote and the page view its
-- redirect produced share one; `seq` tells them apart. Every write of an
-- activity (a changed vote too: it is a new event) takes a fresh id here in
-- the same transaction and stores it in its row's `seq`, and the trail is
-- read ORDER BY at, seq. Linking a visitor to a person never renumbers.
-- AUTOINCREMENT: ids only ever grow, even once rows are gone (SQLite keeps
-- the highest in `sqlite_sequence`), so each write also deletes the older
-- rows and the table holds one row at most; nothing else reads it.
-- PostgreSQL uses a SEQUENCE (`nextval('activity_sequence')`) instead.
CREATE TABLE activity_sequence (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL
);

-- One vote per person (when known) or per visitor, per article.
CREATE TABLE votes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    visitor_id INTEGER REFERENCES visitors (id) ON DELETE SET NULL,
    person_id  INTEGER REFERENCES people (id) ON DELETE CASCADE,
    helpful    INTEGER NOT NULL,
    voted_at   INTEGER NOT NULL,
    -- From activity_sequence; renewed with `voted_at` when the vote changes.
    seq        INTEGER NOT NULL
);
CREATE UNIQUE INDEX votes_one_per_person ON votes (article_id, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX votes_one_per_guest ON votes (article_id, visitor_id) WHERE person_id IS NULL;
CREATE INDEX votes_by_visitor ON votes (visitor_id);
CREATE INDEX votes_by_person ON votes (person_id);

CREATE TABLE comments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    article_id   INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    visitor_id   INTEGER REFERENCES visitors (id) ON DELETE SET NULL,
    person_id    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    author_name  TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    moderated_at INTEGER,
    moderated_by INTEGER REFERENCES people (id) ON DELETE SET NULL,
    -- From activity_sequence; moderation is not an activity and keeps it.
    seq          INTEGER NOT NULL
);
CREATE INDEX comments_by_article ON comments (article_id, status);
CREATE INDEX comments_by_site_status ON comments (site_id, status, created_at);
CREATE INDEX comments_by_visitor ON comments (visitor_id);
CREATE INDEX comments_by_person ON comments (person_id);

-- Evidence of consent decisions; the consent cookie names one by its hash.
CREATE TABLE consents (
    token_hash BLOB    PRIMARY KEY NOT NULL,
    site_id    INTEGER NOT NULL REFERENCES sites (id),
    choice     TEXT    NOT NULL,
    visitor_id INTEGER REFERENCES visitors (id) ON DELETE SET NULL,
    decided_at INTEGER NOT NULL
);

CREATE TABLE page_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id    INTEGER NOT NULL REFERENCES sites (id),
    visitor_id INTEGER NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    person_id  INTEGER REFERENCES people (id) ON DELETE SET NULL,
    path       TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
    at         INTEGER NOT NULL,
    -- From activity_sequence.
    seq        INTEGER NOT NULL
);
CREATE INDEX page_views_by_visitor ON page_views (visitor_id, at);
CREATE INDEX page_views_by_person ON page_views (person_id, at);
