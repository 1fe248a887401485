-- photo chunks apart (as in SQLite's migration 8: an append writes the chunk, not the photo
-- so far; a complete photo is one row at offset 0). Stored photos that are not JPEG, PNG or
-- WebP by their magic bytes are deleted, the others get the type their bytes are.
CREATE TABLE photo_chunks (
   doc_id TEXT NOT NULL,
   id TEXT NOT NULL,
   byte_offset BIGINT NOT NULL,
   bytes BYTEA NOT NULL,
   PRIMARY KEY (doc_id, id, byte_offset)
);
DELETE FROM photos WHERE complete AND NOT (
   substring(bytes from 1 for 3) = decode('ffd8ff', 'hex')
   OR substring(bytes from 1 for 8) = decode('89504e470d0a1a0a', 'hex')
   OR (substring(bytes from 1 for 4) = decode('52494646', 'hex') AND substring(bytes from 9 for 4) = decode('57454250', 'hex')));
UPDATE photos SET content_type = CASE
   WHEN substring(bytes from 1 for 3) = decode('ffd8ff', 'hex') THEN 'image/jpeg'
   WHEN substring(bytes from 1 for 8) = decode('89504e470d0a1a0a', 'hex') THEN 'image/png'
   ELSE 'image/webp' END
WHERE complete;
INSERT INTO photo_chunks (doc_id, id, byte_offset, bytes) SELECT doc_id, id, 0, bytes FROM photos WHERE length(bytes) > 0;
ALTER TABLE photos DROP COLUMN bytes, ADD COLUMN checked_seq BIGINT;
CREATE INDEX photos_uploader ON photos (created_by, created_at);
