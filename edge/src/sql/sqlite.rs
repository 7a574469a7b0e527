//! Every statement of the crate against a real SQLite (D1 is SQLite) with the project's migrations
//! applied in order: each one prepares (its tables and columns exist), the relay's claim takes only
//! aggregate heads under a lease, and its scan stays off delivered rows (the query plan names the partial
//! index of migration 0004, not the `seq` index that walks every delivered row).
use super::every::every_statement;
use super::outbox::{claim, insert_event, settle};
use super::statement::{Bind, Statement};
use crate::outbox::relay::{plan, ClaimedEvent};
use crate::outbox::{Aggregate, NewEvent, Settle};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// A fresh in-memory database with `migrations/*.sql` applied in file-name order and recorded as wrangler
/// records them (its `d1_migrations` table, which `/healthz` reads).
fn migrated() -> Connection {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations directory")
        .map(|e| e.expect("migration entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations in {dir}");
    let db = Connection::open_in_memory().expect("in-memory SQLite");
    db.execute_batch(
        "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, \
         applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    )
    .expect("wrangler's migrations table");
    for f in &files {
        let sql = std::fs::read_to_string(f).expect("migration text");
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f.file_name().and_then(|n| n.to_str()).expect("file name");
        db.execute("INSERT INTO d1_migrations (name) VALUES (?1)", [name])
            .expect("migration recorded");
    }
    db
}

fn values(s: &Statement) -> Vec<Value> {
    s.binds
        .iter()
        .map(|b| match b {
            Bind::Text(t) => Value::Text(t.clone()),
            Bind::Int(n) => Value::Integer(i64::try_from(*n).expect("bind fits i64")),
            Bind::Real(x) => Value::Real(*x),
            Bind::Bool(b) => Value::Integer(i64::from(*b)),
            Bind::Null => Value::Null,
        })
        .collect()
}

fn run(db: &Connection, s: &Statement) -> usize {
    db.execute(s.sql, rusqlite::params_from_iter(values(s)))
        .unwrap_or_else(|e| panic!("{e}: {}", s.sql))
}

fn claimed(db: &Connection, s: &Statement) -> Vec<ClaimedEvent> {
    let mut stmt = db.prepare(s.sql).expect("claim prepares");
    let rows = stmt
        .query_map(rusqlite::params_from_iter(values(s)), |r| {
            Ok(ClaimedEvent {
                event_id: r.get(0)?,
                aggregate_type: r.get(1)?,
                aggregate_id: r.get(2)?,
                event_type: r.get(3)?,
                payload: r.get(4)?,
                content_hash: r.get(5)?,
                attempts: r.get(6)?,
            })
        })
        .expect("claim runs");
    let mut all: Vec<ClaimedEvent> = rows.map(|r| r.expect("claimed row")).collect();
    // RETURNING gives no order; the claim's own order is by seq, which the ids encode here.
    all.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    all
}

fn event(id: &str, watch: &str) -> NewEvent {
    NewEvent {
        event_id: id.into(),
        aggregate: Aggregate::Watch,
        aggregate_id: watch.into(),
        event_type: "test.event".into(),
        payload: format!("{{\"event_id\":\"{id}\"}}"),
    }
}

fn ids(events: &[ClaimedEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_id.as_str()).collect()
}

#[test]
fn every_statement_prepares_against_the_migrated_schema() {
    let db = migrated();
    for s in every_statement() {
        if let Err(e) = db.prepare(s.sql) {
            panic!("{e}: {}", s.sql);
        }
    }
}

#[test]
fn a_claim_takes_aggregate_heads_in_seq_order_under_its_lease_and_the_next_event_after_a_settle() {
    let db = migrated();
    for (id, watch) in [
        ("e1", "wA"),
        ("e2", "wB"),
        ("e3", "wA"),
        ("e4", "wA"),
        ("e5", "wB"),
    ] {
        run(&db, &insert_event(&event(id, watch), 0));
    }
    // Heads only: e3, e4 wait behind e1 and e5 behind e2.
    let first = claimed(&db, &claim("lease_1", 1_000, 10, 50));
    assert_eq!(ids(&first), ["e1", "e2"]);
    assert!(first.iter().all(|e| e.attempts == 1));
    // Leased heads keep their aggregates blocked until the lease expires.
    assert!(claimed(&db, &claim("lease_2", 1_000, 20, 50)).is_empty());
    // After the lease, the same heads again, with their claim counted.
    let again = claimed(&db, &claim("lease_3", 3_000, 1_000, 1));
    assert_eq!(ids(&again), ["e1"]);
    assert_eq!(again[0].attempts, 2);

    // The expired lease's token no longer settles; the current one does, and frees e3.
    let delivered = [Settle::Delivered];
    let stale = settle(
        &[("lease_1".into(), again[0].clone())],
        &plan(&delivered).writes,
        1_001,
    );
    let current = settle(
        &[("lease_3".into(), again[0].clone())],
        &plan(&delivered).writes,
        1_001,
    );
    assert_eq!(stale.iter().map(|s| run(&db, s)).sum::<usize>(), 0);
    assert!(current.iter().map(|s| run(&db, s)).sum::<usize>() > 0);
    let next = claimed(&db, &claim("lease_4", 5_000, 1_002, 50));
    assert_eq!(ids(&next), ["e2", "e3"]);
}

#[test]
fn the_claim_scans_aggregate_heads_only_by_their_partial_index() {
    let db = migrated();
    let s = claim("lease_1", 2, 1, 50);
    let sql = format!("EXPLAIN QUERY PLAN {}", s.sql);
    let mut stmt = db.prepare(&sql).expect("plan prepares");
    let plan: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(values(&s)), |r| r.get::<_, String>(3))
        .expect("plan runs")
        .map(|r| r.expect("plan row"))
        .collect();
    assert!(plan.iter().any(|d| d.contains("outbox_heads")), "{plan:#?}");
    assert!(
        !plan.iter().any(|d| d.contains("sqlite_autoindex_outbox_2")),
        "the seq index walks delivered rows: {plan:#?}"
    );
}

/// One step of the head-flag property test, on three aggregates.
#[derive(Debug, Clone)]
enum Step {
    Insert(usize),
    /// Claim up to `n` events now, then settle each with the outcome drawn for it (0 delivered, 1 retry,
    /// 2 dead), with a stale lease token when `stale`.
    ClaimAndSettle {
        n: u32,
        outcomes: Vec<u8>,
        stale: bool,
    },
    /// Time passes: backoffs end, leases expire.
    Wait(u64),
    DeleteWatch(usize),
    ReplayOneDeadLetter,
}

const AGGREGATES: [(&str, &str); 3] = [("watch", "wA"), ("watch", "wB"), ("alert", "upstream.x")];

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0..3usize).prop_map(Step::Insert),
        4 => (1..4u32, proptest::collection::vec(0..3u8, 4), proptest::bool::weighted(0.15))
            .prop_map(|(n, outcomes, stale)| Step::ClaimAndSettle { n, outcomes, stale }),
        2 => (1..300u64).prop_map(Step::Wait),
        1 => (0..2usize).prop_map(Step::DeleteWatch),
        1 => Just(Step::ReplayOneDeadLetter),
    ]
}

/// Rows whose `head` differs from its definition: the lowest-`seq` undelivered event of its aggregate.
fn wrong_heads(db: &Connection) -> Vec<(String, i64)> {
    let mut stmt = db
        .prepare(
            "SELECT event_id, head FROM outbox AS o WHERE head != (o.status != 'delivered' AND NOT EXISTS ( \
                 SELECT 1 FROM outbox AS p WHERE p.status != 'delivered' AND p.aggregate_type = o.aggregate_type \
                   AND p.aggregate_id = o.aggregate_id AND p.seq < o.seq))",
        )
        .expect("check prepares");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("check runs")
        .map(|r| r.expect("row"))
        .collect()
}

fn apply(db: &Connection, s: &Step, now: &mut u64, next_id: &mut u32) {
    use crate::outbox::DeadReason;
    match s {
        Step::Insert(a) => {
            let (t, id) = AGGREGATES[*a];
            *next_id += 1;
            let ev = NewEvent {
                aggregate: if t == "watch" {
                    Aggregate::Watch
                } else {
                    Aggregate::Alert
                },
                ..event(&format!("e{next_id:04}"), id)
            };
            run(db, &insert_event(&ev, *now));
        }
        Step::ClaimAndSettle { n, outcomes, stale } => {
            let token = format!("lease_{now}_{next_id}");
            *next_id += 1;
            let got = claimed(db, &claim(&token, *now + 100, *now, *n));
            let settles: Vec<Settle> = got
                .iter()
                .zip(outcomes.iter().cycle())
                .map(|(_, o)| match o {
                    0 => Settle::Delivered,
                    1 => Settle::Retry {
                        error: "503".into(),
                        delay_ms: 50,
                    },
                    _ => Settle::Dead {
                        reason: DeadReason::MaxAttemptsExceeded,
                        error: "gone".into(),
                    },
                })
                .collect();
            let fence = if *stale { "lease_stale".to_owned() } else { token };
            let held: Vec<(String, ClaimedEvent)> = got.into_iter().map(|e| (fence.clone(), e)).collect();
            for st in settle(&held, &plan(&settles).writes, *now + 1) {
                run(db, &st);
            }
        }
        Step::Wait(ms) => *now += ms,
        Step::DeleteWatch(a) => {
            for st in super::watches::delete_watch(AGGREGATES[*a].1, *now) {
                run(db, &st);
            }
        }
        Step::ReplayOneDeadLetter => {
            let row: Option<(String, String, String)> = db
                .query_row(
                    "SELECT event_id, content_hash, payload FROM dead_letters WHERE status = 'dead' ORDER BY id LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .expect("dead letter read");
            if let Some((event_id, content_hash, payload)) = row {
                let dl = super::outbox::DeadLetter {
                    event_id,
                    content_hash,
                    payload,
                    ..dead_letter_stub()
                };
                for st in super::outbox::replay(&dl, *now) {
                    run(db, &st);
                }
            }
        }
    }
}

fn dead_letter_stub() -> super::outbox::DeadLetter {
    super::outbox::DeadLetter {
        id: 0,
        event_id: String::new(),
        aggregate_type: String::new(),
        aggregate_id: String::new(),
        event_type: String::new(),
        reason: String::new(),
        attempts: 0,
        last_error: None,
        payload: String::new(),
        content_hash: String::new(),
        history: "[]".into(),
        status: "dead".into(),
        times_dead_lettered: 0,
        replay_count: 0,
        created_at: 0,
        dead_lettered_at: 0,
        replayed_at: None,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Through any sequence of inserts, claims, settles (fenced out or not), waits, watch deletions and
    /// replays, `head` marks exactly the lowest undelivered event of each aggregate, and every aggregate
    /// is delivered in `seq` order.
    #[test]
    fn the_head_flag_marks_exactly_each_aggregates_lowest_undelivered_event(
        steps in proptest::collection::vec(step(), 1..60)
    ) {
        let db = migrated();
        let (mut now, mut next_id) = (1_000u64, 0u32);
        for s in &steps {
            apply(&db, s, &mut now, &mut next_id);
            let wrong = wrong_heads(&db);
            proptest::prop_assert!(wrong.is_empty(), "after {:?}: {:?}", s, wrong);
        }
        let disorder: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM outbox AS a JOIN outbox AS b ON a.aggregate_type = b.aggregate_type \
                 AND a.aggregate_id = b.aggregate_id AND a.seq < b.seq \
                 WHERE a.status = 'delivered' AND b.status = 'delivered' AND a.delivered_at > b.delivered_at",
                [],
                |r| r.get(0),
            )
            .expect("order check");
        proptest::prop_assert_eq!(disorder, 0);
    }
}
