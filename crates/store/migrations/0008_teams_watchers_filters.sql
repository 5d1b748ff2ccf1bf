-- Teams of technicians under a provider ("Skole-team", "Helse-team"); a ticket may be
-- handed to a team before a person takes it.
CREATE TABLE teams (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    UNIQUE (tenant_id, name)
);
CREATE TABLE team_members (
    tenant_id  TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (tenant_id, team_id, user_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);
ALTER TABLE tickets ADD COLUMN team_id TEXT;
CREATE INDEX tickets_team ON tickets (team_id, status, resolution_due_at);

-- People who follow a ticket (notified by mail once the mail channel exists).
CREATE TABLE ticket_watchers (
    tenant_id  TEXT NOT NULL,
    ticket_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (tenant_id, ticket_id, user_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);

-- A person's saved queue filters, kept as the queue page's query string.
CREATE TABLE saved_filters (
    user_id  TEXT NOT NULL REFERENCES users (id),
    id       TEXT NOT NULL,
    name     TEXT NOT NULL,
    query    TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
);
