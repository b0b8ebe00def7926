-- Store-visit jobs: submit, the work queue (claims with leases), results and reports.
-- Every VALUES list holds only parameters, so the SingleStore driver can batch executemany.

-- name: jobs_insert
-- A new job; its id comes back as lastrowid.
INSERT INTO jobs (created_at, visit_count, image_count)
VALUES (:created_at, :visit_count, :image_count)

-- name: jobs_queue_head
-- The lowest schedule position still pending: a new job's images start here (fair turns).
SELECT COALESCE(MIN(sched), 0) AS head FROM job_images WHERE `status` = 'pending'

-- name: jobs_insert_visit
INSERT INTO job_visits (job_id, visit_index, store_id, visit_time, utc_offset_minutes)
VALUES (:job_id, :visit_index, :store_id, :visit_time, :utc_offset_minutes)

-- name: jobs_insert_image
INSERT INTO job_images (job_id, seq, visit_index, url, sched, `status`, lease_owner,
                        lease_expires, attempts)
VALUES (:job_id, :seq, :visit_index, :url, :sched, :status, :lease_owner,
        :lease_expires, :attempts)

-- name: jobs_insert_result
-- An image's one result row, written in the transaction whose jobs_settle_image changed the
-- image: only the worker that settled it writes it, so a plain INSERT. (An IGNORE would also
-- swallow a row the schema refuses, and leave an image settled without a result.)
INSERT INTO image_results (
    job_id, seq, visit_index, store_id, visit_time, url, `status`, error, width, height,
    perimeter, blob_key, content_type, byte_size, attempts, download_ms, decode_ms, delay_ms,
    store_ms, started_at, finished_at, worker)
VALUES (
    :job_id, :seq, :visit_index, :store_id, :visit_time, :url, :status, :error, :width, :height,
    :perimeter, :blob_key, :content_type, :byte_size, :attempts, :download_ms, :decode_ms,
    :delay_ms, :store_ms, :started_at, :finished_at, :worker)

-- name: jobs_get
SELECT id, created_at, visit_count, image_count FROM jobs WHERE id = :job_id

-- name: jobs_status_counts
-- A job (none if unknown) with its images by state, in one statement: the status poll.
SELECT j.id, COUNT(i.seq) AS total,
       SUM(CASE WHEN i.`status` = 'pending' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN i.`status` = 'failed' THEN 1 ELSE 0 END) AS failed
FROM jobs j
LEFT JOIN job_images i ON i.job_id = j.id
WHERE j.id = :job_id
GROUP BY j.id

-- name: jobs_failed_results
-- The failed images of a job, in submission order, for the per-store reasons.
SELECT seq, store_id, error
FROM image_results
WHERE job_id = :job_id AND `status` = 'failed'
ORDER BY seq

-- name: jobs_claim_candidates
-- Claimable images (pending, no live lease) in fair order, with what processing needs.
SELECT i.job_id, i.seq, i.visit_index, i.url, i.attempts, v.store_id, v.visit_time,
       CASE WHEN s.store_id IS NULL THEN 0 ELSE 1 END AS store_known
FROM job_images i
JOIN job_visits v ON v.job_id = i.job_id AND v.visit_index = i.visit_index
LEFT JOIN stores s ON s.store_id = v.store_id
WHERE i.`status` = 'pending' AND i.lease_expires < :now
ORDER BY i.sched, i.job_id
LIMIT :limit

-- name: jobs_claimable
-- Is any image claimable now? (An idle worker's poll: a read, no write lock.)
SELECT 1 AS claimable FROM job_images
WHERE `status` = 'pending' AND lease_expires < :now LIMIT 1

-- name: jobs_claim_image
-- Compare-and-set claim of one candidate: rowcount 1 means it is ours until :until.
UPDATE job_images
SET lease_owner = :owner, lease_expires = :until, attempts = attempts + 1
WHERE job_id = :job_id AND seq = :seq AND `status` = 'pending' AND lease_expires < :now

-- name: jobs_settle_image
-- Mark an image done or failed; rowcount 0 means someone settled it first.
UPDATE job_images
SET `status` = :status, lease_owner = NULL, lease_expires = :epoch
WHERE job_id = :job_id AND seq = :seq AND `status` = 'pending'

-- name: jobs_release_leases
-- On a clean stop: hand this worker's unfinished images back (not counted as an attempt).
UPDATE job_images
SET lease_owner = NULL, lease_expires = :epoch, attempts = attempts - 1
WHERE `status` = 'pending' AND lease_owner = :owner AND attempts > 0

-- name: jobs_visits
-- A job's visits with their store (null when the store is not in the store master).
SELECT v.visit_index, v.store_id, v.visit_time, v.utc_offset_minutes,
       s.store_name, s.area_code
FROM job_visits v
LEFT JOIN stores s ON s.store_id = v.store_id
WHERE v.job_id = :job_id
ORDER BY v.visit_index

-- name: jobs_images
-- A job's images with their results, if settled.
SELECT i.seq, i.visit_index, i.url, i.`status`, i.attempts,
       r.width, r.height, r.perimeter, r.blob_key, r.error,
       r.download_ms, r.decode_ms, r.delay_ms, r.store_ms, r.started_at, r.finished_at
FROM job_images i
LEFT JOIN image_results r ON r.job_id = i.job_id AND r.seq = i.seq
WHERE i.job_id = :job_id
ORDER BY i.seq

-- name: jobs_result_count
-- How many result rows a job has (tests and the restart check: one per image).
SELECT COUNT(*) AS n FROM image_results WHERE job_id = :job_id

-- name: visits_perimeter
-- Per store and day (of the visit's own clock), the summed perimeter of completed images.
SELECT r.store_id, s.area_code, s.store_name, DATE(r.visit_time) AS `day`,
       SUM(r.perimeter) AS perimeter
FROM image_results r
JOIN stores s ON s.store_id = r.store_id
WHERE r.`status` = 'done'
  AND (:area IS NULL OR s.area_code = :area)
  AND (:store_id IS NULL OR r.store_id = :store_id)
  AND (:start IS NULL OR r.visit_time >= :start)
  AND (:end IS NULL OR r.visit_time < :end)
GROUP BY r.store_id, s.area_code, s.store_name, DATE(r.visit_time)
ORDER BY r.store_id, `day`
