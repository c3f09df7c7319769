//! What a pool's connections did, counted: tests hold views to their budget of trips and
//! statements with it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// What a pool's connections did, counted as it happens (diesel's instrumentation, an atomic add
/// per event): trips (checkouts), statements sent, transactions. Tests read it to hold a view to
/// its budget of statements and trips (`ManagedConnection::counts`).
#[derive(Debug, Default)]
pub struct Counts {
    pub(crate) checkouts: AtomicU64,
    pub(crate) pings: AtomicU64,
    pub(crate) statements: AtomicU64,
    pub(crate) begins: AtomicU64,
    pub(crate) outermost: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) rollbacks: AtomicU64,
    pub(crate) wal_syncs: AtomicU64,
}

/// A reading of [`Counts`]; `since` an earlier one gives what happened in between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Connections checked out of the pool: one per trip to the blocking pool (`with_conn`).
    pub checkouts: u64,
    /// `SELECT 1` pings of idle connections at checkout (in `statements` too).
    pub pings: u64,
    /// Every statement sent: queries, `BEGIN`/`COMMIT`/`ROLLBACK`, `PRAGMA`s, pings.
    pub statements: u64,
    /// Transactions begun (`BEGIN`, `BEGIN IMMEDIATE`; a savepoint too).
    pub begins: u64,
    /// Transactions begun outside any other (`BEGIN`, not a savepoint; in `begins` too): on
    /// SQLite with a group commit, one per batch of write transactions ([`crate::batch`]).
    pub outermost: u64,
    pub commits: u64,
    pub rollbacks: u64,
    /// Syncs of SQLite's write-ahead log by the group commit ([`crate::group`]): not statements.
    pub wal_syncs: u64,
}

impl Counts {
    pub fn tally(&self) -> Tally {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        Tally {
            checkouts: get(&self.checkouts),
            pings: get(&self.pings),
            statements: get(&self.statements),
            begins: get(&self.begins),
            outermost: get(&self.outermost),
            commits: get(&self.commits),
            rollbacks: get(&self.rollbacks),
            wal_syncs: get(&self.wal_syncs),
        }
    }

    pub(crate) fn add(n: &AtomicU64) {
        n.fetch_add(1, Ordering::Relaxed);
    }
}

impl Tally {
    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &Tally) -> Tally {
        Tally {
            checkouts: self.checkouts.saturating_sub(earlier.checkouts),
            pings: self.pings.saturating_sub(earlier.pings),
            statements: self.statements.saturating_sub(earlier.statements),
            begins: self.begins.saturating_sub(earlier.begins),
            outermost: self.outermost.saturating_sub(earlier.outermost),
            commits: self.commits.saturating_sub(earlier.commits),
            rollbacks: self.rollbacks.saturating_sub(earlier.rollbacks),
            wal_syncs: self.wal_syncs.saturating_sub(earlier.wal_syncs),
        }
    }

    /// The statements that do the work: all of them but transaction control and pings.
    pub fn work(&self) -> u64 {
        self.statements
            .saturating_sub(self.pings + self.begins + self.commits + self.rollbacks)
    }
}

/// Counts a connection's events into `counts`.
pub(crate) fn counting(counts: Arc<Counts>) -> impl Instrumentation {
    move |event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { .. } => Counts::add(&counts.statements),
        InstrumentationEvent::BeginTransaction { depth, .. } => {
            Counts::add(&counts.begins);
            if depth.get() == 1 {
                Counts::add(&counts.outermost);
            }
        }
        InstrumentationEvent::CommitTransaction { .. } => Counts::add(&counts.commits),
        InstrumentationEvent::RollbackTransaction { .. } => Counts::add(&counts.rollbacks),
        _ => {}
    }
}
