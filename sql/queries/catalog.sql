-- name: catalog_insert_product
INSERT INTO products (upc, name, image_key, image_width, image_height, image_format, created_at)
VALUES (:upc, :name, :image_key, :image_width, :image_height, :image_format, :now);

-- name: catalog_product_by_upc
-- One product with its snapshot count (a join to a grouped subquery rather than a
-- correlated COUNT, which SingleStore's distributed planner may refuse).
SELECT p.id, p.upc, p.name, p.image_key, p.image_width, p.image_height, p.image_format,
       p.created_at, COALESCE(c.n, 0) AS snapshot_count
FROM products p
LEFT JOIN (
    SELECT s.product_id, COUNT(*) AS n
    FROM snapshots s
    JOIN products q ON q.id = s.product_id
    WHERE q.upc = :upc
    GROUP BY s.product_id
) c ON c.product_id = p.id
WHERE p.upc = :upc;

-- name: catalog_product_id
SELECT id FROM products WHERE upc = :upc;

-- name: catalog_products_page
-- Keyset pagination: products after `after_id` in id order (an order clients see, not
-- creation order: SingleStore ids are unique, not monotonic). Counts as in
-- catalog_product_by_upc, grouped over this page's products only.
SELECT p.id, p.upc, p.name, p.image_key, p.image_width, p.image_height, p.image_format,
       p.created_at, COALESCE(c.n, 0) AS snapshot_count
FROM (
    SELECT id, upc, name, image_key, image_width, image_height, image_format, created_at
    FROM products
    WHERE id > :after_id
    ORDER BY id
    LIMIT :limit
) p
LEFT JOIN (
    SELECT s.product_id, COUNT(*) AS n
    FROM snapshots s
    JOIN (SELECT id FROM products WHERE id > :after_id ORDER BY id LIMIT :limit) k
      ON k.id = s.product_id
    GROUP BY s.product_id
) c ON c.product_id = p.id
ORDER BY p.id;

-- name: catalog_insert_snapshot
INSERT INTO snapshots (product_id, image_key, image_width, image_height, image_format,
                       content_hash, source, `status`, votes_match, votes_mismatch, reserved,
                       rand_key, created_at)
VALUES (:product_id, :image_key, :image_width, :image_height, :image_format, :content_hash,
        :source, 'pending', 0, 0, 0, :rand_key, :now);

-- name: catalog_snapshot_by_id
-- A snapshot with its product and voting state.
SELECT s.id, s.image_key, s.image_width, s.image_height, s.image_format, s.source,
       s.`status`, s.votes_match, s.votes_mismatch, s.created_at, s.resolved_at,
       s.posterior, s.settled_by, s.`version`, s.moves, s.lead_reviewed_by,
       s.lead_reviewed_at, s.qa_first_at,
       p.id AS product_id, p.upc AS product_upc, p.name AS product_name,
       p.image_key AS product_image_key
FROM snapshots s
JOIN products p ON p.id = s.product_id
WHERE s.id = :snapshot_id;

-- name: catalog_snapshot_by_hash
-- The import's dedupe check: this product already has a snapshot with these exact bytes.
SELECT id FROM snapshots WHERE content_hash = :content_hash AND product_id = :product_id
LIMIT 1;

-- name: catalog_insert_truth
-- Record which product a (generated) snapshot really shows.
INSERT INTO snapshot_truth (snapshot_id, true_product_id) VALUES (:snapshot_id, :true_product_id);

-- name: catalog_count_products
SELECT COUNT(*) AS n FROM products;

-- name: catalog_truth
-- Every snapshot with known ground truth: attributed and true product, and the QA status.
SELECT t.snapshot_id, s.product_id, t.true_product_id, s.`status`, s.votes_match,
       s.votes_mismatch
FROM snapshot_truth t
JOIN snapshots s ON s.id = t.snapshot_id
ORDER BY t.snapshot_id;

-- name: catalog_load_snapshot
-- Bulk loading (tests, benchmarks): a snapshot with its voting state given.
INSERT INTO snapshots (product_id, image_key, image_width, image_height, image_format,
                       content_hash, source, `status`, votes_match, votes_mismatch, reserved,
                       rand_key, created_at, resolved_at)
VALUES (:product_id, :image_key, :image_width, :image_height, :image_format, :content_hash,
        :source, :status, :votes_match, :votes_mismatch, 0, :rand_key, :now, :resolved_at);

-- name: catalog_product_ids
SELECT id, upc FROM products ORDER BY id;

-- name: catalog_snapshot_ids
SELECT id, product_id FROM snapshots ORDER BY id;
