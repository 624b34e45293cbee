//! The outbox of flows' external effects: email (SMTP), webhooks and HTTP requests
//! (docs/flows.md#outbox). A step writes its effects as rows in its own transaction, so
//! an effect exists exactly when the step committed. A delivery worker claims due rows
//! for a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the
//! work), sends each with its idempotency key, and settles it in a second transaction:
//! sent, retried later with backoff, or failed. A crash between sending and settling
//! sends again after the lease with the same key: at least once, never lost.
//!
//! HTTP destinations pass an egress guard: loopback, private, link-local (cloud
//! metadata), shared and reserved addresses are refused unless allow-listed, checked on
//! the resolved addresses that are then used for the connection, and again after every
//! redirect.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::engine::Inner;
use super::store::{self, Instance};
use super::{flow_actor, log_entry};
use crate::config::{FlowSettings, SmtpSettings};
use crate::error::{DomainError, DomainResult};
use crate::store::db::Backend;
use crate::store::writer::{Batch, WriteOp};

pub const KINDS: &[&str] = &["email", "webhook", "http", "report"];

/// Effects claimed per pass.
const CLAIM: i64 = 16;
/// Most redirects followed by an HTTP effect.
const MAX_REDIRECTS: usize = 5;
/// Most bytes of a response body kept.
const MAX_BODY: usize = 256 * 1024;

/// Queue an effect of `node` at `token` (the step's transaction). `seq` tells apart several
/// effects of one step (one email per recipient). `waits`: the token waits for the result
/// (an HTTP node) and moves on when it is settled.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn enqueue(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    token: i64,
    node: &str,
    seq: usize,
    kind: &str,
    request: Value,
    waits: bool,
) -> DomainResult<String> {
    let key = format!("fw-{}-{token}-{seq}", inst.id);
    txn.execute_raw(batch.stmt(
        "INSERT INTO flow_outbox (instance_id, token_id, node, kind, request, idempotency_key, waits, status, attempts, next_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
        vec![
            inst.id.into(),
            token.into(),
            node.into(),
            kind.into(),
            request.to_string().into(),
            key.clone().into(),
            i64::from(waits).into(),
            batch.now.clone().into(),
        ],
    ))
    .await?;
    Ok(key)
}

/// The rendering context as `as_role` may read it: the record and the variables computed
/// from records (flows::mask); no role: as the flow sees it.
async fn ctx_as(
    inner: &Arc<Inner>,
    inst: &Instance,
    data: &Value,
    as_role: Option<&str>,
) -> DomainResult<Value> {
    let Some(role) = as_role else {
        return Ok(super::engine::ctx_of(inst, data));
    };
    let caller = inner.auth.caller_for_role(&inst.app, role).await?;
    Ok(super::mask::context_for(inner, inst, data, Some(&caller)).await)
}

/// JSON Logic values of an object (`{key: logic}`), over `ctx`.
fn compute_map(v: Option<&Value>, ctx: &Value, at: &str) -> DomainResult<Value> {
    let mut out = serde_json::Map::new();
    for (k, logic) in v.and_then(Value::as_object).into_iter().flatten() {
        let value = crate::service::prepare::compute(logic, ctx)
            .map_err(|m| DomainError::invalid_one(&format!("{at}/{k}"), "value", m))?;
        out.insert(k.clone(), value);
    }
    Ok(Value::Object(out))
}

fn template(node: &serde_json::Map<String, Value>, key: &str, ctx: &Value) -> DomainResult<String> {
    super::engine::render_strict(node.get(key).and_then(Value::as_str).unwrap_or(""), ctx)
        .map_err(|m| DomainError::invalid_one(&format!("/{key}"), "template", m))
}

/// A `notify` node on the `email` or `webhook` channel: queue the effects.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn notify_node(
    inner: &Arc<Inner>,
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &serde_json::Map<String, Value>,
    data: &Value,
) -> DomainResult<Value> {
    let as_role = node.get("as_role").and_then(Value::as_str);
    let channel = node
        .get("channel")
        .and_then(Value::as_str)
        .unwrap_or("inbox");
    let mut keys = Vec::new();
    if channel == "webhook" {
        let ctx = ctx_as(inner, inst, data, as_role).await?;
        let payload = match node.get("payload") {
            Some(_) => compute_map(node.get("payload"), &ctx, "/payload")?,
            None => {
                json!({"flow": inst.flow, "instance": inst.id, "node": node_id, "record": ctx["record"]})
            }
        };
        let request = json!({
            "method": "POST",
            "url": template(node, "url", &ctx)?,
            "headers": node.get("headers").cloned().unwrap_or(json!({})),
            "body": payload,
        });
        keys.push(
            enqueue(
                txn, batch, inst, token, node_id, 0, "webhook", request, false,
            )
            .await?,
        );
        inner.outbox_wake.notify_one();
        return Ok(json!({"channel": channel, "keys": keys}));
    }
    // Email: each user recipient gets the message rendered through their own field mask;
    // addresses (`address`) get it rendered through `as_role`'s mask.
    let users = match node.get("to") {
        Some(a) => super::engine::resolve(txn, batch, inst, data, a).await?,
        None => Vec::new(),
    };
    let mut seq = 0;
    let mut skipped = Vec::new();
    for u in &users {
        let row = txn
            .query_one_raw(batch.stmt(
                "SELECT email FROM users WHERE username = $1",
                vec![u.clone().into()],
            ))
            .await?;
        let email: Option<String> = row.map(|r| r.try_get("", "email")).transpose()?.flatten();
        let Some(email) = email.filter(|e| !e.is_empty()) else {
            skipped.push(u.clone());
            continue;
        };
        let caller = inner.auth.caller_for(u).await.ok();
        let ctx = super::mask::context_for(inner, inst, data, caller.as_ref()).await;
        let request = json!({
            "to": [email],
            "subject": super::engine::render(node.get("title").and_then(Value::as_str).unwrap_or(""), &ctx),
            "body": super::engine::render(node.get("body").and_then(Value::as_str).unwrap_or(""), &ctx),
        });
        keys.push(
            enqueue(
                txn, batch, inst, token, node_id, seq, "email", request, false,
            )
            .await?,
        );
        seq += 1;
    }
    if let Some(a) = node.get("address") {
        let ctx = ctx_as(inner, inst, data, as_role).await?;
        let addresses = crate::service::prepare::compute(a, &super::engine::ctx_of(inst, data))
            .map_err(|m| DomainError::invalid_one("/address", "value", m))?;
        let list: Vec<Value> = match addresses {
            Value::Array(a) => a
                .into_iter()
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                .collect(),
            Value::String(s) if !s.is_empty() => vec![Value::String(s)],
            _ => Vec::new(),
        };
        if !list.is_empty() {
            let request = json!({
                "to": list,
                "subject": super::engine::render(node.get("title").and_then(Value::as_str).unwrap_or(""), &ctx),
                "body": super::engine::render(node.get("body").and_then(Value::as_str).unwrap_or(""), &ctx),
            });
            keys.push(
                enqueue(
                    txn, batch, inst, token, node_id, seq, "email", request, false,
                )
                .await?,
            );
        }
    }
    inner.outbox_wake.notify_one();
    Ok(json!({"channel": channel, "to": users, "without_email": skipped, "keys": keys}))
}

/// An `http` node: queue the request; the token waits for the answer.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn http_node(
    inner: &Arc<Inner>,
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &serde_json::Map<String, Value>,
    data: &Value,
) -> DomainResult<Value> {
    let ctx = ctx_as(
        inner,
        inst,
        data,
        node.get("as_role").and_then(Value::as_str),
    )
    .await?;
    let method = node
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("POST")
        .to_uppercase();
    let mut headers = serde_json::Map::new();
    for (h, t) in node
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let v = super::engine::render_strict(t.as_str().unwrap_or(""), &ctx)
            .map_err(|m| DomainError::invalid_one(&format!("/headers/{h}"), "template", m))?;
        headers.insert(h.clone(), Value::String(v));
    }
    let body = match node.get("body") {
        Some(_) if method != "GET" => compute_map(node.get("body"), &ctx, "/body")?,
        _ => Value::Null,
    };
    let url = template(node, "url", &ctx)?;
    let request = json!({"method": method, "url": url, "headers": headers, "body": body});
    let key = enqueue(txn, batch, inst, token, node_id, 0, "http", request, true).await?;
    Ok(json!({"method": method, "url": url, "key": key}))
}

/// A report node: the run waits in the outbox (it reads outside the step's transaction,
/// and a big first run builds caches) and resumes the node with the result.
pub(crate) async fn report_node(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &serde_json::Map<String, Value>,
) -> DomainResult<Value> {
    let request = json!({
        "app": inst.app,
        "report": node.get("report"),
        "as_role": node.get("as_role"),
        "filter": node.get("filter"),
    });
    let key = enqueue(txn, batch, inst, token, node_id, 0, "report", request, true).await?;
    Ok(json!({"report": node.get("report"), "as_role": node.get("as_role"), "key": key}))
}

/// Run a report for a report node, as its role.
async fn run_report(inner: &Arc<Inner>, req: &Value) -> Outcome {
    let Some(reports) = inner.reports.get() else {
        return Outcome::Retry("the report service is not ready".into(), Value::Null);
    };
    let (app, key, role) = (
        req["app"].as_str().unwrap_or_default(),
        req["report"].as_str().unwrap_or_default(),
        req["as_role"].as_str().unwrap_or_default(),
    );
    let caller = match inner.auth.caller_for_role(app, role).await {
        Ok(c) => c,
        Err(e) => return Outcome::Fail(format!("as_role {role}: {e}"), Value::Null),
    };
    let filter = Some(req["filter"].clone()).filter(Value::is_object);
    match reports.run_saved(app, key, filter, &caller).await {
        Ok(result) => Outcome::Sent(json!({"status": 200, "body": result})),
        Err(DomainError::Internal(e)) => Outcome::Retry(e.to_string(), Value::Null),
        Err(e) => Outcome::Fail(e.to_string(), Value::Null),
    }
}

/// Run the delivery worker until the writer closes.
pub(crate) fn spawn(inner: Arc<Inner>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = inner.outbox_wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if inner.writer.is_closed() {
                break;
            }
            loop {
                match pass(&inner).await {
                    Ok(n) if n as i64 >= CLAIM => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox pass failed");
                        break;
                    }
                }
            }
        }
    })
}

#[derive(Debug, Clone)]
struct Claimed {
    id: i64,
    kind: String,
    request: Value,
    key: String,
    attempts: i64,
}

/// Claim due effects, deliver them concurrently, settle each. Returns how many were claimed.
async fn pass(inner: &Arc<Inner>) -> DomainResult<usize> {
    // A cheap look first: most passes find nothing, and then need no write transaction.
    let due = inner
        .db
        .query_one(
            "SELECT id FROM flow_outbox WHERE status = 'pending' AND next_at <= $1 LIMIT 1",
            vec![inner.db.clock.now().into()],
        )
        .await?;
    if due.is_none() {
        return Ok(0);
    }
    let claimed = inner
        .writer
        .submit(Claim {
            lease: inner.flow_settings.outbox_lease,
        })
        .await?;
    let claimed: Vec<Claimed> = claimed
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Claimed {
            id: c["id"].as_i64().unwrap_or(0),
            kind: c["kind"].as_str().unwrap_or("").to_owned(),
            request: c["request"].clone(),
            key: c["key"].as_str().unwrap_or("").to_owned(),
            attempts: c["attempts"].as_i64().unwrap_or(0),
        })
        .collect();
    let n = claimed.len();
    let results = futures::future::join_all(claimed.iter().map(|c| deliver(inner, c))).await;
    for (c, result) in claimed.into_iter().zip(results) {
        super::failpoint("outbox_after_send");
        inner
            .writer
            .submit(Settle {
                inner: inner.clone(),
                id: c.id,
                attempts: c.attempts,
                result,
            })
            .await?;
    }
    if n > 0 {
        inner.wake.notify_one();
    }
    Ok(n)
}

struct Claim {
    lease: u64,
}

impl WriteOp for Claim {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let skip = match batch.backend {
                Backend::Postgres => " FOR UPDATE SKIP LOCKED",
                Backend::Sqlite => "",
            };
            let rows = txn
                .query_all_raw(batch.stmt(
                    &format!("SELECT id, kind, request, idempotency_key, attempts FROM flow_outbox WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT {CLAIM}{skip}"),
                    vec![batch.now.clone().into()],
                ))
                .await?;
            let until = later(&batch.now, self.lease as f64);
            let mut out = Vec::new();
            for r in rows {
                let id: i64 = r.try_get("", "id")?;
                let attempts: i64 = r.try_get::<i64>("", "attempts")? + 1;
                txn.execute_raw(batch.stmt(
                    "UPDATE flow_outbox SET attempts = $2, next_at = $3 WHERE id = $1",
                    vec![id.into(), attempts.into(), until.clone().into()],
                ))
                .await?;
                let request: String = r.try_get("", "request")?;
                out.push(json!({
                    "id": id,
                    "kind": r.try_get::<String>("", "kind")?,
                    "request": serde_json::from_str::<Value>(&request).unwrap_or(Value::Null),
                    "key": r.try_get::<String>("", "idempotency_key")?,
                    "attempts": attempts,
                }));
            }
            Ok(Value::Array(out))
        })
    }
}

/// `at` plus `secs` seconds, RFC 3339 UTC like every stored time.
fn later(at: &str, secs: f64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(at)
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    (base + chrono::Duration::milliseconds((secs * 1000.0) as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a delivery came to.
#[derive(Debug)]
enum Outcome {
    /// Delivered (for HTTP: a 2xx answer).
    Sent(Value),
    /// Not delivered; worth trying again (network, 5xx, 408, 429, no SMTP yet).
    Retry(String, Value),
    /// Not delivered and trying again cannot help (refused destination, other 4xx).
    Fail(String, Value),
}

async fn deliver(inner: &Arc<Inner>, c: &Claimed) -> Outcome {
    let timeout = Duration::from_secs(inner.flow_settings.request_timeout.max(1));
    match c.kind.as_str() {
        "email" => send_email(&inner.smtp, &c.request, &c.key, timeout).await,
        "webhook" | "http" => send_http(&inner.flow_settings, &c.request, &c.key, timeout).await,
        "report" => run_report(inner, &c.request).await,
        other => Outcome::Fail(format!("unknown effect kind {other}"), Value::Null),
    }
}

async fn send_email(smtp: &SmtpSettings, req: &Value, key: &str, timeout: Duration) -> Outcome {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    if smtp.host.is_empty() {
        return Outcome::Retry(
            "no SMTP server is configured ([smtp] host)".into(),
            Value::Null,
        );
    }
    let from = match smtp.from.parse() {
        Ok(f) => f,
        Err(e) => return Outcome::Retry(format!("smtp.from: {e}"), Value::Null),
    };
    let mut b = Message::builder()
        .from(from)
        .subject(req["subject"].as_str().unwrap_or(""))
        .message_id(Some(format!("<{key}@formwork>")))
        .header(ContentType::TEXT_PLAIN);
    for to in req["to"].as_array().into_iter().flatten() {
        match to.as_str().unwrap_or("").parse() {
            Ok(m) => b = b.to(m),
            Err(e) => return Outcome::Fail(format!("recipient {to}: {e}"), Value::Null),
        }
    }
    let message = match b.body(req["body"].as_str().unwrap_or("").to_owned()) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(format!("message: {e}"), Value::Null),
    };
    let builder = match smtp.tls.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        "none" => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &smtp.host,
        )),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
    };
    let mut builder = match builder {
        Ok(b) => b.port(smtp.port).timeout(Some(timeout)),
        Err(e) => return Outcome::Retry(format!("smtp: {e}"), Value::Null),
    };
    if !smtp.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            smtp.username.clone(),
            smtp.password.expose().to_owned(),
        ));
    }
    match builder.build().send(message).await {
        Ok(r) => Outcome::Sent(json!({"code": r.code().to_string()})),
        Err(e) if e.is_permanent() => Outcome::Fail(format!("smtp: {e}"), Value::Null),
        Err(e) => Outcome::Retry(format!("smtp: {e}"), Value::Null),
    }
}

async fn send_http(settings: &FlowSettings, req: &Value, key: &str, timeout: Duration) -> Outcome {
    let mut method = req["method"].as_str().unwrap_or("POST").to_uppercase();
    let mut url = match reqwest::Url::parse(req["url"].as_str().unwrap_or("")) {
        Ok(u) => u,
        Err(e) => return Outcome::Fail(format!("url: {e}"), Value::Null),
    };
    let mut body = req.get("body").filter(|b| !b.is_null()).cloned();
    for _ in 0..=MAX_REDIRECTS {
        let addrs = match egress_check(&url, &settings.http_allow).await {
            Ok(a) => a,
            Err(Refusal::Permanent(m)) => return Outcome::Fail(m, Value::Null),
            Err(Refusal::Lookup(m)) => return Outcome::Retry(m, Value::Null),
        };
        let host = url.host_str().unwrap_or("").to_owned();
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .resolve_to_addrs(&host, &addrs)
            .build()
        {
            Ok(c) => c,
            Err(e) => return Outcome::Retry(format!("http client: {e}"), Value::Null),
        };
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut rb = client
            .request(m, url.clone())
            .header("idempotency-key", key)
            .header("user-agent", "formwork-flows");
        for (h, v) in req["headers"].as_object().into_iter().flatten() {
            if let Some(v) = v.as_str() {
                rb = rb.header(h.as_str(), v);
            }
        }
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(format!("{url}: {e}"), Value::Null),
        };
        let status = resp.status();
        if status.is_redirection()
            && let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok())
        {
            url = match url.join(loc) {
                Ok(u) => u,
                Err(e) => return Outcome::Fail(format!("redirect: {e}"), Value::Null),
            };
            // 303 (and 301/302 after a POST, as browsers do) continue with a GET.
            if status.as_u16() == 303 || (matches!(status.as_u16(), 301 | 302) && method == "POST")
            {
                method = "GET".into();
                body = None;
            }
            continue;
        }
        let bytes = resp.bytes().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY)]).into_owned();
        let parsed = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        let answer = json!({"status": status.as_u16(), "body": parsed});
        return if status.is_success() {
            Outcome::Sent(answer)
        } else if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            Outcome::Retry(format!("{url} answered {status}"), answer)
        } else {
            Outcome::Fail(format!("{url} answered {status}"), answer)
        };
    }
    Outcome::Fail(format!("more than {MAX_REDIRECTS} redirects"), Value::Null)
}

enum Refusal {
    Permanent(String),
    Lookup(String),
}

/// The addresses to connect to for `url`, when every one of them is allowed.
async fn egress_check(url: &reqwest::Url, allow: &[String]) -> Result<Vec<SocketAddr>, Refusal> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Permanent(format!(
            "{url}: only http and https are allowed"
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| Refusal::Permanent(format!("{url}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| Refusal::Lookup(format!("{host}: {e}")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refusal::Lookup(format!("{host}: no address")));
    }
    for a in &addrs {
        if let Some(class) = restricted(a.ip())
            && !allowed(allow, &host, port, a.ip())
        {
            return Err(Refusal::Permanent(format!(
                "refused: {host} is {} (a {class} address); an administrator may allow it in flows.http_allow",
                a.ip()
            )));
        }
    }
    Ok(addrs)
}

/// Why an address is not a public destination, if it is not.
pub fn restricted(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => restricted_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return restricted_v4(v4);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64: judge the IPv4 address inside.
                restricted_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ))
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("documentation")
            } else {
                None
            }
        }
    }
}

fn restricted_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local or cloud metadata")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_broadcast() || ip.is_multicast() || o[0] >= 240 {
        Some("broadcast, multicast or reserved")
    } else if ip.is_documentation() || (o[0] == 198 && (o[1] & 0xfe) == 18) {
        Some("documentation or benchmarking")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignments")
    } else {
        None
    }
}

/// Whether an allow-list entry (`host`, `host:port`, or a CIDR block) admits this
/// destination.
pub fn allowed(allow: &[String], host: &str, port: u16, ip: IpAddr) -> bool {
    allow.iter().any(|rule| {
        let rule = rule.trim();
        if let Some((net, bits)) = rule.split_once('/') {
            let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
                return false;
            };
            return in_block(ip, net, bits);
        }
        let (h, p) = match rule.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse::<u16>().ok(),
            ),
            _ => (rule, None),
        };
        let host_matches =
            h.eq_ignore_ascii_case(host) || h.parse::<IpAddr>().is_ok_and(|a| a == ip);
        host_matches && p.is_none_or(|p| p == port)
    })
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Settle a delivery: sent, retry later, or failed; a waiting HTTP node moves on.
struct Settle {
    inner: Arc<Inner>,
    id: i64,
    attempts: i64,
    result: Outcome,
}

impl WriteOp for Settle {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let lock = store::for_update(batch.backend);
            let Some(row) = txn
                .query_one_raw(batch.stmt(
                    &format!("SELECT instance_id, token_id, node, waits, status, attempts, idempotency_key FROM flow_outbox WHERE id = $1{lock}"),
                    vec![self.id.into()],
                ))
                .await?
            else {
                return Ok(Value::Null);
            };
            let status: String = row.try_get("", "status")?;
            let attempts: i64 = row.try_get("", "attempts")?;
            if status != "pending" || attempts != self.attempts {
                // Settled already, or claimed again after our lease ran out.
                return Ok(Value::Null);
            }
            let settings = &self.inner.flow_settings;
            let (new_status, error, response) = match &self.result {
                Outcome::Sent(r) => ("sent", None, r.clone()),
                Outcome::Retry(e, r) if attempts < settings.outbox_max_attempts => {
                    let wait = (settings.outbox_backoff as f64)
                        * 2f64.powi((attempts - 1).clamp(0, 20) as i32);
                    txn.execute_raw(batch.stmt(
                        "UPDATE flow_outbox SET next_at = $2, last_error = $3, response = $4 WHERE id = $1",
                        vec![self.id.into(), later(&batch.now, wait.min(3600.0)).into(), e.clone().into(), r.to_string().into()],
                    ))
                    .await?;
                    return Ok(Value::Null);
                }
                Outcome::Retry(e, r) | Outcome::Fail(e, r) => {
                    ("failed", Some(e.clone()), r.clone())
                }
            };
            txn.execute_raw(batch.stmt(
                "UPDATE flow_outbox SET status = $2, last_error = $3, response = $4, sent_at = $5 WHERE id = $1",
                vec![
                    self.id.into(),
                    new_status.into(),
                    error.clone().into(),
                    response.to_string().into(),
                    (new_status == "sent").then(|| batch.now.clone()).into(),
                ],
            ))
            .await?;
            let inst = store::instance(txn, batch.backend, row.try_get("", "instance_id")?).await?;
            let node: String = row.try_get("", "node")?;
            let key: String = row.try_get("", "idempotency_key")?;
            let actor = flow_actor(&inst.flow);
            batch
                .log(
                    txn,
                    log_entry(
                        &actor,
                        "flow.effect",
                        &inst.app,
                        inst.form.as_deref(),
                        inst.record_id,
                        json!({"instance": inst.id, "node": node, "key": key, "status": new_status, "attempts": attempts, "error": error}),
                        None,
                    ),
                )
                .await?;
            let waits: i64 = row.try_get("", "waits")?;
            let token: i64 = row.try_get("", "token_id")?;
            if waits == 0 || inst.status != "running" {
                return Ok(Value::Null);
            }
            resume(
                txn,
                batch,
                inst,
                token,
                &node,
                new_status == "sent",
                response,
                error,
            )
            .await?;
            Ok(Value::Null)
        })
    }
}

/// An HTTP node's answer arrived (or the request failed for good): keep the response in
/// `vars.<name>`, then follow the `ok` / `failed` edge (a single edge serves both when
/// there is no `failed` edge; then a failure fails the instance).
#[allow(clippy::too_many_arguments)]
async fn resume(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    mut inst: Instance,
    token: i64,
    node_id: &str,
    ok: bool,
    response: Value,
    error: Option<String>,
) -> DomainResult<()> {
    if !super::engine::lock_waiting(txn, batch, token).await? {
        return Ok(());
    }
    let status = response.get("status").cloned().unwrap_or(Value::Null);
    let mut result = json!({"ok": ok, "status": status, "body": response.get("body").cloned().unwrap_or(Value::Null)});
    if let Some(e) = &error {
        result["error"] = json!(e);
    }
    super::engine::resume_waiting(
        txn,
        batch,
        &mut inst,
        token,
        node_id,
        super::engine::Resumed {
            ok,
            ok_outcome: "ok",
            result,
            action: if ok { "responded" } else { "request_failed" },
            detail: json!({"error": error, "status": response.get("status")}),
            failure: error.clone().unwrap_or_else(|| "the request failed".into()),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_addresses_are_named() {
        for (ip, class) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local or cloud metadata"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("::1", "loopback"),
            ("fd00:ec2::254", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local or cloud metadata"),
        ] {
            assert_eq!(restricted(ip.parse().unwrap()), Some(class), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert_eq!(restricted(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn allow_list_entries() {
        let allow = vec![
            "127.0.0.1:9000".to_owned(),
            "hooks.internal".to_owned(),
            "10.0.0.0/8".to_owned(),
        ];
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(allowed(&allow, "127.0.0.1", 9000, lo));
        assert!(!allowed(&allow, "127.0.0.1", 9001, lo), "port must match");
        assert!(allowed(
            &allow,
            "HOOKS.internal",
            443,
            "192.168.0.5".parse().unwrap()
        ));
        assert!(allowed(&allow, "x", 80, "10.200.0.1".parse().unwrap()));
        assert!(!allowed(&allow, "x", 80, "11.0.0.1".parse().unwrap()));
        assert!(!allowed(
            &allow,
            "x",
            80,
            "169.254.169.254".parse().unwrap()
        ));
    }
}
