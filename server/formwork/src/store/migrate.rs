//! Schema migrations for both dialects, applied in order and recorded in `schema_migrations`.
//!
//! Plain SQL per dialect rather than sea-orm-migration: the platform's tables are few and
//! fixed (records are JSON documents), and the two dialects differ in the details that
//! matter (JSONB, triggers, identity columns).

use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

use super::db::{Backend, Db};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "kernel",
        sqlite: r#"
CREATE TABLE apps (
  key TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE forms (
  app TEXT NOT NULL REFERENCES apps(key),
  key TEXT NOT NULL,
  draft TEXT NOT NULL,
  draft_updated_at TEXT NOT NULL,
  published_version INTEGER,
  created_at TEXT NOT NULL,
  PRIMARY KEY (app, key)
);
CREATE TABLE form_versions (
  app TEXT NOT NULL,
  form TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  author TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (app, form, version),
  FOREIGN KEY (app, form) REFERENCES forms(app, key)
);
CREATE TABLE records (
  id INTEGER PRIMARY KEY,
  app TEXT NOT NULL,
  form TEXT NOT NULL,
  form_version INTEGER NOT NULL,
  data TEXT NOT NULL,
  owner_user TEXT,
  owner_dept TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 1,
  deleted_at TEXT
);
CREATE INDEX records_by_form ON records (app, form, deleted_at, id);
CREATE TABLE serial_counters (
  scope TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE files (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE oplog (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  address TEXT,
  client TEXT,
  action TEXT NOT NULL,
  app TEXT,
  form TEXT,
  record_id INTEGER,
  before TEXT,
  after TEXT,
  reason TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX oplog_by_record ON oplog (app, form, record_id, seq);
CREATE TABLE oplog_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO oplog_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER oplog_no_update BEFORE UPDATE ON oplog
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER oplog_no_delete BEFORE DELETE ON oplog
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
"#,
        postgres: r#"
CREATE TABLE apps (
  key TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE forms (
  app TEXT NOT NULL REFERENCES apps(key),
  key TEXT NOT NULL,
  draft TEXT NOT NULL,
  draft_updated_at TEXT NOT NULL,
  published_version BIGINT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (app, key)
);
CREATE TABLE form_versions (
  app TEXT NOT NULL,
  form TEXT NOT NULL,
  version BIGINT NOT NULL,
  definition TEXT NOT NULL,
  author TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (app, form, version),
  FOREIGN KEY (app, form) REFERENCES forms(app, key)
);
CREATE TABLE records (
  id BIGSERIAL PRIMARY KEY,
  app TEXT NOT NULL,
  form TEXT NOT NULL,
  form_version BIGINT NOT NULL,
  data JSONB NOT NULL,
  owner_user TEXT,
  owner_dept TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_version BIGINT NOT NULL DEFAULT 1,
  deleted_at TEXT
);
CREATE INDEX records_by_form ON records (app, form, deleted_at, id);
CREATE TABLE serial_counters (
  scope TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
CREATE TABLE files (
  sha256 TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  content_type TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE oplog (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  address TEXT,
  client TEXT,
  action TEXT NOT NULL,
  app TEXT,
  form TEXT,
  record_id BIGINT,
  before TEXT,
  after TEXT,
  reason TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX oplog_by_record ON oplog (app, form, record_id, seq);
CREATE TABLE oplog_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO oplog_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE FUNCTION oplog_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the operation log is append-only'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER oplog_no_update BEFORE UPDATE OR DELETE ON oplog
FOR EACH ROW EXECUTE FUNCTION oplog_append_only();
CREATE TRIGGER oplog_no_truncate BEFORE TRUNCATE ON oplog
FOR EACH STATEMENT EXECUTE FUNCTION oplog_append_only();
"#,
    },
    Migration {
        version: 2,
        name: "identity",
        sqlite: IDENTITY_SQL,
        postgres: IDENTITY_SQL,
    },
    Migration {
        version: 3,
        name: "flows",
        sqlite: FLOWS_SQLITE,
        postgres: FLOWS_POSTGRES,
    },
    Migration {
        version: 4,
        name: "flow_timers",
        sqlite: FLOW_TIMERS_SQL,
        postgres: FLOW_TIMERS_SQL,
    },
    Migration {
        version: 5,
        name: "flow_outbox",
        sqlite: FLOW_OUTBOX_SQLITE,
        postgres: FLOW_OUTBOX_POSTGRES,
    },
    Migration {
        version: 6,
        name: "flow_correlation",
        sqlite: FLOW_CORRELATION_SQL,
        postgres: FLOW_CORRELATION_SQL,
    },
    Migration {
        version: 7,
        name: "reports",
        sqlite: REPORTS_SQL,
        postgres: REPORTS_SQL,
    },
    Migration {
        version: 8,
        name: "saved_views",
        sqlite: SAVED_VIEWS_SQLITE,
        postgres: SAVED_VIEWS_POSTGRES,
    },
    Migration {
        version: 9,
        name: "flow_cc",
        sqlite: FLOW_CC_SQL,
        postgres: FLOW_CC_SQL,
    },
];

/// Copies of flow instances (`cc` nodes): who may follow which instance ("CC'd to me").
const FLOW_CC_SQL: &str = r#"
CREATE TABLE flow_cc (
  instance_id BIGINT NOT NULL,
  username TEXT NOT NULL,
  node TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX flow_cc_by_user ON flow_cc (username, instance_id);
CREATE INDEX flow_cc_by_instance ON flow_cc (instance_id);
"#;

/// Saved list views: a filter, sort, columns and page size under a name, a user's own or
/// shared with everyone who may read the form.
macro_rules! saved_views_sql {
    ($id:literal) => {
        concat!(
            "CREATE TABLE saved_views (\n  id ",
            $id,
            r#",
  app TEXT NOT NULL,
  form TEXT NOT NULL,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  shared BOOLEAN NOT NULL DEFAULT FALSE,
  spec TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX saved_views_by_owner ON saved_views (app, form, owner, name);
"#
        )
    };
}
const SAVED_VIEWS_SQLITE: &str = saved_views_sql!("INTEGER PRIMARY KEY");
const SAVED_VIEWS_POSTGRES: &str =
    saved_views_sql!("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");

/// Report and dashboard definitions (`kind`): the published head and every version.
const REPORTS_SQL: &str = r#"
CREATE TABLE report_defs (
  app TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  version BIGINT NOT NULL,
  definition TEXT NOT NULL,
  PRIMARY KEY (app, kind, key)
);
CREATE TABLE report_def_versions (
  app TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  version BIGINT NOT NULL,
  definition TEXT NOT NULL,
  author TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (app, kind, key, version)
);
"#;

/// A sub-flow started with a `key` runs at most once per key at a time.
const FLOW_CORRELATION_SQL: &str = r#"
ALTER TABLE flow_instances ADD COLUMN correlation TEXT;
CREATE INDEX flow_instances_by_correlation ON flow_instances (app, flow, correlation, status);
"#;

/// External effects of flows (email, webhook, HTTP), written in the step's transaction
/// and delivered afterwards with their idempotency key; and the secrets of inbound
/// webhook triggers.
macro_rules! flow_outbox_sql {
    ($id:literal) => {
        concat!(
            r#"
CREATE TABLE flow_outbox (
  id "#,
            $id,
            r#",
  instance_id BIGINT NOT NULL,
  token_id BIGINT NOT NULL,
  node TEXT NOT NULL,
  kind TEXT NOT NULL,
  request TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  waits BIGINT NOT NULL,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at TEXT NOT NULL,
  last_error TEXT,
  response TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX flow_outbox_due ON flow_outbox (status, next_at);
CREATE INDEX flow_outbox_by_instance ON flow_outbox (instance_id, id);
CREATE TABLE flow_hooks (
  app TEXT NOT NULL,
  flow TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (app, flow)
);
"#
        )
    };
}
const FLOW_OUTBOX_SQLITE: &str = flow_outbox_sql!("INTEGER PRIMARY KEY");
const FLOW_OUTBOX_POSTGRES: &str =
    flow_outbox_sql!("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");

/// Durable timers of date-field and schedule triggers: one planned start per (flow,
/// record) and the next run of each schedule. A row that fell due while the server was
/// down is found on the first pass after start and fired once.
const FLOW_TIMERS_SQL: &str = r#"
CREATE TABLE flow_date_plans (
  app TEXT NOT NULL,
  flow TEXT NOT NULL,
  record_id BIGINT NOT NULL,
  due_at TEXT NOT NULL,
  fired_at TEXT,
  PRIMARY KEY (app, flow, record_id)
);
CREATE INDEX flow_date_plans_due ON flow_date_plans (fired_at, due_at);
CREATE TABLE flow_schedules (
  app TEXT NOT NULL,
  flow TEXT NOT NULL,
  next_at TEXT NOT NULL,
  PRIMARY KEY (app, flow)
);
"#;

/// Flow definitions and the durable state of running flows (instances, tokens, tasks,
/// their history) and the in-app inbox; `$id` is the dialect's auto-increment key.
macro_rules! flows_sql {
    ($id:literal) => {
        concat!(
            r#"
CREATE TABLE flows (
  app TEXT NOT NULL,
  key TEXT NOT NULL,
  draft TEXT NOT NULL,
  draft_updated_at TEXT NOT NULL,
  published_version BIGINT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (app, key)
);
CREATE TABLE flow_versions (
  app TEXT NOT NULL,
  flow TEXT NOT NULL,
  version BIGINT NOT NULL,
  definition TEXT NOT NULL,
  author TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (app, flow, version)
);
CREATE TABLE flow_triggers (
  app TEXT NOT NULL,
  form TEXT NOT NULL,
  flow TEXT NOT NULL,
  version BIGINT NOT NULL,
  trigger TEXT NOT NULL,
  PRIMARY KEY (app, form, flow)
);
CREATE TABLE flow_instances (
  id "#,
            $id,
            r#",
  app TEXT NOT NULL,
  flow TEXT NOT NULL,
  version BIGINT NOT NULL,
  form TEXT,
  record_id BIGINT,
  status TEXT NOT NULL,
  vars TEXT NOT NULL,
  initiator TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  error TEXT
);
CREATE INDEX flow_instances_by_record ON flow_instances (app, form, record_id);
CREATE TABLE flow_tokens (
  id "#,
            $id,
            r#",
  instance_id BIGINT NOT NULL,
  node TEXT NOT NULL,
  status TEXT NOT NULL,
  from_node TEXT,
  due_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX flow_tokens_due ON flow_tokens (status, due_at);
CREATE INDEX flow_tokens_by_instance ON flow_tokens (instance_id, node);
CREATE TABLE flow_tasks (
  id "#,
            $id,
            r#",
  instance_id BIGINT NOT NULL,
  token_id BIGINT NOT NULL,
  node TEXT NOT NULL,
  kind TEXT NOT NULL,
  assignee TEXT NOT NULL,
  status TEXT NOT NULL,
  comment TEXT,
  created_at TEXT NOT NULL,
  due_at TEXT,
  completed_at TEXT,
  completed_by TEXT
);
CREATE INDEX flow_tasks_by_assignee ON flow_tasks (assignee, status, id);
CREATE INDEX flow_tasks_by_token ON flow_tasks (token_id);
CREATE TABLE flow_steps (
  id "#,
            $id,
            r#",
  instance_id BIGINT NOT NULL,
  at TEXT NOT NULL,
  node TEXT,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX flow_steps_by_instance ON flow_steps (instance_id, id);
CREATE TABLE inbox (
  id "#,
            $id,
            r#",
  username TEXT NOT NULL,
  instance_id BIGINT,
  task_id BIGINT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  read_at TEXT
);
CREATE INDEX inbox_by_user ON inbox (username, id);
"#
        )
    };
}

const FLOWS_SQLITE: &str = flows_sql!("INTEGER PRIMARY KEY");
const FLOWS_POSTGRES: &str = flows_sql!("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");

/// Users, departments, sessions, tokens, roles and casbin rules. The same text on both
/// dialects: only portable types (TEXT, BIGINT) are used.
const IDENTITY_SQL: &str = r#"
CREATE TABLE departments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent TEXT REFERENCES departments(id),
  head TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE users (
  username TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  email TEXT,
  department TEXT REFERENCES departments(id),
  password_hash TEXT,
  platform_role TEXT,
  attributes TEXT NOT NULL DEFAULT '{}',
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username),
  csrf_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  address TEXT,
  client TEXT
);
CREATE INDEX sessions_by_user ON sessions (username);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  username TEXT NOT NULL REFERENCES users(username),
  name TEXT NOT NULL,
  app TEXT,
  role TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE TABLE roles (
  app TEXT NOT NULL,
  key TEXT NOT NULL,
  definition TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (app, key)
);
CREATE TABLE auth_rules (
  ptype TEXT NOT NULL,
  v0 TEXT NOT NULL,
  v1 TEXT NOT NULL,
  v2 TEXT NOT NULL,
  v3 TEXT NOT NULL DEFAULT '',
  v4 TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL
);
CREATE INDEX auth_rules_by_source ON auth_rules (source);
CREATE TABLE auth_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL
);
INSERT INTO auth_state (id, epoch) VALUES (1, 1);
CREATE TABLE login_failures (
  username TEXT NOT NULL,
  address TEXT,
  at TEXT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);
CREATE INDEX oplog_by_actor ON oplog (actor, seq);
CREATE INDEX oplog_by_action ON oplog (action, seq);
CREATE INDEX oplog_by_at ON oplog (at);
"#;

/// Apply every migration the database has not seen yet. Safe to call from several
/// processes at once on PostgreSQL (an advisory lock serialises them).
pub async fn run(db: &Db) -> Result<(), DbErr> {
    let conn = &db.write;
    conn.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .await?;
    for m in MIGRATIONS {
        let txn = conn.begin().await?;
        if db.backend == Backend::Postgres {
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(4242)")
                .await?;
        }
        let seen = txn
            .query_one_raw(db.stmt(
                "SELECT version FROM schema_migrations WHERE version = $1",
                vec![m.version.into()],
            ))
            .await?;
        if seen.is_none() {
            let sql = match db.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            txn.execute_unprepared(sql).await?;
            txn.execute_raw(db.stmt(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                vec![m.version.into(), m.name.into(), crate::time::now().into()],
            ))
            .await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        txn.commit().await?;
    }
    Ok(())
}
