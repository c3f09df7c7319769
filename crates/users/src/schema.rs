// @generated automatically by Diesel CLI.

//! The tables, as diesel sees them: Django's `auth_user` and simplejwt's token blacklist tables
//! (what each table and column is for: the comments in `migrations/`).
//!
//! Generated, not written by hand: `diesel print-schema` of a PostgreSQL database migrated with
//! `migrations/postgres`, with the options in `diesel.toml` (this comment is its `patch_file`).
//! After changing a migration, run `scripts/check-schema --write`; CI runs `scripts/check-schema`,
//! which fails when this file differs from what diesel generates. PostgreSQL's types are the
//! exact ones, and SQLite reads them too (`Int4` is `Integer`, `Int8` is `BigInt`, `Varchar` is
//! `Text`; SQLite's INTEGER holds 64 bits). Only types both backends share (no `Timestamptz`):
//! times are stored as UTC.

diesel::table! {
    auth_user (id) {
        id -> Int4,
        #[max_length = 128]
        password -> Varchar,
        last_login -> Nullable<Timestamp>,
        is_superuser -> Bool,
        #[max_length = 150]
        username -> Varchar,
        #[max_length = 150]
        first_name -> Varchar,
        #[max_length = 150]
        last_name -> Varchar,
        #[max_length = 254]
        email -> Varchar,
        is_staff -> Bool,
        is_active -> Bool,
        date_joined -> Timestamp,
    }
}

diesel::table! {
    token_blacklist_blacklistedtoken (id) {
        id -> Int8,
        token_id -> Int8,
        blacklisted_at -> Timestamp,
    }
}

diesel::table! {
    token_blacklist_outstandingtoken (id) {
        id -> Int8,
        user_id -> Nullable<Int4>,
        #[max_length = 255]
        jti -> Varchar,
        #[max_length = 64]
        token_hash -> Varchar,
        created_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        #[max_length = 255]
        family -> Nullable<Varchar>,
    }
}

diesel::joinable!(token_blacklist_blacklistedtoken -> token_blacklist_outstandingtoken (token_id));
diesel::joinable!(token_blacklist_outstandingtoken -> auth_user (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    auth_user,
    token_blacklist_blacklistedtoken,
    token_blacklist_outstandingtoken,
);
