-- name: similarity_nearest_snapshots
-- The :k snapshots whose embedding is nearest to :vector (packed float32; unit length, so the
-- dot product is cosine similarity), skipping :exclude_id. The inner ORDER BY ... LIMIT is
-- the shape SingleStore answers from its vector index.
SELECT n.snapshot_id, n.score, s.product_id, p.upc AS product_upc, p.name AS product_name,
       s.image_key, s.`status`
FROM (
    SELECT e.snapshot_id, DOT_PRODUCT(e.embedding, :vector) AS score
    FROM snapshot_embeddings e
    WHERE e.`model` = :model AND e.snapshot_id <> :exclude_id
    ORDER BY score DESC
    LIMIT :k
) n
JOIN snapshots s ON s.id = n.snapshot_id
JOIN products p ON p.id = s.product_id
ORDER BY n.score DESC;

-- name: similarity_nearest_products
-- The :k products whose reference image is nearest to :vector, skipping :exclude_id.
SELECT n.product_id, n.score, p.upc, p.name, p.image_key
FROM (
    SELECT e.product_id, DOT_PRODUCT(e.embedding, :vector) AS score
    FROM product_embeddings e
    WHERE e.`model` = :model AND e.product_id <> :exclude_id
    ORDER BY score DESC
    LIMIT :k
) n
JOIN products p ON p.id = n.product_id
ORDER BY n.score DESC;

-- name: similarity_snapshot
-- A snapshot as similarity sees it: attribution, status and image.
SELECT s.id, s.product_id, s.`status`, s.image_key, p.upc AS product_upc,
       p.name AS product_name
FROM snapshots s
JOIN products p ON p.id = s.product_id
WHERE s.id = :snapshot_id;

-- name: similarity_product_by_upc
SELECT id, upc, name, image_key FROM products WHERE upc = :upc;

-- name: similarity_product
SELECT id, upc, name, image_key FROM products WHERE id = :product_id;

-- name: similarity_snapshot_embedding
SELECT embedding FROM snapshot_embeddings WHERE snapshot_id = :snapshot_id AND `model` = :model;

-- name: similarity_product_embedding
SELECT embedding FROM product_embeddings WHERE product_id = :product_id AND `model` = :model;

-- name: similarity_update_snapshot_embedding
UPDATE snapshot_embeddings SET embedding = :embedding, created_at = :now
WHERE snapshot_id = :id AND `model` = :model;

-- name: similarity_update_product_embedding
UPDATE product_embeddings SET embedding = :embedding, created_at = :now
WHERE product_id = :id AND `model` = :model;

-- name: similarity_update_job_image_embedding
UPDATE job_image_embeddings SET embedding = :embedding, created_at = :now
WHERE job_id = :job_id AND seq = :seq AND `model` = :model;

-- name: similarity_delete_other_models_snapshots
-- `reembed --prune`: drop the embeddings of every model but :model and its raw vectors'
-- :raw_model. SQLite deletes them all
-- at once; SingleStore (sql/queries/singlestore) :batch rows per call.
DELETE FROM snapshot_embeddings WHERE `model` <> :model AND `model` <> :raw_model;

-- name: similarity_delete_other_models_products
DELETE FROM product_embeddings WHERE `model` <> :model AND `model` <> :raw_model;

-- name: similarity_delete_other_models_job_images
DELETE FROM job_image_embeddings WHERE `model` <> :model AND `model` <> :raw_model;

-- name: similarity_delete_other_models_suspicion
DELETE FROM snapshot_suspicion WHERE `model` <> :model AND `model` <> :raw_model;

-- name: similarity_delete_model_snapshots
-- A retired projection's rows.
DELETE FROM snapshot_embeddings WHERE `model` = :model;

-- name: similarity_delete_model_products
DELETE FROM product_embeddings WHERE `model` = :model;

-- name: similarity_delete_model_job_images
DELETE FROM job_image_embeddings WHERE `model` = :model;

-- name: similarity_delete_model_suspicion
DELETE FROM snapshot_suspicion WHERE `model` = :model;

-- name: similarity_products_missing
-- Products without an embedding of :model (reembed, catch-up), in no particular order: the
-- caller passes over the ones it could not embed (see service/similarity/catchup.py).
SELECT p.id, p.image_key
FROM products p
LEFT JOIN product_embeddings e ON e.product_id = p.id AND e.`model` = :model
WHERE e.product_id IS NULL
LIMIT :limit;

-- name: similarity_snapshots_missing
SELECT s.id, s.image_key
FROM snapshots s
LEFT JOIN snapshot_embeddings e ON e.snapshot_id = s.id AND e.`model` = :model
WHERE e.snapshot_id IS NULL
LIMIT :limit;

-- name: similarity_job_images_missing
-- Stored store-visit images without an embedding of :model, of the EMBED_JOB_IMAGES sample:
-- those whose (job_id, seq) hash falls under :per_mille of 1000 (1000: every image).
SELECT r.job_id, r.seq, r.blob_key
FROM image_results r
LEFT JOIN job_image_embeddings e
       ON e.job_id = r.job_id AND e.seq = r.seq AND e.`model` = :model
WHERE e.job_id IS NULL AND r.`status` = 'done' AND r.blob_key IS NOT NULL
  AND (r.job_id * 7919 + r.seq * 379) % 1000 < :per_mille
LIMIT :limit;

-- name: similarity_count_products_missing
SELECT COUNT(*) AS n
FROM products p
LEFT JOIN product_embeddings e ON e.product_id = p.id AND e.`model` = :model
WHERE e.product_id IS NULL;

-- name: similarity_count_snapshots_missing
SELECT COUNT(*) AS n
FROM snapshots s
LEFT JOIN snapshot_embeddings e ON e.snapshot_id = s.id AND e.`model` = :model
WHERE e.snapshot_id IS NULL;

-- name: similarity_count_job_images_missing
SELECT COUNT(*) AS n
FROM image_results r
LEFT JOIN job_image_embeddings e
       ON e.job_id = r.job_id AND e.seq = r.seq AND e.`model` = :model
WHERE e.job_id IS NULL AND r.`status` = 'done' AND r.blob_key IS NOT NULL
  AND (r.job_id * 7919 + r.seq * 379) % 1000 < :per_mille;

-- name: similarity_count_snapshot_embeddings
SELECT COUNT(*) AS n FROM snapshot_embeddings WHERE `model` = :model;

-- name: similarity_count_product_embeddings
SELECT COUNT(*) AS n FROM product_embeddings WHERE `model` = :model;

-- name: similarity_snapshots_to_score
-- Embedded snapshots whose suspicion is missing or stale: scored when the collection was
-- under 80% of :population, before :stale_before, or under another attribution.
SELECT s.id, s.product_id, s.image_key, e.embedding
FROM snapshots s
JOIN snapshot_embeddings e ON e.snapshot_id = s.id AND e.`model` = :model
LEFT JOIN snapshot_suspicion g ON g.snapshot_id = s.id AND g.`model` = :model
WHERE (g.snapshot_id IS NULL
       OR g.population * 5 < :population * 4
       OR g.scored_at < :stale_before
       OR g.product_id <> s.product_id)
ORDER BY s.id
LIMIT :limit;

-- name: similarity_delete_suspicion
DELETE FROM snapshot_suspicion WHERE snapshot_id = :snapshot_id AND `model` = :model;

-- name: similarity_insert_suspicion
INSERT INTO snapshot_suspicion (snapshot_id, `model`, product_id, suggested_product_id,
                                suspicion, own_share, suggested_share, population, scored_at)
VALUES (:snapshot_id, :model, :product_id, :suggested_product_id, :suspicion, :own_share,
        :suggested_share, :population, :now);

-- name: similarity_suspects
-- The snapshots most likely attributed to the wrong product, most suspicious first; :status
-- '' means any status. Snapshots a lead reviewed (kept, or moved where they are) are left out.
SELECT g.snapshot_id, g.suspicion, g.own_share, g.suggested_share, g.scored_at,
       s.`status`, s.image_key, s.product_id,
       p.upc AS product_upc, p.name AS product_name,
       g.suggested_product_id, q.upc AS suggested_upc, q.name AS suggested_name
FROM snapshot_suspicion g
JOIN snapshots s ON s.id = g.snapshot_id AND s.product_id = g.product_id
JOIN products p ON p.id = s.product_id
LEFT JOIN products q ON q.id = g.suggested_product_id
WHERE g.`model` = :model AND (:status = '' OR s.`status` = :status)
  AND s.lead_reviewed_at IS NULL
ORDER BY g.suspicion DESC, g.snapshot_id
LIMIT :limit;

-- name: similarity_pick_suspects
-- QA_PRIORITY=suspects: like qa_pick_from, but the most suspicious pending snapshots first
-- (and, like it, limited by :majority, or under :assisted = 1 by each one's verdicts_needed).
SELECT s.id, s.product_id
FROM snapshot_suspicion g
JOIN snapshots s ON s.id = g.snapshot_id
WHERE g.`model` = :model
  AND s.`status` = 'pending'
  AND ((:assisted = 0 AND s.reserved < CASE
         WHEN GREATEST(s.votes_match, s.votes_mismatch) >= :majority
              AND s.votes_match <> s.votes_mismatch THEN 0
         ELSE GREATEST(:majority - GREATEST(s.votes_match, s.votes_mismatch), 1) END)
       OR (:assisted = 1 AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)))
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY g.suspicion DESC, s.id
LIMIT :limit;

-- name: similarity_truth_batch
-- Quality measures: embedded snapshots after :after_id with their attributed and true
-- product (the truth is the attribution unless snapshot_truth says otherwise).
SELECT s.id, s.product_id, COALESCE(t.true_product_id, s.product_id) AS true_product_id,
       s.image_key, e.embedding
FROM snapshots s
JOIN snapshot_embeddings e ON e.snapshot_id = s.id AND e.`model` = :model
LEFT JOIN snapshot_truth t ON t.snapshot_id = s.id
WHERE s.id > :after_id
ORDER BY s.id
LIMIT :limit;

-- name: similarity_evaluate_snapshots
-- `evaluate --flip`: every snapshot with its attribution, to pick some to mis-attribute.
SELECT id, product_id FROM snapshots ORDER BY id;

-- name: similarity_evaluate_reattribute
-- `evaluate --flip`: attribute a snapshot to another product (its truth recorded first).
UPDATE snapshots SET product_id = :product_id WHERE id = :snapshot_id;

-- Recognition that learns: projection versions (service/similarity/index/projections.py)

-- name: similarity_active_projection
-- The projection queries use for :base_model's vectors; no row: none fitted yet (version 0).
SELECT `version`, blob_key, digest
FROM similarity_projections
WHERE base_model = :base_model AND phase = 'active'
ORDER BY `version` DESC
LIMIT 1;

-- name: similarity_projections
-- Every projection of :base_model, newest first.
SELECT `version`, phase, blob_key, digest, trained_on, created_at, activated_at
FROM similarity_projections
WHERE base_model = :base_model
ORDER BY `version` DESC;

-- name: similarity_insert_projection
INSERT INTO similarity_projections (base_model, `version`, phase, blob_key, digest, trained_on,
                                    created_at)
VALUES (:base_model, :version, 'building', :blob_key, :digest, :trained_on, :now);

-- name: similarity_retire_projections
-- Before :version becomes active: the active one (and any abandoned build) is retired.
UPDATE similarity_projections SET phase = 'retired'
WHERE base_model = :base_model AND `version` <> :version AND phase <> 'retired';

-- name: similarity_activate_projection
UPDATE similarity_projections SET phase = 'active', activated_at = :now
WHERE base_model = :base_model AND `version` = :version AND phase = 'building';

-- name: similarity_products_unprojected
-- Products with a raw vector of :raw_model but none of :model (its projection), with the raw
-- vector to project.
SELECT r.product_id AS id, r.embedding
FROM product_embeddings r
LEFT JOIN product_embeddings e ON e.product_id = r.product_id AND e.`model` = :model
WHERE r.`model` = :raw_model AND e.product_id IS NULL
LIMIT :limit;

-- name: similarity_snapshots_unprojected
SELECT r.snapshot_id AS id, r.embedding
FROM snapshot_embeddings r
LEFT JOIN snapshot_embeddings e ON e.snapshot_id = r.snapshot_id AND e.`model` = :model
WHERE r.`model` = :raw_model AND e.snapshot_id IS NULL
LIMIT :limit;

-- name: similarity_job_images_unprojected
SELECT r.job_id, r.seq, r.embedding
FROM job_image_embeddings r
LEFT JOIN job_image_embeddings e
       ON e.job_id = r.job_id AND e.seq = r.seq AND e.`model` = :model
WHERE r.`model` = :raw_model AND e.job_id IS NULL
LIMIT :limit;

-- name: similarity_count_products_unprojected
SELECT COUNT(*) AS n
FROM product_embeddings r
LEFT JOIN product_embeddings e ON e.product_id = r.product_id AND e.`model` = :model
WHERE r.`model` = :raw_model AND e.product_id IS NULL;

-- name: similarity_count_snapshots_unprojected
SELECT COUNT(*) AS n
FROM snapshot_embeddings r
LEFT JOIN snapshot_embeddings e ON e.snapshot_id = r.snapshot_id AND e.`model` = :model
WHERE r.`model` = :raw_model AND e.snapshot_id IS NULL;

-- name: similarity_count_job_images_unprojected
SELECT COUNT(*) AS n
FROM job_image_embeddings r
LEFT JOIN job_image_embeddings e
       ON e.job_id = r.job_id AND e.seq = r.seq AND e.`model` = :model
WHERE r.`model` = :raw_model AND e.job_id IS NULL;

-- name: similarity_training_products
-- What a projection is fitted from: every product's raw reference vector ...
SELECT e.product_id, e.embedding
FROM product_embeddings e
WHERE e.`model` = :raw_model;

-- name: similarity_training_snapshots
-- ... and every snapshot's raw vector with its attribution, QA status and whether a lead
-- confirmed it (kept it or moved it there: service/lead). Mismatched ones are left out (QA
-- said the label is wrong) unless a lead has since confirmed the label.
SELECT s.id, s.product_id, s.`status`,
       CASE WHEN s.lead_reviewed_at IS NULL THEN 0 ELSE 1 END AS lead_confirmed, e.embedding
FROM snapshots s
JOIN snapshot_embeddings e ON e.snapshot_id = s.id AND e.`model` = :raw_model
WHERE s.`status` <> 'mismatch' OR s.lead_reviewed_at IS NOT NULL;

-- name: similarity_label_counts
-- How much labelled data there is: a projection is refitted once this has grown enough.
SELECT
    (SELECT COUNT(*) FROM product_embeddings WHERE `model` = :raw_model) AS products,
    (SELECT COUNT(*) FROM snapshot_embeddings e JOIN snapshots s ON s.id = e.snapshot_id
      WHERE e.`model` = :raw_model AND s.`status` = 'pending'
        AND s.lead_reviewed_at IS NULL) AS attributed,
    (SELECT COUNT(*) FROM snapshot_embeddings e JOIN snapshots s ON s.id = e.snapshot_id
      WHERE e.`model` = :raw_model
        AND (s.`status` = 'match' OR s.lead_reviewed_at IS NOT NULL)) AS confirmed;

-- The geometric check's pair cache (service/similarity/ranking/rerank.py)

-- name: similarity_cached_matches
-- Inliers already measured between a snapshot's picture and products' reference pictures.
SELECT product_id, inliers
FROM snapshot_matches
WHERE snapshot_id = :snapshot_id AND matcher = :matcher;

-- name: similarity_evaluate_truth
-- `evaluate --folds`: every snapshot's true product (the attribution unless recorded).
SELECT s.id, COALESCE(t.true_product_id, s.product_id) AS true_product_id
FROM snapshots s
LEFT JOIN snapshot_truth t ON t.snapshot_id = s.id
ORDER BY s.id;

-- Reports: the embedding backlog (/metrics) and a job's embedding (GET /api/jobs/{id})

-- name: similarity_backlog
-- Stored pictures still without a raw vector of :raw_model (job images: of the
-- EMBED_JOB_IMAGES sample, :per_mille of 1000), and raw vectors still without the active
-- projection's (:model; nothing when no projection is active, :model = :raw_model).
SELECT
    (SELECT COUNT(*) FROM products p
       LEFT JOIN product_embeddings e ON e.product_id = p.id AND e.`model` = :raw_model
      WHERE e.product_id IS NULL) AS products_unembedded,
    (SELECT COUNT(*) FROM snapshots s
       LEFT JOIN snapshot_embeddings e ON e.snapshot_id = s.id AND e.`model` = :raw_model
      WHERE e.snapshot_id IS NULL) AS snapshots_unembedded,
    (SELECT COUNT(*) FROM image_results r
       LEFT JOIN job_image_embeddings e
              ON e.job_id = r.job_id AND e.seq = r.seq AND e.`model` = :raw_model
      WHERE e.job_id IS NULL AND r.`status` = 'done' AND r.blob_key IS NOT NULL
        AND (r.job_id * 7919 + r.seq * 379) % 1000 < :per_mille) AS job_images_unembedded,
    (SELECT COUNT(*) FROM snapshot_embeddings r
       LEFT JOIN snapshot_embeddings e ON e.snapshot_id = r.snapshot_id AND e.`model` = :model
      WHERE r.`model` = :raw_model AND e.snapshot_id IS NULL) AS snapshots_unprojected;

-- name: similarity_job_embedding
-- One job's done images: how many have a raw vector of :raw_model, how many of the sample
-- still wait for one, and how many fall outside the EMBED_JOB_IMAGES sample.
SELECT
    SUM(CASE WHEN e.job_id IS NOT NULL THEN 1 ELSE 0 END) AS embedded,
    SUM(CASE WHEN e.job_id IS NULL AND (r.job_id * 7919 + r.seq * 379) % 1000 < :per_mille
             THEN 1 ELSE 0 END) AS waiting,
    SUM(CASE WHEN e.job_id IS NULL AND (r.job_id * 7919 + r.seq * 379) % 1000 >= :per_mille
             THEN 1 ELSE 0 END) AS not_sampled
FROM image_results r
LEFT JOIN job_image_embeddings e
       ON e.job_id = r.job_id AND e.seq = r.seq AND e.`model` = :raw_model
WHERE r.job_id = :job_id AND r.`status` = 'done' AND r.blob_key IS NOT NULL;
