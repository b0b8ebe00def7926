-- Recognition that learns from the catalog (service/similarity):
-- the versions of the projection fitted from labelled pictures, and the geometric check's
-- cache of how well a snapshot's picture matches a product's reference image.

-- One row per fitted projection of a base model's raw vectors. Vectors projected with version
-- N are stored under model "BASE+pN". 'building' while they are written and scored,
-- 'active' once queries use them (one at a time), then 'retired' (its rows are deleted).
CREATE TABLE similarity_projections (
    base_model    TEXT NOT NULL,
    `version`     INTEGER NOT NULL,
    phase         TEXT NOT NULL CHECK (phase = 'building' OR phase = 'active' OR phase = 'retired'),
    blob_key      TEXT NOT NULL,
    digest        TEXT NOT NULL,
    trained_on    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    activated_at  TIMESTAMP,
    PRIMARY KEY (base_model, `version`)
);

-- Inliers of the RANSAC homography between a snapshot's and a product's reference picture,
-- per matcher (service/similarity/ranking/geometry.py). Pictures never change, so neither
-- does a pair's value: it survives re-attribution and every new projection.
CREATE TABLE snapshot_matches (
    snapshot_id  INTEGER NOT NULL,
    product_id   INTEGER NOT NULL,
    matcher      TEXT NOT NULL,
    inliers      INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, matcher, product_id)
);
