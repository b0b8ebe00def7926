-- Pending snapshots most likely attributed to the wrong product, as the service ranks them
-- (GET /qa/suspects): `suspicion` is the vote share of the best other product minus that of
-- the attributed one, from the snapshot's nearest reference images and snapshots. Above 0
-- the neighbours prefer another product.
SELECT g.snapshot_id,
       p.name AS attributed_to,
       q.name AS looks_like,
       ROUND(g.suspicion, 3) AS suspicion,
       ROUND(g.own_share, 3) AS own_share,
       s.`status`
FROM snapshot_suspicion g
JOIN snapshots s ON s.id = g.snapshot_id
JOIN products p ON p.id = s.product_id
LEFT JOIN products q ON q.id = g.suggested_product_id
WHERE s.`status` = 'pending'
ORDER BY g.suspicion DESC, g.snapshot_id
LIMIT 20;
