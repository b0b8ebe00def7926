-- Per product: how close its snapshots sit to its reference image. A low mean or a low worst
-- case points at a product whose snapshots are mixed up with another's, or whose reference
-- image is unlike how the pack looks on the shelf.
SELECT p.upc,
       p.name,
       COUNT(*) AS snapshots,
       ROUND(AVG(DOT_PRODUCT(se.embedding, pe.embedding)), 3) AS mean_similarity,
       ROUND(MIN(DOT_PRODUCT(se.embedding, pe.embedding)), 3) AS worst,
       SUM(CASE WHEN s.`status` = 'mismatch' THEN 1 ELSE 0 END) AS qa_mismatches
FROM snapshots s
JOIN snapshot_embeddings se ON se.snapshot_id = s.id
JOIN product_embeddings pe ON pe.product_id = s.product_id AND pe.`model` = se.`model`
JOIN products p ON p.id = s.product_id
GROUP BY p.upc, p.name
ORDER BY mean_similarity, p.upc;
