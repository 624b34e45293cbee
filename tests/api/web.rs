//! The web UI's static files: deep links fall back to index.html, hashed assets are
//! cached for a year and sent precompressed, index.html is revalidated.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};

use crate::helpers::{Store, TestApp};

#[tokio::test]
async fn the_web_ui_is_served_with_cache_headers_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>UI</title>").unwrap();
    std::fs::write(web.join("assets/app-abc123.js"), "console.log('plain')").unwrap();
    // A precompressed twin (content differs so the test sees which one was sent).
    std::fs::write(web.join("assets/app-abc123.js.gz"), b"\x1f\x8bgz").unwrap();
    let db = format!("sqlite://{}", dir.path().join("formwork.db").display());
    let app = TestApp::spawn_with(Store::Sqlite, dir, db).await;
    let http = reqwest::Client::new();

    let base = app.url("/").replace("/api/v1/", "/");
    let r = http
        .get(format!("{base}assets/app-abc123.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(r.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(r.text().await.unwrap(), "console.log('plain')");

    let r = http
        .get(format!("{base}assets/app-abc123.js"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"\x1f\x8bgz");

    // A deep link of the single-page app gets index.html, revalidated each time.
    let r = http
        .get(format!("{base}apps/crm/forms/service_order"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-cache");
    assert!(r.text().await.unwrap().contains("<title>UI</title>"));
    // The API is not shadowed by the fallback.
    let r = http.get(format!("{base}api/v1/nope")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers().get(CACHE_CONTROL).is_none());
    app.stop().await;
}
