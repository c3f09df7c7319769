//! Two `manage` processes at once on one database, SQLite and PostgreSQL: migrate is safe to run
//! concurrently (Heroku's release phase may overlap another), and racing `createuser` of one name
//! gives one user and one clear error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::process::{Child, Command, Output, Stdio};

use diesel::connection::SimpleConnection;

const SECRET: &str = "concurrent-manage-secret-0123456789abcdef0123456789";

/// A database of the test's own: a temp SQLite file, or a fresh PostgreSQL database dropped at the end.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres { admin: String, name: String },
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    fn postgres() -> Db {
        let admin = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("test_manage_{}_{}", std::process::id(), rand_suffix());
        let mut conn = users::db::connect_postgres(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        Db::Postgres { admin, name }
    }

    fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite:///{}", dir.path().join("db.sqlite3").display()),
            Db::Postgres { admin, name } => {
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
        }
    }

    fn spawn(&self, args: &[&str]) -> Child {
        let dir = tempfile::tempdir().expect("cwd");
        std::fs::write(dir.path().join("settings.toml"), "").expect("settings");
        let child = Command::new(env!("CARGO_BIN_EXE_manage"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.url())
            .env("SECRET_KEY", SECRET)
            .env("SETTINGS_FILE", dir.path().join("settings.toml"))
            .env("PASSWORDS__BCRYPT_ROUNDS", "4")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn manage");
        // The child has read its settings file by the time it matters; keep the dir until exit.
        std::mem::forget(dir);
        child
    }

    fn run(&self, args: &[&str]) -> Output {
        self.spawn(args).wait_with_output().expect("manage")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Db::Postgres { admin, name } = self {
            if let Ok(mut conn) = users::db::connect_postgres(admin) {
                let _ =
                    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn concurrent_migrations(db: &Db) {
    let children: Vec<Child> = (0..3).map(|_| db.spawn(&["migrate"])).collect();
    for child in children {
        let out = child.wait_with_output().expect("migrate");
        assert!(
            out.status.success(),
            "stdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    let out = db.run(&["showmigrations"]);
    let listing = text(&out.stdout);
    assert!(
        out.status.success() && !listing.contains("[ ]"),
        "{listing}"
    );
    assert!(listing.contains("[X]"), "{listing}");
}

fn racing_createuser(db: &Db) {
    assert!(db.run(&["migrate"]).status.success());
    let children: Vec<Child> = (0..4).map(|_| db.spawn(&["createuser", "twin"])).collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("createuser"))
        .collect();
    let created = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        outs.iter().map(|o| text(&o.stderr)).collect::<Vec<_>>()
    );
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(text(&o.stderr), "Error: That username is already taken.\n");
    }
    let listing = text(&db.run(&["listusers", "--json"]).stdout);
    let users: serde_json::Value = serde_json::from_str(&listing).expect("json");
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{listing}");
}

#[test]
fn sqlite_migrate_from_several_processes_at_once() {
    concurrent_migrations(&Db::sqlite());
}

#[test]
fn postgres_migrate_from_several_processes_at_once() {
    concurrent_migrations(&Db::postgres());
}

#[test]
fn sqlite_racing_createuser_gives_one_user() {
    racing_createuser(&Db::sqlite());
}

#[test]
fn postgres_racing_createuser_gives_one_user() {
    racing_createuser(&Db::postgres());
}
