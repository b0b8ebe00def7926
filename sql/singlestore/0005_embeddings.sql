-- Similarity: an embedding beside every stored image, per model, and each snapshot's latest
-- suspicion score. Embeddings are unit-length VECTOR(580, F32) (the pack-features embedder's
-- dimension; a model of another dimension needs a migration), so DOT_PRODUCT is cosine
-- similarity. `model` is "name:version"; `python -m service reembed` adds rows for a new model
-- beside the old ones, so queries always filter on one model.
--
-- Embedding tables are columnstore (the only kind that takes a vector index), with an HNSW
-- index for DOT_PRODUCT: `ORDER BY DOT_PRODUCT(embedding, :vector) DESC LIMIT k` is answered
-- from the index. They are sharded like the image rows they describe, so joining back to
-- snapshots is local; the hash primary key holds the shard key and makes writes idempotent.

CREATE TABLE product_embeddings (
    product_id  BIGINT NOT NULL,
    `model`       VARCHAR(64) NOT NULL,
    embedding   VECTOR(580, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (product_id, `model`) USING HASH,
    SORT KEY (`model`, product_id),
    SHARD KEY (product_id),
    VECTOR INDEX product_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

CREATE TABLE snapshot_embeddings (
    snapshot_id BIGINT NOT NULL,
    `model`       VARCHAR(64) NOT NULL,
    embedding   VECTOR(580, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (snapshot_id, `model`) USING HASH,
    SORT KEY (`model`, snapshot_id),
    SHARD KEY (snapshot_id),
    VECTOR INDEX snapshot_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- Store-visit images, sharded like image_results (by job).
CREATE TABLE job_image_embeddings (
    job_id      BIGINT NOT NULL,
    seq         INT NOT NULL,
    `model`       VARCHAR(64) NOT NULL,
    embedding   VECTOR(580, F32) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (job_id, seq, `model`) USING HASH,
    SORT KEY (`model`, job_id, seq),
    SHARD KEY (job_id),
    VECTOR INDEX job_image_embeddings_ann (embedding)
        INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}'
);

-- How strongly a snapshot's nearest reference images and snapshots vote for another product
-- than the one it is attributed to. Point-rewritten per snapshot, read in suspicion order:
-- rowstore, sharded like snapshots.
CREATE ROWSTORE TABLE snapshot_suspicion (
    snapshot_id           BIGINT NOT NULL,
    `model`                 VARCHAR(64) NOT NULL,
    product_id            BIGINT NOT NULL,
    suggested_product_id  BIGINT NULL,
    suspicion             DOUBLE NOT NULL,
    own_share             DOUBLE NOT NULL,
    suggested_share       DOUBLE NOT NULL,
    population            BIGINT NOT NULL,
    scored_at             DATETIME(6) NOT NULL,
    PRIMARY KEY (snapshot_id, `model`),
    SHARD KEY (snapshot_id),
    KEY snapshot_suspicion_rank (`model`, suspicion)
);
