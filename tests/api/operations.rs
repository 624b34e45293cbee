//! Operator commands against a running server: an online SQLite backup that opens as a
//! working store, and `audit verify` naming a tampered entry.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::process::{ServerProcess, binary};

fn formwork(args: &[&str], db_url: &str) -> std::process::Output {
    formwork_with(args, db_url, &[])
}

/// `formwork ARGS` on the store at `db_url`, with more environment.
fn formwork_with(
    args: &[&str],
    db_url: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    std::process::Command::new(binary())
        .args(args)
        .env("FORMWORK_DATABASE__URL", db_url)
        .env("FORMWORK_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

async fn seed(server: &ServerProcess, client: &Client, n: usize) {
    client
        .put(server.url("/apps/ops"))
        .json(&json!({"key": "ops", "label": {"en": "ops"}}))
        .send()
        .await
        .unwrap();
    let form = json!({"key": "note", "label": {"en": "note"}, "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}});
    assert!(
        client
            .post(server.url("/apps/ops/forms/note/publish"))
            .json(&form)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let items: Vec<Value> = (0..n).map(|i| json!({"data": {"n": i}})).collect();
    let r = client
        .post(server.url("/apps/ops/forms/note/records/bulk"))
        .json(&json!({"items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_of_the_sqlite_store_opens_with_every_committed_record() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    seed(&server, &client, 300).await;
    let backup = dir.path().join("backup.db");
    let out = formwork(&["backup", backup.to_str().unwrap()], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = formwork(&["backup", backup.to_str().unwrap()], &url);
    assert!(
        !out.status.success(),
        "an existing file is never overwritten"
    );
    // Writes after the backup are not in it.
    client
        .post(server.url("/apps/ops/forms/note/records"))
        .json(&json!({"data": {"n": 999}}))
        .send()
        .await
        .unwrap();
    server.terminate().await;

    let copy_url = format!("sqlite://{}", backup.display());
    let out = formwork(&["audit", "verify"], &copy_url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = ServerProcess::start(&copy_url, dir.path()).await;
    let v: Value = client
        .get(copy.url("/apps/ops/forms/note/records?total=true&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 300);
    copy.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_verify_names_the_first_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.db");
    let url = format!("sqlite://{}", file.display());
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    seed(&server, &client, 5).await;
    server.terminate().await;
    let out = formwork(&["audit", "verify"], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The database refuses to change the log, so an attacker with the file drops the
    // trigger first; verify still finds the change.
    let conn = crate::helpers::direct_db(&url).await;
    use sea_orm::ConnectionTrait;
    let err = conn
        .write
        .execute_unprepared("UPDATE oplog SET actor = 'mallory' WHERE seq = 4")
        .await;
    assert!(err.is_err(), "the append-only trigger refuses the update");
    conn.write
        .execute_unprepared(
            "DROP TRIGGER oplog_no_update; UPDATE oplog SET actor = 'mallory' WHERE seq = 4",
        )
        .await
        .unwrap();
    drop(conn);
    let out = formwork(&["audit", "verify"], &url);
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("entry 4"), "{msg}");
}

/// A config file sets the server up, environment variables override it, logs come out as
/// JSON when asked, and the health and readiness endpoints answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_config_file_sets_the_server_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let config = dir.path().join("formwork.toml");
    std::fs::write(
        &config,
        "[log]\nformat = \"json\"\nlevel = \"warn\"\n\n[storage]\nmax_file_size = 2048\n",
    )
    .unwrap();
    let log = dir.path().join("server.log");
    // (the harness sets FORMWORK_LOG__LEVEL=debug when it keeps a log: it beats the file)
    let server = ServerProcess::start_env(
        &url,
        dir.path(),
        Some(&log),
        &[("FORMWORK_CONFIG", config.display().to_string())],
    )
    .await;
    let plain = Client::new();
    for path in ["/health", "/ready"] {
        let r = plain.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(v.is_object(), "{path}: {v}");
    }
    // The file's upload limit holds.
    let client = server.admin().await;
    let upload = |n: usize| {
        client
            .post(server.url("/files"))
            .header("content-type", "text/plain")
            .body(vec![b'x'; n])
            .send()
    };
    let r = upload(1000).await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = upload(4096).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert!(body["code"].is_string(), "one error shape: {body}");
    assert!(server.terminate().await.success());
    // Every log line is a JSON object; debug lines are there (the environment's level).
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "the environment's debug level beats the file's warn"
    );
}

/// `formwork …` against a store with this signing key file.
fn formwork_keyed(args: &[&str], db_url: &str, key: &std::path::Path) -> std::process::Output {
    formwork_with(
        args,
        db_url,
        &[("FORMWORK_AUDIT__SIGNING_KEY", key.as_os_str())],
    )
}

/// Rewrite the chain from entry `from` on, as someone who dropped the triggers would after
/// changing an entry: every hash and link recomputed, the head moved along.
async fn recompute_chain(conn: &formwork::store::db::Db, from: i64) {
    use formwork::store::oplog::{StoredEntry, chain_hash};
    use sea_orm::ConnectionTrait;
    let rows = conn
        .query_all(
            "SELECT seq, at, actor, address, client, action, app, form, record_id, before, after, reason, prev_hash FROM oplog ORDER BY seq",
            vec![],
        )
        .await
        .unwrap();
    let mut prev = String::new();
    for r in rows {
        let seq: i64 = r.try_get("", "seq").unwrap();
        let get = |c: &str| r.try_get::<Option<String>>("", c).unwrap();
        if seq < from {
            prev = r.try_get("", "prev_hash").unwrap();
            // (the hash of the entry before `from` is recomputed below from its content)
        }
        let (at, actor, action) = (
            get("at").unwrap(),
            get("actor").unwrap(),
            get("action").unwrap(),
        );
        let hash = chain_hash(
            &prev,
            &StoredEntry {
                seq,
                at: &at,
                actor: &actor,
                address: get("address").as_deref(),
                client: get("client").as_deref(),
                action: &action,
                app: get("app").as_deref(),
                form: get("form").as_deref(),
                record_id: r.try_get("", "record_id").unwrap(),
                before: get("before").as_deref(),
                after: get("after").as_deref(),
                reason: get("reason").as_deref(),
            },
        );
        if seq >= from {
            conn.write
                .execute_unprepared(&format!(
                    "UPDATE oplog SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {seq}"
                ))
                .await
                .unwrap();
            conn.write
                .execute_unprepared(&format!(
                    "UPDATE oplog_head SET seq = {seq}, hash = '{hash}' WHERE id = 1"
                ))
                .await
                .unwrap();
        }
        prev = hash;
    }
}

/// Signed checkpoints catch what the chain alone cannot: an entry changed and every hash
/// after it recomputed. An export closes with one; an inspector's copy of it (an anchor)
/// catches even checkpoints redone with another key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signed_checkpoints_catch_a_recomputed_chain() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.db");
    let url = format!("sqlite://{}", file.display());
    let key = dir.path().join("audit-signing.key");
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    seed(&server, &client, 5).await;
    // The export closes with a signed checkpoint of the head.
    let r = client
        .get(server.url("/audit/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let export = r.text().await.unwrap();
    let last: Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    let cp = &last["checkpoint"];
    assert!(cp["signature"].is_string(), "{last}");
    let published: Value = client
        .get(server.url("/audit/key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(published["public_key"], cp["public_key"]);
    let public = published["public_key"].as_str().unwrap().to_owned();
    server.terminate().await;
    let saved = dir.path().join("export.jsonl");
    std::fs::write(&saved, &export).unwrap();
    let out = formwork_keyed(
        &[
            "audit",
            "verify-export",
            saved.to_str().unwrap(),
            "--trusted-key",
            &public,
        ],
        &url,
        &key,
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("signed by key"), "{said}");
    let other = "ab".repeat(32);
    let out = formwork_keyed(
        &[
            "audit",
            "verify-export",
            saved.to_str().unwrap(),
            "--trusted-key",
            &other,
        ],
        &url,
        &key,
    );
    assert!(!out.status.success(), "another key is not trusted");
    let out = formwork_keyed(&["audit", "verify"], &url, &key);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("1 signed checkpoints"), "{said}");

    // Entry 3 changed and the chain recomputed: the chain alone holds…
    let conn = crate::helpers::direct_db(&url).await;
    use sea_orm::ConnectionTrait;
    conn.write
        .execute_unprepared(
            "DROP TRIGGER oplog_no_update; UPDATE oplog SET actor = 'mallory' WHERE seq = 3",
        )
        .await
        .unwrap();
    recompute_chain(&conn, 3).await;
    // …the signed checkpoint does not.
    let out = formwork_keyed(&["audit", "verify"], &url, &key);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let signed = cp["seq"].as_i64().unwrap();
    assert!(
        msg.contains(&format!("entry {signed}")) && msg.contains("was changed"),
        "{msg}"
    );

    // The checkpoint redone with the attacker's own key: not a trusted key.
    let cp_seq: i64 = {
        let r = conn
            .query_one(
                "SELECT seq FROM oplog WHERE action = 'audit.checkpoint' ORDER BY seq DESC LIMIT 1",
                vec![],
            )
            .await
            .unwrap()
            .unwrap();
        r.try_get("", "seq").unwrap()
    };
    let head_before: String = {
        let r = conn
            .query_one(
                "SELECT hash FROM oplog WHERE seq = $1",
                vec![(cp_seq - 1).into()],
            )
            .await
            .unwrap()
            .unwrap();
        r.try_get("", "hash").unwrap()
    };
    let forger =
        formwork::store::signing::Signer::load_or_create(&dir.path().join("forged.key")).unwrap();
    let forged = forger.checkpoint(cp_seq - 1, &head_before);
    conn.write
        .execute_unprepared(&format!(
            "UPDATE oplog SET after = '{}' WHERE seq = {cp_seq}",
            serde_json::to_string(&forged).unwrap()
        ))
        .await
        .unwrap();
    recompute_chain(&conn, cp_seq).await;
    let out = formwork_keyed(&["audit", "verify"], &url, &key);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(msg.contains("not a trusted one"), "{msg}");
    // Without the key file at hand, the inspector's anchor (the export they kept) still
    // catches it.
    let nowhere = dir.path().join("no-such.key");
    let out = formwork_keyed(&["audit", "verify"], &url, &nowhere);
    assert!(
        out.status.success(),
        "any key verifies without trust: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = formwork_keyed(
        &["audit", "verify", "--anchor", saved.to_str().unwrap()],
        &url,
        &nowhere,
    );
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(msg.contains("anchor"), "{msg}");
}

/// `formwork …` with a store of its own under `dir`; it must succeed.
fn formwork_in(args: &[&str], db_url: &str, dir: &std::path::Path) -> std::process::Output {
    let (files, key) = (dir.join("files"), dir.join("audit-signing.key"));
    let out = formwork_with(
        args,
        db_url,
        &[
            ("FORMWORK_STORAGE__FILES_DIR", files.as_os_str()),
            ("FORMWORK_AUDIT__SIGNING_KEY", key.as_os_str()),
            (
                "FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD",
                std::ffi::OsStr::new(crate::helpers::ADMIN_PASSWORD),
            ),
        ],
    );
    assert!(
        out.status.success(),
        "formwork {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The CLI imports the CRM package and exports it unchanged, and the demo-data generator
/// is deterministic: one seed, the same records, in two stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cli_imports_and_exports_packages_and_demo_data_repeats_by_seed() {
    let package = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../seed-apps/medical-device-crm");
    let package = package.to_str().unwrap();
    let mut stores = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        formwork_in(&["app", "import", package], &url, dir.path());
        formwork_in(
            &["demo-data", package, "--scale", "small", "--seed", "7"],
            &url,
            dir.path(),
        );
        stores.push((dir, url));
    }
    // The package comes back out as it went in.
    let (dir, url) = &stores[0];
    let out = dir.path().join("export");
    formwork_in(
        &["app", "export", "crm", out.to_str().unwrap()],
        url,
        dir.path(),
    );
    let forms = std::path::Path::new(package).join("forms");
    let mut n = 0;
    for entry in std::fs::read_dir(&forms).unwrap() {
        let p = entry.unwrap().path();
        let original: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let exported: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("forms").join(p.file_name().unwrap())).unwrap(),
        )
        .unwrap();
        assert_eq!(original, exported, "{}", p.display());
        n += 1;
    }
    assert!(n >= 18);
    // The same seed gave the same records.
    let mut contents = Vec::new();
    for (_, url) in &stores {
        let db = crate::helpers::direct_db(url).await;
        let rows = db
            .query_all(
                "SELECT id, form, data, owner_user FROM records ORDER BY id",
                vec![],
            )
            .await
            .unwrap();
        let all: Vec<(i64, String, String, Option<String>)> = rows
            .iter()
            .map(|r| {
                (
                    r.try_get("", "id").unwrap(),
                    r.try_get("", "form").unwrap(),
                    r.try_get("", "data").unwrap(),
                    r.try_get("", "owner_user").unwrap(),
                )
            })
            .collect();
        contents.push(all);
    }
    assert!(
        contents[0]
            .iter()
            .filter(|r| r.1 == "service_order")
            .count()
            >= 500,
        "the small scale has its 500 orders"
    );
    assert_eq!(contents[0].len(), contents[1].len());
    for (a, b) in contents[0].iter().zip(&contents[1]) {
        assert_eq!(
            a, b,
            "record {} differs between two runs with one seed",
            a.0
        );
    }
}
