//! Black-box HTTP tests: each test starts the app on a random port against its own SQLite file.

mod helpers;

mod blacklist;
mod database;
mod me;
mod obtain;
mod parsing;
mod refresh;
mod settings_layering;
mod vectors;
mod verify;
