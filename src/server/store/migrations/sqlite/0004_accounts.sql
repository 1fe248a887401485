-- accounts and their role per unit
CREATE TABLE users (
   username TEXT PRIMARY KEY,
   display_name TEXT NOT NULL,
   password_hash TEXT NOT NULL,
   disabled INTEGER NOT NULL DEFAULT 0,
   created_at INTEGER NOT NULL
);
CREATE TABLE grants (
   username TEXT NOT NULL REFERENCES users(username),
   unit TEXT NOT NULL,
   role TEXT NOT NULL,
   PRIMARY KEY (username, unit)
);
