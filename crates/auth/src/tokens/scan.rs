//! A verified token's claims read without collecting them into a map: the registered ones and
//! two more by name, strings borrowed from the payload (TokenVerifyView's happy path).

use std::borrow::Cow;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Value};

/// A token's claims as a JSON object (`backend::Claims`).
type Claims = Map<String, Value>;

/// The registered claims `check_registered` reads.
pub struct Registered<'v> {
    pub iat: Option<&'v Value>,
    pub nbf: Option<&'v Value>,
    pub exp: Option<&'v Value>,
    pub iss: Option<&'v Value>,
    pub aud: Option<&'v Value>,
}

impl<'v> Registered<'v> {
    /// The five `claims.get`s, in one pass over the (few) claims instead of five hashed
    /// lookups: a map's keys are unique, so each name is found at most once.
    pub fn of(claims: &'v Claims) -> Self {
        let mut registered = Registered {
            iat: None,
            nbf: None,
            exp: None,
            iss: None,
            aud: None,
        };
        for (key, value) in claims {
            let slot = match key.as_str() {
                "iat" => &mut registered.iat,
                "nbf" => &mut registered.nbf,
                "exp" => &mut registered.exp,
                "iss" => &mut registered.iss,
                "aud" => &mut registered.aud,
                _ => continue,
            };
            *slot = Some(value);
        }
        registered
    }
}

const REGISTERED: [&str; 5] = ["iat", "nbf", "exp", "iss", "aud"];

/// One claim's value: a string borrowed from the payload when it has no escapes, any other
/// JSON value as serde_json reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimValue<'a> {
    Str(Cow<'a, str>),
    Other(Value),
}

impl ClaimValue<'_> {
    /// `Value::as_str` of the same claim.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ClaimValue::Str(s) => Some(s),
            ClaimValue::Other(_) => None,
        }
    }

    fn to_value(&self) -> Value {
        match self {
            ClaimValue::Str(s) => Value::String(s.clone().into_owned()),
            ClaimValue::Other(v) => v.clone(),
        }
    }
}

/// A verified token's claims as `decode_scanned` keeps them: the registered ones, and the
/// values of two names the caller chose (each `None` when the payload lacks it). A key given
/// twice keeps its last value, as the claims map does.
#[derive(Debug, Default)]
pub struct Scanned<'a> {
    registered: [Option<Value>; 5],
    picked: [Option<ClaimValue<'a>>; 2],
}

impl<'a> Scanned<'a> {
    /// The payload read as `serde_json::from_slice::<Claims>` reads it, with the same
    /// refusals (not an object, bad JSON or UTF-8, a number out of range, nesting over 128,
    /// trailing bytes): the same deserializer, every value deserialized (nested arrays and
    /// objects as `Value`), only not kept.
    pub fn from_json(json: &'a [u8], names: [&str; 2]) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let scanned = ScanSeed { names }.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(scanned)
    }

    pub fn from_claims(claims: &'a Claims, names: [&str; 2]) -> Self {
        let pick = |name: &str| {
            claims.get(name).map(|v| match v {
                Value::String(s) => ClaimValue::Str(Cow::Borrowed(s.as_str())),
                other => ClaimValue::Other(other.clone()),
            })
        };
        Scanned {
            registered: REGISTERED.map(|name| claims.get(name).cloned()),
            picked: [pick(names[0]), pick(names[1])],
        }
    }

    pub fn registered(&self) -> Registered<'_> {
        let [iat, nbf, exp, iss, aud] = &self.registered;
        Registered {
            iat: iat.as_ref(),
            nbf: nbf.as_ref(),
            exp: exp.as_ref(),
            iss: iss.as_ref(),
            aud: aud.as_ref(),
        }
    }

    /// Whether the payload has an `exp` claim (of any type: `decode` has checked its type).
    pub fn has_exp(&self) -> bool {
        self.registered[2].is_some()
    }

    /// The value of the `i`th of the names given to `decode_scanned` (0 or 1).
    pub fn picked(&self, i: usize) -> Option<&ClaimValue<'a>> {
        self.picked.get(i).and_then(Option::as_ref)
    }
}

struct ScanSeed<'n> {
    names: [&'n str; 2],
}

impl<'de> DeserializeSeed<'de> for ScanSeed<'_> {
    type Value = Scanned<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScanSeed<'_> {
    type Value = Scanned<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    // The claims map's visitor also takes `visit_unit`, which serde_json's `deserialize_map`
    // never calls: a `null` payload is refused by both.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut scanned = Scanned::default();
        while let Some(key) = map.next_key_seed(ClaimSeed)? {
            let key = match key {
                ClaimValue::Str(key) => key,
                // Keys are strings in JSON; serde_json gives nothing else.
                ClaimValue::Other(_) => return Err(serde::de::Error::custom("key")),
            };
            let value = map.next_value_seed(ClaimSeed)?;
            for (slot, name) in scanned.registered.iter_mut().zip(REGISTERED) {
                if key == name {
                    *slot = Some(value.to_value());
                }
            }
            for (slot, name) in scanned.picked.iter_mut().zip(self.names) {
                if key == name {
                    *slot = Some(value.clone());
                }
            }
        }
        Ok(scanned)
    }
}

/// Any JSON value as `ClaimValue`, through the same `Visitor` calls serde_json makes for
/// `Value` (arrays and objects handed on to `Value` itself).
struct ClaimSeed;

impl<'de> DeserializeSeed<'de> for ClaimSeed {
    type Value = ClaimValue<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ClaimSeed {
    type Value = ClaimValue<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other(Value::Number(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(ClaimValue::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(ClaimValue::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(ClaimValue::Str(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(ClaimValue::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(ClaimValue::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `Registered::of`'s one pass finds what the five `get`s found.
    #[test]
    fn registered_of_is_the_five_gets() {
        for claims in [
            json!({}),
            json!({"exp": 1, "iat": 2, "nbf": 3, "iss": "i", "aud": ["a"], "jti": "x"}),
            json!({"aud": "a", "user_id": 7, "exp": null}),
            json!({"token_type": "refresh", "iss": {"nested": true}, "ia": 1, "iatx": 2}),
            json!({"nbf": 1.5, "EXP": 9, "exp ": 9}),
        ] {
            let claims = claims.as_object().cloned().unwrap_or_default();
            let r = Registered::of(&claims);
            let got = [r.iat, r.nbf, r.exp, r.iss, r.aud];
            let want = REGISTERED.map(|name| claims.get(name));
            assert_eq!(got, want, "{claims:?}");
        }
    }
}
