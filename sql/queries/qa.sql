-- name: qa_insert_session
-- A new open session; its size is set once its snapshots are reserved.
INSERT INTO qa_sessions (username, `status`, size, answered, created_at, last_activity_at)
VALUES (:username, 'open', 0, 0, :now, :now);

-- name: qa_claim_user
-- Make `session_id` the user's one open session; 0 rows means the user already has one.
UPDATE qa_users SET open_session_id = :session_id
WHERE username = :username AND open_session_id IS NULL;

-- name: qa_pick_from
-- Random queue order: pending snapshots that can take one more reservation and that this user
-- never had, walking the (status, rand_key) index up from a random start point. With
-- :assisted = 1 (QA_CONSENSUS=assisted) the limit is the snapshot's own verdicts_needed (NULL:
-- not assessed yet, so it can take one).
SELECT s.id, s.product_id
FROM snapshots s
WHERE s.`status` = 'pending'
  AND s.rand_key >= :start
  AND ((:assisted = 0 AND s.reserved < CASE
         WHEN GREATEST(s.votes_match, s.votes_mismatch) >= :majority
              AND s.votes_match <> s.votes_mismatch THEN 0
         ELSE GREATEST(:majority - GREATEST(s.votes_match, s.votes_mismatch), 1) END)
       OR (:assisted = 1 AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)))
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY s.rand_key
LIMIT :limit;

-- name: qa_pick_before
-- The wrap-around half of qa_pick_from: from the lowest random key up to the start point.
SELECT s.id, s.product_id
FROM snapshots s
WHERE s.`status` = 'pending'
  AND s.rand_key < :start
  AND ((:assisted = 0 AND s.reserved < CASE
         WHEN GREATEST(s.votes_match, s.votes_mismatch) >= :majority
              AND s.votes_match <> s.votes_mismatch THEN 0
         ELSE GREATEST(:majority - GREATEST(s.votes_match, s.votes_mismatch), 1) END)
       OR (:assisted = 1 AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)))
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY s.rand_key
LIMIT :limit;

-- name: qa_pick_after_id
-- Top-up candidates in id order, above every id this transaction already tried (so that row
-- locks are always taken in ascending id order and two sessions cannot deadlock).
SELECT s.id, s.product_id
FROM snapshots s
WHERE s.`status` = 'pending'
  AND s.id > :after_id
  AND ((:assisted = 0 AND s.reserved < CASE
         WHEN GREATEST(s.votes_match, s.votes_mismatch) >= :majority
              AND s.votes_match <> s.votes_mismatch THEN 0
         ELSE GREATEST(:majority - GREATEST(s.votes_match, s.votes_mismatch), 1) END)
       OR (:assisted = 1 AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)))
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY s.id
LIMIT :limit;

-- name: qa_reserve
-- Take one reservation if the snapshot still needs more verdicts than it has reservations
-- (service/qa/voting.py, votes_still_needed: the majority less the leading side's verdicts, and
-- one for a tie past the majority; none once one side leads with a majority).
-- The condition is re-checked on the locked current row, so racing sessions never
-- over-reserve; rowcount 0 means someone else got there first. A resolved snapshot fails it
-- too (one side holds a majority). No `status` test on purpose: the WHERE names only primary
-- key columns and counters, so InnoDB locks the row through the primary key alone; a
-- (status, id) index lookup would lock that index first and deadlock against a vote that
-- holds the row and changes its status. A verdicts_needed of 0 (settled by a lead, or by the
-- assisted rule) also fails it: a candidate read just before a lead settled it is not taken.
UPDATE snapshots SET reserved = reserved + 1
WHERE id = :snapshot_id
  AND reserved < CASE
      WHEN GREATEST(votes_match, votes_mismatch) >= :majority AND votes_match <> votes_mismatch
      THEN 0
      ELSE GREATEST(:majority - GREATEST(votes_match, votes_mismatch), 1) END
  AND (verdicts_needed IS NULL OR verdicts_needed > 0);

-- name: qa_consensus_state
-- QA_CONSENSUS=assisted: a snapshot's votes, consensus columns and its current suspicion score
-- (NULL when not scored, or scored for another attribution).
SELECT s.`status`, s.votes_match, s.votes_mismatch, s.reserved, s.`prior`, s.posterior,
       s.verdicts_needed, g.suspicion
FROM snapshots s
LEFT JOIN snapshot_suspicion g
       ON g.snapshot_id = s.id AND g.`model` = :model AND g.product_id = s.product_id
WHERE s.id = :snapshot_id;

-- name: qa_snapshot_verdicts
-- The verdicts given on a snapshot, each with the reliability it was counted with (NULL: given
-- under QA_CONSENSUS=majority, or being counted now).
SELECT username, is_match, reliability
FROM qa_assignments
WHERE snapshot_id = :snapshot_id AND is_match IS NOT NULL
ORDER BY answered_at, username;

-- name: qa_reserve_assisted
-- QA_CONSENSUS=assisted: qa_reserve with the snapshot's own limit, the fewest further verdicts
-- that could settle it. Re-checked on the locked current row, so racing sessions never hold it
-- more times than that; a settled snapshot has 0, an unassessed one NULL (fails).
UPDATE snapshots SET reserved = reserved + 1
WHERE id = :snapshot_id AND reserved < verdicts_needed;

-- name: qa_insert_assignment
-- Hand a reserved snapshot to the user; the primary key refuses a second hand-out.
INSERT INTO qa_assignments (snapshot_id, username, session_id, `position`, is_match, released,
                            assigned_at)
VALUES (:snapshot_id, :username, :session_id, :position, NULL, 0, :now);

-- name: qa_set_session_size
UPDATE qa_sessions SET size = :size WHERE id = :session_id;

-- name: qa_open_session
-- The user's unfinished session, if any.
SELECT id, username, `status`, size, answered, created_at, last_activity_at
FROM qa_sessions
WHERE username = :username AND `status` = 'open'
ORDER BY id
LIMIT 1;

-- name: qa_lock_session
-- Take a session's row lock and change nothing: a verdict, and a lead's move of a snapshot
-- the session holds, take it first (lock order), so what they read next is current.
UPDATE qa_sessions SET size = size WHERE id = :session_id;

-- name: qa_session_by_id
SELECT id, username, `status`, size, answered, created_at, last_activity_at
FROM qa_sessions
WHERE id = :session_id;

-- name: qa_session_items
-- The unanswered snapshots of a session, in hand-out order (grouped by product).
SELECT a.snapshot_id, s.image_key AS snapshot_image_key, p.id AS product_id,
       p.upc AS product_upc, p.name AS product_name, p.image_key AS product_image_key
FROM qa_assignments a
JOIN snapshots s ON s.id = a.snapshot_id
JOIN products p ON p.id = s.product_id
WHERE a.session_id = :session_id AND a.is_match IS NULL AND a.released = 0
ORDER BY a.`position`;

-- name: qa_assignment
-- One hand-out, by its primary key.
SELECT snapshot_id, username, session_id, is_match, released
FROM qa_assignments
WHERE snapshot_id = :snapshot_id AND username = :username;

-- name: qa_count_answer
-- Count an answer on the session and record activity. Every vote takes this row lock first
-- (lock order); 0 rows: the session is closed, or idle past the TTL and about to be released.
UPDATE qa_sessions SET answered = answered + 1, last_activity_at = :now
WHERE id = :session_id AND username = :username AND `status` = 'open'
  AND last_activity_at >= :cutoff;

-- name: qa_record_verdict
-- The verdict is recorded once: 0 rows means it was already answered (or released).
UPDATE qa_assignments SET is_match = :is_match, answered_at = :now
WHERE snapshot_id = :snapshot_id AND username = :username AND session_id = :session_id
  AND is_match IS NULL AND released = 0;

-- name: qa_count_verdict
-- Add the verdict to the snapshot's counts and drop the reservation it used.
UPDATE snapshots
SET votes_match = votes_match + :match,
    votes_mismatch = votes_mismatch + :mismatch,
    reserved = reserved - 1
WHERE id = :snapshot_id;

-- name: qa_snapshot_votes
SELECT `status`, votes_match, votes_mismatch, reserved FROM snapshots WHERE id = :snapshot_id;

-- name: qa_resolve_snapshot
-- Only called while this transaction holds the row and has seen it pending.
UPDATE snapshots SET `status` = :status, resolved_at = :now WHERE id = :snapshot_id;

-- name: qa_decided_pending
-- QA_CONSENSUS=majority, from the sweeper: pending snapshots whose verdicts already hold a
-- majority: one side has at least :majority of them and more than the other (a tie is not
-- decided). Only the assisted rule leaves such snapshots (it may ask for more verdicts past a
-- majority); after a switch back to the majority rule nothing else would settle them.
SELECT id FROM snapshots
WHERE `status` = 'pending' AND GREATEST(votes_match, votes_mismatch) >= :majority
  AND votes_match <> votes_mismatch
ORDER BY id
LIMIT :limit;

-- name: qa_settle_decided
-- One of those, settled by the side with more verdicts (compare-and-set: still pending, still
-- decided), as service/qa/voting.py's `status`.
UPDATE snapshots
SET `status` = CASE WHEN votes_match > votes_mismatch THEN 'match' ELSE 'mismatch' END,
    resolved_at = :now
WHERE id = :snapshot_id AND `status` = 'pending'
  AND GREATEST(votes_match, votes_mismatch) >= :majority
  AND votes_match <> votes_mismatch;

-- name: qa_record_reliability
-- QA_CONSENSUS=assisted: the reliability this (just recorded) verdict is counted with.
UPDATE qa_assignments SET reliability = :reliability
WHERE snapshot_id = :snapshot_id AND username = :username;

-- name: qa_update_consensus
-- QA_CONSENSUS=assisted, still pending: the new posterior and reservation limit.
UPDATE snapshots
SET `prior` = :prior, posterior = :posterior, verdicts_needed = :verdicts_needed
WHERE id = :snapshot_id;

-- name: qa_resolve_assisted
-- QA_CONSENSUS=assisted: settle a snapshot this transaction holds and has seen pending.
UPDATE snapshots
SET `status` = :status, resolved_at = :now, `prior` = :prior, posterior = :posterior,
    verdicts_needed = 0, settled_by = :settled_by
WHERE id = :snapshot_id;

-- name: qa_complete_session
UPDATE qa_sessions SET `status` = 'completed', closed_at = :now
WHERE id = :session_id AND `status` = 'open';

-- name: qa_release_user
-- Clear the user's open-session pointer if it still points at this session.
UPDATE qa_users SET open_session_id = NULL
WHERE username = :username AND open_session_id = :session_id;

-- name: qa_idle_sessions
-- Open sessions idle since before the cutoff (the TTL sweep's work list).
SELECT id FROM qa_sessions
WHERE `status` = 'open' AND last_activity_at < :cutoff
ORDER BY id
LIMIT :limit;

-- name: qa_expire_session
-- Close an idle session; 0 rows: it was answered or closed meanwhile.
UPDATE qa_sessions SET `status` = 'expired', closed_at = :now
WHERE id = :session_id AND `status` = 'open' AND last_activity_at < :cutoff;

-- name: qa_unanswered_snapshots
SELECT snapshot_id FROM qa_assignments
WHERE session_id = :session_id AND is_match IS NULL AND released = 0
ORDER BY snapshot_id;

-- name: qa_release_assignments
-- Keep the rows (the user must never get these snapshots again) but mark them released.
UPDATE qa_assignments SET released = 1
WHERE session_id = :session_id AND is_match IS NULL AND released = 0;

-- name: qa_unreserve
UPDATE snapshots SET reserved = reserved - 1 WHERE id = :snapshot_id AND reserved > 0;

-- name: qa_verdict_stats
-- Per user: verdicts given, verdicts on resolved snapshots, and how many agree with the result.
-- Verdicts a lead's move took off a snapshot keep their credit: judged against the status the
-- snapshot held when moved (snapshot_moves), never against its new attribution's.
SELECT v.username,
       COUNT(*) AS reviewed,
       SUM(CASE WHEN v.`status` <> 'pending' THEN 1 ELSE 0 END) AS judged,
       SUM(CASE WHEN (v.`status` = 'match' AND v.is_match = 1)
                  OR (v.`status` = 'mismatch' AND v.is_match = 0) THEN 1 ELSE 0 END) AS agreed
FROM (
    SELECT a.username, a.is_match, s.`status`
    FROM qa_assignments a
    JOIN snapshots s ON s.id = a.snapshot_id
    WHERE a.is_match IS NOT NULL
    UNION ALL
    SELECT h.username, h.is_match, m.held_status AS `status`
    FROM snapshot_move_assignments h
    JOIN snapshot_moves m ON m.snapshot_id = h.snapshot_id AND m.id = h.move_id
    WHERE h.is_match IS NOT NULL AND h.restored_by IS NULL
) v
GROUP BY v.username;

-- name: qa_activity
-- Activity points: verdicts given in completed sessions.
SELECT username, SUM(answered) AS activity_points
FROM qa_sessions
WHERE `status` = 'completed'
GROUP BY username;

-- name: qa_export_page
-- The cleaned dataset, every status, in id order from a keyset cursor; each snapshot under
-- its current product, with how many times a lead moved it.
SELECT s.id AS snapshot_id, p.upc AS product_upc, s.image_key, s.votes_match,
       s.votes_mismatch, s.`status`, s.posterior, s.settled_by, s.moves
FROM snapshots s
JOIN products p ON p.id = s.product_id
WHERE s.id > :after_id
ORDER BY s.id
LIMIT :limit;

-- name: qa_export_page_by_status
-- The cleaned dataset for one status, in id order from a keyset cursor.
SELECT s.id AS snapshot_id, p.upc AS product_upc, s.image_key, s.votes_match,
       s.votes_mismatch, s.`status`, s.posterior, s.settled_by, s.moves
FROM snapshots s
JOIN products p ON p.id = s.product_id
WHERE s.`status` = :status AND s.id > :after_id
ORDER BY s.id
LIMIT :limit;

-- name: qa_load_session
-- Bulk loading (benchmarks): a closed session with its counts given.
INSERT INTO qa_sessions (username, `status`, size, answered, created_at, last_activity_at,
                         closed_at)
VALUES (:username, :status, :size, :answered, :now, :now, :now);

-- name: qa_load_assignment
-- Bulk loading (benchmarks): an answered hand-out.
INSERT INTO qa_assignments (snapshot_id, username, session_id, `position`, is_match, released,
                            assigned_at, answered_at)
VALUES (:snapshot_id, :username, :session_id, :position, :is_match, 0, :now, :now);

-- name: qa_queue_state
-- Totals for checks and reports: snapshots per status, votes and open reservations.
SELECT `status`, COUNT(*) AS snapshots, SUM(votes_match + votes_mismatch) AS votes,
       SUM(reserved) AS reserved
FROM snapshots
GROUP BY `status`;

-- name: qa_pick_first
-- Snapshots a lead sent to QA first (service/lead), oldest request first, that can take one
-- more reservation and that this user never had: every picker's candidates start with these.
SELECT s.id, s.product_id
FROM snapshots s
WHERE s.qa_first_at IS NOT NULL
  AND s.`status` = 'pending'
  AND ((:assisted = 0 AND s.reserved < CASE
         WHEN GREATEST(s.votes_match, s.votes_mismatch) >= :majority
              AND s.votes_match <> s.votes_mismatch THEN 0
         ELSE GREATEST(:majority - GREATEST(s.votes_match, s.votes_mismatch), 1) END)
       OR (:assisted = 1 AND (s.verdicts_needed IS NULL OR s.reserved < s.verdicts_needed)))
  AND NOT EXISTS (
      SELECT 1 FROM qa_assignments a WHERE a.snapshot_id = s.id AND a.username = :username
  )
ORDER BY s.qa_first_at, s.id
LIMIT :limit;
