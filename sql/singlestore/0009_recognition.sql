-- Recognition that learns from the catalog (service/similarity):
-- the versions of the projection fitted from labelled pictures, and the geometric check's
-- cache of how well a snapshot's picture matches a product's reference image.

-- One row per fitted projection of a base model's raw vectors. Vectors projected with version
-- N are stored under model "BASE+pN". 'building' while they are written and scored,
-- 'active' once queries use them (one at a time), then 'retired' (its rows are deleted).
-- A handful of rows, written by one process: rowstore.
CREATE ROWSTORE TABLE similarity_projections (
    base_model    VARCHAR(64) NOT NULL,
    `version`     INT NOT NULL,
    phase         VARCHAR(16) NOT NULL,
    blob_key      VARCHAR(255) NOT NULL,
    digest        CHAR(64) NOT NULL,
    trained_on    TEXT NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    activated_at  DATETIME(6) NULL,
    PRIMARY KEY (base_model, `version`)
);

-- Inliers of the RANSAC homography between a snapshot's and a product's reference picture,
-- per matcher (service/similarity/ranking/geometry.py). Point reads and writes by snapshot:
-- rowstore, sharded like snapshots.
CREATE ROWSTORE TABLE snapshot_matches (
    snapshot_id  BIGINT NOT NULL,
    product_id   BIGINT NOT NULL,
    matcher      VARCHAR(64) NOT NULL,
    inliers      INT NOT NULL,
    PRIMARY KEY (snapshot_id, matcher, product_id),
    SHARD KEY (snapshot_id)
);

-- The default embedder is now EfficientNet-Lite0 recognition: 1280 dimensions, where 0005
-- declared the old default's 580. Vectors of the two cannot be compared, so the (now stale)
-- embedding tables are made again at the new size, as in 0005; the background catch-up (or
-- `python -m service reembed`) embeds every stored image again. A deployment that sets
-- EMBEDDER=pack-features runs `reembed --prune`, which sizes them back.
DROP TABLE IF EXISTS product_embeddings;
DROP TABLE IF EXISTS snapshot_embeddings;
DROP TABLE IF EXISTS job_image_embeddings;

CREATE TABLE product_embeddings (
    product_id  BIGINT NOT NULL,
    `model`     VARCHAR(64) NOT NULL,
    embedding   VECTOR(1280, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (product_id, `model`) USING HASH,
    SORT KEY (`model`, product_id),
    SHARD KEY (product_id),
    VECTOR INDEX product_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

CREATE TABLE snapshot_embeddings (
    snapshot_id BIGINT NOT NULL,
    `model`     VARCHAR(64) NOT NULL,
    embedding   VECTOR(1280, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (snapshot_id, `model`) USING HASH,
    SORT KEY (`model`, snapshot_id),
    SHARD KEY (snapshot_id),
    VECTOR INDEX snapshot_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

CREATE TABLE job_image_embeddings (
    job_id      BIGINT NOT NULL,
    seq         INT NOT NULL,
    `model`     VARCHAR(64) NOT NULL,
    embedding   VECTOR(1280, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (job_id, seq, `model`) USING HASH,
    SORT KEY (`model`, job_id, seq),
    SHARD KEY (job_id),
    VECTOR INDEX job_image_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);
