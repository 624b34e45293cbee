//! HTTP: routes, extractors, the error shape. Handlers are thin: extract, call one
//! service, map the result.

pub mod apps;
pub mod audit;
pub mod auth;
pub mod error;
pub mod extract;
pub mod files;
pub mod flows;
pub mod health;
pub mod openapi;
pub mod records;
pub mod reports;
pub mod transfer;
pub mod upload;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use std::path::Path;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::auth::AuthService;
use crate::config::AuthSettings;
use crate::service::files::FileService;
use crate::service::forms::FormService;
use crate::service::records::RecordService;
use crate::store::db::Db;
use error::ApiError;

/// What every handler shares. Cloned for every request by axum's `State` (and the
/// authentication layer), so it is one `Arc`: a clone is one reference-count increment
/// rather than dozens (a profile of creates showed the deep clone at several percent).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(std::sync::Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub db: Db,
    pub forms: FormService,
    pub records: RecordService,
    pub files: FileService,
    pub auth: AuthService,
    pub flows: crate::flows::FlowService,
    pub reports: crate::reports::ReportService,
    pub auth_settings: AuthSettings,
    /// Proxies whose X-Forwarded-For names the client (`server.trusted_proxies`).
    pub trusted_proxies: Vec<crate::config::TrustedProxy>,
    /// Largest import upload, in bytes.
    pub import_limit: usize,
    /// `[testing] clock`: the clock endpoint exists.
    pub testing_clock: bool,
    /// Signs the operation log's checkpoints (`[audit] signing_key`).
    pub signer: std::sync::Arc<crate::store::signing::Signer>,
}

/// Built assets (`/assets/…`) carry a content hash in their names: cache them for a year.
/// Everything else of the web UI (index.html, the API docs) is revalidated every time, so
/// a new build is picked up at once.
async fn web_cache_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    if res.status().is_success() {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(value),
        );
    }
    res
}

/// A NUL character (`%00`) in the path or the query is refused up front: no key, id or
/// filter value has one, and PostgreSQL cannot even store it in text (bodies are checked
/// by `service::prepare`, with a pointer to the value).
async fn refuse_nul(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let uri = req.uri();
    let has_nul = |s: &str| {
        s.contains('\0')
            || s.as_bytes()
                .windows(3)
                .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    };
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        let where_ = if has_nul(uri.path()) { "path" } else { "query" };
        return axum::response::IntoResponse::into_response(ApiError::from(
            crate::error::DomainError::bad_request(
                "",
                "nul",
                format!("the request's {where_} may not contain NUL (%00) characters"),
            ),
        ));
    }
    next.run(req).await
}

pub fn router(state: AppState, body_limit: usize, web_dir: &Path) -> Router {
    let records = Router::new()
        .route("/", get(records::list).post(records::create))
        .route("/query", post(records::query))
        .route(
            "/bulk",
            post(records::bulk_create).put(records::bulk_update),
        )
        .route("/import", post(transfer::import))
        .route("/export", get(transfer::export))
        .route(
            "/{id}",
            get(records::get)
                .put(records::replace)
                .patch(records::patch)
                .delete(records::delete),
        )
        .route("/{id}/restore", post(records::restore))
        .route("/{id}/print", get(records::print))
        .route("/{id}/history", get(audit::history));
    // Everything but these few routes needs a caller (session cookie or API token).
    let public = Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/openapi.json", get(openapi::platform))
        .route("/auth/login", post(auth::login))
        .route("/hooks/{app}/{flow}", post(flows::hook));
    let protected = Router::new()
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route(
            "/auth/tokens",
            get(auth::list_tokens).post(auth::create_token),
        )
        .route("/auth/tokens/{id}", delete(auth::revoke_token))
        .route(
            "/admin/users",
            get(auth::list_users).post(auth::create_user),
        )
        .route(
            "/admin/users/{username}",
            get(auth::get_user).patch(auth::update_user),
        )
        .route("/admin/users/{username}/roles", put(auth::set_user_roles))
        .route("/admin/departments", get(auth::list_departments))
        .route("/directory/users", get(auth::directory_users))
        .route("/admin/clock", get(flows::clock).post(flows::advance_clock))
        .route("/admin/departments/{id}", put(auth::put_department))
        .route("/apps/{app}/roles", get(auth::list_roles))
        .route(
            "/apps/{app}/roles/{role}",
            get(auth::get_role)
                .put(auth::put_role)
                .delete(auth::delete_role),
        )
        .route("/apps/{app}/explain", get(auth::explain))
        .route("/apps/{app}/reports", get(reports::list_reports))
        .route(
            "/apps/{app}/reports/{key}",
            get(reports::get_report).put(reports::put_report),
        )
        .route(
            "/apps/{app}/reports/{key}/run",
            post(reports::run).get(reports::download),
        )
        .route("/apps/{app}/report-preview", post(reports::preview))
        .route("/apps/{app}/dashboards", get(reports::list_dashboards))
        .route(
            "/apps/{app}/dashboards/{key}",
            get(reports::get_dashboard).put(reports::put_dashboard),
        )
        .route("/apps/{app}/flows", get(flows::list))
        .route("/apps/{app}/flows/{flow}", get(flows::get))
        .route("/apps/{app}/flows/{flow}/draft", put(flows::put_draft))
        .route("/apps/{app}/flows/{flow}/publish", post(flows::publish))
        .route("/apps/{app}/flows/{flow}/versions", get(flows::versions))
        .route(
            "/apps/{app}/flows/{flow}/versions/{version}",
            get(flows::version),
        )
        .route("/apps/{app}/flows/{flow}/start", post(flows::start))
        .route("/apps/{app}/flows/{flow}/preview", post(flows::preview))
        .route("/apps/{app}/flows/{flow}/hook", get(flows::hook_secret))
        .route(
            "/apps/{app}/flows/{flow}/hook/rotate",
            post(flows::rotate_hook_secret),
        )
        .route("/flow-instances", get(flows::instances))
        .route("/flow-instances/{id}", get(flows::instance))
        .route("/flow-instances/{id}/cancel", post(flows::cancel))
        .route("/flow-instances/{id}/withdraw", post(flows::withdraw))
        .route("/tasks", get(flows::tasks))
        .route("/tasks/{id}", get(flows::task))
        .route("/tasks/{id}/complete", post(flows::complete))
        .route("/tasks/{id}/{action}", post(flows::task_action))
        .route("/inbox", get(flows::inbox))
        .route("/inbox/{id}/read", post(flows::read_message))
        .route("/audit", get(audit::list))
        .route("/audit/export", get(audit::export))
        .route("/audit/key", get(audit::key))
        .route("/apps/{app}/openapi.json", get(openapi::for_app))
        .route("/files", post(files::upload))
        .route("/files/{sha256}", get(files::download))
        .route("/apps", get(apps::list_apps))
        .route("/apps/{app}", get(apps::get_app).put(apps::put_app))
        .route("/apps/{app}/forms", get(apps::list_forms))
        .route("/apps/{app}/forms/{form}", get(apps::get_form))
        .route("/apps/{app}/forms/{form}/draft", put(apps::put_draft))
        .route("/apps/{app}/forms/{form}/publish", post(apps::publish))
        .route(
            "/apps/{app}/forms/{form}/versions",
            get(apps::list_versions),
        )
        .route(
            "/apps/{app}/forms/{form}/versions/{version}",
            get(apps::get_version),
        )
        .nest("/apps/{app}/forms/{form}/records", records)
        .route(
            "/apps/{app}/forms/{form}/views",
            get(records::views).post(records::create_view),
        )
        .route(
            "/apps/{app}/forms/{form}/views/{id}",
            put(records::replace_view).delete(records::delete_view),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    let api = public
        .merge(protected)
        .fallback(|| async {
            ApiError::http(StatusCode::NOT_FOUND, "not_found", "no such API route")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::http(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .with_state(state);
    let mut app = Router::new().nest("/api/v1", api).route(
        "/api/docs",
        get(|| async { axum::response::Redirect::permanent("/api-docs/") }),
    );
    if web_dir.join("index.html").exists() {
        let spa = ServeDir::new(web_dir)
            .precompressed_gzip()
            .fallback(ServeFile::new(web_dir.join("index.html")).precompressed_gzip());
        let web = Router::new()
            .fallback_service(spa)
            .layer(axum::middleware::from_fn(web_cache_headers));
        app = app.fallback_service(web);
    } else {
        app = app.fallback(|| async {
            axum::response::Html(
                "<!doctype html><title>Formwork</title><h1>Formwork</h1><p>The web UI is not built (run <code>make run</code>). The API is at <code>/api/v1</code>.</p>",
            )
        });
    }
    app.layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(refuse_nul))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                axum::response::IntoResponse::into_response(ApiError::http(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged",
                ))
            },
        ))
        .layer(TraceLayer::new_for_http())
}
