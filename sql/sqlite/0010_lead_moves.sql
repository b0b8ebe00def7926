-- The QA lead's desk (service/lead): re-attribution of snapshots ("moves") with a record of
-- each, the lead's review mark and QA priority on the snapshot, and the verdicts a move took
-- off a snapshot, kept for the record and the leaderboard.

-- Bumped by every change a lead makes (move, undo, keep, QA priority): the optimistic
-- concurrency check of PATCH /api/snapshots/{id} (If-Match or `version`).
ALTER TABLE snapshots ADD COLUMN `version` INTEGER NOT NULL DEFAULT 0;
-- How many times the snapshot was moved (undos included); also the `seq` of its last move.
ALTER TABLE snapshots ADD COLUMN moves INTEGER NOT NULL DEFAULT 0;
-- A lead confirmed the current attribution (kept it, or moved it here); NULL: not reviewed.
-- Reviewed snapshots leave the suspects list.
ALTER TABLE snapshots ADD COLUMN lead_reviewed_by TEXT;
ALTER TABLE snapshots ADD COLUMN lead_reviewed_at DATETIME;
-- "Send to QA first": pending snapshots with this set are handed out before any other.
ALTER TABLE snapshots ADD COLUMN qa_first_at DATETIME;

CREATE INDEX snapshots_qa_first ON snapshots (qa_first_at);

-- One row per move (or undo of a move), written in the move's transaction: who, when, from,
-- to, why, and the QA state the snapshot held (restored by an undo).
CREATE TABLE snapshot_moves (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshot_id          INTEGER NOT NULL REFERENCES snapshots (id),
    seq                  INTEGER NOT NULL,       -- 1, 2, ... per snapshot (snapshots.moves)
    kind                 TEXT NOT NULL CHECK (kind IN ('move', 'undo')),
    from_product_id      INTEGER NOT NULL REFERENCES products (id),
    to_product_id        INTEGER NOT NULL REFERENCES products (id),
    moved_by             TEXT NOT NULL,
    moved_at             DATETIME NOT NULL,
    reason               TEXT,
    -- the QA state held when moved
    held_status          TEXT NOT NULL,
    held_votes_match     INTEGER NOT NULL,
    held_votes_mismatch  INTEGER NOT NULL,
    held_settled_by      TEXT,
    held_prior           REAL,
    held_posterior       REAL,
    held_verdicts_needed INTEGER,
    held_resolved_at     DATETIME,
    held_reviewed_by     TEXT,
    held_reviewed_at     DATETIME,
    released             INTEGER NOT NULL,       -- open QA reservations released
    -- what it did to QA: 'pending' (back in the queue), 'lead' (QA_TRUST_LEAD: settled as
    -- match by the lead) or 'restored' (an undo: the state held before the undone move)
    qa_outcome           TEXT NOT NULL,
    undone_by            INTEGER,                -- the undo's id, once undone
    UNIQUE (snapshot_id, seq)
);

CREATE INDEX snapshot_moves_recent ON snapshot_moves (moved_at, id);

-- The QA hand-outs a move took off the snapshot, copied from qa_assignments with the move's
-- id. Verdicts among them (is_match set; cast for `from_product_id`) no longer count toward
-- the snapshot's status but keep their credit on the leaderboard, judged against the status
-- held. Unanswered ones were reservations the move released. An undo puts them all back
-- (restored_by), its verdicts counting again.
CREATE TABLE snapshot_move_assignments (
    snapshot_id  INTEGER NOT NULL,
    move_id      INTEGER NOT NULL REFERENCES snapshot_moves (id),
    username     TEXT NOT NULL,
    session_id   INTEGER NOT NULL,
    `position`   INTEGER NOT NULL,
    is_match     INTEGER,                -- NULL: unanswered when moved
    released     INTEGER NOT NULL,       -- 1: its session had expired before the move
    reliability  REAL,
    assigned_at  DATETIME NOT NULL,
    answered_at  DATETIME,
    restored_by  INTEGER,
    PRIMARY KEY (snapshot_id, move_id, username)
);
