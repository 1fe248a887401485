-- photos attached to documents, uploaded in chunks. A partial upload accumulates in `bytes`
-- (each chunk rewrites the row: photos are at most 5 MiB in chunks of at most 256 KiB, and a
-- download is then one value, with no reassembly); `received` = length(bytes).
CREATE TABLE photos (
   doc_id TEXT NOT NULL,
   id TEXT NOT NULL,
   content_type TEXT NOT NULL,
   total INTEGER NOT NULL,
   received INTEGER NOT NULL,
   bytes BLOB NOT NULL,
   complete INTEGER NOT NULL DEFAULT 0,
   created_by TEXT NOT NULL,
   created_at INTEGER NOT NULL,
   updated_at INTEGER NOT NULL,
   PRIMARY KEY (doc_id, id)
);
