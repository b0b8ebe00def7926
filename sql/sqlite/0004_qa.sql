-- QA: sessions of snapshots handed to one user, and their verdicts.

-- One row per QA user. `open_session_id` is the user's unfinished session: setting it with a
-- conditional UPDATE (... WHERE open_session_id IS NULL) is what makes "one open session per
-- user" hold under concurrency on every engine.
CREATE TABLE qa_users (
    username         TEXT PRIMARY KEY,
    open_session_id  INTEGER,
    created_at       DATETIME NOT NULL
);

CREATE TABLE qa_sessions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    username          TEXT NOT NULL,
    `status`            TEXT NOT NULL DEFAULT 'open'
                      CHECK (`status` IN ('open', 'completed', 'expired')),
    size              INTEGER NOT NULL,       -- snapshots handed out
    answered          INTEGER NOT NULL DEFAULT 0,
    created_at        DATETIME NOT NULL,
    last_activity_at  DATETIME NOT NULL,      -- TTL is measured from here
    closed_at         DATETIME
);

CREATE INDEX qa_sessions_user ON qa_sessions (username, `status`);
CREATE INDEX qa_sessions_idle ON qa_sessions (`status`, last_activity_at);

-- A snapshot handed to a user, and (once answered) the user's verdict. The primary key
-- (snapshot_id, username) is the rule "no user is ever given the same snapshot twice": rows
-- stay after a session expires (marked released) so the snapshot is not handed out again.
CREATE TABLE qa_assignments (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots (id),
    username     TEXT NOT NULL,
    session_id   INTEGER NOT NULL REFERENCES qa_sessions (id),
    `position`     INTEGER NOT NULL,            -- order within the session
    is_match     INTEGER,                     -- NULL until answered; 1 match, 0 mismatch
    released     INTEGER NOT NULL DEFAULT 0,  -- 1: unanswered when its session expired
    assigned_at  DATETIME NOT NULL,
    answered_at  DATETIME,
    PRIMARY KEY (snapshot_id, username)
);

CREATE INDEX qa_assignments_session ON qa_assignments (session_id, `position`);
CREATE INDEX qa_assignments_user ON qa_assignments (username, snapshot_id);
