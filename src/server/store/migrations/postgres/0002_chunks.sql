-- documents as chunks (snapshot + increments), the feed reads chunks
CREATE TABLE chunks (
   seq BIGINT PRIMARY KEY,
   doc_id TEXT NOT NULL,
   snapshot BOOLEAN NOT NULL,
   bytes BYTEA NOT NULL,
   heads BYTEA NOT NULL
);
INSERT INTO chunks (seq, doc_id, snapshot, bytes, heads) SELECT seq, id, TRUE, bytes, ''::bytea FROM docs;
CREATE INDEX chunks_doc ON chunks (doc_id, seq);
ALTER TABLE docs ADD COLUMN increments INT NOT NULL DEFAULT 0,
                 ADD COLUMN snapshot_bytes BIGINT NOT NULL DEFAULT 0,
                 ADD COLUMN increment_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE docs SET snapshot_bytes = length(bytes);
ALTER TABLE docs DROP COLUMN bytes;
