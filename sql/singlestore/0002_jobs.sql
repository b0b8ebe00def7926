-- Store-visit jobs. Everything a job owns is sharded on job_id, so one job's visits, queue
-- rows and results live in one partition and per-job reads and writes touch one partition.
-- jobs.id is AUTO_INCREMENT: unique, not sequential across aggregators (never ordered on).

CREATE ROWSTORE TABLE jobs (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    created_at  DATETIME(6) NOT NULL,
    visit_count INT NOT NULL,
    image_count INT NOT NULL,
    PRIMARY KEY (id),
    SHARD KEY (id)
);

-- visit_time is the wall-clock time the field app sent; utc_offset_minutes its zone, if any.
CREATE ROWSTORE TABLE job_visits (
    job_id             BIGINT NOT NULL,
    visit_index        INT NOT NULL,
    store_id           VARCHAR(64) NOT NULL,
    visit_time         DATETIME(6) NOT NULL,
    utc_offset_minutes INT NULL,
    PRIMARY KEY (job_id, visit_index),
    SHARD KEY (job_id)
);

-- The work queue: hot, small updates (claims, leases, settling), so rowstore.
-- sched orders the queue fairly across jobs (a job starts at the queue's current head).
-- A row is claimable when status = 'pending' and lease_expires < now.
CREATE ROWSTORE TABLE job_images (
    job_id        BIGINT NOT NULL,
    seq           INT NOT NULL,
    visit_index   INT NOT NULL,
    url           TEXT NOT NULL,
    sched         BIGINT NOT NULL,
    `status`        VARCHAR(16) NOT NULL,
    lease_owner   VARCHAR(100) NULL,
    lease_expires DATETIME(6) NOT NULL,
    attempts      INT NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, seq),
    KEY job_images_queue (`status`, sched, job_id),
    SHARD KEY (job_id)
);

-- Written once per image, then read by job reports and aggregated by the visit reports:
-- columnstore, sorted by job so a job's rows sit together; the hash primary key makes a
-- retaken image's second INSERT IGNORE a no-op. The text people type is utf8mb4 from the
-- start (see 0006): ALTER TABLE ... MODIFY is not confirmed for columnstore tables.
CREATE TABLE image_results (
    job_id        BIGINT NOT NULL,
    seq           INT NOT NULL,
    visit_index   INT NOT NULL,
    store_id      VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
    visit_time    DATETIME(6) NOT NULL,
    url           TEXT CHARACTER SET utf8mb4 NOT NULL,
    `status`        VARCHAR(16) NOT NULL,
    error         TEXT CHARACTER SET utf8mb4 NULL,
    width         INT NULL,
    height        INT NULL,
    perimeter     BIGINT NULL,
    blob_key      VARCHAR(100) NULL,
    content_type  VARCHAR(50) NULL,
    byte_size     BIGINT NULL,
    attempts      INT NOT NULL,
    download_ms   DOUBLE NULL,
    decode_ms     DOUBLE NULL,
    delay_ms      DOUBLE NULL,
    store_ms      DOUBLE NULL,
    started_at    DATETIME(6) NOT NULL,
    finished_at   DATETIME(6) NOT NULL,
    worker        VARCHAR(100) NOT NULL,
    PRIMARY KEY (job_id, seq) USING HASH,
    SORT KEY (job_id, seq),
    SHARD KEY (job_id)
);
