-- Store-visit images (from /api/submit jobs) that look most like one product's reference
-- image: where a pack was photographed. Change the UPC below to yours.
SELECT r.job_id,
       r.seq,
       r.store_id,
       r.visit_time,
       ROUND(DOT_PRODUCT(je.embedding, pe.embedding), 3) AS similarity
FROM products p
JOIN product_embeddings pe ON pe.product_id = p.id
JOIN job_image_embeddings je ON je.`model` = pe.`model`
JOIN image_results r ON r.job_id = je.job_id AND r.seq = je.seq
WHERE p.upc = '071000100014'
ORDER BY similarity DESC
LIMIT 10;
