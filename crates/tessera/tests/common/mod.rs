//! Shared helpers for the binary's end-to-end tests: the real `tessera`
//! binary on port 0 with a fresh data directory.
#![allow(dead_code)]

pub mod browser;
pub mod http;

use std::io::{BufRead, BufReader, Lines, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");
pub const PASSWORD: &str = "correct horse battery";

/// A `tessera` command with cheap password hashing (tests log in a lot).
pub fn tessera() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("TESSERA_PASSWORD__ARGON2_MEMORY_KIB", "256").env("TESSERA_PASSWORD__ARGON2_ITERATIONS", "1");
    cmd
}

/// Moves the clock of the server at `base` (started with `--test-clock`).
pub async fn advance_clock(base: &str, seconds: i64) {
    let res = reqwest::Client::new()
        .post(format!("{base}/__test/clock?advance={seconds}"))
        .send()
        .await
        .expect("POST /__test/clock");
    assert!(res.status().is_success(), "the test clock moved: {}", res.status());
}

/// A running server; stopped (SIGTERM) on drop.
pub struct Server {
    child: Child,
    pub base: String,
    /// The demo logins printed by `serve --demo`; `None` without `--demo`.
    pub demo: Option<DemoLogins>,
}

/// The credentials `serve --demo` prints.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    pub agent_email: String,
    pub agent_password: String,
    pub site_id: String,
    pub admin_email: String,
    pub admin_password: String,
    /// The demo customer website's origin (`http://localhost:PORT`).
    pub shop: String,
    /// The same customer's second domain (`http://outlet.localhost:PORT`).
    pub outlet: String,
}

/// `  Agent: EMAIL  password: PW  site ID: 1001  (URL)`: the word after each label.
fn banner_field<'a>(line: &'a str, label: &str) -> &'a str {
    let rest = line.split(label).nth(1).unwrap_or_else(|| panic!("no {label:?} in the demo banner line {line:?}"));
    rest.split_whitespace().next().unwrap_or_else(|| panic!("nothing after {label:?} in {line:?}"))
}

/// `tessera serve` on `data` and `bind` with `extra` arguments, its stderr
/// dropped; returns it and the lines of its stdout (the banner first).
fn spawn_serve(data: &Path, bind: &str, extra: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = tessera()
        .args(["serve", "--data"])
        .arg(data)
        .args(["--bind", bind])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tessera serve");
    let stdout = child.stdout.take().expect("piped stdout");
    (child, BufReader::new(stdout).lines())
}

impl Server {
    pub fn start(data: &Path) -> Self {
        Self::start_with(data, &[])
    }

    /// Starts the server with extra `serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Self {
        let (child, mut lines) = spawn_serve(data, "127.0.0.1:0", extra);
        let first = lines.next().expect("a banner line").expect("readable banner");
        let base = first.rsplit(' ').next().expect("address at the end of the banner").to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "banner: {first}");
        let demo = extra.contains(&"--demo").then(|| {
            let (mut agent, mut admin) = (None, None);
            while agent.is_none() || admin.is_none() {
                let line = lines.next().expect("the demo logins in the banner").expect("readable banner");
                let line = line.trim();
                if !line.contains("password:") {
                    // The listening banner also has "Agent:" and "Admin:" lines.
                } else if line.starts_with("Agent:") {
                    agent = Some(line.to_owned());
                } else if line.starts_with("Admin:") {
                    admin = Some(line.to_owned());
                }
            }
            let (agent, admin) = (agent.unwrap_or_default(), admin.unwrap_or_default());
            let shop = loop {
                let line = lines.next().expect("the demo shop in the banner").expect("readable banner");
                if line.contains("Demo customer website") {
                    let url = line.rsplit(' ').next().unwrap_or_default();
                    break url.trim_end_matches('/').to_owned();
                }
            };
            let outlet = loop {
                let line = lines.next().expect("the demo outlet in the banner").expect("readable banner");
                if line.contains("second domain") {
                    let url = line.rsplit(' ').next().unwrap_or_default();
                    break url.trim_end_matches('/').to_owned();
                }
            };
            DemoLogins {
                agent_email: banner_field(&agent, "Agent:").to_owned(),
                agent_password: banner_field(&agent, "password:").to_owned(),
                site_id: banner_field(&agent, "site ID:").to_owned(),
                admin_email: banner_field(&admin, "Admin:").to_owned(),
                admin_password: banner_field(&admin, "password:").to_owned(),
                shop,
                outlet,
            }
        });
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base, demo }
    }

    /// SIGTERM, then wait: the server must shut down gracefully and exit 0.
    pub fn stop(mut self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for server");
        assert!(exit.success(), "server exited with {exit}");
        std::mem::forget(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn add_user(data: &Path, email: &str, role: &str) -> std::process::Output {
    let mut child = tessera()
        .args(["user", "add", "--data"])
        .arg(data)
        .args(["--email", email, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run user add");
    child.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("write password");
    child.wait_with_output().expect("user add output")
}

/// The cookie registry as `tessera cookies --format json` prints it for the
/// settings of data directory `data`.
pub fn cookie_registry(data: &Path) -> serde_json::Value {
    let out =
        Command::new(BIN).args(["cookies", "--format", "json", "--data"]).arg(data).output().expect("run cookies");
    assert!(out.status.success(), "tessera cookies: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the registry is JSON")
}

/// The registry's declaration of cookie `name`, if any.
/// The cookie declaration `name` matches: exactly, or with `{site}` standing
/// for a site ID (`ts_loader_url_{site}` matches `ts_loader_url_1001`).
pub fn declaration<'a>(registry: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    let matches = |declared: &str| match declared.split_once("{site}") {
        None => declared == name,
        Some((before, after)) => name
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|site| !site.is_empty() && site.bytes().all(|b| b.is_ascii_digit())),
    };
    registry
        .as_array()
        .expect("the registry is a list")
        .iter()
        .filter(|d| d["storage"] == "cookie")
        .find(|d| d["name"].as_str().is_some_and(matches))
}

/// Every cookie in the browser's jar (for the current page's origin) is
/// declared in `registry`, with the declared HttpOnly, Secure and SameSite,
/// an expiry exactly when it is persistent, and no expiry beyond its max age.
pub async fn assert_jar_matches_registry(client: &fantoccini::Client, registry: &serde_json::Value) {
    let jar = client.get_all_cookies().await.expect("the browser's cookies");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    for c in &jar {
        let name = c.name();
        let d =
            declaration(registry, name).unwrap_or_else(|| panic!("{name} is in the browser but not in the registry"));
        assert_eq!(c.http_only(), d["http_only"].as_bool(), "{name}: HttpOnly");
        // The tag's cookies are Secure exactly on HTTPS pages.
        let https = client.current_url().await.is_ok_and(|u| u.scheme() == "https");
        let secure = if d["set_by"] == "script" { Some(https) } else { d["secure"].as_bool() };
        assert_eq!(c.secure().unwrap_or(false), secure.unwrap_or(false), "{name}: Secure");
        let same_site = c.same_site().map(|s| s.to_string());
        assert_eq!(same_site.as_deref(), d["same_site"].as_str(), "{name}: SameSite");
        assert_eq!(c.path(), Some("/"), "{name}: path");
        match d["lifetime"].as_str() {
            Some("session") => assert!(c.expires().is_none(), "{name} is declared a session cookie: {c:?}"),
            Some("persistent") => {
                let expiry = c.expires_datetime().unwrap_or_else(|| panic!("{name} is declared persistent: {c:?}"));
                let max_age = d["max_age_seconds"].as_i64().unwrap_or_else(|| panic!("{name}: no max age declared"));
                let left = expiry.unix_timestamp() - now;
                assert!(left > 0 && left <= max_age + 60, "{name} expires in {left} s; declared max age {max_age} s");
            }
            other => panic!("{name}: unknown lifetime {other:?}"),
        }
    }
}

/// Every `sessionStorage` key of the current document (page or frame) is a
/// declared storage key: `{site}` stands for a site ID, `*` for any rest.
pub async fn assert_storage_matches_registry(client: &fantoccini::Client, registry: &serde_json::Value, what: &str) {
    let keys = client
        .execute("try { return Object.keys(sessionStorage); } catch (e) { return []; }", vec![])
        .await
        .expect("read sessionStorage keys");
    let declared: Vec<&str> = registry
        .as_array()
        .expect("the registry is a list")
        .iter()
        .filter(|d| d["storage"] == "session_storage")
        .filter_map(|d| d["name"].as_str())
        .collect();
    let matches = |pattern: &str, key: &str| {
        let pattern = pattern.replace("{site}", "1001");
        match pattern.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => key == pattern,
        }
    };
    for key in keys.as_array().into_iter().flatten().filter_map(|k| k.as_str()) {
        assert!(declared.iter().any(|p| matches(p, key)), "{what}: sessionStorage key {key:?} is not declared");
    }
}
