//! Terminal input: prompts (on stderr, so stdout stays clean for output), hidden passwords,
//! yes/no confirmations, and a password piped on stdin.

use std::io::{self, BufRead, IsTerminal, Write};

use super::error::CommandError;

/// Whether someone can answer prompts. Like Django, a command only prompts when stdin is a
/// terminal: in a script it must fail instead of waiting for input that never comes.
pub fn is_interactive() -> bool {
    io::stdin().is_terminal()
}

/// Prints `prompt` and reads one line without its line ending. End of input cancels.
pub fn input(prompt: &str) -> Result<String, CommandError> {
    let mut stderr = io::stderr();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    let mut line = String::new();
    if io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(CommandError::Cancelled);
    }
    Ok(strip_line_ending(line))
}

/// Reads a password from the terminal without echoing it.
pub fn password(prompt: &str) -> Result<String, CommandError> {
    Ok(rpassword::prompt_password(prompt)?)
}

/// Asks a `[y/N]` question; anything but y/yes is no.
pub fn confirm(question: &str) -> Result<bool, CommandError> {
    let answer = input(question)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The first line of stdin, without its line ending (the rest of the password is kept as is).
pub fn password_from_stdin() -> Result<String, CommandError> {
    let mut line = String::new();
    if io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(CommandError::msg(
            "--password-stdin: stdin is empty, expected a password line.",
        ));
    }
    let password = strip_line_ending(line);
    if password.trim().is_empty() {
        return Err(CommandError::msg("Blank passwords aren't allowed."));
    }
    Ok(password)
}

/// Removes one trailing "\n" or "\r\n" and nothing else.
fn strip_line_ending(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_line_ending_is_stripped() {
        assert_eq!(strip_line_ending("pw\n".into()), "pw");
        assert_eq!(strip_line_ending("pw\r\n".into()), "pw");
        assert_eq!(strip_line_ending(" pw \n".into()), " pw ");
        assert_eq!(strip_line_ending("pw".into()), "pw");
        assert_eq!(strip_line_ending("pw\n\n".into()), "pw\n");
    }
}
