-- Store-visit jobs. `job_images` is the durable work queue (one row per image, claimed with a
-- lease); `image_results` holds exactly one row per settled image (primary key = the image).

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  DATETIME NOT NULL,
    visit_count INTEGER NOT NULL,
    image_count INTEGER NOT NULL
);

-- visit_time is the wall-clock time the field app sent; utc_offset_minutes its zone, if any.
CREATE TABLE job_visits (
    job_id             INTEGER NOT NULL REFERENCES jobs (id),
    visit_index        INTEGER NOT NULL,
    store_id           TEXT NOT NULL,
    visit_time         DATETIME NOT NULL,
    utc_offset_minutes INTEGER,
    PRIMARY KEY (job_id, visit_index)
) WITHOUT ROWID;

-- sched orders the queue fairly across jobs: a job's first image gets the queue's current head,
-- its n-th image head + n, so jobs take turns instead of waiting for earlier jobs to drain.
-- A row is claimable when status = 'pending' and lease_expires < now.
CREATE TABLE job_images (
    job_id        INTEGER NOT NULL REFERENCES jobs (id),
    seq           INTEGER NOT NULL,
    visit_index   INTEGER NOT NULL,
    url           TEXT NOT NULL,
    sched         INTEGER NOT NULL,
    `status`        TEXT NOT NULL CHECK (`status` IN ('pending', 'done', 'failed')),
    lease_owner   TEXT,
    lease_expires DATETIME NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, seq),
    FOREIGN KEY (job_id, visit_index) REFERENCES job_visits (job_id, visit_index)
);

CREATE INDEX job_images_queue ON job_images (`status`, sched, job_id);

CREATE TABLE image_results (
    job_id        INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    visit_index   INTEGER NOT NULL,
    store_id      TEXT NOT NULL,
    visit_time    DATETIME NOT NULL,
    url           TEXT NOT NULL,
    `status`        TEXT NOT NULL CHECK (`status` IN ('done', 'failed')),
    error         TEXT,
    width         INTEGER,
    height        INTEGER,
    perimeter     INTEGER,
    blob_key      TEXT,
    content_type  TEXT,
    byte_size     INTEGER,
    attempts      INTEGER NOT NULL,
    download_ms   REAL,
    decode_ms     REAL,
    delay_ms      REAL,
    store_ms      REAL,
    started_at    DATETIME NOT NULL,
    finished_at   DATETIME NOT NULL,
    worker        TEXT NOT NULL,
    PRIMARY KEY (job_id, seq),
    FOREIGN KEY (job_id, seq) REFERENCES job_images (job_id, seq)
);

CREATE INDEX image_results_store_time ON image_results (store_id, visit_time);
