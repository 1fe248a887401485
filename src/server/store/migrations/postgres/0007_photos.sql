-- photos attached to documents, uploaded in chunks. A partial upload accumulates in `bytes`
-- (`bytes || chunk`; photos are at most 5 MiB in chunks of at most 256 KiB, and a download is
-- then one value, with no reassembly); `received` = length(bytes).
CREATE TABLE photos (
   doc_id TEXT NOT NULL,
   id TEXT NOT NULL,
   content_type TEXT NOT NULL,
   total BIGINT NOT NULL,
   received BIGINT NOT NULL,
   bytes BYTEA NOT NULL,
   complete BOOLEAN NOT NULL DEFAULT FALSE,
   created_by TEXT NOT NULL,
   created_at BIGINT NOT NULL,
   updated_at BIGINT NOT NULL,
   PRIMARY KEY (doc_id, id)
);
