CREATE TABLE attachment_blobs (
    sha256  TEXT PRIMARY KEY,
    data    BYTEA NOT NULL
);
