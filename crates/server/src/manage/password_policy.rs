//! AUTH_PASSWORD_VALIDATORS for the commands that set a password: refuse a weak password read from
//! stdin or the environment, and at a terminal show the reasons (and, for createsuperuser, offer
//! Django's "Bypass password validation" question).

use settings::Settings;
use users::validators::{PasswordValidators, UserAttributes};

use super::error::CommandError;
use super::prompt;

/// Django's question after a rejected password in `createsuperuser`.
const BYPASS_QUESTION: &str = "Bypass password validation and create user anyway? [y/N]: ";

/// The configured validators.
pub fn load(settings: &Settings) -> Result<PasswordValidators, CommandError> {
    PasswordValidators::from_settings(&settings.auth_password_validators)
        .map_err(|e| CommandError::msg(e.to_string()))
}

/// For passwords nobody is there to retype (stdin, DJANGO_SUPERUSER_PASSWORD): an error carrying
/// every reason. Django's own non-interactive createsuperuser skips validation; a script is
/// exactly where a weak default password slips through, so we do not.
pub fn enforce(
    validators: &PasswordValidators,
    password: &str,
    user: &UserAttributes<'_>,
) -> Result<(), CommandError> {
    validators
        .validate(password, Some(user))
        .map_err(|rejected| CommandError::msg(rejected.to_string()))
}

/// At a terminal: true when the password may be used. A rejected one has its reasons printed to
/// stderr, one per line as Django prints them, then, when `offer_bypass`, the operator decides.
pub fn accept_interactively(
    validators: &PasswordValidators,
    password: &str,
    user: &UserAttributes<'_>,
    offer_bypass: bool,
) -> Result<bool, CommandError> {
    decide(validators, password, user, offer_bypass, || {
        // Django accepts exactly "y" (any case) here, not "yes".
        Ok(prompt::input(BYPASS_QUESTION)?.to_lowercase() == "y")
    })
}

fn decide(
    validators: &PasswordValidators,
    password: &str,
    user: &UserAttributes<'_>,
    offer_bypass: bool,
    bypass: impl FnOnce() -> Result<bool, CommandError>,
) -> Result<bool, CommandError> {
    let Err(rejected) = validators.validate(password, Some(user)) else {
        return Ok(true);
    };
    eprintln!("{}", rejected.messages().join("\n"));
    if offer_bypass {
        bypass()
    } else {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use settings::PasswordValidator;

    use super::*;

    fn defaults() -> PasswordValidators {
        PasswordValidators::from_settings(&PasswordValidator::django_defaults()).unwrap()
    }

    const ADMIN: UserAttributes<'static> = UserAttributes {
        username: "admin",
        first_name: "",
        last_name: "",
        email: "admin@example.com",
    };

    #[test]
    fn enforce_lists_every_reason() {
        let err = enforce(&defaults(), "admin", &ADMIN).unwrap_err().report();
        assert_eq!(
            err,
            "Error: The password is too similar to the username. This password is too short. \
             It must contain at least 8 characters. This password is too common."
        );
        assert!(enforce(&defaults(), "correct horse battery staple", &ADMIN).is_ok());
        let none = PasswordValidators::from_settings(&[]).unwrap();
        assert!(enforce(&none, "admin", &ADMIN).is_ok());
    }

    #[test]
    fn bypass_is_asked_only_when_offered_and_needed() {
        let never = || -> Result<bool, CommandError> { panic!("must not ask") };
        assert!(decide(
            &defaults(),
            "correct horse battery staple",
            &ADMIN,
            true,
            never
        )
        .unwrap());
        assert!(!decide(&defaults(), "12345678", &ADMIN, false, never).unwrap());
        assert!(decide(&defaults(), "12345678", &ADMIN, true, || Ok(true)).unwrap());
        assert!(!decide(&defaults(), "12345678", &ADMIN, true, || Ok(false)).unwrap());
    }
}
