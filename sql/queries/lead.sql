-- The QA lead's desk (service/lead): moves of a snapshot to another product, their history,
-- the lead's marks, and what the desk reads.

-- name: lead_snapshot
-- A snapshot's attribution, QA state and lead marks.
SELECT s.id, s.product_id, s.`version`, s.moves, s.`status`, s.votes_match, s.votes_mismatch,
       s.reserved, s.`prior`, s.posterior, s.verdicts_needed, s.settled_by, s.resolved_at,
       s.lead_reviewed_by, s.lead_reviewed_at, s.qa_first_at
FROM snapshots s
WHERE s.id = :snapshot_id;

-- name: lead_product_by_upc
SELECT id, upc, name, image_key FROM products WHERE upc = :upc;

-- name: lead_open_holders
-- Who holds a snapshot now: its unanswered, unreleased hand-outs, by session.
SELECT session_id, username
FROM qa_assignments
WHERE snapshot_id = :snapshot_id AND is_match IS NULL AND released = 0
ORDER BY session_id, username;

-- name: lead_shrink_session
-- Hand-outs a move withdrew from an open session: that many fewer snapshots to answer.
UPDATE qa_sessions SET size = size - :withdrawn WHERE id = :session_id AND size >= :withdrawn;

-- name: lead_claim_snapshot
-- Compare-and-set on the snapshot's version: 0 rows means another change got there first (or
-- no such snapshot). Also takes the snapshot's row lock for the rest of the transaction.
UPDATE snapshots SET `version` = `version` + 1
WHERE id = :snapshot_id AND `version` = :version;

-- name: lead_insert_move
INSERT INTO snapshot_moves (snapshot_id, seq, kind, from_product_id, to_product_id, moved_by,
                            moved_at, reason, held_status, held_votes_match,
                            held_votes_mismatch, held_settled_by, held_prior, held_posterior,
                            held_verdicts_needed, held_resolved_at, held_reviewed_by,
                            held_reviewed_at, released, qa_outcome, undone_by)
VALUES (:snapshot_id, :seq, :kind, :from_product_id, :to_product_id, :moved_by, :moved_at,
        :reason, :held_status, :held_votes_match, :held_votes_mismatch, :held_settled_by,
        :held_prior, :held_posterior, :held_verdicts_needed, :held_resolved_at,
        :held_reviewed_by, :held_reviewed_at, :released, :qa_outcome, NULL);

-- name: lead_archive_assignments
-- Every hand-out of the snapshot, answered or not, copied beside the move that takes it off.
INSERT INTO snapshot_move_assignments (snapshot_id, move_id, username, session_id, `position`,
                                       is_match, released, reliability, assigned_at,
                                       answered_at, restored_by)
SELECT snapshot_id, :move_id, username, session_id, `position`, is_match, released,
       reliability, assigned_at, answered_at, NULL
FROM qa_assignments
WHERE snapshot_id = :snapshot_id;

-- name: lead_drop_assignments
-- ... and taken off: its verdicts stop counting, and QA may be handed it again.
DELETE FROM qa_assignments WHERE snapshot_id = :snapshot_id;

-- name: lead_restore_assignments
-- Undo: the hand-outs the undone move took off come back. One that was still open then was
-- withdrawn from its session, so it comes back released (its reviewer never gets it again).
INSERT INTO qa_assignments (snapshot_id, username, session_id, `position`, is_match, released,
                            assigned_at, answered_at, reliability)
SELECT snapshot_id, username, session_id, `position`, is_match,
       CASE WHEN is_match IS NULL THEN 1 ELSE released END, assigned_at, answered_at,
       reliability
FROM snapshot_move_assignments
WHERE snapshot_id = :snapshot_id AND move_id = :move_id AND restored_by IS NULL;

-- name: lead_mark_restored
UPDATE snapshot_move_assignments SET restored_by = :undo_id
WHERE snapshot_id = :snapshot_id AND move_id = :move_id AND restored_by IS NULL;

-- name: lead_apply_move
-- The snapshot under its new attribution: QA starts again (pending, or settled by the lead
-- under QA_TRUST_LEAD), the reservations the move released are gone, a lead reviewed it.
UPDATE snapshots
SET product_id = :product_id, moves = moves + 1, `status` = :status, votes_match = 0,
    votes_mismatch = 0, reserved = reserved - :released, `prior` = NULL, posterior = NULL,
    verdicts_needed = :verdicts_needed, settled_by = :settled_by, resolved_at = :resolved_at,
    lead_reviewed_by = :reviewed_by, lead_reviewed_at = :reviewed_at
WHERE id = :snapshot_id;

-- name: lead_apply_undo
-- The snapshot back under the undone move's origin, with the QA state it held then.
UPDATE snapshots
SET product_id = :product_id, moves = moves + 1, `status` = :status,
    votes_match = :votes_match, votes_mismatch = :votes_mismatch,
    reserved = reserved - :released, `prior` = :prior, posterior = :posterior,
    verdicts_needed = :verdicts_needed, settled_by = :settled_by, resolved_at = :resolved_at,
    lead_reviewed_by = :reviewed_by, lead_reviewed_at = :reviewed_at
WHERE id = :snapshot_id;

-- name: lead_mark_undone
UPDATE snapshot_moves SET undone_by = :undo_id
WHERE snapshot_id = :snapshot_id AND seq = :seq AND undone_by IS NULL;

-- name: lead_last_move
-- The snapshot's latest move (its seq is the snapshot's move count).
SELECT id, seq, kind, from_product_id, to_product_id, held_status, held_votes_match,
       held_votes_mismatch, held_settled_by, held_prior, held_posterior, held_verdicts_needed,
       held_resolved_at, held_reviewed_by, held_reviewed_at, undone_by
FROM snapshot_moves
WHERE snapshot_id = :snapshot_id AND seq = :seq;

-- name: lead_set_marks
-- A lead's marks on a snapshot this transaction holds: reviewed (1 kept by :username, 0 not)
-- and QA priority (1 first, 0 not); -1 leaves a mark as it is.
UPDATE snapshots
SET lead_reviewed_by = CASE WHEN :reviewed = 1 THEN :username
                            WHEN :reviewed = 0 THEN NULL ELSE lead_reviewed_by END,
    lead_reviewed_at = CASE WHEN :reviewed = 1 THEN :now
                            WHEN :reviewed = 0 THEN NULL ELSE lead_reviewed_at END,
    qa_first_at = CASE WHEN :qa_first = 1 THEN COALESCE(qa_first_at, :now)
                       WHEN :qa_first = 0 THEN NULL ELSE qa_first_at END
WHERE id = :snapshot_id;

-- name: lead_snapshot_history
-- A snapshot's moves, latest first, with both products.
SELECT m.id, m.snapshot_id, m.seq, m.kind, m.moved_by, m.moved_at, m.reason, m.held_status,
       m.held_votes_match, m.held_votes_mismatch, m.held_settled_by, m.held_posterior,
       m.released, m.qa_outcome, m.undone_by,
       m.from_product_id, f.upc AS from_upc, f.name AS from_name, f.image_key AS from_image_key,
       m.to_product_id, t.upc AS to_upc, t.name AS to_name, t.image_key AS to_image_key,
       s.image_key
FROM snapshot_moves m
JOIN products f ON f.id = m.from_product_id
JOIN products t ON t.id = m.to_product_id
JOIN snapshots s ON s.id = m.snapshot_id
WHERE m.snapshot_id = :snapshot_id
ORDER BY m.seq DESC;

-- name: lead_snapshot_held_verdicts
-- The verdicts each of a snapshot's moves took off it.
SELECT move_id, username, is_match, answered_at, restored_by
FROM snapshot_move_assignments
WHERE snapshot_id = :snapshot_id AND is_match IS NOT NULL
ORDER BY move_id, answered_at, username;

-- name: lead_recent_moves
-- Every snapshot's moves, latest first, from a keyset cursor (moved_at, id) that starts at
-- :before_at = a time after every move.
SELECT m.id, m.snapshot_id, m.seq, m.kind, m.moved_by, m.moved_at, m.reason, m.held_status,
       m.held_votes_match, m.held_votes_mismatch, m.held_settled_by, m.held_posterior,
       m.released, m.qa_outcome, m.undone_by,
       m.from_product_id, f.upc AS from_upc, f.name AS from_name, f.image_key AS from_image_key,
       m.to_product_id, t.upc AS to_upc, t.name AS to_name, t.image_key AS to_image_key,
       s.image_key
FROM snapshot_moves m
JOIN products f ON f.id = m.from_product_id
JOIN products t ON t.id = m.to_product_id
JOIN snapshots s ON s.id = m.snapshot_id
WHERE m.moved_at < :before_at OR (m.moved_at = :before_at AND m.id < :before_id)
ORDER BY m.moved_at DESC, m.id DESC
LIMIT :limit;

-- name: lead_suspects
-- The desk's suspects: scored snapshots no lead has reviewed, most suspicious first, from a
-- keyset cursor (suspicion, snapshot_id) that starts at :after_suspicion = 2 (above every
-- score). :status '' is any status; :product_id 0 any product, else snapshots attributed to
-- it or suggested for it.
SELECT g.snapshot_id, g.suspicion, g.own_share, g.suggested_share,
       s.`status`, s.votes_match, s.votes_mismatch, s.`version`, s.moves, s.qa_first_at,
       s.image_key, s.product_id, p.upc AS product_upc, p.name AS product_name,
       p.image_key AS product_image_key,
       g.suggested_product_id, q.upc AS suggested_upc, q.name AS suggested_name,
       q.image_key AS suggested_image_key
FROM snapshot_suspicion g
JOIN snapshots s ON s.id = g.snapshot_id AND s.product_id = g.product_id
JOIN products p ON p.id = s.product_id
LEFT JOIN products q ON q.id = g.suggested_product_id
WHERE g.`model` = :model
  AND s.lead_reviewed_at IS NULL
  AND (:status = '' OR s.`status` = :status)
  AND (:product_id = 0 OR s.product_id = :product_id OR g.suggested_product_id = :product_id)
  AND (g.suspicion < :after_suspicion
       OR (g.suspicion = :after_suspicion AND g.snapshot_id > :after_id))
ORDER BY g.suspicion DESC, g.snapshot_id
LIMIT :limit;

-- name: lead_search_products
-- Products whose name contains :q (lower case) or whose UPC starts with it, by name.
SELECT id, upc, name, image_key
FROM products
WHERE INSTR(LOWER(name), :q) > 0 OR INSTR(upc, :q) = 1
ORDER BY name, id
LIMIT :limit;

-- name: lead_product_status_counts
-- A product's snapshots by QA status.
SELECT `status`, COUNT(*) AS n FROM snapshots WHERE product_id = :product_id GROUP BY `status`;

-- name: lead_product_snapshots
-- Some of a product's snapshots of one status, with what the desk shows of each.
SELECT s.id, s.image_key, s.`status`, s.votes_match, s.votes_mismatch, s.`version`, s.moves,
       s.lead_reviewed_at, s.qa_first_at
FROM snapshots s
WHERE s.product_id = :product_id AND s.`status` = :status
ORDER BY s.id DESC
LIMIT :limit;

-- name: lead_confusions
-- The products a product is most often confused with: other products, by how many snapshots
-- of either look more like the other one than their own (suspicion above 0), both ways.
SELECT c.other_id, o.upc, o.name, o.image_key, COUNT(*) AS snapshots,
       SUM(c.outgoing) AS outgoing
FROM (
    SELECT CASE WHEN s.product_id = :product_id THEN g.suggested_product_id
                ELSE s.product_id END AS other_id,
           CASE WHEN s.product_id = :product_id THEN 1 ELSE 0 END AS outgoing
    FROM snapshot_suspicion g
    JOIN snapshots s ON s.id = g.snapshot_id AND s.product_id = g.product_id
    WHERE g.`model` = :model AND g.suspicion > 0 AND g.suggested_product_id IS NOT NULL
      AND (s.product_id = :product_id OR g.suggested_product_id = :product_id)
) c
JOIN products o ON o.id = c.other_id
GROUP BY c.other_id, o.upc, o.name, o.image_key
ORDER BY snapshots DESC, c.other_id
LIMIT :limit;

-- name: lead_confusion_examples
-- Snapshots of one of two products that look like the other, most suspicious first.
SELECT s.id, s.image_key, s.product_id, s.`status`, s.`version`, g.suspicion
FROM snapshot_suspicion g
JOIN snapshots s ON s.id = g.snapshot_id AND s.product_id = g.product_id
WHERE g.`model` = :model AND g.suspicion > 0
  AND ((s.product_id = :product_id AND g.suggested_product_id = :other_id)
       OR (s.product_id = :other_id AND g.suggested_product_id = :product_id))
ORDER BY g.suspicion DESC, s.id
LIMIT :limit;

-- name: lead_moved_hand_out
-- Whether a move took this hand-out off the snapshot (a verdict sent for it now is a 409).
SELECT move_id FROM snapshot_move_assignments
WHERE snapshot_id = :snapshot_id AND username = :username AND session_id = :session_id
LIMIT 1;
