-- Valence schema, version 3 (the whole current schema: a new database gets this file, an older one
-- the numbered steps in lib/storage/migrations.ts). Times are ISO-8601 UTC text (lexically ordered); ids are 8 characters of creation time then 96 random bits, URL-safe (lib/domain/util.ts newId).
-- Applied by lib/storage/migrations.ts; later changes go there as numbered steps.

CREATE TABLE users (
  id              TEXT PRIMARY KEY,
  role            TEXT NOT NULL CHECK (role IN ('BUYER', 'WORKER', 'AGENT', 'ADMIN')),
  name            TEXT NOT NULL,
  email           TEXT UNIQUE COLLATE NOCASE,
  password_hash   TEXT,                       -- scrypt; NULL for agents
  key_hash        TEXT UNIQUE,                -- SHA-256 hex of a buyer's hc_buyer_ key
  key_prefix      TEXT,
  category        TEXT,                       -- human workers: the category they take offers in
  available       INTEGER NOT NULL DEFAULT 1, -- human workers: opted in to offers
  disabled        INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL,
  last_offered_at TEXT
);

CREATE TABLE agent_profiles (
  id             TEXT PRIMARY KEY,            -- the agentId
  user_id        TEXT NOT NULL UNIQUE REFERENCES users(id),
  name           TEXT NOT NULL,
  category       TEXT,
  key_hash       TEXT NOT NULL UNIQUE,        -- SHA-256 hex of the hc_agent_ key
  key_prefix     TEXT NOT NULL,
  max_concurrent INTEGER NOT NULL DEFAULT 0,  -- 0 = no limit
  revoked_at     TEXT,
  created_at     TEXT NOT NULL,
  last_seen_at   TEXT
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,                -- SHA-256 hex of the cookie value
  user_id    TEXT NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tasks (
  id                TEXT PRIMARY KEY,
  buyer_id          TEXT NOT NULL REFERENCES users(id),
  title             TEXT NOT NULL,
  description       TEXT NOT NULL,
  category          TEXT,
  deadline          TEXT,
  offer_ttl_seconds INTEGER NOT NULL DEFAULT 900,
  status            TEXT NOT NULL CHECK (status IN ('DRAFT', 'OPEN', 'ASSIGNED', 'COMPLETED', 'CANCELLED')),
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX tasks_buyer ON tasks (buyer_id, created_at);

CREATE TABLE match_offers (
  id              TEXT PRIMARY KEY,
  task_id         TEXT NOT NULL REFERENCES tasks(id),
  worker_user_id  TEXT NOT NULL REFERENCES users(id),
  status          TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'EXPIRED', 'WITHDRAWN')),
  reason          TEXT,                        -- the worker's decline reason, or why it was withdrawn
  message         TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  expires_at      TEXT NOT NULL,
  decided_at      TEXT,
  UNIQUE (task_id, worker_user_id)
);
-- Without status in these two indexes, a decision or a review does not rewrite index pages.
CREATE INDEX offers_worker ON match_offers (worker_user_id);
CREATE INDEX offers_pending_expiry ON match_offers (expires_at) WHERE status = 'PENDING';

-- A match's offers between the COMMIT that makes them durable and their rows in match_offers: the
-- pending_offer frames go out once this row is committed, and the hub writes it into match_offers right
-- after the sends, in the same turn (lib/domain/batches.ts). A row left by a crash is written at start.
CREATE TABLE offer_batches (
  id           INTEGER PRIMARY KEY,
  task_id      TEXT NOT NULL REFERENCES tasks(id),
  offers       TEXT NOT NULL,                  -- JSON [[offerId, workerUserId], …]
  message_head TEXT NOT NULL,                  -- each offer's message is head || offer id || tail
  message_tail TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL
);

CREATE TABLE assignments (
  id             TEXT PRIMARY KEY,
  task_id        TEXT NOT NULL UNIQUE REFERENCES tasks(id),  -- first confirm wins
  worker_user_id TEXT NOT NULL REFERENCES users(id),
  offer_id       TEXT NOT NULL REFERENCES match_offers(id),
  status         TEXT NOT NULL CHECK (status IN ('ASSIGNED', 'IN_PROGRESS', 'SUBMITTED', 'ACCEPTED', 'REJECTED')),
  feedback       TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX assignments_worker ON assignments (worker_user_id);

CREATE TABLE deliverables (
  id            TEXT PRIMARY KEY,
  assignment_id TEXT NOT NULL UNIQUE REFERENCES assignments(id),
  content_text  TEXT NOT NULL,
  submitted_at  TEXT NOT NULL,
  revision      INTEGER NOT NULL
);

-- Every submission, kept: the current one is also in deliverables.
CREATE TABLE deliverable_history (
  deliverable_id TEXT NOT NULL REFERENCES deliverables(id),
  revision       INTEGER NOT NULL,
  content_text   TEXT NOT NULL,
  submitted_at   TEXT NOT NULL,
  feedback       TEXT,                        -- the buyer's note when this revision was rejected
  PRIMARY KEY (deliverable_id, revision)
);

-- Frames for an agent that had no socket when they were made (the review of its deliverable, the
-- cancellation of its task): sent after its next auth_ok, then removed (lib/domain/outbox.ts).
CREATE TABLE agent_outbox (
  id         INTEGER PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  frame      TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX agent_outbox_user ON agent_outbox (user_id);

-- Append-only log of what happened.
CREATE TABLE events (
  id      INTEGER PRIMARY KEY,
  at      TEXT NOT NULL,
  actor   TEXT,
  task_id TEXT,
  kind    TEXT NOT NULL,
  data    TEXT
);
