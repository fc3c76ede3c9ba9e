-- A parked authorization request belongs to the browser that started it: the hash of that
-- browser's `eid_browser` cookie. Resuming or consenting from another browser finds nothing.
-- Rows parked before this migration have no binding and can no longer be resumed (they expire
-- within 15 minutes anyway).
ALTER TABLE interactions ADD COLUMN browser_hash TEXT;
