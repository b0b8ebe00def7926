-- name: similarity_insert_snapshot_embedding
-- A new embedding; 0 rows when this snapshot already has one of this model (then update).
INSERT INTO snapshot_embeddings (snapshot_id, `model`, embedding, created_at)
VALUES (:id, :model, :embedding, :now)
ON CONFLICT (snapshot_id, `model`) DO NOTHING;

-- name: similarity_insert_product_embedding
INSERT INTO product_embeddings (product_id, `model`, embedding, created_at)
VALUES (:id, :model, :embedding, :now)
ON CONFLICT (product_id, `model`) DO NOTHING;

-- name: similarity_insert_job_image_embedding
INSERT INTO job_image_embeddings (job_id, seq, `model`, embedding, created_at)
VALUES (:job_id, :seq, :model, :embedding, :now)
ON CONFLICT (job_id, seq, `model`) DO NOTHING;

-- name: similarity_bump_version
-- Tell the in-process matrices that a kind's embeddings changed (same transaction as the
-- change): appends are read incrementally, a rewrite makes them reload.
UPDATE embedding_versions
SET appends = appends + :appends, rewrites = rewrites + :rewrites
WHERE kind = :kind;

-- name: similarity_version
SELECT appends, rewrites FROM embedding_versions WHERE kind = :kind;

-- name: similarity_matrix_snapshots
-- Snapshot embeddings of :model added after :after_rowid, in rowid (insertion) order.
SELECT rowid AS rid, snapshot_id AS id, embedding
FROM snapshot_embeddings
WHERE `model` = :model AND rowid > :after_rowid
ORDER BY rowid;

-- name: similarity_matrix_products
SELECT rowid AS rid, product_id AS id, embedding
FROM product_embeddings
WHERE `model` = :model AND rowid > :after_rowid
ORDER BY rowid;

-- name: similarity_snapshots_by_ids
-- What similarity_nearest_snapshots returns besides the score, for ids found in memory
-- (:ids is a JSON array).
SELECT s.id AS snapshot_id, s.product_id, p.upc AS product_upc, p.name AS product_name,
       s.image_key, s.`status`
FROM json_each(:ids) j
JOIN snapshots s ON s.id = j.`value`
JOIN products p ON p.id = s.product_id;

-- name: similarity_products_by_ids
SELECT p.id AS product_id, p.upc, p.name, p.image_key
FROM json_each(:ids) j
JOIN products p ON p.id = j.`value`;

-- name: similarity_insert_match
-- A measured pair; a pair measured twice (two processes at once) keeps its first value.
INSERT INTO snapshot_matches (snapshot_id, product_id, matcher, inliers)
VALUES (:snapshot_id, :product_id, :matcher, :inliers)
ON CONFLICT (snapshot_id, matcher, product_id) DO NOTHING;
