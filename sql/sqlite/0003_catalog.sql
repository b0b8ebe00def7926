-- Catalog: products with their reference image, and snapshots (shelf photos attributed to a
-- product) that QA reviews. A snapshot's voting state lives on its row so that reserving it
-- and counting a vote are single-row conditional updates (see service/qa).

CREATE TABLE products (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    upc           TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    image_key     TEXT NOT NULL,            -- blob store key of the reference image
    image_width   INTEGER NOT NULL,
    image_height  INTEGER NOT NULL,
    image_format  TEXT NOT NULL,            -- Pillow's format name: JPEG, PNG, WEBP, ...
    created_at    DATETIME NOT NULL
);

CREATE TABLE snapshots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id      INTEGER NOT NULL REFERENCES products (id),
    image_key       TEXT NOT NULL,
    image_width     INTEGER NOT NULL,
    image_height    INTEGER NOT NULL,
    image_format    TEXT NOT NULL,
    content_hash    TEXT NOT NULL,          -- sha256 of the uploaded bytes (import dedupe)
    source          TEXT,                   -- original file name or import path, if known
    `status`          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (`status` IN ('pending', 'match', 'mismatch')),
    votes_match     INTEGER NOT NULL DEFAULT 0,
    votes_mismatch  INTEGER NOT NULL DEFAULT 0,
    reserved        INTEGER NOT NULL DEFAULT 0,  -- open QA reservations not yet answered
    rand_key        REAL NOT NULL,          -- uniform [0, 1): random QA order via an index
    created_at      DATETIME NOT NULL,
    resolved_at     DATETIME
);

CREATE INDEX snapshots_product ON snapshots (product_id, id);
CREATE INDEX snapshots_queue ON snapshots (`status`, rand_key);
CREATE INDEX snapshots_status_id ON snapshots (`status`, id);
CREATE INDEX snapshots_hash ON snapshots (content_hash);

-- Known ground truth for some snapshots (the generated demo catalog): which product a snapshot
-- really shows. Read by the simulator and the similarity quality tests, never by QA itself.
CREATE TABLE snapshot_truth (
    snapshot_id      INTEGER PRIMARY KEY REFERENCES snapshots (id),
    true_product_id  INTEGER NOT NULL REFERENCES products (id)
);
