-- accounts and their role per unit
CREATE TABLE users (
   username TEXT PRIMARY KEY,
   display_name TEXT NOT NULL,
   password_hash TEXT NOT NULL,
   disabled BOOLEAN NOT NULL DEFAULT FALSE,
   created_at BIGINT NOT NULL
);
CREATE TABLE grants (
   username TEXT NOT NULL REFERENCES users(username),
   unit TEXT NOT NULL,
   role TEXT NOT NULL,
   PRIMARY KEY (username, unit)
);
