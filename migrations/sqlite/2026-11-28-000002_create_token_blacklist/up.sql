-- simplejwt's token_blacklist app, except that a SHA-256 of the token is kept instead of the token.
CREATE TABLE token_blacklist_outstandingtoken (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NULL REFERENCES auth_user (id) ON DELETE SET NULL,
    jti VARCHAR(255) NOT NULL UNIQUE,
    token_hash VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX token_blacklist_outstandingtoken_user_id ON token_blacklist_outstandingtoken (user_id);
CREATE INDEX token_blacklist_outstandingtoken_expires_at ON token_blacklist_outstandingtoken (expires_at);
CREATE TABLE token_blacklist_blacklistedtoken (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_id INTEGER NOT NULL UNIQUE REFERENCES token_blacklist_outstandingtoken (id) ON DELETE CASCADE,
    blacklisted_at TIMESTAMP NOT NULL
);
