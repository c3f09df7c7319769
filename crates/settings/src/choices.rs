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

/// Declares an enumerated setting: the enum, and `ALL`, its names in the order messages list them
/// (a variant's first name is its own, a later one an alias), each with the module its dotted
/// Django path may start with. `as_str`, `Display`, `Deserialize` and a `FromStr` that accepts each
/// name (trimmed, case-sensitive as in Django), optionally after its module, and otherwise lists
/// the valid ones, all read the table. The short form gives every variant one name and the enum
/// one module (`FromStr` then also trims after the module).
macro_rules! choices {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal, module $module:literal, note $note:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        choices! {
            $(#[$meta])*
            pub enum $name ($what, note $note, trim after module true) { $( $(#[$vmeta])* $variant, )* }
            names { $( $text in $module => $variant, )* }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal, note $note:literal, trim after module $trim:literal) {
            $( $(#[$vmeta:meta])* $variant:ident, )*
        }
        names { $( $text:literal in $module:expr => $named:ident, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            const ALL: &'static [(&'static str, &'static str, $name)] =
                &[$(($text, $module, $name::$named)),*];

            /// The name as Django / simplejwt spell it (never an alias).
            pub fn as_str(&self) -> &'static str {
                Self::ALL.iter().find(|(_, _, v)| v == self).map_or("", |(name, _, _)| name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $name {
            type Err = UnknownChoice;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                find(s, Self::ALL, $trim).ok_or_else(|| UnknownChoice {
                    value: s.to_owned(),
                    what: $what,
                    valid: Self::ALL.iter().map(|&(name, _, _)| name).collect(),
                    note: $note,
                })
            }
        }
    };
}

/// The variant named by `text` (trimmed), alone or after its name's module.
fn find<T: Copy>(text: &str, all: &[(&str, &str, T)], trim_after_module: bool) -> Option<T> {
    let text = text.trim();
    let after = |module| {
        text.strip_prefix(module)
            .map(|s| if trim_after_module { s.trim() } else { s })
    };
    all.iter()
        .find(|(name, module, _)| text == *name || after(module) == Some(*name))
        .map(|&(_, _, variant)| variant)
}

choices! {
    /// `SIMPLE_JWT.ALGORITHM`. Serde and `Display` use exactly the JOSE names (`HS256`, `EdDSA`, ...).
    #[derive(Serialize)]
    pub enum Algorithm ("algorithm", module "", note "") {
        HS256 = "HS256",
        HS384 = "HS384",
        HS512 = "HS512",
        RS256 = "RS256",
        RS384 = "RS384",
        RS512 = "RS512",
        ES256 = "ES256",
        ES384 = "ES384",
        EdDSA = "EdDSA",
    }
}

impl Algorithm {
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
}

choices! {
    /// `SIMPLE_JWT.USER_ID_FIELD`: the user column whose value goes into the user id claim.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum UserIdField ("user id field", module "", note "") {
        Id = "id",
        Username = "username",
    }
}

const SIMPLEJWT: &str = "rest_framework_simplejwt.authentication.";

choices! {
    /// An entry of `REST_FRAMEWORK.DEFAULT_AUTHENTICATION_CLASSES`: the short name or the dotted
    /// Django path, each class in its own module.
    pub enum AuthenticationClass ("authentication class", note " (optionally as the dotted path, e.g. \"rest_framework_simplejwt.authentication.JWTAuthentication\" or \"rest_framework.authentication.BasicAuthentication\" or \"dj_rest_auth.jwt_auth.JWTCookieAuthentication\"; DRF's session and token authentication are not supported)", trim after module false) {
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
    names {
        "JWTAuthentication" in SIMPLEJWT => JwtAuthentication,
        "JWTStatelessUserAuthentication" in SIMPLEJWT => JwtStatelessUserAuthentication,
        "BasicAuthentication" in "rest_framework.authentication." => BasicAuthentication,
        // simplejwt's old name, still exported as an alias.
        "JWTTokenUserAuthentication" in SIMPLEJWT => JwtStatelessUserAuthentication,
        "JWTCookieAuthentication" in "dj_rest_auth.jwt_auth." => JwtCookieAuthentication,
    }
}

choices! {
    /// `REST_AUTH.JWT_AUTH_SAMESITE`: the cookies' `SameSite` attribute, as Django spells it.
    pub enum SameSite ("SameSite value", module "", note " (\"None\" sends the cookies on cross-site requests too, and browsers only accept it with JWT_AUTH_SECURE = true)") {
        Lax = "Lax",
        Strict = "Strict",
        None = "None",
    }
}

choices! {
    /// An entry of `REST_FRAMEWORK.DEFAULT_THROTTLE_CLASSES`.
    pub enum ThrottleClass ("throttle class", module "rest_framework.throttling.", note " (optionally prefixed with \"rest_framework.throttling.\")") {
        /// Anonymous requests, by client address; scope `anon`.
        AnonRateThrottle = "AnonRateThrottle",
        /// Every request, by user id (client address when anonymous); scope `user`.
        UserRateThrottle = "UserRateThrottle",
        /// Views that declare a throttle scope (the token obtain views: `login`), by user or address.
        ScopedRateThrottle = "ScopedRateThrottle",
    }
}

choices! {
    /// An entry of `SIMPLE_JWT.AUTH_TOKEN_CLASSES`: which token kinds authenticate a request.
    pub enum TokenClass ("token class", module "rest_framework_simplejwt.tokens.", note " (optionally prefixed with \"rest_framework_simplejwt.tokens.\")") {
        AccessToken = "AccessToken",
        SlidingToken = "SlidingToken",
    }
}

choices! {
    /// An entry of `SIMPLE_JWT.TOKEN_USER_CLAIMS`: a user field copied into tokens as a claim of
    /// the same name (what simplejwt users do by overriding `TokenObtainPairSerializer.get_token`).
    /// `as_str` is the user field, which is also the claim's name.
    pub enum UserClaim ("user field", module "", note " (the password hash is never put in a token)") {
        Username = "username",
        Email = "email",
        FirstName = "first_name",
        LastName = "last_name",
        IsStaff = "is_staff",
        IsSuperuser = "is_superuser",
        IsActive = "is_active",
    }
}

choices! {
    /// An entry of `REST_FRAMEWORK.DEFAULT_PERMISSION_CLASSES`.
    pub enum PermissionClass ("permission class", module "rest_framework.permissions.", note " (optionally prefixed with \"rest_framework.permissions.\")") {
        AllowAny = "AllowAny",
        IsAuthenticated = "IsAuthenticated",
        IsAdminUser = "IsAdminUser",
        IsAuthenticatedOrReadOnly = "IsAuthenticatedOrReadOnly",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, StrDeserializer};
    use serde::de::IntoDeserializer;

    #[test]
    fn algorithms_round_trip_through_names_and_serde() {
        for &(name, _, alg) in Algorithm::ALL {
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
