-- Suspects computed in SQL alone: snapshots whose image is nearer to another product's
-- reference image than to their own product's. Cruder than snapshot_suspicion (no vote of
-- neighbouring snapshots) but needs nothing but the embeddings. `margin` > 0: another
-- product's reference image wins by that much cosine similarity.
SELECT snapshot_id, attributed_to, nearer_to, ROUND(own, 3) AS own,
       ROUND(other, 3) AS other, ROUND(other - own, 3) AS margin
FROM (
    SELECT s.id AS snapshot_id,
           p.name AS attributed_to,
           q.name AS nearer_to,
           DOT_PRODUCT(se.embedding, mine.embedding) AS own,
           DOT_PRODUCT(se.embedding, theirs.embedding) AS other,
           ROW_NUMBER() OVER (
               PARTITION BY s.id
               ORDER BY DOT_PRODUCT(se.embedding, theirs.embedding) DESC
           ) AS place
    FROM snapshots s
    JOIN snapshot_embeddings se ON se.snapshot_id = s.id
    JOIN product_embeddings mine ON mine.product_id = s.product_id AND mine.`model` = se.`model`
    JOIN product_embeddings theirs
         ON theirs.`model` = se.`model` AND theirs.product_id <> s.product_id
    JOIN products p ON p.id = s.product_id
    JOIN products q ON q.id = theirs.product_id
) ranked
WHERE place = 1 AND other > own
ORDER BY margin DESC
LIMIT 20;
