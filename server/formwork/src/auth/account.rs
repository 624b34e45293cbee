//! Accounts: authentication per request, login and logout, passwords, API tokens, users,
//! departments, role documents and memberships. Every change goes through the writer with
//! its operation-log entry; secrets are stored only as hashes and never logged.

use serde_json::{Value, json};
use std::sync::Arc;

use super::ops::AuthWrite;
use super::password::{self, check_strength, digest};
use super::service::{AuthService, Caller, PLATFORM_ADMIN, Principal, Via};
use crate::error::{DomainError, DomainResult};
use crate::store::oplog::{Actor, Entry};

/// How long a process keeps credentials it read (SQLite), even when the identity
/// generation does not move: a bound on staleness should a process die between a commit
/// and moving the generation.
pub const CREDENTIALS_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// Credentials kept at most; the store is emptied when full.
const CREDENTIALS_KEPT: usize = 10_000;

/// A session's or token's row as read, with the user behind it.
pub(super) struct Credential {
    generation: u64,
    read_at: std::time::Instant,
    expires_at: Option<String>,
    secret_hash: Option<String>,
    revoked: bool,
    disabled: bool,
    principal: Arc<Principal>,
}

/// Credentials as they came with a request.
pub enum Credentials<'a> {
    Session(&'a str),
    Token(&'a str),
}

pub(super) fn entry(actor: &Actor, action: &'static str) -> Entry {
    Entry {
        actor: actor.clone(),
        action,
        app: None,
        form: None,
        record_id: None,
        before: None,
        after: None,
        reason: None,
    }
}

pub(super) fn later(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) fn ago(secs: u64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(secs as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) const USER_COLUMNS: &str = "u.username, u.display_name, u.email, u.department, u.platform_role, u.attributes, u.disabled, u.created_at, u.updated_at";

pub(super) fn user_json(r: &sea_orm::QueryResult) -> DomainResult<Value> {
    let attrs: String = r.try_get("", "attributes")?;
    Ok(json!({
        "username": r.try_get::<String>("", "username")?,
        "display_name": r.try_get::<String>("", "display_name")?,
        "email": r.try_get::<Option<String>>("", "email")?,
        "department": r.try_get::<Option<String>>("", "department")?,
        "platform_role": r.try_get::<Option<String>>("", "platform_role")?,
        "attributes": serde_json::from_str::<Value>(&attrs).unwrap_or(json!({})),
        "disabled": r.try_get::<i64>("", "disabled")? != 0,
        "created_at": r.try_get::<String>("", "created_at")?,
        "updated_at": r.try_get::<String>("", "updated_at")?,
    }))
}

impl AuthService {
    /// The caller behind a session secret or API token; 401 when it is unknown, expired,
    /// revoked or its user is disabled. A revocation on any server process is seen by the
    /// next request everywhere: on PostgreSQL every request reads the credentials (one
    /// query); on SQLite they are kept in memory until the identity generation moves —
    /// which every committed identity change does, in any process on the file
    /// (store::generation) — or for at most [`CREDENTIALS_TTL`].
    pub async fn authenticate(&self, creds: Credentials<'_>, actor: Actor) -> DomainResult<Caller> {
        let now = crate::time::now();
        let denied = || {
            DomainError::Unauthenticated("the session or token is not valid; log in again".into())
        };
        let (key, secret) = match creds {
            Credentials::Session(secret) => (format!("s:{}", digest(secret)), None),
            Credentials::Token(text) => {
                let mut parts = text.splitn(3, '.');
                let (Some("fwt"), Some(id), Some(secret)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(denied());
                };
                (format!("t:{id}"), Some(secret))
            }
        };
        let generation = self.db.identity.current();
        let keep = self.settings.keep_credentials && self.db.identity.is_shared();
        let cached = if keep {
            self.credentials
                .read()
                .ok()
                .and_then(|m| m.get(&key).cloned())
                .filter(|c| c.generation == generation && c.read_at.elapsed() < CREDENTIALS_TTL)
        } else {
            None
        };
        let found = match cached {
            Some(c) => c,
            None => {
                // Tagged with the generation read before the query: a change committed
                // meanwhile moves it past this tag, so the next request reads again.
                let c = Arc::new(
                    self.read_credentials(&key, generation)
                        .await?
                        .ok_or_else(denied)?,
                );
                if keep && let Ok(mut m) = self.credentials.write() {
                    if m.len() >= CREDENTIALS_KEPT {
                        m.clear();
                    }
                    m.insert(key, c.clone());
                }
                c
            }
        };
        if found.disabled || found.revoked {
            return Err(denied());
        }
        if let Some(exp) = &found.expires_at
            && *exp <= now
        {
            return Err(denied());
        }
        if let Some(secret) = secret
            && !password::same(found.secret_hash.as_deref().unwrap_or(""), &digest(secret))
        {
            return Err(denied());
        }
        let mut actor = actor;
        actor.user = found.principal.username.clone();
        actor.department = found.principal.department.clone();
        if let Via::Token { id, .. } = &found.principal.via {
            actor.client = Some(
                format!("token:{id} {}", actor.client.unwrap_or_default())
                    .trim()
                    .to_owned(),
            );
        }
        Ok(Caller {
            actor,
            principal: found.principal.clone(),
            acting: None,
        })
    }

    /// The row behind a session (`s:<digest>`) or token (`t:<id>`) key, with the user and
    /// the policy epoch; one query.
    async fn read_credentials(
        &self,
        key: &str,
        generation: u64,
    ) -> DomainResult<Option<Credential>> {
        let (sql, id) = match key.split_at(2) {
            ("s:", id) => (
                format!(
                    "SELECT {USER_COLUMNS}, s.expires_at, (SELECT epoch FROM auth_state WHERE id = 1) AS epoch \
                         FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = $1"
                ),
                id,
            ),
            (_, id) => (
                format!(
                    "SELECT {USER_COLUMNS}, t.secret_hash, t.expires_at, t.revoked_at, t.app, t.role, \
                         (SELECT epoch FROM auth_state WHERE id = 1) AS epoch \
                         FROM api_tokens t JOIN users u ON u.username = t.username WHERE t.id = $1"
                ),
                id,
            ),
        };
        let Some(row) = self.db.query_one(&sql, vec![id.to_owned().into()]).await? else {
            return Ok(None);
        };
        let token = key.starts_with("t:");
        let via = if token {
            Via::Token {
                id: id.to_owned(),
                app: row.try_get("", "app")?,
                role: row.try_get("", "role")?,
            }
        } else {
            Via::Session {
                digest: id.to_owned(),
            }
        };
        // Read straight from the row: this runs on every request on PostgreSQL.
        let attributes: String = row.try_get("", "attributes")?;
        Ok(Some(Credential {
            generation,
            read_at: std::time::Instant::now(),
            expires_at: row.try_get("", "expires_at")?,
            secret_hash: if token {
                Some(row.try_get("", "secret_hash")?)
            } else {
                None
            },
            revoked: token && row.try_get::<Option<String>>("", "revoked_at")?.is_some(),
            disabled: row.try_get::<i64>("", "disabled")? != 0,
            principal: Arc::new(Principal {
                username: row.try_get("", "username")?,
                display_name: row.try_get("", "display_name")?,
                department: row.try_get("", "department")?,
                platform_role: row.try_get("", "platform_role")?,
                attributes: serde_json::from_str(&attributes).unwrap_or_else(|_| json!({})),
                via,
                epoch: row.try_get("", "epoch")?,
            }),
        }))
    }

    async fn failures(&self, column: &str, value: &str) -> DomainResult<i64> {
        let row = self
            .db
            .query_one(
                &format!(
                    "SELECT COUNT(*) AS n FROM login_failures WHERE {column} = $1 AND at > $2"
                ),
                vec![
                    value.to_owned().into(),
                    ago(self.settings.failure_window).into(),
                ],
            )
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0))
    }

    /// Check a password and open a session: the session secret (for the cookie) and the user.
    pub async fn login(
        &self,
        username: &str,
        pass: &str,
        actor: &Actor,
    ) -> DomainResult<(String, Value)> {
        let address = actor.address.clone().unwrap_or_default();
        let too_many = self.failures("username", username).await?
            >= self.settings.max_failures_per_user
            || (!address.is_empty()
                && self.failures("address", &address).await?
                    >= self.settings.max_failures_per_address);
        if too_many {
            return Err(DomainError::TooMany {
                message: "too many failed logins; wait and try again".into(),
                retry_after: self.settings.failure_window,
            });
        }
        let row = self
            .db
            .query_one(
                "SELECT password_hash, disabled FROM users WHERE username = $1",
                vec![username.to_owned().into()],
            )
            .await?;
        let (stored, disabled) = match &row {
            Some(r) => (
                r.try_get::<Option<String>>("", "password_hash")?,
                r.try_get::<i64>("", "disabled")? != 0,
            ),
            None => (None, false),
        };
        let ok = password::verify(pass.to_owned(), stored).await && !disabled;
        if !ok {
            let mut e = entry(actor, "auth.login_failed");
            e.actor.user = "anonymous".into();
            e.after = Some(json!({"username": username}));
            self.writer
                .submit(
                    AuthWrite::new(e)
                        .stmt(
                            "INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)",
                            vec![
                                username.to_owned().into(),
                                actor.address.clone().into(),
                                crate::time::now().into(),
                            ],
                        )
                        .adds_only(),
                )
                .await?;
            return Err(DomainError::Unauthenticated(
                "wrong username or password".into(),
            ));
        }
        let secret = password::random_secret();
        let mut e = entry(actor, "auth.login");
        e.actor.user = username.to_owned();
        self.writer
            .submit(AuthWrite::new(e).stmt(
                "INSERT INTO sessions (id, username, csrf_hash, created_at, expires_at, address, client) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    digest(&secret).into(),
                    username.to_owned().into(),
                    digest(&password::csrf_for(&secret)).into(),
                    crate::time::now().into(),
                    later(self.settings.session_hours as i64).into(),
                    actor.address.clone().into(),
                    actor.client.clone().into(),
                ],
            ).adds_only())
            .await?;
        Ok((secret, self.user_row(username).await?))
    }

    pub async fn logout(&self, caller: &Caller) -> DomainResult<()> {
        if let Via::Session { digest } = &caller.principal.via {
            self.writer
                .submit(AuthWrite::new(entry(&caller.actor, "auth.logout")).stmt(
                    "DELETE FROM sessions WHERE id = $1",
                    vec![digest.clone().into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Change one's own password; every other session of the user ends.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> DomainResult<()> {
        let username = caller.principal.username.clone();
        let stored = self
            .db
            .query_one(
                "SELECT password_hash FROM users WHERE username = $1",
                vec![username.clone().into()],
            )
            .await?
            .map(|r| r.try_get::<Option<String>>("", "password_hash"))
            .transpose()?
            .flatten();
        if !password::verify(current.to_owned(), stored).await {
            return Err(DomainError::forbidden(
                "/current_password",
                "password",
                "the current password is wrong",
            ));
        }
        check_strength(new, "/new_password")?;
        let hash = password::hash(new.to_owned()).await?;
        let keep = match &caller.principal.via {
            Via::Session { digest } => digest.clone(),
            _ => String::new(),
        };
        let mut e = entry(&caller.actor, "auth.password_changed");
        e.after = Some(json!({"username": username}));
        self.writer
            .submit(
                AuthWrite::new(e)
                    .stmt(
                        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE username = $1",
                        vec![
                            username.clone().into(),
                            hash.into(),
                            crate::time::now().into(),
                        ],
                    )
                    .stmt(
                        "DELETE FROM sessions WHERE username = $1 AND id <> $2",
                        vec![username.into(), keep.into()],
                    ),
            )
            .await?;
        Ok(())
    }

    /// On first start (no administrator yet) create the first administrator. Returns the
    /// generated password when none was configured, for the terminal only.
    pub async fn bootstrap_admin(&self) -> DomainResult<Option<String>> {
        let any = self
            .db
            .query_one(
                "SELECT username FROM users WHERE platform_role = $1 LIMIT 1",
                vec![PLATFORM_ADMIN.into()],
            )
            .await?;
        if any.is_some() || self.user_row(&self.settings.initial_admin).await.is_ok() {
            return Ok(None);
        }
        let configured = self.settings.initial_admin_password.expose().to_owned();
        let (pass, generated) = if configured.is_empty() {
            (password::random_secret()[..20].to_owned(), true)
        } else {
            (configured, false)
        };
        let body = json!({
            "username": self.settings.initial_admin,
            "display_name": "Administrator",
            "platform_role": PLATFORM_ADMIN,
            "password": pass,
        });
        self.create_user(&Caller::system(), &body).await?;
        Ok(generated.then_some(pass))
    }
}
