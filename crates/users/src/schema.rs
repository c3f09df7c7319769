//! The tables, as diesel sees them: Django's `auth_user` and simplejwt's token blacklist tables.
//!
//! Types are limited to what both backends share (no `Timestamptz`): times are stored as UTC.

diesel::table! {
    auth_user (id) {
        id -> Integer,
        password -> Text,
        last_login -> Nullable<Timestamp>,
        is_superuser -> Bool,
        username -> Text,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        is_staff -> Bool,
        is_active -> Bool,
        date_joined -> Timestamp,
    }
}

diesel::table! {
    /// Every refresh token issued or seen; `token_hash` is the SHA-256 of the token, never the token itself.
    token_blacklist_outstandingtoken (id) {
        id -> BigInt,
        user_id -> Nullable<Integer>,
        jti -> Text,
        token_hash -> Text,
        created_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        /// The jti of the login's refresh token, shared by every token rotated from it.
        family -> Nullable<Text>,
    }
}

diesel::table! {
    token_blacklist_blacklistedtoken (id) {
        id -> BigInt,
        token_id -> BigInt,
        blacklisted_at -> Timestamp,
    }
}

diesel::joinable!(token_blacklist_blacklistedtoken -> token_blacklist_outstandingtoken (token_id));
diesel::joinable!(token_blacklist_outstandingtoken -> auth_user (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    auth_user,
    token_blacklist_outstandingtoken,
    token_blacklist_blacklistedtoken,
);
