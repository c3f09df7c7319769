//! `CommandError`: why a command failed, reported as one line on stderr (Django's CommandError).

use std::io;

use users::queries::UserError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A message for the operator, e.g. "That username is already taken.".
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Database(#[from] users::DbError),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Password(#[from] users::password::PasswordError),
    #[error(transparent)]
    Startup(#[from] crate::StartupError),
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The operator ended input at a prompt (Ctrl-D).
    #[error("Operation cancelled.")]
    Cancelled,
}

impl CommandError {
    pub fn msg(text: impl Into<String>) -> Self {
        CommandError::Message(text.into())
    }

    /// Output cut short by the reader (`manage listusers | head`): not worth an error message.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CommandError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    /// What to print on stderr: a single line, even when a database driver's message has several.
    pub fn report(&self) -> String {
        match self {
            CommandError::Cancelled => format!("\n{self}"),
            other => {
                let text = other.to_string();
                format!(
                    "Error: {}",
                    text.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            }
        }
    }
}

/// Django's wording: createsuperuser's "already taken", changepassword's "does not exist".
impl From<UserError> for CommandError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::UsernameTaken => CommandError::msg("That username is already taken."),
            UserError::NotFound(username) => not_found(&username),
            UserError::Db(e) => CommandError::Query(e),
        }
    }
}

pub fn not_found(username: &str) -> CommandError {
    CommandError::msg(format!("user '{username}' does not exist."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_one_line() {
        let e = CommandError::msg("connection refused\n\tIs the server running?");
        assert_eq!(
            e.report(),
            "Error: connection refused Is the server running?"
        );
        assert_eq!(
            CommandError::from(UserError::NotFound("bob".into())).report(),
            "Error: user 'bob' does not exist."
        );
        assert_eq!(
            CommandError::from(UserError::UsernameTaken).report(),
            "Error: That username is already taken."
        );
        assert_eq!(CommandError::Cancelled.report(), "\nOperation cancelled.");
    }
}
