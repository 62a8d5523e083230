//! End to end: the real `tessera` binary on port 0 with a fresh data directory,
//! driven over HTTP like a browser would (cookies handled by hand, because the
//! `__Host-` cookies are `Secure` and HTTP clients disagree about loopback).

mod common;

use std::process::Command;

use common::http::Browser;
use common::{BIN, Server, add_user};

#[tokio::test]
async fn first_start_creates_data_dir_secret_key_0600_and_serves_the_login_page() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let mode = |f: &str| std::fs::metadata(data.join(f)).expect(f).permissions().mode() & 0o777;
    assert_eq!(mode("secret.key"), 0o600);
    assert_eq!(mode("tessera.db"), 0o600);
    assert_eq!(std::fs::read(data.join("secret.key")).expect("key").len(), 64);
    let page = Browser::new().get(&format!("{}/login", server.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Remember me"));
    server.stop();
}

#[tokio::test]
async fn a_login_survives_a_server_restart_because_sessions_are_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(add_user(&data, "ann@example.com", "user").status.success());
    let server = Server::start(&data);
    let mut browser = Browser::new();
    browser.login(&server.base, "", "ann@example.com", false, &[]).await;
    let page = browser.get(&format!("{}/account", server.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ann@example.com"));
    server.stop();

    let server = Server::start(&data);
    let page = browser.get(&format!("{}/account", server.base)).await;
    assert_eq!(page.status, 200, "still logged in after the restart");
    assert!(page.body.contains("ann@example.com"));
    server.stop();
}

#[tokio::test]
async fn remember_me_logs_the_browser_in_again_after_it_drops_its_session_cookie() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(add_user(&data, "bo@example.com", "user").status.success());
    let server = Server::start(&data);
    let mut browser = Browser::new();
    browser.login(&server.base, "", "bo@example.com", true, &[]).await;
    let remember = browser.jar.get("__Host-ts_remember_portal").cloned().expect("remember cookie set");
    // A browser restart: session cookies are gone, persistent ones stay.
    browser.jar.retain(|name, _| name == "__Host-ts_remember_portal");
    let page = browser.get(&format!("{}/account", server.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("bo@example.com"));
    assert!(browser.jar.contains_key("__Host-ts_portal"), "a new session cookie");
    assert_ne!(browser.jar.get("__Host-ts_remember_portal"), Some(&remember), "the token rotated");
    server.stop();
}

#[test]
fn user_add_refuses_a_second_account_with_the_same_email_on_the_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let first = add_user(&data, "cy@example.com", "agent");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("Created agent cy@example.com on site 1001"));
    let again = add_user(&data, "CY@example.com", "user");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has an account"));
}

#[test]
fn cookies_command_prints_the_registry_as_json_with_the_contract_fields() {
    let out = Command::new(BIN).args(["cookies", "--format", "json"]).output().expect("run cookies");
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = list.as_array().expect("an array");
    let names: Vec<&str> = list.iter().filter_map(|c| c["name"].as_str()).collect();
    for expected in [
        "__Host-ts_portal",
        "__Host-ts_agent",
        "__Host-ts_admin",
        "__Host-ts_remember_portal",
        "__Host-ts_remember_agent",
        "__Host-ts_csrf",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    for c in list {
        for field in [
            "name",
            "purpose",
            "category",
            "lifetime",
            "max_age_seconds",
            "party",
            "set_by",
            "audience",
            "http_only",
            "secure",
            "same_site",
            "partitioned",
        ] {
            assert!(c.get(field).is_some(), "{field} missing in {c}");
        }
    }
    let md = Command::new(BIN).args(["cookies"]).output().expect("run cookies");
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("| Name | Description | Type | Applies to |"));
}

#[test]
fn cookies_command_speaks_every_catalogue_language_and_says_when_it_cannot() {
    let run = |lang: &str| Command::new(BIN).args(["cookies", "--lang", lang]).output().expect("run cookies");
    let fr = run("fr");
    let fr_text = String::from_utf8_lossy(&fr.stdout);
    assert!(fr_text.starts_with("| Nom | Description | Type |"), "{fr_text}");
    assert!(fr_text.contains("Essentiel") && fr_text.contains("__Host-ts_v"), "{fr_text}");
    let da = String::from_utf8_lossy(&run("da").stdout).into_owned();
    assert!(da.contains("Nødvendig"), "{da}");
    let de = run("de");
    assert!(de.status.success());
    assert!(String::from_utf8_lossy(&de.stderr).contains("no catalogue for de"));
    assert!(String::from_utf8_lossy(&de.stdout).starts_with("| Name |"), "German falls back to English");
}

#[test]
fn settings_from_the_environment_override_the_file_and_bad_settings_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tessera.toml"), "[remember]\nportal_max_age_seconds = 86400\n")
        .expect("write toml");
    let json = |envs: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(["cookies", "--format", "json", "--data"])
            .arg(dir.path())
            .envs(envs.iter().copied())
            .output()
            .expect("run cookies");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, _) = json(&[]);
    assert!(ok && out.contains("\"max_age_seconds\": 86400"), "file setting applies: {out}");
    let (ok, out, _) = json(&[("TESSERA_REMEMBER__PORTAL_MAX_AGE_SECONDS", "7200")]);
    assert!(ok && out.contains("\"max_age_seconds\": 7200"), "environment wins over the file: {out}");
    let (ok, _, err) = json(&[("TESSERA_REMEMBER__PORTAL_MAX_AGE_SECONDZ", "1")]);
    assert!(!ok && err.contains("invalid settings"), "a typo is an error, not a silent default: {err}");
    let (ok, _, err) = json(&[("TESSERA_REQUIRE_BROWSER", "1")]);
    assert!(ok && err.contains("ignoring TESSERA_REQUIRE_BROWSER"), "not a setting, but said so: {err}");
}

#[test]
fn the_readme_cookie_table_is_exactly_what_the_registry_generates() {
    let out = Command::new(BIN).args(["cookies", "--format", "md"]).output().expect("run cookies");
    let table = String::from_utf8(out.stdout).expect("UTF-8");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    assert!(
        readme.contains(&table),
        "README.md's cookie table is stale; paste the output of `tessera cookies`:\n{table}"
    );
}

/// Only in builds with the `test-clock` feature (the test suite is run with
/// `--all-features`); a default build has neither the flag nor the route.
#[cfg(feature = "test-clock")]
#[tokio::test]
async fn the_test_clock_moves_the_servers_time_only_when_started_with_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(add_user(&data, "ida@example.com", "user").status.success());
    let advance = |base: &str| {
        let url = format!("{base}/__test/clock?advance=3601");
        async move { reqwest::Client::new().post(url).send().await.expect("POST").status().as_u16() }
    };

    let server = Server::start(&data);
    assert_eq!(advance(&server.base).await, 404, "no clock route without --test-clock");
    server.stop();

    let server = Server::start_with(&data, &["--test-clock"]);
    let mut browser = Browser::new();
    browser.login(&server.base, "", "ida@example.com", false, &[]).await;
    assert_eq!(browser.get(&format!("{}/account", server.base)).await.status, 200);
    assert_eq!(advance(&server.base).await, 200);
    let status = browser.get(&format!("{}/account", server.base)).await.status;
    assert_eq!(status, 303, "an hour and a second idle: the portal session expired on the real server");
    server.stop();
}

#[tokio::test]
async fn the_demo_serves_a_customer_website_on_another_origin_that_may_embed_the_messenger() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_with(dir.path(), &["--demo"]);
    let shop = server.demo.as_ref().expect("demo logins").shop.clone();
    assert!(shop.starts_with("http://localhost:"), "another origin than {}: {shop}", server.base);
    for page in ["/", "/pricing", "/contact"] {
        let html = reqwest::get(format!("{shop}{page}")).await.expect("shop page").text().await.expect("text");
        assert!(html.contains(&format!("src=\"{}/tag.js\" data-site=\"1001\"", server.base)), "{page}: {html}");
    }
    let client = reqwest::Client::new();
    let manifest = client
        .get(format!("{}/messenger/manifest?site=1001", server.base))
        .header("origin", &shop)
        .send()
        .await
        .expect("manifest");
    let allowed = manifest.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok());
    assert_eq!(allowed, Some(shop.as_str()), "the shop is an embedding origin of the demo site");
}
