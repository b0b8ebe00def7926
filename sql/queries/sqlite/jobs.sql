-- name: jobs_insert_image
-- A new pending image. The constant columns are literals here (SQLite binds 5 values, not 9,
-- for each of up to 10,000 rows per submit); SingleStore's driver batches the shared form.
INSERT INTO job_images (job_id, seq, visit_index, url, sched, `status`, lease_owner,
                        lease_expires, attempts)
VALUES (:job_id, :seq, :visit_index, :url, :sched, 'pending', NULL,
        '1970-01-01 00:00:00.000000', 0)
