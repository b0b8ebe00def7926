-- Similarity: an embedding beside every stored image, per model, and each snapshot's latest
-- suspicion score. Embeddings are unit-length vectors stored as little-endian float32 BLOBs
-- (the bytes SingleStore's JSON_ARRAY_PACK makes), so DOT_PRODUCT is cosine similarity.
-- `model` is "name:version" of the embedder; `python -m service reembed` adds rows for a
-- new model beside the old ones, so queries always filter on one model.

CREATE TABLE product_embeddings (
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    `model`       TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (product_id, `model`)
);

CREATE TABLE snapshot_embeddings (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    `model`       TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (snapshot_id, `model`)
);

-- Store-visit images, keyed like their result row.
CREATE TABLE job_image_embeddings (
    job_id      INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    `model`       TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (job_id, seq, `model`),
    FOREIGN KEY (job_id, seq) REFERENCES image_results (job_id, seq) ON DELETE CASCADE
);

-- SQLite only: change counters for the in-process vector matrices (service/similarity/
-- matrix.py). Every write to product_ or snapshot_embeddings made by the service bumps its
-- kind's counter in the same transaction: `appends` for a new row, `rewrites` for a changed
-- or deleted one (a rewrite makes readers reload; appends are read incrementally by rowid).
CREATE TABLE embedding_versions (
    kind      TEXT PRIMARY KEY CHECK (kind IN ('product', 'snapshot')),
    appends   INTEGER NOT NULL,
    rewrites  INTEGER NOT NULL
);

INSERT INTO embedding_versions (kind, appends, rewrites) VALUES ('product', 0, 0);
INSERT INTO embedding_versions (kind, appends, rewrites) VALUES ('snapshot', 0, 0);

-- How strongly a snapshot's nearest reference images and snapshots vote for another product
-- than the one it is attributed to (service/similarity/votes.py). Rescored when the
-- collection has grown since (`population`), when it is old, or when the attribution changed.
CREATE TABLE snapshot_suspicion (
    snapshot_id           INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    `model`                 TEXT NOT NULL,
    product_id            INTEGER NOT NULL,   -- the attribution that was scored
    suggested_product_id  INTEGER,            -- the best other product; NULL if none voted
    suspicion             REAL NOT NULL,      -- in [-1, 1]: suggested_share - own_share
    own_share             REAL NOT NULL,
    suggested_share       REAL NOT NULL,
    population            INTEGER NOT NULL,   -- snapshot embeddings of the model when scored
    scored_at             DATETIME NOT NULL,
    PRIMARY KEY (snapshot_id, `model`)
);

CREATE INDEX snapshot_suspicion_rank ON snapshot_suspicion (`model`, suspicion);
