-- The 10 snapshots that look most like snapshot 1 (change the 1 below to yours).
--
-- Embeddings are unit-length vectors, so DOT_PRODUCT is the cosine similarity: 1 means the
-- same picture, around 0.9 the same pack in another photo, lower a different product.
-- `b.model = a.model` compares vectors of one embedder only (two can coexist while
-- `python -m service reembed` runs). Runs unchanged on SingleStore and in
-- `python -m service sql` on SQLite, where the vector functions are registered.
SELECT b.snapshot_id,
       p.upc,
       p.name AS product,
       s.`status`,
       ROUND(DOT_PRODUCT(a.embedding, b.embedding), 3) AS similarity
FROM snapshot_embeddings a
JOIN snapshot_embeddings b ON b.`model` = a.`model` AND b.snapshot_id <> a.snapshot_id
JOIN snapshots s ON s.id = b.snapshot_id
JOIN products p ON p.id = s.product_id
WHERE a.snapshot_id = 1
ORDER BY similarity DESC
LIMIT 10;
