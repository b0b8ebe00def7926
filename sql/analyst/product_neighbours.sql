-- Each product's three nearest products by reference image: the look-alikes QA (and
-- shoppers) confuse. Similarity is cosine (DOT_PRODUCT of unit vectors); the window function
-- keeps the three best per product.
SELECT upc, name, neighbour_upc, neighbour, ROUND(similarity, 3) AS similarity
FROM (
    SELECT p.upc,
           p.name,
           q.upc AS neighbour_upc,
           q.name AS neighbour,
           DOT_PRODUCT(a.embedding, b.embedding) AS similarity,
           ROW_NUMBER() OVER (
               PARTITION BY a.product_id
               ORDER BY DOT_PRODUCT(a.embedding, b.embedding) DESC
           ) AS place
    FROM product_embeddings a
    JOIN product_embeddings b ON b.`model` = a.`model` AND b.product_id <> a.product_id
    JOIN products p ON p.id = a.product_id
    JOIN products q ON q.id = b.product_id
) ranked
WHERE place <= 3
ORDER BY upc, similarity DESC;
