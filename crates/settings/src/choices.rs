//! The enumerated settings (algorithm, user id field, DRF and simplejwt classes, user claims) and
//! their accepted spellings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that is not one of a setting's allowed names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {what}; valid values are: {}{}", .valid.join(", "), .note)]
pub struct UnknownChoice {
    pub value: String,
    /// What was expected, e.g. "algorithm".
    pub what: &'static str,
    pub valid: Vec<&'static str>,
    /// Extra guidance appended to the list (may be empty).
    pub note: &'static str,
}

/// Looks `value` up in `(name, variant)` pairs, exactly as Django would (names are case-sensitive).
fn pick<T: Copy>(
    value: &str,
    table: &[(&'static str, T)],
    what: &'static str,
    note: &'static str,
) -> Result<T, UnknownChoice> {
    table
        .iter()
        .find(|(name, _)| *name == value.trim())
        .map(|&(_, v)| v)
        .ok_or_else(|| UnknownChoice {
            value: value.to_owned(),
            what,
            valid: table.iter().map(|&(name, _)| name).collect(),
            note,
        })
}

/// `SIMPLE_JWT.ALGORITHM`. Serde and `Display` use exactly the JOSE names (`HS256`, `EdDSA`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    ES256,
    ES384,
    EdDSA,
}

impl Algorithm {
    const ALL: [(&'static str, Algorithm); 9] = [
        ("HS256", Algorithm::HS256),
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
        ("RS256", Algorithm::RS256),
        ("RS384", Algorithm::RS384),
        ("RS512", Algorithm::RS512),
        ("ES256", Algorithm::ES256),
        ("ES384", Algorithm::ES384),
        ("EdDSA", Algorithm::EdDSA),
    ];

    /// HMAC algorithms sign and verify with one shared secret; the others need a PEM key pair.
    pub fn is_hmac(&self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
    }

    /// Smallest HMAC key in bytes (the hash output size, per RFC 7518 §3.2); 0 for non-HMAC.
    pub fn min_hmac_key_len(&self) -> usize {
        match self {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => 0,
        }
    }

    pub fn as_str(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| a == self)
            .map_or("", |(name, _)| name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        pick(s, &Self::ALL, "algorithm", "")
    }
}

/// `SIMPLE_JWT.USER_ID_FIELD`: the user column whose value goes into the user id claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserIdField {
    Id,
    Username,
}

impl UserIdField {
    const ALL: [(&'static str, UserIdField); 2] =
        [("id", UserIdField::Id), ("username", UserIdField::Username)];

    pub fn as_str(&self) -> &'static str {
        match self {
            UserIdField::Id => "id",
            UserIdField::Username => "username",
        }
    }
}

impl fmt::Display for UserIdField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserIdField {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        pick(s, &Self::ALL, "user id field", "")
    }
}

/// An entry of `REST_FRAMEWORK.DEFAULT_AUTHENTICATION_CLASSES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthenticationClass {
    /// Loads the user from the database on every request.
    JwtAuthentication,
    /// Trusts the token's claims without a database lookup.
    JwtStatelessUserAuthentication,
    /// DRF's HTTP Basic authentication: username and password on every request.
    BasicAuthentication,
    /// dj-rest-auth's `JWTCookieAuthentication`: the header as JWTAuthentication, else the
    /// `REST_AUTH.JWT_AUTH_COOKIE` cookie (with CSRF checks on unsafe methods).
    JwtCookieAuthentication,
}

impl AuthenticationClass {
    const SIMPLEJWT: &'static str = "rest_framework_simplejwt.authentication.";
    const DRF: &'static str = "rest_framework.authentication.";
    const DJ_REST_AUTH: &'static str = "dj_rest_auth.jwt_auth.";
    /// (short name, the module its dotted path must use, class).
    const ALL: [(&'static str, &'static str, AuthenticationClass); 5] = [
        (
            "JWTAuthentication",
            Self::SIMPLEJWT,
            AuthenticationClass::JwtAuthentication,
        ),
        (
            "JWTStatelessUserAuthentication",
            Self::SIMPLEJWT,
            AuthenticationClass::JwtStatelessUserAuthentication,
        ),
        (
            "BasicAuthentication",
            Self::DRF,
            AuthenticationClass::BasicAuthentication,
        ),
        // simplejwt's old name, still exported as an alias.
        (
            "JWTTokenUserAuthentication",
            Self::SIMPLEJWT,
            AuthenticationClass::JwtStatelessUserAuthentication,
        ),
        (
            "JWTCookieAuthentication",
            Self::DJ_REST_AUTH,
            AuthenticationClass::JwtCookieAuthentication,
        ),
    ];

    /// The class name as simplejwt / DRF spell it, e.g. `JWTAuthentication`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthenticationClass::JwtAuthentication => "JWTAuthentication",
            AuthenticationClass::JwtStatelessUserAuthentication => "JWTStatelessUserAuthentication",
            AuthenticationClass::BasicAuthentication => "BasicAuthentication",
            AuthenticationClass::JwtCookieAuthentication => "JWTCookieAuthentication",
        }
    }
}

impl fmt::Display for AuthenticationClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthenticationClass {
    type Err = UnknownChoice;

    /// Accepts the short name or the dotted Django path (in the class's own module).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        Self::ALL
            .iter()
            .find(|(short, module, _)| {
                text == *short || text.strip_prefix(module) == Some(short)
            })
            .map(|&(_, _, class)| class)
            .ok_or_else(|| UnknownChoice {
                value: s.to_owned(),
                what: "authentication class",
                valid: Self::ALL.iter().map(|&(short, _, _)| short).collect(),
                note: " (optionally as the dotted path, e.g. \"rest_framework_simplejwt.authentication.JWTAuthentication\" or \"rest_framework.authentication.BasicAuthentication\" or \"dj_rest_auth.jwt_auth.JWTCookieAuthentication\"; DRF's session and token authentication are not supported)",
            })
    }
}

/// `REST_AUTH.JWT_AUTH_SAMESITE`: the cookies' `SameSite` attribute, as Django spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

impl SameSite {
    const ALL: [(&'static str, SameSite); 3] = [
        ("Lax", SameSite::Lax),
        ("Strict", SameSite::Strict),
        ("None", SameSite::None),
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SameSite {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        pick(
            s,
            &Self::ALL,
            "SameSite value",
            " (\"None\" sends the cookies on cross-site requests too, and browsers only accept it with JWT_AUTH_SECURE = true)",
        )
    }
}

/// An entry of `REST_FRAMEWORK.DEFAULT_THROTTLE_CLASSES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleClass {
    /// Anonymous requests, by client address; scope `anon`.
    AnonRateThrottle,
    /// Every request, by user id (client address when anonymous); scope `user`.
    UserRateThrottle,
    /// Views that declare a throttle scope (the token obtain views: `login`), by user or address.
    ScopedRateThrottle,
}

impl ThrottleClass {
    const MODULE: &'static str = "rest_framework.throttling.";
    const ALL: [(&'static str, ThrottleClass); 3] = [
        ("AnonRateThrottle", ThrottleClass::AnonRateThrottle),
        ("UserRateThrottle", ThrottleClass::UserRateThrottle),
        ("ScopedRateThrottle", ThrottleClass::ScopedRateThrottle),
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ThrottleClass::AnonRateThrottle => "AnonRateThrottle",
            ThrottleClass::UserRateThrottle => "UserRateThrottle",
            ThrottleClass::ScopedRateThrottle => "ScopedRateThrottle",
        }
    }
}

impl fmt::Display for ThrottleClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ThrottleClass {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let short = s.trim().strip_prefix(Self::MODULE).unwrap_or(s);
        pick(
            short,
            &Self::ALL,
            "throttle class",
            " (optionally prefixed with \"rest_framework.throttling.\")",
        )
        .map_err(|e| UnknownChoice {
            value: s.to_owned(),
            ..e
        })
    }
}

/// An entry of `SIMPLE_JWT.AUTH_TOKEN_CLASSES`: which token kinds authenticate a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenClass {
    AccessToken,
    SlidingToken,
}

impl TokenClass {
    const MODULE: &'static str = "rest_framework_simplejwt.tokens.";
    const ALL: [(&'static str, TokenClass); 2] = [
        ("AccessToken", TokenClass::AccessToken),
        ("SlidingToken", TokenClass::SlidingToken),
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TokenClass::AccessToken => "AccessToken",
            TokenClass::SlidingToken => "SlidingToken",
        }
    }
}

impl fmt::Display for TokenClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenClass {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let short = s.trim().strip_prefix(Self::MODULE).unwrap_or(s);
        pick(
            short,
            &Self::ALL,
            "token class",
            " (optionally prefixed with \"rest_framework_simplejwt.tokens.\")",
        )
        .map_err(|e| UnknownChoice {
            value: s.to_owned(),
            ..e
        })
    }
}

/// An entry of `SIMPLE_JWT.TOKEN_USER_CLAIMS`: a user field copied into tokens as a claim of
/// the same name (what simplejwt users do by overriding `TokenObtainPairSerializer.get_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserClaim {
    Username,
    Email,
    FirstName,
    LastName,
    IsStaff,
    IsSuperuser,
    IsActive,
}

impl UserClaim {
    const ALL: [(&'static str, UserClaim); 7] = [
        ("username", UserClaim::Username),
        ("email", UserClaim::Email),
        ("first_name", UserClaim::FirstName),
        ("last_name", UserClaim::LastName),
        ("is_staff", UserClaim::IsStaff),
        ("is_superuser", UserClaim::IsSuperuser),
        ("is_active", UserClaim::IsActive),
    ];

    /// The user field, which is also the claim's name.
    pub fn as_str(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| c == self)
            .map_or("", |(name, _)| name)
    }
}

impl fmt::Display for UserClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserClaim {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        pick(
            s,
            &Self::ALL,
            "user field",
            " (the password hash is never put in a token)",
        )
    }
}

/// An entry of `REST_FRAMEWORK.DEFAULT_PERMISSION_CLASSES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermissionClass {
    AllowAny,
    IsAuthenticated,
    IsAdminUser,
    IsAuthenticatedOrReadOnly,
}

impl PermissionClass {
    const MODULE: &'static str = "rest_framework.permissions.";
    const ALL: [(&'static str, PermissionClass); 4] = [
        ("AllowAny", PermissionClass::AllowAny),
        ("IsAuthenticated", PermissionClass::IsAuthenticated),
        ("IsAdminUser", PermissionClass::IsAdminUser),
        (
            "IsAuthenticatedOrReadOnly",
            PermissionClass::IsAuthenticatedOrReadOnly,
        ),
    ];

    /// The class name as DRF spells it, e.g. `IsAuthenticated`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PermissionClass::AllowAny => "AllowAny",
            PermissionClass::IsAuthenticated => "IsAuthenticated",
            PermissionClass::IsAdminUser => "IsAdminUser",
            PermissionClass::IsAuthenticatedOrReadOnly => "IsAuthenticatedOrReadOnly",
        }
    }
}

impl fmt::Display for PermissionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PermissionClass {
    type Err = UnknownChoice;

    /// Accepts the short name or the dotted Django path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let short = s.trim().strip_prefix(Self::MODULE).unwrap_or(s);
        pick(
            short,
            &Self::ALL,
            "permission class",
            " (optionally prefixed with \"rest_framework.permissions.\")",
        )
        .map_err(|e| UnknownChoice {
            value: s.to_owned(),
            ..e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, StrDeserializer};
    use serde::de::IntoDeserializer;

    #[test]
    fn algorithms_round_trip_through_names_and_serde() {
        for (name, alg) in Algorithm::ALL {
            assert_eq!(name.parse::<Algorithm>(), Ok(alg));
            assert_eq!(alg.to_string(), name);
            // serde's derive names the variants exactly like the JOSE names.
            let de: StrDeserializer<'_, DeError> = name.into_deserializer();
            assert_eq!(Algorithm::deserialize(de), Ok(alg));
        }
    }

    #[test]
    fn hmac_key_lengths() {
        assert!(Algorithm::HS256.is_hmac());
        assert!(!Algorithm::RS256.is_hmac());
        assert!(!Algorithm::EdDSA.is_hmac());
        assert_eq!(Algorithm::HS256.min_hmac_key_len(), 32);
        assert_eq!(Algorithm::HS384.min_hmac_key_len(), 48);
        assert_eq!(Algorithm::HS512.min_hmac_key_len(), 64);
        assert_eq!(Algorithm::ES256.min_hmac_key_len(), 0);
    }

    #[test]
    fn unknown_algorithm_lists_valid_ones() {
        let err = "HS999".parse::<Algorithm>().unwrap_err().to_string();
        assert!(err.contains("\"HS999\""), "{err}");
        assert!(err.contains("HS256, HS384"), "{err}");
        assert!(err.contains("EdDSA"), "{err}");
        assert!(
            "hs256".parse::<Algorithm>().is_err(),
            "names are case-sensitive"
        );
    }

    #[test]
    fn class_names_short_and_dotted() {
        use AuthenticationClass::*;
        assert_eq!("JWTAuthentication".parse(), Ok(JwtAuthentication));
        assert_eq!(
            "rest_framework_simplejwt.authentication.JWTAuthentication".parse(),
            Ok(JwtAuthentication)
        );
        assert_eq!(
            "JWTStatelessUserAuthentication".parse(),
            Ok(JwtStatelessUserAuthentication)
        );
        assert_eq!(
            "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication".parse(),
            Ok(JwtStatelessUserAuthentication)
        );
        let err = "rest_framework.authentication.SessionAuthentication"
            .parse::<AuthenticationClass>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("SessionAuthentication"), "{err}");
        assert!(
            err.contains("JWTAuthentication, JWTStatelessUserAuthentication, BasicAuthentication"),
            "{err}"
        );
        assert_eq!(
            "rest_framework.authentication.BasicAuthentication".parse(),
            Ok(BasicAuthentication)
        );
        assert_eq!("BasicAuthentication".parse(), Ok(BasicAuthentication));
        assert_eq!(
            "dj_rest_auth.jwt_auth.JWTCookieAuthentication".parse(),
            Ok(JwtCookieAuthentication)
        );
        assert_eq!(
            "JWTCookieAuthentication".parse(),
            Ok(JwtCookieAuthentication)
        );
        assert!(
            "rest_framework_simplejwt.authentication.JWTCookieAuthentication"
                .parse::<AuthenticationClass>()
                .is_err()
        );
        assert_eq!("None".parse(), Ok(SameSite::None));
        assert!("lax".parse::<SameSite>().is_err(), "Django's spelling");
        assert_eq!(
            "rest_framework_simplejwt.authentication.JWTTokenUserAuthentication".parse(),
            Ok(JwtStatelessUserAuthentication)
        );
        // Each class only under its own module.
        assert!(
            "rest_framework_simplejwt.authentication.BasicAuthentication"
                .parse::<AuthenticationClass>()
                .is_err()
        );
        assert!("rest_framework.authentication.JWTAuthentication"
            .parse::<AuthenticationClass>()
            .is_err());
        assert_eq!(
            "rest_framework.throttling.ScopedRateThrottle".parse(),
            Ok(ThrottleClass::ScopedRateThrottle)
        );
        assert_eq!(
            "rest_framework_simplejwt.tokens.SlidingToken".parse(),
            Ok(TokenClass::SlidingToken)
        );
        assert!("password".parse::<UserClaim>().is_err());
        assert_eq!("is_staff".parse(), Ok(UserClaim::IsStaff));

        assert_eq!(
            "IsAuthenticated".parse(),
            Ok(PermissionClass::IsAuthenticated)
        );
        assert_eq!(
            "rest_framework.permissions.IsAdminUser".parse(),
            Ok(PermissionClass::IsAdminUser)
        );
        assert!("rest_framework.permissions.IsOwner"
            .parse::<PermissionClass>()
            .is_err());
        // The short name belongs to DRF's module, not simplejwt's.
        assert!("rest_framework_simplejwt.authentication.AllowAny"
            .parse::<PermissionClass>()
            .is_err());
    }

    #[test]
    fn user_id_field() {
        assert_eq!("id".parse(), Ok(UserIdField::Id));
        assert_eq!("username".parse(), Ok(UserIdField::Username));
        assert!("email".parse::<UserIdField>().is_err());
        assert_eq!(UserIdField::Username.to_string(), "username");
    }
}
