-- Run once by the singlestoredb-dev image on first start (mounted at /init.sql; it writes
-- /data/.init.sql.done and skips the file afterwards). The image reports healthy only after this
-- has run, so the app's `migrate` always finds the database. Tables come from sql/singlestore/.
CREATE DATABASE IF NOT EXISTS retail_pulse;
