-- name: jobs_insert_result
-- One result row per image; a second write for the same image is ignored.
INSERT OR IGNORE INTO image_results (
    job_id, seq, visit_index, store_id, visit_time, url, status, error, width, height,
    perimeter, blob_key, content_type, byte_size, attempts, download_ms, decode_ms, delay_ms,
    store_ms, started_at, finished_at, worker)
VALUES (
    :job_id, :seq, :visit_index, :store_id, :visit_time, :url, :status, :error, :width, :height,
    :perimeter, :blob_key, :content_type, :byte_size, :attempts, :download_ms, :decode_ms,
    :delay_ms, :store_ms, :started_at, :finished_at, :worker)
