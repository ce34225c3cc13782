-- The key-value table every bucket lives in. bytea compares bytewise (memcmp, then length), which is bbolt's key
-- order, so scans and Last see keys in the order the typed layer relies on. bucket is compared for equality only;
-- the C collation keeps that cheap.
CREATE TABLE kv (
	bucket text COLLATE "C" NOT NULL,
	key    bytea NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);

-- Facts about the store itself (the audit chain key's ID), apart from the buckets.
CREATE TABLE store_meta (
	name  text PRIMARY KEY,
	value text NOT NULL
);
