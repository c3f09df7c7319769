//! Turning a user's flag (active, staff, superuser) on or off: shared by activate, deactivate,
//! grant and revoke.

use users::models::Flag;
use users::{DbConnection, User};

use super::error::CommandError;

/// The flag's current value.
pub fn get(user: &User, flag: Flag) -> bool {
    match flag {
        Flag::Active => user.is_active,
        Flag::Staff => user.is_staff,
        Flag::Superuser => user.is_superuser,
    }
}

/// Sets the flag; false when it already had that value (nothing written).
pub fn set(
    conn: &mut DbConnection,
    user: &User,
    flag: Flag,
    on: bool,
) -> Result<bool, CommandError> {
    if get(user, flag) == on {
        return Ok(false);
    }
    if users::queries::set_flag(conn, user.id, flag, on)? == 0 {
        return Err(super::error::not_found(&user.username));
    }
    Ok(true)
}

/// "staff" / "superuser", for messages.
pub fn status_name(flag: Flag) -> &'static str {
    match flag {
        Flag::Active => "active",
        Flag::Staff => "staff",
        Flag::Superuser => "superuser",
    }
}

/// The arguments of `grant` and `revoke`: a user and at least one status.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("status").required(true).multiple(true).args(["staff", "superuser"])
))]
pub struct StatusArgs {
    /// The user to change.
    pub username: String,
    /// Staff status (what IsAdminUser checks).
    #[arg(long)]
    pub staff: bool,
    /// Superuser status (all permissions).
    #[arg(long)]
    pub superuser: bool,
}

impl StatusArgs {
    pub fn flags(&self) -> Vec<Flag> {
        [(self.staff, Flag::Staff), (self.superuser, Flag::Superuser)]
            .into_iter()
            .filter_map(|(chosen, flag)| chosen.then_some(flag))
            .collect()
    }
}
