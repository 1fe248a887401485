-- photo chunks apart. An upload's chunks are rows of `photo_chunks` (an append writes the
-- chunk, not the photo so far: 5 MiB in 64 KiB chunks rewrote ~200 MB as one growing row);
-- the chunk that completes it replaces them with the whole photo as one row at offset 0, so a
-- download is still one value. `photos` keeps only what the upload is (the blob went last in
-- its rows, so reading `complete` walked the whole photo's overflow pages). Photos taken before
-- the content check that are not JPEG, PNG or WebP by their magic bytes are deleted; the
-- others get the type their bytes are. `checked_seq`: the document version at which the
-- sweeper last found the photo shown.
CREATE TABLE photo_chunks (
   doc_id TEXT NOT NULL,
   id TEXT NOT NULL,
   byte_offset INTEGER NOT NULL,
   bytes BLOB NOT NULL,
   PRIMARY KEY (doc_id, id, byte_offset)
);
DELETE FROM photos WHERE complete AND NOT (
   substr(bytes, 1, 3) = X'FFD8FF'
   OR substr(bytes, 1, 8) = X'89504E470D0A1A0A'
   OR (substr(bytes, 1, 4) = X'52494646' AND substr(bytes, 9, 4) = X'57454250'));
UPDATE photos SET content_type = CASE
   WHEN substr(bytes, 1, 3) = X'FFD8FF' THEN 'image/jpeg'
   WHEN substr(bytes, 1, 8) = X'89504E470D0A1A0A' THEN 'image/png'
   ELSE 'image/webp' END
WHERE complete;
INSERT INTO photo_chunks (doc_id, id, byte_offset, bytes) SELECT doc_id, id, 0, bytes FROM photos WHERE length(bytes) > 0;
ALTER TABLE photos DROP COLUMN bytes;
ALTER TABLE photos ADD COLUMN checked_seq INTEGER;
CREATE INDEX photos_uploader ON photos (created_by, created_at);
