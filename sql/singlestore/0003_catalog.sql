-- Catalog: products with their reference image, and snapshots (shelf photos attributed to a
-- product) that QA reviews. A snapshot's voting state lives on its row so that reserving it
-- and counting a vote are single-row conditional updates (see service/qa).

-- Products are few and joined with everything: a rowstore reference table is copied to every
-- leaf, so joins to it never move data, and the UPC can be unique without being a shard key.
CREATE ROWSTORE REFERENCE TABLE products (
    id            BIGINT NOT NULL AUTO_INCREMENT,
    upc           VARCHAR(14) NOT NULL,
    name          VARCHAR(200) NOT NULL,
    image_key     VARCHAR(100) NOT NULL,
    image_width   INT NOT NULL,
    image_height  INT NOT NULL,
    image_format  VARCHAR(10) NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY products_upc (upc)
);

-- Hot OLTP rows (QA reserves and votes on them one at a time): rowstore, sharded by id so
-- that every conditional update is a single-partition point write, and so that the QA
-- assignments (sharded by snapshot_id) join to it without moving data.
CREATE ROWSTORE TABLE snapshots (
    id              BIGINT NOT NULL AUTO_INCREMENT,
    product_id      BIGINT NOT NULL,
    image_key       VARCHAR(100) NOT NULL,
    image_width     INT NOT NULL,
    image_height    INT NOT NULL,
    image_format    VARCHAR(10) NOT NULL,
    content_hash    CHAR(64) NOT NULL,
    source          VARCHAR(500) NULL,
    `status`          VARCHAR(8) NOT NULL DEFAULT 'pending',
    votes_match     INT NOT NULL DEFAULT 0,
    votes_mismatch  INT NOT NULL DEFAULT 0,
    reserved        INT NOT NULL DEFAULT 0,
    rand_key        DOUBLE NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    resolved_at     DATETIME(6) NULL,
    PRIMARY KEY (id),
    SHARD KEY (id),
    KEY snapshots_product (product_id, id),
    KEY snapshots_queue (`status`, rand_key),
    KEY snapshots_status_id (`status`, id),
    KEY snapshots_hash (content_hash)
);

-- Known ground truth for some snapshots (the generated demo catalog).
CREATE ROWSTORE TABLE snapshot_truth (
    snapshot_id      BIGINT NOT NULL,
    true_product_id  BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id),
    SHARD KEY (snapshot_id)
);
