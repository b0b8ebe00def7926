-- name: similarity_insert_snapshot_embedding
-- A new embedding; 0 rows when this snapshot already has one of this model (then update).
-- :embedding is packed little-endian float32, which the VECTOR column takes as is.
INSERT IGNORE INTO snapshot_embeddings (snapshot_id, `model`, embedding, created_at)
VALUES (:id, :model, :embedding, :now);

-- name: similarity_insert_product_embedding
INSERT IGNORE INTO product_embeddings (product_id, `model`, embedding, created_at)
VALUES (:id, :model, :embedding, :now);

-- name: similarity_insert_job_image_embedding
INSERT IGNORE INTO job_image_embeddings (job_id, seq, `model`, embedding, created_at)
VALUES (:job_id, :seq, :model, :embedding, :now);

-- Nearest neighbours on SingleStore. With an HNSW_FLAT index the planner answers
-- `ORDER BY DOT_PRODUCT(...) DESC LIMIT k` from the index: k approximate candidates, and WHERE
-- filters applied after them, so "not the query's own row" and "this model" would leave
-- fewer than k rows. service/similarity/knn.py picks, per search: the exact form below up to
-- EXACT_MAX_ROWS embeddings of the model, and the `_ann` form (index, over-fetched, filtered
-- outside) above that. The exact form keeps off the index with an empty index hint inside
-- its ORDER BY (`ORDER BY score USE INDEX () DESC`); `check-singlestore` runs EXPLAIN on both
-- and says which one uses the index. (The tests' MariaDB gets the exact form without the hint.)

-- name: similarity_nearest_snapshots
-- Exact: the :k snapshots of :model nearest to :vector, skipping :exclude_id.
SELECT n.snapshot_id, n.score, s.product_id, p.upc AS product_upc, p.name AS product_name,
       s.image_key, s.`status`
FROM (
    SELECT e.snapshot_id, DOT_PRODUCT(e.embedding, :vector) AS score
    FROM snapshot_embeddings e
    WHERE e.`model` = :model AND e.snapshot_id <> :exclude_id
    ORDER BY score USE INDEX () DESC
    LIMIT :k
) n
JOIN snapshots s ON s.id = n.snapshot_id
JOIN products p ON p.id = s.product_id
ORDER BY n.score DESC;

-- name: similarity_nearest_products
-- Exact: the :k products of :model nearest to :vector, skipping :exclude_id.
SELECT n.product_id, n.score, p.upc, p.name, p.image_key
FROM (
    SELECT e.product_id, DOT_PRODUCT(e.embedding, :vector) AS score
    FROM product_embeddings e
    WHERE e.`model` = :model AND e.product_id <> :exclude_id
    ORDER BY score USE INDEX () DESC
    LIMIT :k
) n
JOIN products p ON p.id = n.product_id
ORDER BY n.score DESC;

-- name: similarity_nearest_snapshots_ann
-- Approximate, from the vector index: :fetch candidates (:search_options is '{"k": :fetch,
-- ...}'), then the model and exclusion filters outside the indexed subquery, then the top :k.
-- Fewer than :k rows means the candidates held too few of this model; knn.py then searches
-- exactly.
SELECT n.snapshot_id, n.score, s.product_id, p.upc AS product_upc, p.name AS product_name,
       s.image_key, s.`status`
FROM (
    SELECT c.snapshot_id, c.score
    FROM (
        SELECT e.snapshot_id, e.`model`, DOT_PRODUCT(e.embedding, :vector) AS score
        FROM snapshot_embeddings e
        ORDER BY score SEARCH_OPTIONS :search_options DESC
        LIMIT :fetch
    ) c
    WHERE c.`model` = :model AND c.snapshot_id <> :exclude_id
    ORDER BY c.score DESC
    LIMIT :k
) n
JOIN snapshots s ON s.id = n.snapshot_id
JOIN products p ON p.id = s.product_id
ORDER BY n.score DESC;

-- name: similarity_nearest_products_ann
-- Approximate, from the vector index, as similarity_nearest_snapshots_ann.
SELECT n.product_id, n.score, p.upc, p.name, p.image_key
FROM (
    SELECT c.product_id, c.score
    FROM (
        SELECT e.product_id, e.`model`, DOT_PRODUCT(e.embedding, :vector) AS score
        FROM product_embeddings e
        ORDER BY score SEARCH_OPTIONS :search_options DESC
        LIMIT :fetch
    ) c
    WHERE c.`model` = :model AND c.product_id <> :exclude_id
    ORDER BY c.score DESC
    LIMIT :k
) n
JOIN products p ON p.id = n.product_id
ORDER BY n.score DESC;

-- name: similarity_delete_other_models_snapshots
-- `reembed --prune`, :batch rows per call (each in its own transaction): one DELETE of a
-- whole model on a columnstore table can escalate to partition locks.
DELETE FROM snapshot_embeddings WHERE `model` <> :model AND `model` <> :raw_model LIMIT :batch;

-- name: similarity_delete_other_models_products
DELETE FROM product_embeddings WHERE `model` <> :model AND `model` <> :raw_model LIMIT :batch;

-- name: similarity_delete_other_models_job_images
DELETE FROM job_image_embeddings WHERE `model` <> :model AND `model` <> :raw_model LIMIT :batch;

-- name: similarity_delete_other_models_suspicion
DELETE FROM snapshot_suspicion WHERE `model` <> :model AND `model` <> :raw_model LIMIT :batch;

-- name: similarity_delete_model_snapshots
-- A retired projection's rows, :batch per call.
DELETE FROM snapshot_embeddings WHERE `model` = :model LIMIT :batch;

-- name: similarity_delete_model_products
DELETE FROM product_embeddings WHERE `model` = :model LIMIT :batch;

-- name: similarity_delete_model_job_images
DELETE FROM job_image_embeddings WHERE `model` = :model LIMIT :batch;

-- name: similarity_delete_model_suspicion
DELETE FROM snapshot_suspicion WHERE `model` = :model LIMIT :batch;

-- name: similarity_vector_columns
-- The declared type of each embedding column: `vector(580, F32)` on SingleStore (a MySQL
-- stand-in stores BLOBs, which take any dimension). `reembed` compares it with EMBEDDER's.
SELECT TABLE_NAME AS table_name, COLUMN_TYPE AS column_type
FROM information_schema.`COLUMNS`
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
    `model`       VARCHAR(64) NOT NULL,
    embedding   VECTOR(:dimension, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (product_id, `model`) USING HASH,
    SORT KEY (`model`, product_id),
    SHARD KEY (product_id),
    VECTOR INDEX product_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- name: similarity_resize_create_snapshot_embeddings
CREATE TABLE snapshot_embeddings (
    snapshot_id BIGINT NOT NULL,
    `model`       VARCHAR(64) NOT NULL,
    embedding   VECTOR(:dimension, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (snapshot_id, `model`) USING HASH,
    SORT KEY (`model`, snapshot_id),
    SHARD KEY (snapshot_id),
    VECTOR INDEX snapshot_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- name: similarity_resize_create_job_image_embeddings
CREATE TABLE job_image_embeddings (
    job_id      BIGINT NOT NULL,
    seq         INT NOT NULL,
    `model`       VARCHAR(64) NOT NULL,
    embedding   VECTOR(:dimension, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (job_id, seq, `model`) USING HASH,
    SORT KEY (`model`, job_id, seq),
    SHARD KEY (job_id),
    VECTOR INDEX job_image_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- name: similarity_insert_match
-- A measured pair; a pair measured twice (two processes at once) keeps its first value.
INSERT IGNORE INTO snapshot_matches (snapshot_id, product_id, matcher, inliers)
VALUES (:snapshot_id, :product_id, :matcher, :inliers);
