-- name: similarity_insert_snapshot_embedding
-- A new embedding; 0 rows when this snapshot already has one of this model (then update).
-- :embedding is packed little-endian float32, which the VECTOR column takes as is.
INSERT IGNORE INTO snapshot_embeddings (snapshot_id, model, embedding, created_at)
VALUES (:id, :model, :embedding, :now);

-- name: similarity_insert_product_embedding
INSERT IGNORE INTO product_embeddings (product_id, model, embedding, created_at)
VALUES (:id, :model, :embedding, :now);

-- name: similarity_insert_job_image_embedding
INSERT IGNORE INTO job_image_embeddings (job_id, seq, model, embedding, created_at)
VALUES (:job_id, :seq, :model, :embedding, :now);

-- name: similarity_vector_columns
-- The declared type of each embedding column: `vector(580, F32)` on SingleStore (a MySQL
-- stand-in stores BLOBs, which take any dimension). `reembed` compares it with EMBEDDER's.
SELECT TABLE_NAME AS table_name, COLUMN_TYPE AS column_type
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'embedding'
  AND TABLE_NAME IN ('product_embeddings', 'snapshot_embeddings', 'job_image_embeddings');

-- `reembed --prune` for a model of another dimension: VECTOR(n) is fixed per column, so the
-- (pruned, empty) embedding tables are made again as in 0005_embeddings.sql with :dimension.
-- name: similarity_resize_drop_product_embeddings
DROP TABLE IF EXISTS product_embeddings;

-- name: similarity_resize_drop_snapshot_embeddings
DROP TABLE IF EXISTS snapshot_embeddings;

-- name: similarity_resize_drop_job_image_embeddings
DROP TABLE IF EXISTS job_image_embeddings;

-- name: similarity_resize_create_product_embeddings
CREATE TABLE product_embeddings (
    product_id  BIGINT NOT NULL,
    model       VARCHAR(64) NOT NULL,
    embedding   VECTOR(:dimension, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (product_id, model) USING HASH,
    SORT KEY (model, product_id),
    SHARD KEY (product_id),
    VECTOR INDEX product_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- name: similarity_resize_create_snapshot_embeddings
CREATE TABLE snapshot_embeddings (
    snapshot_id BIGINT NOT NULL,
    model       VARCHAR(64) NOT NULL,
    embedding   VECTOR(:dimension, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (snapshot_id, model) USING HASH,
    SORT KEY (model, snapshot_id),
    SHARD KEY (snapshot_id),
    VECTOR INDEX snapshot_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- name: similarity_resize_create_job_image_embeddings
CREATE TABLE job_image_embeddings (
    job_id      BIGINT NOT NULL,
    seq         INT NOT NULL,
    model       VARCHAR(64) NOT NULL,
    embedding   VECTOR(:dimension, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (job_id, seq, model) USING HASH,
    SORT KEY (model, job_id, seq),
    SHARD KEY (job_id),
    VECTOR INDEX job_image_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);
