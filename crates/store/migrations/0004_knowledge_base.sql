-- Knowledge base: articles written by a provider (shared with all its municipalities) or by
-- one municipality (for it alone), and the articles linked to a ticket.

CREATE TABLE kb_articles (
    -- A provider (shared with every municipality under it) or a municipality (only that one).
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    title          TEXT NOT NULL,
    body_markdown  TEXT NOT NULL DEFAULT '',
    -- Requesters see published articles only; staff see drafts of their own tenants too.
    published      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    author_id      TEXT REFERENCES users (id),
    author_name    TEXT NOT NULL,
    -- Lower-cased title and body, written by drifta (SQLite's lower() leaves Æ, Ø and Å
    -- alone), so searching "wi-fi" or "skjærm" finds what people wrote in any case.
    search_text    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);
CREATE INDEX kb_articles_list ON kb_articles (tenant_id, published, updated_at);

-- Articles a technician pointed to from a ticket. tenant_id is the ticket's municipality;
-- the article belongs to it or to its provider.
CREATE TABLE ticket_articles (
    tenant_id   TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    article_id  TEXT NOT NULL REFERENCES kb_articles (id),
    linked_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id, article_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ticket_articles_article ON ticket_articles (article_id);
