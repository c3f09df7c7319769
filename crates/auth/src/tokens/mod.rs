//! Token kinds, their claims and lifetimes: building tokens for a user, deriving an access token
//! from a refresh token, and the checks simplejwt's `Token.verify` makes after decoding.

pub mod backend;
pub mod jwk_client;
mod mac;
pub mod revoke;
pub mod scan;

use std::time::Duration;

use serde_json::Value;

use crate::tokens::backend::{epoch, BackendError, Claims, TokenBackend};
use crate::tokens::scan::ClaimValue;
use settings::{SimpleJwt, UserClaim, UserIdField};
use users::User;

/// The kind of token, carried in the `token_type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    /// One token that authenticates and, until its `refresh_exp`, renews itself.
    Sliding,
    /// Any type (TokenVerifyView): only signature, exp and jti are checked.
    Untyped,
}

impl TokenKind {
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Sliding => "sliding",
            TokenKind::Untyped => "untyped",
        }
    }

    /// simplejwt's class name, shown in the `messages` of an authentication failure.
    pub fn class_name(self) -> &'static str {
        match self {
            TokenKind::Access => "AccessToken",
            TokenKind::Refresh => "RefreshToken",
            TokenKind::Sliding => "SlidingToken",
            TokenKind::Untyped => "UntypedToken",
        }
    }

    /// The kinds simplejwt keeps in the outstanding/blacklist tables (its BlacklistMixin).
    pub fn is_blacklistable(self) -> bool {
        matches!(self, TokenKind::Refresh | TokenKind::Sliding)
    }
}

impl From<settings::TokenClass> for TokenKind {
    fn from(class: settings::TokenClass) -> Self {
        match class {
            settings::TokenClass::AccessToken => TokenKind::Access,
            settings::TokenClass::SlidingToken => TokenKind::Sliding,
        }
    }
}

/// The user-facing reasons a token is refused, worded exactly as simplejwt words them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token is invalid")]
    Invalid,
    #[error("Token is expired")]
    Expired,
    #[error("Token has wrong type")]
    WrongType,
    #[error("Token has no type")]
    NoType,
    #[error("Token has no id")]
    NoId,
    #[error("Token has no '{0}' claim")]
    NoClaim(String),
    #[error("Token '{0}' claim has expired")]
    ClaimExpired(String),
    #[error("Token is blacklisted")]
    Blacklisted,
}

impl From<BackendError> for TokenError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Invalid => TokenError::Invalid,
            BackendError::Expired => TokenError::Expired,
        }
    }
}

/// A decoded (or newly built) token: its claims in simplejwt's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub claims: Claims,
}

impl Token {
    pub fn jti(&self, settings: &SimpleJwt) -> Option<&str> {
        self.claims.get(&settings.jti_claim).and_then(Value::as_str)
    }

    /// The `exp` claim as seconds since the epoch (0 when absent; verified tokens always have it).
    pub fn exp(&self) -> i64 {
        self.claims
            .get("exp")
            .and_then(|v| epoch(v).ok())
            .unwrap_or(0)
    }

    pub fn kind_claim<'a>(&'a self, settings: &SimpleJwt) -> Option<&'a str> {
        self.claims
            .get(&settings.token_type_claim)
            .and_then(Value::as_str)
    }
}

/// Builds, signs and verifies tokens with the configured backend and claim names.
pub struct Tokens<'a> {
    pub settings: &'a SimpleJwt,
    pub backend: &'a TokenBackend,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

impl Tokens<'_> {
    fn lifetime(&self, kind: TokenKind) -> i64 {
        match kind {
            TokenKind::Access => secs(self.settings.access_token_lifetime),
            TokenKind::Refresh => secs(self.settings.refresh_token_lifetime),
            TokenKind::Sliding => secs(self.settings.sliding_token_lifetime),
            TokenKind::Untyped => 0,
        }
    }

    /// A fresh token: token_type, exp, iat, jti in that order (simplejwt's), and for a sliding
    /// token its refresh_exp; nothing else.
    pub fn new_token(&self, kind: TokenKind, now: i64) -> Token {
        // Room for what `for_user_record` and `access_for` add (user id, revocation claim,
        // user claims), so that the map is not grown and rehashed on the way.
        let mut claims = Claims::with_capacity(7 + self.settings.token_user_claims.len());
        claims.insert(self.settings.token_type_claim.clone(), kind.name().into());
        claims.insert("exp".into(), now.saturating_add(self.lifetime(kind)).into());
        claims.insert("iat".into(), now.into());
        claims.insert(self.settings.jti_claim.clone(), new_jti().into());
        if kind == TokenKind::Sliding {
            claims.insert(
                self.settings.sliding_token_refresh_exp_claim.clone(),
                now.saturating_add(secs(self.settings.sliding_token_refresh_lifetime))
                    .into(),
            );
        }
        Token { claims }
    }

    /// `Token.for_user` with everything a user record adds: the user id, the revocation claim
    /// (CHECK_REVOKE_TOKEN) and the TOKEN_USER_CLAIMS fields, in that order.
    pub fn for_user_record(&self, kind: TokenKind, user: &users::User, now: i64) -> Token {
        let id = claim_for_user(self.settings, user);
        let mut token = self.for_user(kind, &id, now);
        if self.settings.check_revoke_token {
            token.claims.insert(
                self.settings.revoke_token_claim.clone(),
                crate::tokens::revoke::password_hash_claim(&user.password).into(),
            );
        }
        self.user_claims_from(&mut token, user);
        token
    }

    /// Writes the TOKEN_USER_CLAIMS fields from the user's row (a key already there keeps its
    /// place). Rotation and sliding take them from the row, not from the presented token: a user
    /// whose staff flag was removed must not carry `is_staff: true` into the next token.
    pub fn user_claims_from(&self, token: &mut Token, user: &users::User) {
        for field in &self.settings.token_user_claims {
            token
                .claims
                .insert(field.as_str().to_owned(), user_field(user, *field));
        }
    }

    /// TokenRefreshSlidingView: the token's `refresh_exp` must not have passed; then new exp and
    /// iat (same jti, as simplejwt).
    pub fn slide(&self, token: &mut Token, now: i64) -> Result<(), TokenError> {
        let claim = &self.settings.sliding_token_refresh_exp_claim;
        let refresh_exp = token
            .claims
            .get(claim)
            .ok_or_else(|| TokenError::NoClaim(claim.clone()))?;
        let leeway = i64::try_from(self.settings.leeway.as_secs()).unwrap_or(i64::MAX / 2);
        if epoch(refresh_exp)? <= now - leeway {
            return Err(TokenError::ClaimExpired(claim.clone()));
        }
        token.claims.insert(
            "exp".into(),
            now.saturating_add(self.lifetime(TokenKind::Sliding)).into(),
        );
        token.claims.insert("iat".into(), now.into());
        Ok(())
    }

    /// `RefreshToken.for_user`: the user id goes in as a string, as simplejwt 5.5.1 writes it.
    pub fn for_user(&self, kind: TokenKind, user_id: &str, now: i64) -> Token {
        let mut token = self.new_token(kind, now);
        token
            .claims
            .insert(self.settings.user_id_claim.clone(), user_id.into());
        token
    }

    /// `RefreshToken.access_token`: every claim of the refresh token except type, exp, iat and jti.
    pub fn access_for(&self, refresh: &Token, now: i64) -> Token {
        let mut access = self.new_token(TokenKind::Access, now);
        let skip = [
            self.settings.token_type_claim.as_str(),
            "exp",
            "iat",
            self.settings.jti_claim.as_str(),
            "jti",
        ];
        for (k, v) in &refresh.claims {
            if !skip.contains(&k.as_str()) {
                access.claims.insert(k.clone(), v.clone());
            }
        }
        access
    }

    /// Rotation: the same refresh token with a new jti, exp and iat (keys keep their places).
    pub fn rotate(&self, refresh: &mut Token, now: i64) {
        let c = &mut refresh.claims;
        c.insert(self.settings.jti_claim.clone(), new_jti().into());
        c.insert(
            "exp".into(),
            now.saturating_add(self.lifetime(TokenKind::Refresh)).into(),
        );
        c.insert("iat".into(), now.into());
    }

    pub fn encode(&self, token: &Token) -> Result<String, jsonwebtoken::errors::Error> {
        self.backend.encode(&token.claims)
    }

    /// Decodes `raw` and makes simplejwt's checks for `kind`: exp present, jti present, type right.
    /// (The blacklist is checked by the caller, which has the database.)
    pub fn decode(&self, raw: &str, kind: TokenKind, now: i64) -> Result<Token, TokenError> {
        let claims = self.backend.decode(raw, now)?;
        let token = Token { claims };
        if !token.claims.contains_key("exp") {
            return Err(TokenError::NoClaim("exp".into()));
        }
        if !token.claims.contains_key(&self.settings.jti_claim) {
            return Err(TokenError::NoId);
        }
        if kind != TokenKind::Untyped {
            match token.claims.get(&self.settings.token_type_claim) {
                None => return Err(TokenError::NoType),
                Some(t) if t.as_str() != Some(kind.name()) => return Err(TokenError::WrongType),
                Some(_) => {}
            }
        }
        Ok(token)
    }

    /// TokenVerifyView's check: `decode(raw, TokenKind::Untyped, now)`, with the same answers,
    /// but without building the claims (`TokenBackend::decode_scanned`). `Some(jti)` when the
    /// token is a refresh or sliding token, whose jti (`""` when not a string) the caller then
    /// looks up in the blacklist; `None` when nothing more is to be checked.
    pub fn verify_untyped(&self, raw: &str, now: i64) -> Result<Option<String>, TokenError> {
        let names = [
            self.settings.token_type_claim.as_str(),
            self.settings.jti_claim.as_str(),
        ];
        self.backend.decode_scanned(raw, now, names, |claims| {
            if !claims.has_exp() {
                return Err(TokenError::NoClaim("exp".into()));
            }
            let Some(jti) = claims.picked(1) else {
                return Err(TokenError::NoId);
            };
            let kind = claims.picked(0).and_then(ClaimValue::as_str);
            if kind != Some(TokenKind::Refresh.name()) && kind != Some(TokenKind::Sliding.name()) {
                return Ok(None);
            }
            Ok(Some(jti.as_str().unwrap_or_default().to_owned()))
        })?
    }
}

/// 32 lowercase hex characters, like Python's `uuid4().hex`: 122 bits from uuid's `fast-rng`
/// (rand's thread-local ChaCha generator, seeded and reseeded from the OS: no system call per id),
/// written out without the formatting machinery (`to_string`: over twice the instructions).
pub fn new_jti() -> String {
    let mut hex = [0u8; 32];
    uuid::Uuid::new_v4()
        .simple()
        .encode_lower(&mut hex)
        .to_owned()
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The user id as it goes into a token: always a string (simplejwt 5.5.1).
fn claim_for_user(settings: &SimpleJwt, user: &User) -> String {
    match settings.user_id_field {
        UserIdField::Id => user.id.to_string(),
        UserIdField::Username => user.username.clone(),
    }
}

/// A TOKEN_USER_CLAIMS field of the user, as the JSON value that goes into the token.
fn user_field(user: &User, field: UserClaim) -> Value {
    match field {
        UserClaim::Username => user.username.clone().into(),
        UserClaim::Email => user.email.clone().into(),
        UserClaim::FirstName => user.first_name.clone().into(),
        UserClaim::LastName => user.last_name.clone().into(),
        UserClaim::IsStaff => user.is_staff.into(),
        UserClaim::IsSuperuser => user.is_superuser.into(),
        UserClaim::IsActive => user.is_active.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setup() -> (SimpleJwt, TokenBackend) {
        let env = vec![(
            "SECRET_KEY".to_string(),
            "unit-test-secret-0123456789abcdef0123456789abcdef".to_string(),
        )];
        let s = settings::Settings::from_sources(None, &env)
            .map(|s| s.simple_jwt)
            .expect("settings");
        let b = TokenBackend::from_settings(&s).expect("backend");
        (s, b)
    }

    #[test]
    fn the_longest_lifetimes_do_not_overflow() {
        let (mut s, b) = setup();
        let longest = std::time::Duration::from_secs(i64::MAX as u64 - 1);
        s.refresh_token_lifetime = longest;
        s.sliding_token_lifetime = longest;
        s.sliding_token_refresh_lifetime = longest;
        let t = Tokens {
            settings: &s,
            backend: &b,
        };
        let refresh = t.for_user(TokenKind::Refresh, "7", 1000);
        assert_eq!(refresh.claims["exp"], json!(i64::MAX));
        let sliding = t.for_user(TokenKind::Sliding, "7", 1000);
        assert_eq!(sliding.claims["refresh_exp"], json!(i64::MAX));
    }

    #[test]
    fn claims_follow_simplejwt_layout() {
        let (s, b) = setup();
        let t = Tokens {
            settings: &s,
            backend: &b,
        };
        let refresh = t.for_user(TokenKind::Refresh, "7", 1000);
        let keys: Vec<_> = refresh.claims.keys().cloned().collect();
        assert_eq!(keys, ["token_type", "exp", "iat", "jti", "user_id"]);
        assert_eq!(refresh.claims["exp"], json!(1000 + 86400));
        assert_eq!(refresh.claims["user_id"], json!("7"));
        let jti = refresh.jti(&s).unwrap_or_default();
        assert_eq!(jti.len(), 32);
        assert!(jti
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let id = uuid::Uuid::try_parse(jti).expect("a UUID");
        assert_eq!(id.get_version(), Some(uuid::Version::Random));
        assert_eq!(id.simple().to_string(), jti);

        let access = t.access_for(&refresh, 1000);
        let keys: Vec<_> = access.claims.keys().cloned().collect();
        assert_eq!(keys, ["token_type", "exp", "iat", "jti", "user_id"]);
        assert_eq!(access.claims["token_type"], json!("access"));
        assert_eq!(access.claims["exp"], json!(1300));
        assert_ne!(access.jti(&s), refresh.jti(&s));
    }

    #[test]
    fn rotation_keeps_claim_order_and_renews_ids_and_times() {
        let (s, b) = setup();
        let t = Tokens {
            settings: &s,
            backend: &b,
        };
        let mut refresh = t.for_user(TokenKind::Refresh, "7", 1000);
        let old = refresh.clone();
        t.rotate(&mut refresh, 2000);
        assert_eq!(
            refresh.claims.keys().collect::<Vec<_>>(),
            old.claims.keys().collect::<Vec<_>>()
        );
        assert_ne!(refresh.jti(&s), old.jti(&s));
        assert_eq!(refresh.claims["iat"], json!(2000));
        assert_eq!(refresh.exp(), 2000 + 86400);
    }

    #[test]
    fn verification_errors_in_simplejwt_order() {
        let (s, b) = setup();
        let t = Tokens {
            settings: &s,
            backend: &b,
        };
        let enc = |v: Value| b.encode(v.as_object().expect("object")).expect("encode");
        let now = 1000;
        let cases = [
            (
                json!({"token_type": "access", "jti": "x"}),
                TokenKind::Access,
                TokenError::NoClaim("exp".into()),
            ),
            (
                json!({"token_type": "access", "exp": 2000}),
                TokenKind::Access,
                TokenError::NoId,
            ),
            (
                json!({"exp": 2000, "jti": "x"}),
                TokenKind::Access,
                TokenError::NoType,
            ),
            (
                json!({"token_type": "refresh", "exp": 2000, "jti": "x"}),
                TokenKind::Access,
                TokenError::WrongType,
            ),
            (
                json!({"token_type": "access", "exp": 999, "jti": "x"}),
                TokenKind::Access,
                TokenError::Expired,
            ),
        ];
        for (claims, kind, want) in cases {
            assert_eq!(
                t.decode(&enc(claims.clone()), kind, now).err(),
                Some(want),
                "{claims}"
            );
        }
        let any = enc(json!({"token_type": "refresh", "exp": 2000, "jti": "x"}));
        assert!(t.decode(&any, TokenKind::Untyped, now).is_ok());
        let untyped = enc(json!({"exp": 2000, "jti": "x"}));
        assert!(t.decode(&untyped, TokenKind::Untyped, now).is_ok());
    }
}
