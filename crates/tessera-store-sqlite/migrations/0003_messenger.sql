-- The Messenger: conversations between a visitor and a site's agents, their
-- messages, and the key each site's backend signs identity tokens with.
-- Same conventions as 0001.

-- Owned by a visitor (a browser), a verified user (the `sub` of an identity
-- token from the customer's backend), or both; the store refuses neither.
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id       INTEGER NOT NULL REFERENCES sites (id),
    visitor_id    INTEGER REFERENCES visitors (id) ON DELETE SET NULL,
    verified_user TEXT,
    visitor_name  TEXT    NOT NULL,
    visitor_email TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    -- The agent who claimed it (kept once closed: who handled it).
    agent_id      INTEGER REFERENCES people (id) ON DELETE SET NULL,
    -- Sequence number of the newest message: raised by the same transaction
    -- that inserts the message, so numbers are handed out one at a time and
    -- without gaps (0: no message yet).
    last_seq      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- The agents' queue (open conversations, oldest first).
CREATE INDEX conversations_by_site_status ON conversations (site_id, status, created_at);
-- A visitor's or verified user's own conversations.
CREATE INDEX conversations_by_visitor ON conversations (site_id, visitor_id);
CREATE INDEX conversations_by_verified_user ON conversations (site_id, verified_user);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- 1, 2, 3... within the conversation: what clients acknowledge and resume from.
    seq             INTEGER NOT NULL,
    -- 'visitor', 'agent' (with author_id) or 'system'.
    author_kind     TEXT    NOT NULL,
    author_id       INTEGER REFERENCES people (id),
    body            TEXT    NOT NULL,
    -- The sender's own ID for the message, so a resend is recognised.
    client_key      TEXT,
    created_at      INTEGER NOT NULL,
    -- Also serves "messages after seq N" without a sort.
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_one_per_client_key ON messages (conversation_id, client_key)
    WHERE client_key IS NOT NULL;

-- Not a hash, unlike every other secret in the database: it is an HMAC key
-- the server must use to check identity tokens, so it is stored as is, like
-- `secret.key` in the data directory; the database file is 0600.
CREATE TABLE site_identity_secrets (
    site_id    INTEGER PRIMARY KEY NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    secret     BLOB    NOT NULL,
    rotated_at INTEGER NOT NULL
);
