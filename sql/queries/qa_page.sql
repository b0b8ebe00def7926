-- name: qa_page_confirmed_snapshots
-- Up to :limit snapshots of a product that QA consensus confirmed, newest first: the QA page
-- shows them beside the reference image. By resolution time: ids are not in time order on
-- SingleStore (AUTO_INCREMENT is unique, not sequential).
SELECT id, image_key
FROM snapshots
WHERE product_id = :product_id AND `status` = 'match'
ORDER BY resolved_at DESC, id DESC
LIMIT :limit;
