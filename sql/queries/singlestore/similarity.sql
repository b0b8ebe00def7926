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
