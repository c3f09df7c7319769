//! Login timing (issue 7): a login for a user that does not exist, for an inactive one, and with a
//! wrong password must take the same time, so response times do not tell an attacker which
//! usernames exist. Its own test binary, so that it does not share the CPU with the API suite.
//!
//! What this can and cannot show: it compares medians of interleaved samples over loopback, so
//! it catches a whole skipped hash (a 10-20 ms difference at bcrypt cost 8) reliably, and
//! differences of a few percent when the machine is quiet. It cannot prove the absence of
//! smaller leaks (a database index hit vs miss, microseconds) that a patient attacker on a quiet
//! network could still average out; those are kept small by design (the dummy hash in
//! `users::password`), not by this test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use serde_json::json;

use helpers::{spawn_app_with, TestApp, PASSWORD};

/// Rounds (one login of each kind) in one measurement.
const SAMPLES: usize = 100;
/// Discarded first logins: connection setup, caches, lazy initialisation.
const WARM_UP: usize = 8;
/// A machine busy with other work can spoil one measurement; three in a row would be a real gap.
const ATTEMPTS: usize = 3;
/// The largest relative difference between medians that passes.
const TOLERANCE: f64 = 0.05;

#[derive(Debug, Clone, Copy)]
enum Kind {
    UnknownUser,
    WrongPassword,
    InactiveUser,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::UnknownUser, Kind::WrongPassword, Kind::InactiveUser];

    fn body(self) -> serde_json::Value {
        match self {
            Kind::UnknownUser => json!({"username": "nobody-here", "password": PASSWORD}),
            Kind::WrongPassword => json!({"username": "alice", "password": "not the password"}),
            Kind::InactiveUser => json!({"username": "idle", "password": PASSWORD}),
        }
    }
}

async fn login_time(app: &TestApp, kind: Kind) -> Duration {
    let start = Instant::now();
    let res = app.post_json("/api/token/", &kind.body()).await;
    let elapsed = start.elapsed();
    assert_eq!(res.status(), 401, "{kind:?}");
    elapsed
}

fn median<T: PartialOrd + Copy>(mut samples: Vec<T>) -> T {
    samples.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    samples[samples.len() / 2]
}

/// One measurement: per kind, the median time and the median of its per-round relative
/// difference to the wrong-password login of the same round. The kinds take turns in rotating
/// order, and comparing within a round (a paired design) cancels the load of other processes
/// on a shared machine, which drifts over seconds; the median then drops the bursts.
async fn measure(app: &TestApp) -> Vec<(Duration, f64)> {
    for i in 0..WARM_UP {
        login_time(app, Kind::ALL[i % Kind::ALL.len()]).await;
    }
    let mut rounds = Vec::with_capacity(SAMPLES);
    for round in 0..SAMPLES {
        let mut times = [Duration::ZERO; 3];
        for offset in 0..Kind::ALL.len() {
            let index = (round + offset) % Kind::ALL.len();
            times[index] = login_time(app, Kind::ALL[index]).await;
        }
        rounds.push(times);
    }
    (0..Kind::ALL.len())
        .map(|k| {
            let time = median(rounds.iter().map(|r| r[k]).collect());
            let difference = median(
                rounds
                    .iter()
                    .map(|r| (r[k].as_secs_f64() - r[1].as_secs_f64()) / r[1].as_secs_f64())
                    .collect(),
            );
            (time, difference)
        })
        .collect()
}

#[tokio::test]
async fn unknown_user_inactive_user_and_wrong_password_take_the_same_time() {
    // Cost 8: about 15 ms a hash, far above the request's own cost, so a skipped hash shows.
    // Hundreds of failed logins: brute-force locks off, or they would be refused unhashed.
    let app = spawn_app_with(&[
        ("PASSWORDS__BCRYPT_ROUNDS", "8"),
        ("BRUTE_FORCE__ENABLED", "false"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    app.create_user("idle", PASSWORD, false);
    let mut reports = Vec::new();
    for _ in 0..ATTEMPTS {
        let m = measure(&app).await;
        let wrong = m[1].0;
        let worst = m[0].1.abs().max(m[2].1.abs());
        let report = format!(
            "medians: unknown user {:?} ({:+.1}%), wrong password {:?}, inactive user {:?} ({:+.1}%)",
            m[0].0,
            m[0].1 * 100.0,
            wrong,
            m[2].0,
            m[2].1 * 100.0
        );
        // The hash must dominate, or the comparison says nothing.
        assert!(
            wrong > Duration::from_millis(2),
            "no hash measured: {report}"
        );
        eprintln!("{report}");
        if worst < TOLERANCE {
            return;
        }
        reports.push(report);
    }
    panic!(
        "login times differ by more than {}% in {ATTEMPTS} measurements:\n{}",
        TOLERANCE * 100.0,
        reports.join("\n")
    );
}
