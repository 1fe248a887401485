-- document owners, sessions, invitations
ALTER TABLE docs ADD COLUMN unit TEXT NOT NULL DEFAULT '';
CREATE TABLE sessions (
   id TEXT PRIMARY KEY,
   verifier_hash TEXT NOT NULL,
   username TEXT NOT NULL REFERENCES users(username),
   created_at BIGINT NOT NULL,
   expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (username);
CREATE TABLE invitations (
   id TEXT PRIMARY KEY,
   verifier_hash TEXT NOT NULL,
   username TEXT NOT NULL REFERENCES users(username),
   created_at BIGINT NOT NULL,
   expires_at BIGINT NOT NULL
);
