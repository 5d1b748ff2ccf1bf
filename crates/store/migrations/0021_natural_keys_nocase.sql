-- Serial numbers and asset tags are unique within a municipality regardless of case, as host
-- names already were (they are stored in lower case): "sn-1" typed by hand and "SN-1" from a
-- scanner are one device, and the CSV import already matched them so. Names and columns stay
-- the same, so a refused duplicate still names its field. A database that already holds two
-- items whose keys differ only in case stops this migration with the index named; merge or
-- correct those items and start again.
DROP INDEX items_serial_number;
DROP INDEX items_asset_tag;
CREATE UNIQUE INDEX items_serial_number ON items (tenant_id, lower(serial_number)) WHERE serial_number IS NOT NULL;
CREATE UNIQUE INDEX items_asset_tag ON items (tenant_id, lower(asset_tag)) WHERE asset_tag IS NOT NULL;
