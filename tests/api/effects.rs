//! Flows' external effects (docs/flows.md#outbox): HTTP requests and webhooks to a real
//! local HTTP receiver (retries keep their idempotency key; loopback, private, link-local
//! and metadata addresses are refused, also behind a redirect), email through a real SMTP
//! server (aiosmtpd from PyPI, started here), inbound webhooks with an HMAC signature,
//! loops over a list, and a kill -9 between sending an effect and marking it sent.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{Store, TestApp, expect};
use crate::on_both_stores;
use crate::process::ServerProcess;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Got {
    path: String,
    key: Option<String>,
    body: Value,
    at: std::time::Instant,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    /// Listen on 127.0.0.1 (an ephemeral port); returns the base URL.
    async fn start(&self) -> String {
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn at(&self, path: &str) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path == path)
            .cloned()
            .collect()
    }
}

/// `/fail-once` answers 500 the first time, `/slow-once` keeps the first request waiting
/// two minutes, `/to-metadata` redirects to the cloud metadata address, `/reject` answers
/// 422 and `/down` 503 every time, everything else answers 200 with a reference.
async fn handle(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let path = uri.path().to_owned();
    let seen = r.at(&path).len();
    r.got.lock().unwrap().push(Got {
        path: path.clone(),
        key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: std::time::Instant::now(),
    });
    match path.as_str() {
        "/fail-once" if seen == 0 => (AxStatus::INTERNAL_SERVER_ERROR, "try again").into_response(),
        "/slow-once" if seen == 0 => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            (AxStatus::GATEWAY_TIMEOUT, "too late").into_response()
        }
        "/to-metadata" => (
            AxStatus::FOUND,
            [("location", "http://169.254.169.254/latest/meta-data/")],
        )
            .into_response(),
        "/reject" => (AxStatus::UNPROCESSABLE_ENTITY, "no").into_response(),
        "/down" => (AxStatus::SERVICE_UNAVAILABLE, "down").into_response(),
        _ => axum::Json(json!({"accepted": true, "ref": format!("ERP-{}", seen + 1)}))
            .into_response(),
    }
}

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn ticket_form(app: &TestApp) {
    app.app("ops").await;
    app.publish_ok(
        "ops",
        "ticket",
        json!({"type": "object", "additionalProperties": false, "required": ["title"],
               "properties": {
                 "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}},
                 "kind": {"type": "string", "x-type": "text", "x-label": {"en": "Kind"}},
                 "target": {"type": "string", "x-type": "text", "x-label": {"en": "Target"}},
                 "erp_ref": {"type": "string", "x-type": "text", "x-label": {"en": "ERP reference"}},
                 "status": {"type": "string", "x-type": "text", "x-label": {"en": "Status"}},
                 "fee": {"type": "number", "x-type": "number", "x-label": {"en": "Fee"}},
                 "contact": {"type": "string", "x-type": "email", "x-label": {"en": "Contact"}},
                 "lines": {"type": "array", "x-type": "sub_table", "x-label": {"en": "Lines"},
                           "items": {"type": "object", "additionalProperties": false,
                                     "properties": {"item": {"type": "string", "x-type": "text", "x-label": {"en": "Item"}},
                                                    "qty": {"type": "integer", "x-type": "integer", "x-label": {"en": "Qty"}}}}}}}),
    )
    .await;
}

async fn publish_flow(app: &TestApp, def: Value) {
    let key = def["key"].as_str().unwrap().to_owned();
    let r = app
        .post(&format!("/apps/ops/flows/{key}/publish"), &def)
        .await;
    expect(r, StatusCode::CREATED).await;
}

async fn wait_instance(app: &TestApp, id: &Value, status: &str) -> Value {
    let id = id.as_i64().expect("record id");
    eventually(
        &format!("an instance of record {id} to be {status}"),
        || async {
            let v = expect(
                app.get(&format!("/flow-instances?app=ops&record={id}"))
                    .await,
                StatusCode::OK,
            )
            .await;
            let inst = v["items"].as_array()?.first()?.clone();
            let detail = expect(
                app.get(&format!("/flow-instances/{}", inst["id"])).await,
                StatusCode::OK,
            )
            .await;
            (detail["instance"]["status"] == status).then_some(detail)
        },
    )
    .await
}

fn actions(detail: &Value) -> Vec<String> {
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

on_both_stores!(
    http_requests_and_webhooks_go_through_the_outbox,
    |app: TestApp| async move {
        let rx = Receiver::default();
        let base = rx.start().await;
        ticket_form(&app).await;
        publish_flow(&app, json!({
            "key": "erp_sync", "label": {"en": "ERP sync"},
            "trigger": {"type": "record_created", "form": "ticket", "condition": {"==": [{"var": "record.kind"}, "sync"]}},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "call", "type": "http", "method": "POST", "url": format!("{base}/fail-once"),
                 "headers": {"x-ticket": "{{record.id}}"}, "body": {"title": {"var": "record.title"}}, "name": "erp"},
                {"id": "keep", "type": "update_record", "set": {"erp_ref": {"var": "vars.erp.body.ref"}}},
                {"id": "hook", "type": "notify", "channel": "webhook", "url": format!("{base}/hook"),
                 "payload": {"ticket": {"var": "record.id"}, "ref": {"var": "vars.erp.body.ref"}}},
                {"id": "mark_failed", "type": "update_record", "set": {"status": "sync failed"}},
                {"id": "end", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "call"},
                {"from": "call", "to": "keep", "outcome": "ok"},
                {"from": "call", "to": "mark_failed", "outcome": "failed"},
                {"from": "keep", "to": "hook"},
                {"from": "hook", "to": "end"},
                {"from": "mark_failed", "to": "end"}
            ]
        })).await;
        publish_flow(&app, json!({
            "key": "probe", "label": {"en": "Probe"},
            "trigger": {"type": "record_created", "form": "ticket", "condition": {"==": [{"var": "record.kind"}, "probe"]}},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "call", "type": "http", "method": "GET", "url": "{{record.target}}", "name": "probe"},
                {"id": "fine", "type": "update_record", "set": {"status": "reached"}},
                {"id": "refused", "type": "update_record", "set": {"status": {"cat": ["refused: ", {"var": "vars.probe.error"}]}}},
                {"id": "end", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "call"},
                {"from": "call", "to": "fine", "outcome": "ok"},
                {"from": "call", "to": "refused", "outcome": "failed"},
                {"from": "fine", "to": "end"},
                {"from": "refused", "to": "end"}
            ]
        })).await;

        // A request that fails once is retried with the same idempotency key; its answer
        // goes into vars and on into the record; the webhook carries it on.
        let t = app
            .create_ok("ops", "ticket", json!({"title": "pump", "kind": "sync"}))
            .await;
        let done = wait_instance(&app, &t["id"], "completed").await;
        let calls = rx.at("/fail-once");
        assert_eq!(calls.len(), 2, "one failure, one retry: {calls:?}");
        assert_eq!(
            calls[0].key, calls[1].key,
            "a retry keeps its idempotency key"
        );
        assert!(
            calls[0]
                .key
                .as_deref()
                .is_some_and(|k| k.starts_with("fw-"))
        );
        assert_eq!(calls[1].body, json!({"title": "pump"}));
        let rec = expect(
            app.get(&format!("/apps/ops/forms/ticket/records/{}", t["id"]))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(rec["data"]["erp_ref"], "ERP-2");
        // The webhook is queued when its step commits and delivered right after.
        let hooks = eventually("the webhook delivery", || async {
            let h = rx.at("/hook");
            (!h.is_empty()).then_some(h)
        })
        .await;
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].body, json!({"ticket": t["id"], "ref": "ERP-2"}));
        assert_eq!(
            actions(&done),
            [
                "started",
                "requested",
                "responded",
                "updated",
                "notified",
                "ended",
                "completed"
            ]
        );
        let done = eventually("both effects settled", || async {
            let d = expect(
                app.get(&format!("/flow-instances/{}", done["instance"]["id"]))
                    .await,
                StatusCode::OK,
            )
            .await;
            d["effects"]
                .as_array()?
                .iter()
                .all(|e| e["status"] == "sent")
                .then_some(d)
        })
        .await;
        let effects = done["effects"].as_array().unwrap();
        assert_eq!(effects.len(), 2);
        assert_eq!(effects[0]["kind"], "http");
        assert_eq!(effects[0]["attempts"], 2);
        assert!(effects.iter().all(|e| e["status"] == "sent"));

        // Loopback is allowed in tests (flows.http_allow); link-local / metadata is not,
        // neither directly nor behind a redirect.
        for target in [
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            format!("{base}/to-metadata"),
            "http://10.1.2.3/internal".to_owned(),
        ] {
            let t = app
                .create_ok(
                    "ops",
                    "ticket",
                    json!({"title": "probe", "kind": "probe", "target": target}),
                )
                .await;
            wait_instance(&app, &t["id"], "completed").await;
            let rec = expect(
                app.get(&format!("/apps/ops/forms/ticket/records/{}", t["id"]))
                    .await,
                StatusCode::OK,
            )
            .await;
            let status = rec["data"]["status"].as_str().unwrap();
            assert!(
                status.starts_with("refused: refused:"),
                "{target}: {status}"
            );
            assert!(status.contains("flows.http_allow"), "{status}");
        }
        assert_eq!(
            rx.at("/to-metadata").len(),
            1,
            "the redirect was followed to the check, not retried"
        );

        // Publishing checks of effect nodes point into the definition.
        let r = app.post("/apps/ops/flows/bad/publish", &json!({
            "key": "bad", "label": {"en": "Bad"},
            "trigger": {"type": "record_created", "form": "ticket"},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "call", "type": "http", "method": "TRACE", "url": "ftp://x"},
                {"id": "mail", "type": "notify", "channel": "email", "address": {"var": "record.contact"}, "title": "t"},
                {"id": "end", "type": "end"}
            ],
            "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "mail", "outcome": "approved"}, {"from": "mail", "to": "end"}]
        })).await;
        let v = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let at: Vec<(String, String)> = v["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["pointer"].as_str().unwrap().to_owned(),
                    d["rule"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for want in [
            ("/nodes/1/method", "enum"),
            ("/nodes/1/url", "url"),
            ("/nodes/2/as_role", "required"),
            ("/edges/1/outcome", "enum"),
        ] {
            assert!(
                at.contains(&(want.0.to_owned(), want.1.to_owned())),
                "{want:?} in {at:?}"
            );
        }
    }
);

on_both_stores!(
    an_inbound_webhook_starts_a_flow_only_with_a_valid_signature,
    |app: TestApp| async move {
        ticket_form(&app).await;
        publish_flow(
            &app,
            json!({
                "key": "intake", "label": {"en": "Intake"},
                "trigger": {"type": "webhook"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "make", "type": "create_record", "form": "ticket",
                     "data": {"title": {"var": "vars.payload.subject"}, "kind": "webhook"}},
                    {"id": "end", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "make"}, {"from": "make", "to": "end"}]
            }),
        )
        .await;
        let hook = expect(app.get("/apps/ops/flows/intake/hook").await, StatusCode::OK).await;
        let secret = hook["secret"].as_str().unwrap().to_owned();
        assert_eq!(hook["url"], "/api/v1/hooks/ops/intake");
        let url = format!("{}{}", app.base, "/api/v1/hooks/ops/intake");
        let sign = |secret: &str, ts: i64, body: &str| {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            m.update(format!("{ts}.{body}").as_bytes());
            format!("sha256={}", hex::encode(m.finalize().into_bytes()))
        };
        let anon = reqwest::Client::new();
        let post = |ts: i64, sig: String, body: &'static str| {
            anon.post(&url)
                .header("x-formwork-timestamp", ts.to_string())
                .header("x-formwork-signature", sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let now = chrono::Utc::now().timestamp();
        let body = r#"{"subject": "Ventilator alarm from the hospital portal"}"#;
        // Wrong secret, tampered body, stale timestamp, no signature: 401, nothing starts.
        assert_eq!(
            post(now, sign("wrong", now, body), body)
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            post(now, sign(&secret, now, body), r#"{"subject": "x"}"#)
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            post(now - 3600, sign(&secret, now - 3600, body), body)
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let r = anon.post(&url).body(body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // Signed: 202 and the flow runs with the body as vars.payload.
        let r = post(now, sign(&secret, now, body), body).await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let inst = r.json::<Value>().await.unwrap()["instance"].clone();
        let detail = eventually("the webhook flow to complete", || async {
            let d = expect(
                app.get(&format!("/flow-instances/{inst}")).await,
                StatusCode::OK,
            )
            .await;
            (d["instance"]["status"] == "completed").then_some(d)
        })
        .await;
        assert_eq!(detail["instance"]["initiator"], "webhook");
        let made = detail["instance"]["vars"]["vars"]["make"].clone();
        let rec = expect(
            app.get(&format!("/apps/ops/forms/ticket/records/{made}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            rec["data"]["title"],
            "Ventilator alarm from the hospital portal"
        );
        // A signed body that is not an object is refused with the rule named.
        let r = post(now, sign(&secret, now, "[1]"), "[1]").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Rotating the secret retires the old one at once.
        let fresh = expect(
            app.post("/apps/ops/flows/intake/hook/rotate", &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_ne!(fresh["secret"], secret.as_str());
        assert_eq!(
            post(now, sign(&secret, now, body), body)
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let r = post(
            now,
            sign(fresh["secret"].as_str().unwrap(), now, body),
            body,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
);

on_both_stores!(
    a_loop_runs_its_body_once_per_sub_table_row,
    |app: TestApp| async move {
        ticket_form(&app).await;
        publish_flow(&app, json!({
            "key": "split", "label": {"en": "Split lines"},
            "trigger": {"type": "record_created", "form": "ticket", "condition": {"==": [{"var": "record.kind"}, "order"]}},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "each", "type": "loop", "over": {"var": "record.lines"}, "as": "line"},
                {"id": "make", "type": "create_record", "form": "ticket",
                 "data": {"title": {"cat": [{"var": "vars.line_index"}, ": ", {"var": "vars.line.item"}, " x", {"var": "vars.line.qty"}]}, "kind": "line"}},
                {"id": "count", "type": "set_var", "name": "made", "value": {"+": [{"var": "vars.made"}, 1]}},
                {"id": "end", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "each"},
                {"from": "each", "to": "make", "each": true},
                {"from": "each", "to": "end"},
                {"from": "make", "to": "count"},
                {"from": "count", "to": "each"}
            ]
        })).await;
        let t = app.create_ok("ops", "ticket", json!({"title": "order", "kind": "order",
            "lines": [{"item": "filter", "qty": 2}, {"item": "sensor", "qty": 1}, {"item": "cable", "qty": 5}]})).await;
        let done = wait_instance(&app, &t["id"], "completed").await;
        assert_eq!(done["instance"]["vars"]["vars"]["made"], 3);
        let lines = app
            .list(
                "ops",
                "ticket",
                &[
                    (
                        "filter",
                        json!({"==": [{"var": "kind"}, "line"]}).to_string(),
                    ),
                    ("sort", "_id".into()),
                ],
            )
            .await;
        let titles: Vec<&str> = lines["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["data"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["0: filter x2", "1: sensor x1", "2: cable x5"]);
        assert_eq!(
            actions(&done).iter().filter(|a| *a == "iterated").count(),
            3
        );
        assert_eq!(actions(&done).iter().filter(|a| *a == "looped").count(), 1);
        // An empty list goes straight out.
        let t = app
            .create_ok(
                "ops",
                "ticket",
                json!({"title": "empty", "kind": "order", "lines": []}),
            )
            .await;
        let done = wait_instance(&app, &t["id"], "completed").await;
        assert_eq!(actions(&done), ["started", "looped", "ended", "completed"]);
        // A loop whose body does not come back is refused.
        let r = app.post("/apps/ops/flows/open_loop/publish", &json!({
            "key": "open_loop", "label": {"en": "x"},
            "trigger": {"type": "record_created", "form": "ticket"},
            "nodes": [{"id": "start", "type": "start"}, {"id": "each", "type": "loop"}, {"id": "a", "type": "end"}, {"id": "b", "type": "end"}],
            "edges": [{"from": "start", "to": "each"}, {"from": "each", "to": "a", "each": true}, {"from": "each", "to": "b"}]
        })).await;
        let v = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let rules: Vec<&str> = v["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["rule"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&"loop") && rules.contains(&"required"),
            "{rules:?}"
        );
    }
);

/// aiosmtpd (PyPI; `make test` installs it) writing what it receives into a Maildir.
struct Smtp {
    child: tokio::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Smtp {
    async fn start() -> Smtp {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let maildir = tempfile::tempdir().unwrap();
        let child = tokio::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("mail"))
            .kill_on_drop(true)
            .spawn()
            .expect("python3 -m aiosmtpd (make test installs aiosmtpd)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Smtp {
                    child,
                    port,
                    maildir,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start: is it installed (python3 -m pip install aiosmtpd)?");
    }

    /// The messages received so far.
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(rd) = std::fs::read_dir(self.maildir.path().join("mail").join(sub)) else {
                continue;
            };
            for e in rd.flatten() {
                out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn email_goes_through_a_real_smtp_server_rendered_per_recipient() {
    let mut smtp = Smtp::start().await;
    let port = smtp.port;
    let app = TestApp::spawn_configured(Store::Sqlite, |s| {
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = port;
        s.smtp.tls = "none".into();
        s.smtp.from = "Formwork <flows@formwork.test>".into();
    })
    .await;
    ticket_form(&app).await;
    // A role that may read tickets but not their fee; a user with that role and an email.
    let role = json!({"key": "reader", "label": {"en": "Reader"},
                      "permissions": {"ticket": {"actions": ["read"], "rows": "all", "read": ["*"], "deny_read": ["fee"]}}});
    expect(
        app.put("/apps/ops/roles/reader", &role).await,
        StatusCode::OK,
    )
    .await;
    let body = json!({"username": "reader1", "display_name": "Reader", "email": "reader1@hospital.test", "password": "reader1-password-1"});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    expect(
        app.put("/admin/users/reader1/roles", &json!({"ops": ["reader"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    let body = json!({"username": "boss", "display_name": "Boss", "email": "boss@formwork.test", "password": "boss-password-1", "platform_role": "admin"});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    publish_flow(&app, json!({
        "key": "mail", "label": {"en": "Mail"},
        "trigger": {"type": "record_created", "form": "ticket"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "staff", "type": "notify", "channel": "email", "to": {"role": "reader"},
             "title": "Ticket {{record.title}}", "body": "Fee: {{record.fee}}"},
            {"id": "boss", "type": "notify", "channel": "email", "to": {"user": "boss"},
             "title": "Ticket {{record.title}}", "body": "Fee: {{record.fee}}"},
            {"id": "customer", "type": "notify", "channel": "email", "address": {"var": "record.contact"}, "as_role": "reader",
             "title": "Your ticket {{record.title}}", "body": "We received it."},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "staff"}, {"from": "staff", "to": "boss"}, {"from": "boss", "to": "customer"}, {"from": "customer", "to": "end"}]
    })).await;
    let t = app
        .create_ok(
            "ops",
            "ticket",
            json!({"title": "MRI-7", "fee": 4800, "contact": "ward@hospital.test"}),
        )
        .await;
    let done = wait_instance(&app, &t["id"], "completed").await;
    let msgs = eventually("three emails", || async {
        let m = smtp.messages();
        (m.len() >= 3).then_some(m)
    })
    .await;
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    let to = |addr: &str| {
        msgs.iter()
            .find(|m| m.contains(&format!("To: {addr}")))
            .unwrap_or_else(|| panic!("a message to {addr}: {msgs:?}"))
            .clone()
    };
    let reader = to("reader1@hospital.test");
    assert!(reader.contains("Subject: Ticket MRI-7"), "{reader}");
    assert!(
        !reader.contains("4800"),
        "the fee is hidden from the reader role: {reader}"
    );
    let boss = to("boss@formwork.test");
    assert!(boss.contains("Fee: 4800"), "{boss}");
    let customer = to("ward@hospital.test");
    assert!(customer.contains("We received it."), "{customer}");
    assert!(
        customer.contains("Message-ID: <fw-"),
        "the idempotency key is the Message-ID: {customer}"
    );
    let id = done["instance"]["id"].clone();
    eventually("the three email effects marked sent", || async {
        let d = expect(
            app.get(&format!("/flow-instances/{id}")).await,
            StatusCode::OK,
        )
        .await;
        let e = d["effects"].as_array()?.clone();
        (e.len() == 3
            && e.iter()
                .all(|e| e["status"] == "sent" && e["kind"] == "email"))
        .then_some(())
    })
    .await;
    let _ = smtp.child.kill().await;
}

/// The app of the outbox crash tests: tickets, and a flow that sends each new ticket to
/// `endpoint` (an `http` node, through the outbox) and keeps the answer's reference.
async fn sync_app(server: &ServerProcess, admin: &reqwest::Client, endpoint: &str) {
    let root = server.url("");
    let call = |method: &str, path: &str, body: Value| {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        admin.request(m, format!("{root}{path}")).json(&body).send()
    };
    let r = call(
        "PUT",
        "/apps/ops",
        json!({"key": "ops", "label": {"en": "ops"}, "time_zone": "UTC"}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = call("POST", "/apps/ops/forms/ticket/publish", json!({"key": "ticket", "label": {"en": "Ticket"}, "schema": {"type": "object", "properties": {
        "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}},
        "erp_ref": {"type": "string", "x-type": "text", "x-label": {"en": "ERP"}}}}})).await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = call("POST", "/apps/ops/flows/sync/publish", json!({
        "key": "sync", "label": {"en": "Sync"},
        "trigger": {"type": "record_created", "form": "ticket"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "call", "type": "http", "url": endpoint, "body": {"title": {"var": "record.title"}}, "name": "erp"},
            {"id": "keep", "type": "update_record", "set": {"erp_ref": {"var": "vars.erp.body.ref"}}},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "keep"}, {"from": "keep", "to": "end"}]
    })).await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// Wait until the sync flow's instance on ticket `id` has completed (as `server` answers);
/// its answer and its end are in the history once each.
async fn completed_once(server: &ServerProcess, admin: &reqwest::Client, id: i64) {
    let detail = eventually("the instance to complete", || async {
        let v: Value = admin
            .get(server.url(&format!("/flow-instances?app=ops&record={id}")))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let inst = v["items"].as_array()?.first()?.clone();
        let d: Value = admin
            .get(server.url(&format!("/flow-instances/{}", inst["id"])))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (d["instance"]["status"] == "completed").then_some(d)
    })
    .await;
    let history = actions(&detail);
    for once in ["responded", "completed"] {
        assert_eq!(
            history.iter().filter(|a| *a == once).count(),
            1,
            "{id}: {history:?}"
        );
    }
}

/// kill -9 after an effect was sent but before it was marked: another server process on
/// the same database (SQLite, PostgreSQL) takes the dead worker's claim over once its lease
/// has run out and sends the effect again with the same idempotency key (at least once),
/// and the instance ends exactly once. The second process starts once the first has died:
/// started beside it, it may claim the effect first, a race a test cannot steer.
async fn a_dead_workers_claim_is_taken_over(store: Store) {
    let rx = Receiver::default();
    let base = rx.start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = match store {
        Store::Sqlite => format!("sqlite://{}", dir.path().join("formwork.db").display()),
        Store::Postgres => crate::helpers::fresh_pg_database().await,
    };
    let env = |fail: bool| {
        let mut e = vec![
            ("FORMWORK_FLOWS__HTTP_ALLOW", "[\"127.0.0.1\"]".to_owned()),
            ("FORMWORK_FLOWS__OUTBOX_LEASE", "1".to_owned()),
        ];
        if fail {
            e.push(("FORMWORK_FAILPOINT", "outbox_after_send".to_owned()));
        }
        e
    };
    let mut server = ServerProcess::start_env(&url, dir.path(), None, &env(true)).await;
    let admin = server.admin().await;
    let root = server.url("");
    let call = |c: &reqwest::Client, method: &str, path: &str, body: Value| {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        c.request(m, format!("{root}{path}")).json(&body).send()
    };
    sync_app(&server, &admin, &format!("{base}/erp")).await;
    // The server aborts at the failpoint right after the receiver got the request.
    let r = call(
        &admin,
        "POST",
        "/apps/ops/forms/ticket/records",
        json!({"data": {"title": "X-ray"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ids = vec![r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()];
    let died = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("the server aborts at the failpoint")
        .unwrap();
    assert!(!died.success());
    assert_eq!(rx.at("/erp").len(), 1);
    let server = ServerProcess::start_env(&url, dir.path(), None, &env(false)).await;
    let admin = server.admin().await;
    for id in &ids {
        completed_once(&server, &admin, *id).await;
        let rec: Value = admin
            .get(server.url(&format!("/apps/ops/forms/ticket/records/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(rec["data"]["erp_ref"].is_string(), "{rec}");
    }
    // Every effect arrived; the dead worker's one twice, with the same idempotency key.
    let got = rx.at("/erp");
    let mut per_key: std::collections::BTreeMap<String, usize> = Default::default();
    for g in &got {
        *per_key
            .entry(g.key.clone().expect("an idempotency key"))
            .or_default() += 1;
    }
    assert_eq!(per_key.len(), ids.len(), "{got:?}");
    let mut counts: Vec<usize> = per_key.values().copied().collect();
    counts.sort();
    let mut expected = vec![1; ids.len() - 1];
    expected.push(2);
    assert_eq!(
        counts, expected,
        "sent again after the crash, once: {got:?}"
    );
    server.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_between_sending_and_marking_resends_with_the_same_key() {
    a_dead_workers_claim_is_taken_over(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_postgres_process_takes_over_a_dead_workers_claim() {
    a_dead_workers_claim_is_taken_over(Store::Postgres).await;
}

/// A running peer takes a dead worker's claim over (PostgreSQL): process A claims an HTTP
/// effect and is stuck sending it (the receiver keeps the first request waiting); process
/// B starts beside it; A is killed (kill -9). Once A's lease (8 s) has run out, B — already
/// running, not restarted — sends the effect again with the same idempotency key, and the
/// instance completes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_postgres_process_takes_over_the_claim_of_one_killed_beside_it() {
    let rx = Receiver::default();
    let base = rx.start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_pg_database().await;
    let env = [
        ("FORMWORK_FLOWS__HTTP_ALLOW", "[\"127.0.0.1\"]".to_owned()),
        ("FORMWORK_FLOWS__OUTBOX_LEASE", "8".to_owned()),
    ];
    let a = ServerProcess::start_env(&url, dir.path(), None, &env).await;
    let admin = a.admin().await;
    sync_app(&a, &admin, &format!("{base}/slow-once")).await;
    let r = admin
        .post(a.url("/apps/ops/forms/ticket/records"))
        .json(&json!({"data": {"title": "CT"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    eventually("A's request", || async {
        (rx.at("/slow-once").len() == 1).then_some(())
    })
    .await;
    let b = ServerProcess::start_env(&url, dir.path(), None, &env).await;
    a.kill_9().await;
    let killed = std::time::Instant::now();
    let admin = b.admin().await;
    completed_once(&b, &admin, id).await;
    // Sent twice with one key: by A, and by B after A died.
    let got = rx.at("/slow-once");
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].key, got[1].key, "{got:?}");
    assert!(got[0].key.is_some());
    assert!(got[1].at > killed, "B sent after A was killed");
    let rec: Value = admin
        .get(b.url(&format!("/apps/ops/forms/ticket/records/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rec["data"]["erp_ref"], "ERP-2", "{rec}");
    b.terminate().await;
}

/// Messages show a recipient only what they may read — also through the instance's
/// variables: a query's records are projected through the recipient's mask, a value
/// computed from a hidden field is left out, and so is a loop's item and the engine's own
/// copy of the list it loops over. An administrator's copy of the same messages has it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn variables_in_messages_go_through_the_recipients_field_mask() {
    let app = TestApp::spawn(Store::Sqlite).await;
    ticket_form(&app).await;
    let role = json!({"key": "reader", "label": {"en": "Reader"},
                      "permissions": {"ticket": {"actions": ["read"], "rows": "all", "read": ["*"], "deny_read": ["fee"]}}});
    expect(
        app.put("/apps/ops/roles/reader", &role).await,
        StatusCode::OK,
    )
    .await;
    let body = json!({"username": "reader1", "display_name": "Reader", "password": "reader1-password-1", "roles": {"ops": ["reader"]}});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    for (title, fee) in [("older-a", 4801.25), ("older-b", 1234.75)] {
        app.create_ok("ops", "ticket", json!({"title": title, "fee": fee}))
            .await;
    }
    let tell = |id: &str, body: &str| json!({"id": id, "type": "notify", "to": {"users": ["reader1", "admin"]}, "title": id, "body": body});
    publish_flow(&app, json!({
        "key": "digest", "label": {"en": "Digest"},
        "trigger": {"type": "record_created", "form": "ticket", "condition": {"==": [{"var": "record.kind"}, "digest"]}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "q", "type": "query", "form": "ticket", "filter": {"starts_with": [{"var": "title"}, "older"]}, "name": "older"},
            {"id": "own", "type": "set_var", "name": "own_fee", "value": {"*": [{"var": "record.fee"}, 2]}},
            {"id": "sum", "type": "set_var", "name": "total", "value": {"reduce": [{"var": "vars.older"}, {"+": [{"var": "accumulator"}, {"var": "current.fee"}]}, 0]}},
            {"id": "label", "type": "set_var", "name": "label", "value": {"cat": ["digest of ", {"var": "record.title"}]}},
            tell("all", "{{#each vars.older}}{{title}}={{fee}};{{/each}} own={{vars.own_fee}} total={{vars.total}} {{vars.label}}"),
            tell("seen", "{{vars.label}}: {{#each vars.older}}{{title}}/{{id}};{{/each}}"),
            {"id": "each", "type": "loop", "over": {"var": "vars.older"}, "as": "t"},
            tell("item", "{{vars.t.title}}={{vars.t.fee}}"),
            tell("internal", "{{#each vars._loops}}{{#each items}}{{fee}}{{/each}}{{/each}}"),
            {"id": "ack", "type": "task", "assignee": {"user": "reader1"}},
            {"id": "end", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "q"}, {"from": "q", "to": "own"}, {"from": "own", "to": "sum"},
            {"from": "sum", "to": "label"}, {"from": "label", "to": "all"}, {"from": "all", "to": "seen"}, {"from": "seen", "to": "each"},
            {"from": "each", "to": "item", "each": true}, {"from": "item", "to": "internal"}, {"from": "internal", "to": "each"}, {"from": "each", "to": "ack"}, {"from": "ack", "to": "end"}
        ]
    })).await;
    app.create_ok(
        "ops",
        "ticket",
        json!({"title": "Mon", "kind": "digest", "fee": 77.5}),
    )
    .await;
    let reader = crate::helpers::client_with(
        &crate::helpers::token_for(&app.base, "reader1", "reader1-password-1", None).await,
    );
    let task = eventually("the reader's task", || async {
        let v = expect(
            reader.get(app.url("/tasks")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        v["items"].as_array()?.first().cloned()
    })
    .await;
    // The instance's history, as the reader (who has a task in it) sees it: variables set
    // from the hidden fee by name only.
    let detail = expect(
        reader
            .get(app.url(&format!("/flow-instances/{}", task["instance"])))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let set: Vec<&Value> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "set")
        .map(|h| &h["detail"])
        .collect();
    assert_eq!(
        set,
        [
            &json!({"own_fee": null}),
            &json!({"total": null}),
            &json!({"label": "digest of Mon"})
        ],
        "{detail}"
    );
    let bodies = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}: {}",
                    m["title"].as_str().unwrap(),
                    m["body"].as_str().unwrap()
                )
            })
            .filter(|m| !m.starts_with("待办"))
            .collect()
    };
    let mine = bodies(
        expect(
            reader.get(app.url("/inbox")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await,
    );
    let admin = bodies(expect(app.get("/inbox").await, StatusCode::OK).await);
    assert_eq!(mine.len(), 6, "{mine:?}");
    let joined = mine.join("\n");
    for secret in ["4801.25", "1234.75", "155", "6036"] {
        assert!(
            !joined.contains(secret),
            "{secret} reached the reader: {joined}"
        );
    }
    // What the reader may read renders: a value computed from readable fields, and the
    // query's records (their titles and ids). A template naming what they may not read
    // fails for them (strict templates), showing the template, never the value.
    let seen = mine.iter().find(|m| m.starts_with("seen: ")).unwrap();
    assert!(seen.starts_with("seen: digest of Mon: older-"), "{seen}");
    assert!(
        seen.contains("older-a/") && seen.contains("older-b/"),
        "{seen}"
    );
    for m in mine.iter().filter(|m| !m.starts_with("seen: ")) {
        assert!(m.contains("Failed to access variable"), "{m}");
    }
    let all = admin.join("\n");
    assert!(all.contains("older-b=1234.75;older-a=4801.25;"), "{all}");
    assert!(all.contains("own=155 total=6036 digest of Mon"), "{all}");
    assert!(all.contains("item: older-a=4801.25"), "{all}");
    // The engine's own copy of the list being looped over is rendered for nobody.
    assert!(
        admin
            .iter()
            .filter(|m| m.starts_with("internal: "))
            .all(|m| m.contains("vars._loops")),
        "{all}"
    );
}

/// An effect the receiver keeps refusing with 503 is retried with the same idempotency key
/// after doubling waits, until `outbox_max_attempts`; then it fails and the flow takes its
/// `failed` edge. A 4xx answer fails at once, without a retry. Both are logged.
async fn retries_back_off_and_give_up(store: Store) {
    let app = TestApp::spawn_configured(store, |s| {
        s.flows.outbox_max_attempts = 3;
        s.flows.outbox_backoff = 1;
    })
    .await;
    let rx = Receiver::default();
    let base = rx.start().await;
    ticket_form(&app).await;
    publish_flow(&app, json!({
        "key": "push", "label": {"en": "Push"},
        "trigger": {"type": "record_created", "form": "ticket"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "call", "type": "http", "method": "POST", "url": format!("{base}/{{{{record.kind}}}}"),
             "body": {"title": {"var": "record.title"}}, "name": "push"},
            {"id": "fine", "type": "update_record", "set": {"status": "pushed"}},
            {"id": "gave_up", "type": "update_record", "set": {"status": {"cat": ["gave up: ", {"var": "vars.push.error"}]}}},
            {"id": "end", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "call"},
            {"from": "call", "to": "fine", "outcome": "ok"},
            {"from": "call", "to": "gave_up", "outcome": "failed"},
            {"from": "fine", "to": "end"},
            {"from": "gave_up", "to": "end"}
        ]
    })).await;
    let down = app
        .create_ok("ops", "ticket", json!({"title": "a", "kind": "down"}))
        .await;
    let reject = app
        .create_ok("ops", "ticket", json!({"title": "b", "kind": "reject"}))
        .await;
    let mut settled = Vec::new();
    for t in [&down, &reject] {
        let done = wait_instance(&app, &t["id"], "completed").await;
        let rec = expect(
            app.get(&format!("/apps/ops/forms/ticket/records/{}", t["id"]))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            rec["data"]["status"]
                .as_str()
                .is_some_and(|s| s.starts_with("gave up")),
            "{rec}"
        );
        let d = eventually("the effect settled", || async {
            let d = expect(
                app.get(&format!("/flow-instances/{}", done["instance"]["id"]))
                    .await,
                StatusCode::OK,
            )
            .await;
            (d["effects"][0]["status"] == "failed").then_some(d)
        })
        .await;
        settled.push(d["effects"][0].clone());
    }
    // 503: three attempts, one key, waits of about 1 s and then 2 s between them.
    let calls = rx.at("/down");
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls
            .iter()
            .all(|c| c.key.is_some() && c.key == calls[0].key)
    );
    let gap = |i: usize| calls[i + 1].at.duration_since(calls[i].at).as_secs_f64();
    assert!(gap(0) >= 0.9, "first wait {}", gap(0));
    assert!(gap(1) >= 1.9, "the wait doubles: {}", gap(1));
    assert_eq!(settled[0]["attempts"], 3, "{}", settled[0]);
    // 422: no retry.
    assert_eq!(rx.at("/reject").len(), 1);
    assert_eq!(settled[1]["attempts"], 1, "{}", settled[1]);
    let log = expect(
        app.get("/audit?action=flow.effect&limit=100").await,
        StatusCode::OK,
    )
    .await;
    let failed = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["after"]["status"] == "failed")
        .count();
    assert_eq!(failed, 2, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_retries_back_off_and_give_up_on_sqlite() {
    retries_back_off_and_give_up(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_retries_back_off_and_give_up_on_postgres() {
    retries_back_off_and_give_up(Store::Postgres).await;
}
