-- The QA lead's desk (service/lead): re-attribution of snapshots ("moves") with a record of
-- each, the lead's review mark and QA priority on the snapshot, and the verdicts a move took
-- off a snapshot, kept for the record and the leaderboard.

-- Bumped by every change a lead makes (move, undo, keep, QA priority): the optimistic
-- concurrency check of PATCH /api/snapshots/{id} (If-Match or `version`).
ALTER TABLE snapshots ADD COLUMN `version` BIGINT NOT NULL DEFAULT 0;
-- How many times the snapshot was moved (undos included); also the `seq` of its last move.
ALTER TABLE snapshots ADD COLUMN moves INT NOT NULL DEFAULT 0;
-- A lead confirmed the current attribution (kept it, or moved it here); NULL: not reviewed.
-- Reviewed snapshots leave the suspects list.
ALTER TABLE snapshots ADD COLUMN lead_reviewed_by VARCHAR(64) CHARACTER SET utf8mb4 NULL;
ALTER TABLE snapshots ADD COLUMN lead_reviewed_at DATETIME(6) NULL;
-- "Send to QA first": pending snapshots with this set are handed out before any other.
ALTER TABLE snapshots ADD COLUMN qa_first_at DATETIME(6) NULL;

ALTER TABLE snapshots ADD INDEX snapshots_qa_first (qa_first_at);

-- One row per move (or undo of a move), written in the move's transaction: who, when, from,
-- to, why, and the QA state the snapshot held (restored by an undo). Rowstore, sharded like
-- snapshots, so a snapshot's history and the verdicts below are local to its partition.
CREATE ROWSTORE TABLE snapshot_moves (
    id                   BIGINT NOT NULL AUTO_INCREMENT,
    snapshot_id          BIGINT NOT NULL,
    seq                  INT NOT NULL,
    kind                 VARCHAR(8) NOT NULL,
    from_product_id      BIGINT NOT NULL,
    to_product_id        BIGINT NOT NULL,
    moved_by             VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
    moved_at             DATETIME(6) NOT NULL,
    reason               VARCHAR(500) CHARACTER SET utf8mb4 NULL,
    held_status          VARCHAR(8) NOT NULL,
    held_votes_match     INT NOT NULL,
    held_votes_mismatch  INT NOT NULL,
    held_settled_by      VARCHAR(10) NULL,
    held_prior           DOUBLE NULL,
    held_posterior       DOUBLE NULL,
    held_verdicts_needed INT NULL,
    held_resolved_at     DATETIME(6) NULL,
    held_reviewed_by     VARCHAR(64) CHARACTER SET utf8mb4 NULL,
    held_reviewed_at     DATETIME(6) NULL,
    released             INT NOT NULL,
    qa_outcome           VARCHAR(8) NOT NULL,
    undone_by            BIGINT NULL,
    PRIMARY KEY (snapshot_id, seq),
    SHARD KEY (snapshot_id),
    KEY snapshot_moves_id (id),
    KEY snapshot_moves_recent (moved_at, id)
);

-- The QA hand-outs a move took off the snapshot, copied from qa_assignments with the move's
-- id. Verdicts among them (is_match set; cast for `from_product_id`) no longer count toward
-- the snapshot's status but keep their credit on the leaderboard, judged against the status
-- held. Unanswered ones were reservations the move released. An undo puts them all back
-- (restored_by), its verdicts counting again.
CREATE ROWSTORE TABLE snapshot_move_assignments (
    snapshot_id  BIGINT NOT NULL,
    move_id      BIGINT NOT NULL,
    username     VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
    session_id   BIGINT NOT NULL,
    `position`   INT NOT NULL,
    is_match     TINYINT NULL,
    released     TINYINT NOT NULL,
    reliability  DOUBLE NULL,
    assigned_at  DATETIME(6) NOT NULL,
    answered_at  DATETIME(6) NULL,
    restored_by  BIGINT NULL,
    PRIMARY KEY (snapshot_id, move_id, username),
    SHARD KEY (snapshot_id)
);
