-- Portable SQL: runs unchanged on SQLite and PostgreSQL.
-- Ids are UUIDv7 text; instants are BIGINT milliseconds since the Unix epoch, UTC.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES tenants (id),
    kind        TEXT NOT NULL CHECK (kind IN ('provider', 'municipality')),
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    country     TEXT NOT NULL CHECK (country IN ('NO', 'DK')),
    time_zone   TEXT NOT NULL,
    language    TEXT NOT NULL CHECK (language IN ('nb', 'da', 'en')),
    created_at  BIGINT NOT NULL,
    CHECK ((kind = 'provider') = (parent_id IS NULL))
);
CREATE INDEX tenants_parent ON tenants (parent_id);

CREATE TABLE locations (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);

-- People who sign in. tenant_id is the home tenant: the provider for its staff,
-- a municipality for its employees. Usernames and e-mails are unique per installation
-- because sign-in happens before anyone knows the tenant.
CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    username             TEXT NOT NULL UNIQUE,
    email                TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    phone                TEXT NOT NULL DEFAULT '',
    password_hash        TEXT,
    language             TEXT CHECK (language IN ('nb', 'da', 'en')),
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT NOT NULL,
    password_changed_at  BIGINT
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE role_grants (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL CHECK (role IN ('provider_admin', 'technician', 'coordinator', 'requester', 'auditor')),
    PRIMARY KEY (tenant_id, user_id, role)
);
CREATE INDEX role_grants_user ON role_grants (user_id);

-- Sessions live in the database so that any node behind a load balancer can serve any request.
-- Only the SHA-256 of the cookie value is kept.
CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    csrf_token     TEXT NOT NULL,
    active_tenant  TEXT,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ip             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed sign-ins per key ('user:<name>' or 'ip:<address>'), counted over a sliding window.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

-- Append-only and hash-chained; see drifta_core::audit.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    at           BIGINT NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    tenant_id    TEXT,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT,
    ip           TEXT NOT NULL DEFAULT '',
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_tenant_seq ON audit_log (tenant_id, seq);

-- The chain's last link, locked by every append so that appends from several nodes serialise.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
