//! What the fuzz targets share: token backends built from real settings with a known key, and
//! the fixed clock they decode at.

use auth::tokens::backend::TokenBackend;
use settings::SimpleJwt;

/// The HS256 key every backend here signs with (the one of testdata/simplejwt_tokens.json, so the
/// simplejwt vectors in the seed corpus verify).
pub const KEY: &str = "vector-test-secret-0123456789abcdef0123456789abcdef";

/// The clock: after the vectors were issued and before most of them expire.
pub const NOW: i64 = 1_800_000_000;

const KEYS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/server/tests/api/keys/"
);

fn simple_jwt(extra: &[(&str, String)]) -> SimpleJwt {
    let mut env = vec![("SECRET_KEY".to_owned(), KEY.to_owned())];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    match settings::Settings::from_sources(None, &env) {
        Ok(s) => s.simple_jwt,
        Err(e) => panic!("fuzz fixture settings: {e}"),
    }
}

fn backend(s: &SimpleJwt) -> TokenBackend {
    match TokenBackend::from_settings(s) {
        Ok(b) => b,
        Err(e) => panic!("fuzz fixture backend: {e}"),
    }
}

/// One configuration of the token machinery.
pub struct Fixture {
    pub settings: SimpleJwt,
    pub backend: TokenBackend,
}

impl Fixture {
    fn new(extra: &[(&str, String)]) -> Self {
        let settings = simple_jwt(extra);
        let backend = backend(&settings);
        Fixture { settings, backend }
    }

    pub fn tokens(&self) -> auth::tokens::Tokens<'_> {
        auth::tokens::Tokens {
            settings: &self.settings,
            backend: &self.backend,
        }
    }
}

/// Every configuration worth decoding with: the defaults (HS256, KEY); audience, issuer and a
/// leeway; the largest leeway the settings accept; and EdDSA with KEY_ID and VERIFYING_KEYS, so
/// that the `kid` lookup runs too.
pub fn fixtures() -> &'static [Fixture] {
    static FIXTURES: std::sync::OnceLock<Vec<Fixture>> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(|| {
        vec![
            Fixture::new(&[]),
            Fixture::new(&[
                ("SIMPLE_JWT__AUDIENCE", "api".into()),
                ("SIMPLE_JWT__ISSUER", "https://issuer.example".into()),
                ("SIMPLE_JWT__LEEWAY", "30".into()),
            ]),
            Fixture::new(&[("SIMPLE_JWT__LEEWAY", i64::MAX.to_string())]),
            Fixture::new(&[
                ("SIMPLE_JWT__ALGORITHM", "EdDSA".into()),
                ("SIMPLE_JWT__SIGNING_KEY", format!("{KEYS}ed25519.pem")),
                (
                    "SIMPLE_JWT__VERIFYING_KEY",
                    format!("{KEYS}ed25519.pub.pem"),
                ),
                ("SIMPLE_JWT__KEY_ID", "2026-01".into()),
                (
                    "SIMPLE_JWT__VERIFYING_KEYS",
                    format!(r#"[{{ KID = "2025-01", KEY = "{KEYS}ed25519.pub.pem" }}]"#),
                ),
            ]),
        ]
    })
}

/// The kinds a token can be decoded as.
pub const KINDS: [auth::tokens::TokenKind; 4] = [
    auth::tokens::TokenKind::Access,
    auth::tokens::TokenKind::Refresh,
    auth::tokens::TokenKind::Sliding,
    auth::tokens::TokenKind::Untyped,
];

/// Decodes `raw` as every kind with every fixture. Never panics (the property under test), and a
/// token that decodes re-encodes to one that decodes to the same claims (what refresh, rotation
/// and sliding do with a client's token).
pub fn decode_everywhere(raw: &str) {
    for f in fixtures() {
        let tokens = f.tokens();
        for kind in KINDS {
            let Ok(mut token) = tokens.decode(raw, kind, NOW) else {
                continue;
            };
            let again = match tokens.encode(&token) {
                Ok(t) => t,
                Err(e) => panic!("a decoded token does not re-encode: {e}"),
            };
            // Re-signed with our key: the claims checks alone decide, as they did for `raw`. (With
            // AUDIENCE/ISSUER, encoding writes the configured `aud`/`iss` over the token's.)
            let same = |back: &auth::tokens::Token| {
                back == &token || f.settings.audience.is_some() || f.settings.issuer.is_some()
            };
            match tokens.decode(&again, kind, NOW) {
                Ok(back) if same(&back) => {}
                other => panic!("re-encoding changed the token: {token:?} -> {other:?}"),
            }
            if kind == auth::tokens::TokenKind::Sliding {
                let _ = tokens.slide(&mut token, NOW);
            }
            if kind == auth::tokens::TokenKind::Refresh {
                let access = tokens.access_for(&token, NOW);
                let _ = tokens.encode(&access);
                tokens.rotate(&mut token, NOW);
            }
        }
    }
}
