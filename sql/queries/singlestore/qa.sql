-- name: qa_ensure_user
-- Create the QA user's row if it is new.
INSERT IGNORE INTO qa_users (username, open_session_id, created_at)
VALUES (:username, NULL, :now);
