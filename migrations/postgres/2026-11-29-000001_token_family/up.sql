-- Refresh-token families (RFC 9700 §4.14): every refresh token descending from one login shares
-- the jti of that login's refresh token, so a reused (already rotated) token can revoke them all.
-- NULL for rows written before this migration and for tokens of other issuers.
ALTER TABLE token_blacklist_outstandingtoken ADD COLUMN family VARCHAR(255) NULL;
CREATE INDEX token_blacklist_outstandingtoken_family ON token_blacklist_outstandingtoken (family);
