-- name: qa_page_confirmed_snapshots
-- Up to :limit snapshots of a product that QA consensus confirmed, newest first: the QA page
-- shows them beside the reference image. Walks the (product_id, id) index backwards.
SELECT id, image_key
FROM snapshots
WHERE product_id = :product_id AND status = 'match'
ORDER BY id DESC
LIMIT :limit;
