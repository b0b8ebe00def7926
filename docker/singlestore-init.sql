-- Run once by the singlestoredb-dev image on first start (mounted at /init.sql; it writes
-- /data/.init.sql.done and skips the file afterwards). The image reports healthy only after this
-- has run, so the app's `migrate` always finds the database. Tables come from sql/singlestore/.
--
-- utf8mb4 (4-byte UTF-8: emoji) for every table created from now on; SingleStore's documented
-- default is the 3-byte `utf8`. A session may not differ from the global value (8.9 and
-- later), so it is set globally, before the database and its tables exist.
SET GLOBAL character_set_server = 'utf8mb4';
CREATE DATABASE IF NOT EXISTS retail_pulse;
