//! The usual refresh's two statements on PostgreSQL (`store::blacklist::user_and_standing_unlocked`
//! then `rotate_if_unchanged`), run against a real server with something happening between them:
//! what the second writes, and what it answers, when the user's row or the token's standing
//! changed after the first read (committed before the second began, or committed while the second
//! waited for the user's row). The HTTP suite cannot put anything between the two statements.
//!
//! Like the other `postgres_*` tests, these use the server at 127.0.0.1:5432 (`TEST_POSTGRES_URL`
//! points elsewhere), each on a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;

use auth::store::blacklist::{self, Guarded, Outstanding, RowVersion};
use auth::store::lookup::UserKey;
use auth::store::sessions;
use users::schema::token_blacklist_blacklistedtoken as black;
use users::schema::token_blacklist_outstandingtoken as out;
use users::{DbConnection, NewUser};

const PRESENTED: &str = "presented-jti";
const NEXT: &str = "next-jti";
const FAMILY: &str = "family-of-the-login";

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, migrated database, dropped at the end.
struct Db {
    name: String,
    url: String,
}

impl Db {
    fn new() -> Db {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "test_rotation_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let admin = admin_url();
        users::db::connect_postgres(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} (set TEST_POSTGRES_URL): {e}"))
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let db = Db {
            url: format!("{base}/{name}"),
            name,
        };
        users::migrations::run_pending(&mut db.connect()).expect("migrations");
        db
    }

    fn connect(&self) -> DbConnection {
        DbConnection::Pg(users::db::connect_postgres(&self.url).expect("connect"))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut admin) = users::db::connect_postgres(&admin_url()) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn pg(conn: &mut DbConnection) -> &mut PgConnection {
    match conn {
        DbConnection::Pg(pg) => pg,
        DbConnection::Sqlite(_) => unreachable!("a PostgreSQL URL"),
    }
}

/// A user with a login's refresh token recorded in its family, as a login leaves them; then the
/// refresh's first statement: what it read, and the row version it saw.
fn logged_in(conn: &mut DbConnection) -> (i32, i64, RowVersion) {
    let now = Utc::now().timestamp();
    let user = users::queries::create(
        conn,
        &NewUser {
            username: "alice",
            email: "alice@example.com",
            password: "pbkdf2_sha256$1$salt$hash",
            first_name: "",
            last_name: "",
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: Utc::now().naive_utc(),
        },
    )
    .expect("user");
    let presented = Outstanding {
        jti: PRESENTED,
        raw: "the.presented.token",
        user_id: Some(user.id),
        created_at: now,
        expires_at: now + 86_400,
    };
    blacklist::outstand_in(conn, &presented, FAMILY).expect("login's row");
    let (read, standing, version) =
        blacklist::user_and_standing_unlocked(pg(conn), &UserKey::Id(user.id), PRESENTED)
            .expect("first statement")
            .expect("the user");
    assert_eq!(read.id, user.id);
    let standing = standing.expect("recorded");
    assert_eq!(standing.family.as_deref(), Some(FAMILY));
    assert_eq!(standing.blacklisted_at, None);
    (user.id, standing.id, version)
}

/// The refresh's second statement for the token read by `logged_in`.
fn second(conn: &mut DbConnection, user_id: i32, token_id: i64, version: RowVersion) -> Guarded {
    let now = Utc::now().timestamp();
    let next = Outstanding {
        jti: NEXT,
        raw: "the.next.token",
        user_id: Some(user_id),
        created_at: now,
        expires_at: now + 86_400,
    };
    blacklist::rotate_if_unchanged(pg(conn), version, token_id, now, &next, FAMILY)
        .expect("second statement")
}

/// What the tables hold for the two tokens: (presented blacklisted, successor recorded,
/// successor blacklisted).
fn written(conn: &mut DbConnection) -> (bool, bool, bool) {
    let blacklisted = |conn: &mut DbConnection, jti: &str| {
        blacklist::is_blacklisted(conn, jti).expect("blacklisted?")
    };
    let recorded: i64 = out::table
        .filter(out::jti.eq(NEXT))
        .count()
        .get_result(conn)
        .expect("count");
    (
        blacklisted(conn, PRESENTED),
        recorded == 1,
        blacklisted(conn, NEXT),
    )
}

fn blacklist_rows(conn: &mut DbConnection) -> i64 {
    black::table.count().get_result(conn).expect("count")
}

/// Waits until the backend `pid` is blocked on a lock (`pg_stat_activity`), by asking the server
/// again and again: the condition itself, not a guessed delay.
fn until_waiting_for_a_lock(observer: &mut DbConnection, pid: i32) {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        waiting: bool,
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let Waiting { waiting } = diesel::sql_query(
            "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) AS waiting \
             FROM pg_stat_activity WHERE pid = $1",
        )
        .bind::<diesel::sql_types::Integer, _>(pid)
        .get_result(pg(observer))
        .expect("pg_stat_activity");
        if waiting {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "backend {pid} never waited for the lock"
        );
    }
}

fn backend_pid(conn: &mut DbConnection) -> i32 {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let Pid { pid } = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result(pg(conn))
        .expect("pid");
    pid
}

/// Runs the second statement on its own connection while `holder` holds a transaction open on
/// the user's row; `then` runs in `holder`'s transaction once the statement is seen waiting for
/// the row, and the transaction is committed.
fn second_while_held(
    db: &Db,
    holder: &mut DbConnection,
    user_id: i32,
    token_id: i64,
    version: RowVersion,
) -> Guarded {
    let mut rotating = db.connect();
    let pid = backend_pid(&mut rotating);
    let rotation = std::thread::spawn(move || second(&mut rotating, user_id, token_id, version));
    until_waiting_for_a_lock(&mut db.connect(), pid);
    holder.batch_execute("COMMIT").expect("commit");
    rotation.join().expect("rotation thread")
}

#[test]
fn postgres_an_unchanged_row_rotates_and_a_later_logout_everywhere_ends_the_successor() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    assert_eq!(
        second(&mut conn, user_id, token_id, version),
        Guarded::Rotated
    );
    assert_eq!(written(&mut conn), (true, true, false));
    // The same again (a second refresh of the token): the gate is taken.
    assert_eq!(second(&mut conn, user_id, token_id, version), Guarded::Lost);
    // Ending the sessions after the rotation finds the successor.
    sessions::end_all(&mut conn, user_id, Utc::now().timestamp()).expect("end all");
    assert_eq!(written(&mut conn), (true, true, true));
}

#[test]
fn postgres_a_user_row_updated_after_the_read_makes_the_rotation_write_nothing() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    // A deactivation (or any update of the row) commits between the two statements.
    users::queries::set_flag(&mut conn, user_id, users::models::Flag::Active, false)
        .expect("deactivate");
    assert_eq!(
        second(&mut conn, user_id, token_id, version),
        Guarded::Changed
    );
    assert_eq!(written(&mut conn), (false, false, false));
    assert_eq!(blacklist_rows(&mut conn), 0);
}

#[test]
fn postgres_a_user_row_updated_while_the_rotation_waits_for_its_lock_makes_it_write_nothing() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    // A password change under way: the row updated (not committed yet) when the second statement
    // reaches it. The statement's snapshot still shows the version read; the lock's re-check of
    // the newest version must refuse it.
    let mut holder = db.connect();
    holder.batch_execute("BEGIN").expect("begin");
    users::queries::set_password(&mut holder, user_id, "pbkdf2_sha256$1$salt$other")
        .expect("password change");
    let answer = second_while_held(&db, &mut holder, user_id, token_id, version);
    assert_eq!(answer, Guarded::Changed);
    assert_eq!(written(&mut conn), (false, false, false));
    assert_eq!(blacklist_rows(&mut conn), 0);
}

#[test]
fn postgres_a_token_blacklisted_after_the_read_makes_the_rotation_write_nothing() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    // The token is blacklisted between the two statements (a concurrent refresh's gate, a
    // logout); the user's row is untouched.
    let now = Utc::now().timestamp();
    assert!(blacklist::gate(&mut db.connect(), token_id, now).expect("gate"));
    assert_eq!(second(&mut conn, user_id, token_id, version), Guarded::Lost);
    assert_eq!(written(&mut conn), (true, false, false));
    assert_eq!(blacklist_rows(&mut conn), 1);
}

#[test]
fn postgres_a_logout_everywhere_committed_while_the_rotation_waits_makes_it_write_nothing() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    // Logout everywhere under way: the user's row held `FOR UPDATE` (not updated: its `xmin`
    // stays) and the token blacklisted, not committed yet, when the second statement begins.
    // Its snapshot does not show the blacklist row; the gate must still lose to it.
    let mut holder = db.connect();
    holder.batch_execute("BEGIN").expect("begin");
    users::tx::user_by_id(&mut holder, user_id, users::tx::UserLock::Exclusive)
        .expect("lock")
        .expect("user");
    let ended = blacklist::blacklist_user(&mut holder, user_id, Utc::now().timestamp())
        .expect("blacklist the user's tokens");
    assert_eq!(ended, 1);
    let answer = second_while_held(&db, &mut holder, user_id, token_id, version);
    assert_eq!(answer, Guarded::Lost);
    assert_eq!(written(&mut conn), (true, false, false));
    assert_eq!(blacklist_rows(&mut conn), 1);
}

#[test]
fn postgres_a_logout_everywhere_that_begins_while_the_rotation_holds_the_row_ends_the_successor() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    // Stop the second statement after it took the user's row and passed the gate: an open
    // transaction holds the successor's jti, so the successor's insert waits for it.
    let mut holder = db.connect();
    holder.batch_execute("BEGIN").expect("begin");
    let now = Utc::now().timestamp();
    let squatter = Outstanding {
        jti: NEXT,
        raw: "a.squatting.token",
        user_id: None,
        created_at: now,
        expires_at: now + 86_400,
    };
    blacklist::record_new(&mut holder, &squatter, "another-family").expect("squat");
    let mut rotating = db.connect();
    let rotating_pid = backend_pid(&mut rotating);
    let rotation = std::thread::spawn(move || second(&mut rotating, user_id, token_id, version));
    let mut observer = db.connect();
    until_waiting_for_a_lock(&mut observer, rotating_pid);
    // Logout everywhere begins now: it must wait for the rotation's row lock, and then see the
    // successor.
    let mut ending = db.connect();
    let ending_pid = backend_pid(&mut ending);
    let logout = std::thread::spawn(move || {
        sessions::end_all(&mut ending, user_id, Utc::now().timestamp()).expect("end all")
    });
    until_waiting_for_a_lock(&mut observer, ending_pid);
    holder.batch_execute("ROLLBACK").expect("rollback");
    assert_eq!(rotation.join().expect("rotation thread"), Guarded::Rotated);
    assert_eq!(logout.join().expect("logout thread"), 1, "the successor");
    assert_eq!(written(&mut conn), (true, true, true));
}

/// Reuse detection against a rotation under way: the login's old token comes back (reuse, past
/// the grace interval) while a rotation of the family's newest token has recorded its successor
/// but not yet committed. The revocation must wait for that rotation (it takes the user's row
/// `FOR UPDATE`, the rotation holds it `FOR SHARE`) and then blacklist the successor too;
/// revoking from a snapshot taken before the rotation's commit would leave the successor alive,
/// a thief's token outliving the revocation.
#[test]
fn postgres_reuse_detection_waits_for_a_rotation_under_way_and_revokes_its_successor() {
    let db = Db::new();
    let mut conn = db.connect();
    let (user_id, token_id, version) = logged_in(&mut conn);
    // The login's token was rotated (blacklisted; NEXT is the family's newest).
    assert_eq!(
        second(&mut conn, user_id, token_id, version),
        Guarded::Rotated
    );
    // A rotation of NEXT under way: the user's row held FOR SHARE, NEXT's successor recorded.
    let mut rotating = db.connect();
    rotating.batch_execute("BEGIN").expect("begin");
    users::tx::user_by_id(&mut rotating, user_id, users::tx::UserLock::Shared)
        .expect("row")
        .expect("user");
    let now = Utc::now().timestamp();
    let newest = Outstanding {
        jti: "newest-jti",
        raw: "the.newest.token",
        user_id: Some(user_id),
        created_at: now,
        expires_at: now + 86_400,
    };
    blacklist::record_new(&mut rotating, &newest, FAMILY).expect("successor's row");
    // The old token comes back past the grace interval: reuse detection, in its own transaction.
    let jwt = settings::Settings::from_sources(
        None,
        &[
            (
                "SECRET_KEY".to_owned(),
                "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z".to_owned(),
            ),
            // Reuse detection needs rotation that blacklists.
            (
                "SIMPLE_JWT__ROTATE_REFRESH_TOKENS".to_owned(),
                "true".to_owned(),
            ),
            (
                "SIMPLE_JWT__BLACKLIST_AFTER_ROTATION".to_owned(),
                "true".to_owned(),
            ),
        ],
    )
    .expect("settings")
    .simple_jwt;
    let later = now + 3_600;
    let mut revoking = db.connect();
    let pid = backend_pid(&mut revoking);
    let detection = std::thread::spawn(move || {
        users::tx::write(&mut revoking, |conn| {
            let standing = blacklist::standing(conn, PRESENTED)?;
            auth::store::reuse::presented_again(conn, &jwt, standing.as_ref(), later)
        })
        .expect("reuse detection")
    });
    until_waiting_for_a_lock(&mut db.connect(), pid);
    rotating.batch_execute("COMMIT").expect("commit");
    let outcome = detection.join().expect("detection thread");
    assert_eq!(
        outcome,
        auth::store::reuse::Outcome::Revoked(2),
        "NEXT and the successor recorded while the revocation waited"
    );
    assert!(blacklist::is_blacklisted(&mut conn, "newest-jti").expect("blacklisted?"));
}
