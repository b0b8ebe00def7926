-- The schema the engine tests run against (SingleStore form; MariaDB gets it translated).
-- Reference tables: no shard key, so the unique key on name is allowed.
CREATE ROWSTORE REFERENCE TABLE items (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    name       VARCHAR(100) NOT NULL,
    qty        INT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    day        DATE NULL,
    vec        VECTOR(4, F32) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY items_name (name)
);

CREATE ROWSTORE REFERENCE TABLE counters (
    name  VARCHAR(100) NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (name)
);

-- SingleStore does not enforce foreign keys, so there is none here.
CREATE ROWSTORE REFERENCE TABLE tags (
    item_id BIGINT NOT NULL,
    tag     VARCHAR(100) NOT NULL
);
