-- QA: sessions of snapshots handed to one user, and their verdicts. All three tables are hot
-- OLTP state (point reads and conditional updates per request): rowstore.

-- One row per QA user. `open_session_id` is the user's unfinished session: setting it with a
-- conditional UPDATE (... WHERE open_session_id IS NULL) is what makes "one open session per
-- user" hold under READ COMMITTED: the second writer waits on the row lock, then re-checks.
CREATE ROWSTORE TABLE qa_users (
    username         VARCHAR(64) NOT NULL,
    open_session_id  BIGINT NULL,
    created_at       DATETIME(6) NOT NULL,
    PRIMARY KEY (username),
    SHARD KEY (username)
);

CREATE ROWSTORE TABLE qa_sessions (
    id                BIGINT NOT NULL AUTO_INCREMENT,
    username          VARCHAR(64) NOT NULL,
    `status`            VARCHAR(10) NOT NULL DEFAULT 'open',
    size              INT NOT NULL,
    answered          INT NOT NULL DEFAULT 0,
    created_at        DATETIME(6) NOT NULL,
    last_activity_at  DATETIME(6) NOT NULL,
    closed_at         DATETIME(6) NULL,
    PRIMARY KEY (id),
    SHARD KEY (id),
    KEY qa_sessions_user (username, `status`),
    KEY qa_sessions_idle (`status`, last_activity_at)
);

-- Sharded by snapshot_id like `snapshots`, so "has this user had this snapshot" is a local
-- point lookup beside the snapshot row, and the primary key (snapshot_id, username), which
-- holds the shard key, makes a duplicate hand-out fail even between racing transactions.
CREATE ROWSTORE TABLE qa_assignments (
    snapshot_id  BIGINT NOT NULL,
    username     VARCHAR(64) NOT NULL,
    session_id   BIGINT NOT NULL,
    `position`     INT NOT NULL,
    is_match     TINYINT NULL,
    released     TINYINT NOT NULL DEFAULT 0,
    assigned_at  DATETIME(6) NOT NULL,
    answered_at  DATETIME(6) NULL,
    PRIMARY KEY (snapshot_id, username),
    SHARD KEY (snapshot_id),
    KEY qa_assignments_session (session_id, `position`),
    KEY qa_assignments_user (username, snapshot_id)
);
