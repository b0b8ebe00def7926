-- QA_CONSENSUS=assisted (service/qa/assisted.py): what the EM fit reads, the assessment of a
-- snapshot nobody holds, and the hand-outs that mix suspicion levels while the model's
-- calibration is being learnt. A snapshot's suspicion is its score under :model for its current
-- attribution; NULL when it has none.

-- name: qa_em_verdicts
-- Every verdict given, settled or not, with its snapshot's suspicion score.
SELECT a.snapshot_id, a.username, a.is_match, g.suspicion
FROM qa_assignments a
JOIN snapshots s ON s.id = a.snapshot_id
LEFT JOIN snapshot_suspicion g
       ON g.snapshot_id = s.id AND g.`model` = :model AND g.product_id = s.product_id
WHERE a.is_match IS NOT NULL;

-- name: qa_em_settled_without_verdicts
-- History the verdicts do not show: snapshots settled with no verdict at all, by suspicion
-- rounded to one decimal, and how many of them are a match.
SELECT ROUND(g.suspicion, 1) AS `level`, COUNT(*) AS resolved,
       SUM(CASE WHEN s.`status` = 'match' THEN 1 ELSE 0 END) AS matches
FROM snapshots s
JOIN snapshot_suspicion g
  ON g.snapshot_id = s.id AND g.`model` = :model AND g.product_id = s.product_id
WHERE s.`status` <> 'pending' AND s.votes_match = 0 AND s.votes_mismatch = 0
GROUP BY ROUND(g.suspicion, 1);

-- name: qa_assess_snapshot
-- A snapshot's prior, posterior and reservation limit, taken afresh at a hand-out when nobody
-- holds it (or when it was never assessed). Compare-and-set on what was read: 0 rows means a
-- verdict, a reservation or another assessment (a settlement included: it leaves 0) came
-- first; the reservation guard then reads what is on the row. :seen_needed is the
-- verdicts_needed read, -1 for NULL. (resolved_at, not `status`, says it is still pending: the
-- WHERE names no indexed column but the key, as in qa_reserve.)
UPDATE snapshots
SET `prior` = :prior, posterior = :posterior, verdicts_needed = :verdicts_needed
WHERE id = :snapshot_id AND resolved_at IS NULL AND COALESCE(verdicts_needed, -1) = :seen_needed
  AND (reserved = 0 OR verdicts_needed IS NULL)
  AND votes_match = :votes_match AND votes_mismatch = :votes_mismatch;

-- name: qa_settle_unheld
-- Settle a snapshot nobody holds whose verdicts already suffice under what is known now (the
-- calibration learnt since its last verdict). The same compare-and-set as qa_assess_snapshot.
UPDATE snapshots
SET `status` = :status, resolved_at = :now, `prior` = :prior, posterior = :posterior,
    verdicts_needed = 0, settled_by = :settled_by
WHERE id = :snapshot_id AND resolved_at IS NULL AND COALESCE(verdicts_needed, -1) = :seen_needed
  AND reserved = 0
  AND votes_match = :votes_match AND votes_mismatch = :votes_mismatch;

-- name: qa_pick_scored_from
-- qa_pick_from (:assisted = 1) with each candidate's suspicion, for hand-outs that mix levels.
SELECT s.id, s.product_id, g.suspicion
FROM snapshots s
LEFT JOIN snapshot_suspicion g
       ON g.snapshot_id = s.id AND g.`model` = :model AND g.product_id = s.product_id
WHERE s.`status` = 'pending'
  AND s.rand_key >= :start
  AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY s.rand_key
LIMIT :limit;

-- name: qa_pick_scored_before
-- The wrap-around half of qa_pick_scored_from.
SELECT s.id, s.product_id, g.suspicion
FROM snapshots s
LEFT JOIN snapshot_suspicion g
       ON g.snapshot_id = s.id AND g.`model` = :model AND g.product_id = s.product_id
WHERE s.`status` = 'pending'
  AND s.rand_key < :start
  AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY s.rand_key
LIMIT :limit;

-- name: qa_held_in_span
-- A snapshot other than :snapshot_id that a reviewer holds, with a score in [:low, :high).
SELECT s.id
FROM snapshot_suspicion g
JOIN snapshots s ON s.id = g.snapshot_id AND s.product_id = g.product_id
WHERE g.`model` = :model AND g.suspicion >= :low AND g.suspicion < :high
  AND s.reserved > 0 AND s.id <> :snapshot_id
LIMIT 1;
