-- documents as chunks (snapshot + increments), the feed reads chunks
CREATE TABLE chunks (
   seq INTEGER PRIMARY KEY,
   doc_id TEXT NOT NULL,
   snapshot INTEGER NOT NULL,
   bytes BLOB NOT NULL,
   heads BLOB NOT NULL
);
INSERT INTO chunks (seq, doc_id, snapshot, bytes, heads) SELECT seq, id, 1, bytes, X'' FROM docs;
CREATE INDEX chunks_doc ON chunks(doc_id, seq);
ALTER TABLE docs ADD COLUMN increments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE docs ADD COLUMN snapshot_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE docs ADD COLUMN increment_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE docs SET snapshot_bytes = length(bytes);
ALTER TABLE docs DROP COLUMN bytes;
