ALTER TABLE monitors DROP CONSTRAINT monitors_kind_check;
ALTER TABLE monitors ADD CONSTRAINT monitors_kind_check
    CHECK (kind IN ('heartbeat', 'http', 'tcp', 'icmp', 'dns', 'tls_expiry'));
