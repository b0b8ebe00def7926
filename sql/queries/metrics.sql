-- Gauges for GET /metrics, counted from the database at scrape time (right across processes).

-- name: metrics_job_images
-- Images of store-visit jobs by state: a pending image with a live lease is in progress,
-- one without is queued (claimable).
SELECT CASE
           WHEN `status` <> 'pending' THEN `status`
           WHEN lease_expires < :now THEN 'queued'
           ELSE 'in_progress'
       END AS `state`,
       COUNT(*) AS n
FROM job_images
GROUP BY 1

-- name: metrics_jobs_total
SELECT COUNT(*) AS n FROM jobs

-- name: metrics_jobs_ongoing
-- Jobs with an image still pending.
SELECT COUNT(DISTINCT job_id) AS n FROM job_images WHERE `status` = 'pending'

-- name: metrics_jobs_failed
-- Settled jobs with a failed image (the rest of the settled jobs completed).
SELECT COUNT(DISTINCT f.job_id) AS n
FROM job_images f
WHERE f.`status` = 'failed'
  AND NOT EXISTS (
      SELECT 1 FROM job_images p WHERE p.job_id = f.job_id AND p.`status` = 'pending'
  )

-- name: metrics_qa_votes
-- Recorded QA verdicts (1 match, 0 mismatch), those a lead's move took off a snapshot included
-- (a counter never goes down).
SELECT v.is_match, COUNT(*) AS n
FROM (
    SELECT is_match FROM qa_assignments WHERE is_match IS NOT NULL
    UNION ALL
    SELECT is_match FROM snapshot_move_assignments
    WHERE is_match IS NOT NULL AND restored_by IS NULL
) v
GROUP BY v.is_match

-- name: metrics_snapshots
-- Snapshots by QA status: pending, or resolved as match / mismatch.
SELECT `status`, COUNT(*) AS n FROM snapshots GROUP BY `status`

-- name: metrics_qa_sessions
SELECT `status`, COUNT(*) AS n FROM qa_sessions GROUP BY `status`
