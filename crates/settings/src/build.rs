//! Turning the layered raw values into `Settings`: defaults for what is unset, per-key rules.

use crate::error::{Origin, SettingsError};
use crate::schema::{Key, DATABASES, PASSWORDS, REST_FRAMEWORK, SERVER, SIMPLE_JWT};
use crate::sources::{Entry, Layered};
use crate::validate::{self, KeyOrigins, Rule};
use crate::value;
use crate::{Databases, Passwords, RestFramework, Secret, Server, Settings, SimpleJwt};

type Result<T> = std::result::Result<T, SettingsError>;

/// Reads the keys of one section (or of the top level) out of the layered values.
struct Section<'a> {
    layered: &'a Layered,
    section: Option<&'static str>,
}

impl Section<'_> {
    fn key(&self, name: &'static str) -> Key {
        Key {
            section: self.section,
            name,
        }
    }

    fn origin(&self, name: &'static str) -> Option<Origin> {
        self.layered.get(self.key(name)).map(|e| e.origin.clone())
    }

    /// Overwrites `slot` (which holds the default) when some layer set `name`.
    fn set<T>(
        &self,
        name: &'static str,
        slot: &mut T,
        convert: impl Fn(&Entry) -> Result<T>,
    ) -> Result<()> {
        self.set_checked(name, slot, convert, |_| Ok(()))
    }

    /// [`Section::set`], then `rule` must accept the new value.
    fn set_checked<T>(
        &self,
        name: &'static str,
        slot: &mut T,
        convert: impl Fn(&Entry) -> Result<T>,
        rule: impl Fn(&T) -> Rule,
    ) -> Result<()> {
        if let Some(entry) = self.layered.get(self.key(name)) {
            let value = convert(entry)?;
            rule(&value).map_err(|reason| value::invalid(entry, reason))?;
            *slot = value;
        }
        Ok(())
    }
}

/// Assembles and validates the settings. `fallback_secret` stands in for an unset SECRET_KEY.
pub(crate) fn settings(layered: &Layered, fallback_secret: Option<Secret>) -> Result<Settings> {
    let top = Section {
        layered,
        section: None,
    };
    let (secret_key, secret_origin) = secret_key(&top, fallback_secret)?;
    let mut debug = false;
    top.set("DEBUG", &mut debug, value::boolean)?;

    let section = |name| Section {
        layered,
        section: Some(name),
    };
    let (simple_jwt, origins) = simple_jwt(&section(SIMPLE_JWT), &secret_key, secret_origin)?;
    let settings = Settings {
        secret_key,
        debug,
        rest_framework: rest_framework(&section(REST_FRAMEWORK))?,
        simple_jwt,
        databases: databases(&section(DATABASES))?,
        server: server(&section(SERVER))?,
        passwords: passwords(&section(PASSWORDS))?,
    };
    validate::signing_keys(&settings, &origins)?;
    Ok(settings)
}

fn secret_key(top: &Section, fallback: Option<Secret>) -> Result<(Secret, Origin)> {
    let mut text = None;
    // An empty SECRET_KEY (e.g. `SECRET_KEY=` in a compose file) counts as unset.
    top.set("SECRET_KEY", &mut text, value::optional_string)?;
    let explicit = text.map(Secret::new).zip(top.origin("SECRET_KEY"));
    explicit
        .or_else(|| fallback.map(|s| (s, Origin::Fallback)))
        .ok_or(SettingsError::MissingSecret)
}

fn rest_framework(s: &Section) -> Result<RestFramework> {
    let mut rf = RestFramework::default();
    s.set(
        "DEFAULT_AUTHENTICATION_CLASSES",
        &mut rf.default_authentication_classes,
        value::choice_list,
    )?;
    s.set(
        "DEFAULT_PERMISSION_CLASSES",
        &mut rf.default_permission_classes,
        value::choice_list,
    )?;
    Ok(rf)
}

fn simple_jwt(
    s: &Section,
    secret_key: &Secret,
    secret_origin: Origin,
) -> Result<(SimpleJwt, KeyOrigins)> {
    let mut jwt = SimpleJwt::with_signing_key(secret_key.clone());
    s.set(
        "ACCESS_TOKEN_LIFETIME",
        &mut jwt.access_token_lifetime,
        value::duration,
    )?;
    s.set(
        "REFRESH_TOKEN_LIFETIME",
        &mut jwt.refresh_token_lifetime,
        value::duration,
    )?;
    s.set(
        "ROTATE_REFRESH_TOKENS",
        &mut jwt.rotate_refresh_tokens,
        value::boolean,
    )?;
    s.set(
        "BLACKLIST_AFTER_ROTATION",
        &mut jwt.blacklist_after_rotation,
        value::boolean,
    )?;
    s.set(
        "UPDATE_LAST_LOGIN",
        &mut jwt.update_last_login,
        value::boolean,
    )?;
    s.set("ALGORITHM", &mut jwt.algorithm, value::choice)?;

    // SIGNING_KEY: unset or empty means "use SECRET_KEY", as in simplejwt.
    let mut signing_key = None;
    s.set("SIGNING_KEY", &mut signing_key, pem_text)?;
    let signing_origin = signing_key.as_ref().and(s.origin("SIGNING_KEY"));
    if let Some(text) = signing_key {
        jwt.signing_key = Secret::new(text);
    }
    s.set("VERIFYING_KEY", &mut jwt.verifying_key, pem_text)?;
    let verifying_origin = jwt.verifying_key.as_ref().and(s.origin("VERIFYING_KEY"));

    s.set("AUDIENCE", &mut jwt.audience, audience)?;
    s.set("ISSUER", &mut jwt.issuer, value::optional_string)?;
    s.set("LEEWAY", &mut jwt.leeway, value::duration)?;
    s.set_checked(
        "AUTH_HEADER_TYPES",
        &mut jwt.auth_header_types,
        value::string_list,
        |types| validate::auth_header_types(types),
    )?;
    s.set_checked(
        "AUTH_HEADER_NAME",
        &mut jwt.auth_header_name,
        value::string,
        |name| validate::auth_header_name(name, &crate::header_from_meta(name)),
    )?;
    s.set("USER_ID_FIELD", &mut jwt.user_id_field, value::choice)?;
    for (name, slot) in [
        ("USER_ID_CLAIM", &mut jwt.user_id_claim),
        ("TOKEN_TYPE_CLAIM", &mut jwt.token_type_claim),
        ("JTI_CLAIM", &mut jwt.jti_claim),
    ] {
        s.set_checked(name, slot, value::string, |claim| {
            validate::not_empty(claim)
        })?;
    }
    s.set(
        "CHECK_USER_IS_ACTIVE",
        &mut jwt.check_user_is_active,
        value::boolean,
    )?;

    let origins = KeyOrigins {
        secret_key: secret_origin,
        signing_key: signing_origin,
        verifying_key: verifying_origin,
        algorithm: s.origin("ALGORITHM").unwrap_or(Origin::Default),
    };
    Ok((jwt, origins))
}

/// One or several `aud` values; an empty string or list means none, like simplejwt's `None`.
fn audience(entry: &Entry) -> Result<Option<Vec<String>>> {
    let list: Vec<String> = value::string_list(entry)?
        .into_iter()
        .filter(|a| !a.trim().is_empty())
        .collect();
    Ok(Some(list).filter(|list| !list.is_empty()))
}

/// An optional key text. PEM keys in environment variables are often written on one line with
/// literal `\n`s (Heroku, CI secrets); those become real line breaks.
fn pem_text(entry: &Entry) -> Result<Option<String>> {
    Ok(value::optional_string(entry)?.map(|text| {
        if text.trim_start().starts_with("-----BEGIN") && !text.contains('\n') {
            text.replace("\\n", "\n")
        } else {
            text
        }
    }))
}

fn databases(s: &Section) -> Result<Databases> {
    let mut db = Databases::default();
    s.set_checked("URL", &mut db.url, value::string, |url| {
        validate::not_empty(url)
    })?;
    s.set_checked("POOL_SIZE", &mut db.pool_size, value::unsigned, |&n| {
        validate::at_least_one(n)
    })?;
    s.set("CONNECT_TIMEOUT", &mut db.connect_timeout, value::duration)?;
    Ok(db)
}

fn server(s: &Section) -> Result<Server> {
    let mut server = Server::default();
    s.set_checked("BIND", &mut server.bind, value::string_list, |b| {
        validate::bind(b)
    })?;
    s.set_checked(
        "WORKERS",
        &mut server.workers,
        |e| value::unsigned(e).map(Some),
        |w| w.map_or(Ok(()), validate::at_least_one),
    )?;
    s.set_checked(
        "MAX_BODY_SIZE",
        &mut server.max_body_size,
        value::unsigned,
        |&n| validate::at_least_one(n),
    )?;
    Ok(server)
}

fn passwords(s: &Section) -> Result<Passwords> {
    let mut passwords = Passwords::default();
    s.set_checked(
        "BCRYPT_ROUNDS",
        &mut passwords.bcrypt_rounds,
        value::unsigned,
        |&r| validate::bcrypt_rounds(r),
    )?;
    Ok(passwords)
}
