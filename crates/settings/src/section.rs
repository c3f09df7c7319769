//! `section!`: one line per setting declares its field, default, key name, conversion and rule;
//! and `Section`, which reads one section's keys out of the layered values.

use crate::error::{Origin, SettingsError};
use crate::schema::Key;
use crate::sources::{Entry, Layered};
use crate::validate::Rule;
use crate::value;

/// Declares a settings section: the public struct, its key list (for unknown-key messages and
/// "did you mean"), its built-in defaults (`Self::defaults()`) and `Apply`, which overwrites each
/// field whose key some layer set. The value is converted by the field's type ([`FromEntry`],
/// as serde picks a `Deserialize` impl by type), then checked by the optional rule:
///
/// ```text
/// /// `QUERY_TIMEOUT`, default 10 seconds.
/// query_timeout: Duration = Duration::from_secs(10),
///     "QUERY_TIMEOUT", check |d| validate::query_timeout(*d);
/// ```
///
/// A key marked `by hand` is listed (so it is a known key) but converted in `build.rs`, for
/// values that depend on other keys (SIGNING_KEY is a path or PEM text depending on ALGORITHM).
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $section:literal {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $default:expr, $key:literal
                    $(, check $rule:expr)? $(, by $hand:ident)?;
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// The section's name, as written in the file (`[NAME]`) and in `NAME__KEY`.
            pub(crate) const SECTION: &'static str = $section;
            /// Its keys, in the order messages list them.
            pub(crate) const KEYS: &'static [&'static str] = &[$($key),*];

            /// The built-in defaults.
            fn defaults() -> Self {
                Self { $($field: $default),* }
            }
        }

        impl crate::section::Apply for $name {
            fn apply(&mut self, s: &crate::section::Section) -> std::result::Result<(), crate::error::SettingsError> {
                $( crate::section::read_key!(s, self.$field, $key $(, check $rule)? $(, by $hand)?); )*
                Ok(())
            }
        }
    };
}

/// One key of `section!`'s `apply`: converted by its type and checked, or left to `build.rs`.
macro_rules! read_key {
    ($s:ident, $slot:expr, $key:literal, by hand) => {};
    ($s:ident, $slot:expr, $key:literal) => {
        $s.set($key, &mut $slot, crate::value::FromEntry::from_entry)?;
    };
    ($s:ident, $slot:expr, $key:literal, check $rule:expr) => {
        $s.set_checked($key, &mut $slot, crate::value::FromEntry::from_entry, $rule)?;
    };
}

pub(crate) use {read_key, section};

/// What `section!` generates: lay the keys some layer set over the values already there.
pub(crate) trait Apply {
    /// Overwrites every field whose key a layer set (except the ones converted by hand).
    fn apply(&mut self, s: &Section) -> Result<(), SettingsError>;
}

/// Reads the keys of one section (or of the top level) out of the layered values.
pub(crate) struct Section<'a> {
    pub layered: &'a Layered,
    pub section: Option<&'static str>,
}

impl Section<'_> {
    pub(crate) fn key(&self, name: &'static str) -> Key {
        Key {
            section: self.section,
            name,
        }
    }

    pub(crate) fn origin(&self, name: &'static str) -> Option<Origin> {
        self.layered.get(self.key(name)).map(|e| e.origin.clone())
    }

    /// Overwrites `slot` (which holds the default) when some layer set `name`.
    pub(crate) fn set<T>(
        &self,
        name: &'static str,
        slot: &mut T,
        convert: impl Fn(&Entry) -> Result<T, SettingsError>,
    ) -> Result<(), SettingsError> {
        self.set_checked(name, slot, convert, |_| Ok(()))
    }

    /// [`Section::set`], then `rule` must accept the new value.
    pub(crate) fn set_checked<T>(
        &self,
        name: &'static str,
        slot: &mut T,
        convert: impl Fn(&Entry) -> Result<T, SettingsError>,
        rule: impl Fn(&T) -> Rule,
    ) -> Result<(), SettingsError> {
        if let Some(entry) = self.layered.get(self.key(name)) {
            let value = convert(entry)?;
            rule(&value).map_err(|reason| value::invalid(entry, reason))?;
            *slot = value;
        }
        Ok(())
    }

    /// An error about `name` found by a rule across several keys: it names the first of
    /// `blamed` that a layer set (the built-in default when none was).
    pub(crate) fn invalid(
        &self,
        name: &'static str,
        blamed: &[&'static str],
        reason: impl Into<String>,
    ) -> SettingsError {
        let origin = blamed
            .iter()
            .find_map(|k| self.origin(k))
            .unwrap_or(Origin::Default);
        SettingsError::invalid(self.key(name), &origin, reason)
    }
}
