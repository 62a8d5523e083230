//! Real headless Chromium for the browser tests: a chromedriver on a free
//! port and browsers on their own profiles, all killed when the driver drops.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// How long to wait for a page to arrive: generous, the machine is shared.
pub const PATIENCE: Duration = Duration::from_secs(20);
pub const POLL: Duration = Duration::from_millis(50);

pub fn browser_available() -> bool {
    let present = Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists();
    if !present {
        assert!(
            std::env::var_os("TESSERA_REQUIRE_BROWSER").is_none(),
            "TESSERA_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        eprintln!("skipped: install Debian's chromium and chromium-driver to run the browser tests");
    }
    present
}

// ---------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------

/// How to start a browser.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// The browser's Accept-Language (flag and preference).
    pub accept_language: Option<&'static str>,
    /// Record Chrome's performance log (DevTools network events).
    pub performance_log: bool,
    /// Block third-party cookies as the user setting does (preferences
    /// `profile.cookie_controls_mode` and `profile.block_third_party_cookies`).
    pub block_third_party_cookies: bool,
    /// Block cookies and site data (storage) of this host wherever it is
    /// embedded, as a user's per-site "not allowed to save data" exception
    /// does (content setting `{host},*`). Chromium 148 blocking third-party
    /// cookies still keeps partitioned (CHIPS) cookies and partitioned
    /// third-party storage; this blocks those too.
    pub block_site_data_of: Option<&'static str>,
    /// Block every site's cookies and storage (the "don't allow sites to
    /// save data" setting).
    pub block_all_site_data: bool,
}

/// A chromedriver on a free port. On drop it kills every browser it started
/// (by process ID), then itself, so a panicking test leaves nothing behind.
pub struct Driver {
    child: Child,
    url: String,
    profiles: std::sync::Mutex<Vec<PathBuf>>,
}

impl Driver {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Self { child, url: format!("http://127.0.0.1:{port}"), profiles: Default::default() };
        for _ in 0..200 {
            if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
                return driver;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("chromedriver did not start");
    }

    /// A browser using `profile` as its user data directory, so a second
    /// browser on the same profile is the same browser, restarted. The
    /// window is 1280×900, the size of the screenshots.
    pub async fn open(&self, profile: &Path, options: Options) -> Client {
        self.profiles.lock().expect("profiles").push(profile.to_owned());
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--hide-scrollbars".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut chrome = json!({ "binary": CHROMIUM });
        let mut prefs = serde_json::Map::new();
        if let Some(lang) = options.accept_language {
            // Either sets Accept-Language in headless Chromium 148 (`--lang` does not).
            args.push(format!("--accept-lang={lang}"));
            prefs.insert("intl".into(), json!({ "accept_languages": lang }));
        }
        let mut cookie_prefs = serde_json::Map::new();
        if options.block_third_party_cookies {
            cookie_prefs.insert("cookie_controls_mode".into(), json!(1));
            cookie_prefs.insert("block_third_party_cookies".into(), json!(true));
        }
        if let Some(host) = options.block_site_data_of {
            let exceptions = json!({ "cookies": { format!("{host},*"): { "setting": 2 } } });
            cookie_prefs.insert("content_settings".into(), json!({ "exceptions": exceptions }));
        }
        if options.block_all_site_data {
            cookie_prefs.insert("default_content_setting_values".into(), json!({ "cookies": 2 }));
        }
        if !cookie_prefs.is_empty() {
            prefs.insert("profile".into(), cookie_prefs.into());
        }
        if !prefs.is_empty() {
            chrome["prefs"] = prefs.into();
        }
        chrome["args"] = json!(args);
        let mut caps = json!({ "goog:chromeOptions": chrome });
        if options.performance_log {
            caps["goog:loggingPrefs"] = json!({ "performance": "ALL" });
        }
        let caps = caps.as_object().cloned().expect("an object");
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session");
        client.set_window_size(1280, 900).await.expect("window size");
        client
    }

    /// Quits the browser and starts it again on the same profile.
    pub async fn restart(&self, client: Client, profile: &Path, options: Options) -> Client {
        client.close().await.expect("quit the browser");
        // Chromium writes its cookie store as it exits; give it a moment.
        tokio::time::sleep(Duration::from_millis(700)).await;
        self.open(profile, options).await
    }

    /// The process IDs of chromedriver's descendants, and of any process
    /// using one of our profiles (Chromium's crash handler detaches itself).
    fn browser_pids(&self) -> Vec<u32> {
        let profiles: Vec<String> =
            self.profiles.lock().map(|p| p.iter().map(|p| p.display().to_string()).collect()).unwrap_or_default();
        let mut parent = HashMap::new();
        let mut ours = HashSet::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent.insert(pid, ppid);
            }
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if profiles.iter().any(|p| cmdline.contains(&format!("--user-data-dir={p}"))) {
                ours.insert(pid);
            }
        }
        let driver = self.child.id();
        for &pid in parent.keys() {
            let mut at = pid;
            for _ in 0..64 {
                match parent.get(&at) {
                    Some(&p) if p == driver => {
                        ours.insert(pid);
                        break;
                    }
                    Some(&p) if p > 1 => at = p,
                    _ => break,
                }
            }
        }
        ours.into_iter().collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pids: Vec<String> = self.browser_pids().iter().map(u32::to_string).collect();
        if !pids.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&pids).stderr(Stdio::null()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Waiting, clicking, scripts
// ---------------------------------------------------------------------------

/// Polls until `check` holds (or fails the test after [`PATIENCE`]).
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(what, PATIENCE, check).await;
}

/// Polls until `check` holds, for at most `limit`; returns how long it took.
pub async fn eventually_within<F, Fut>(what: &str, limit: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("waited {limit:?} in vain for {what}");
}

/// Opens `url` in the tab (leaving the frame the test was in, if any).
pub async fn visit(client: &Client, url: &str) {
    client.enter_parent_frame().await.ok();
    client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
}

/// Clicks `locator` once it is there. Finds it again when it was redrawn
/// between the find and the click (the console redraws its queue on every
/// change).
pub async fn click(client: &Client, locator: Locator<'_>) {
    let start = Instant::now();
    loop {
        let error = match client.find(locator).await {
            Ok(element) => match element.click().await {
                Ok(()) => return,
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        assert!(start.elapsed() < PATIENCE, "could not click {locator:?}: {error}");
        tokio::time::sleep(POLL).await;
    }
}

/// Types `text` into the field `css` once it is there (after what it holds).
pub async fn type_into(client: &Client, css: &str, text: &str) {
    let field = client.wait().at_most(PATIENCE).for_element(Locator::Css(css)).await.expect("the field");
    field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Runs `script` in the current document; fails the test if it throws.
pub async fn js(client: &Client, script: &str, args: Vec<Value>) -> Value {
    client.execute(script, args).await.unwrap_or_else(|e| panic!("script {script:?}: {e}"))
}

// ---------------------------------------------------------------------------
// Chrome DevTools, through chromedriver
// ---------------------------------------------------------------------------

/// A POST to a chromedriver extension endpoint of the current session
/// (`/session/{id}/{path}`), which fantoccini has no method for.
#[derive(Debug)]
pub struct SessionPost {
    pub path: &'static str,
    pub body: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base.join(&format!("session/{}/{}", session.expect("a WebDriver session"), self.path))
    }

    fn method_and_body(&self, _url: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.body.to_string()))
    }
}

/// Runs a Chrome DevTools Protocol command in the browser's current tab.
pub async fn cdp(client: &Client, cmd: &str, params: serde_json::Value) -> serde_json::Value {
    let post = SessionPost { path: "goog/cdp/execute", body: json!({ "cmd": cmd, "params": params }) };
    client.issue_cmd(post).await.unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
}

/// The DevTools events (`{"method": ..., "params": ...}`) of Chrome's
/// performance log since the last call (needs `Options::performance_log`).
pub async fn performance_events(client: &Client) -> Vec<serde_json::Value> {
    let log = SessionPost { path: "se/log", body: json!({ "type": "performance" }) };
    let entries = client.issue_cmd(log).await.expect("the performance log");
    let entries = entries.as_array().cloned().unwrap_or_default();
    entries
        .iter()
        .filter_map(|e| e["message"].as_str())
        .filter_map(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .map(|mut event| event["message"].take())
        .collect()
}

/// The URLs the browser requested since the last call (from the performance log).
pub async fn requested_urls(client: &Client) -> Vec<String> {
    performance_events(client)
        .await
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// Every cookie the browser holds, partitioned ones included (CDP
/// `Storage.getCookies`, which is not limited to the current page).
pub async fn every_cookie(client: &Client) -> Vec<serde_json::Value> {
    let all = cdp(client, "Storage.getCookies", json!({})).await;
    all["cookies"].as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The server again, on a known address
// ---------------------------------------------------------------------------

impl super::Server {
    /// Starts the server on `bind` (e.g. the address of one that was just
    /// stopped, for a restart on the same port), with extra `serve`
    /// arguments. Not for `--demo`: it reads only the first banner line.
    pub fn start_at(data: &Path, bind: &str, extra: &[&str]) -> Self {
        assert!(!extra.contains(&"--demo"), "start_at does not read the demo banner");
        // The old process's port may take a moment to be free: try again.
        for _ in 0..50 {
            let (mut child, mut lines) = super::spawn_serve(data, bind, extra);
            let Some(Ok(first)) = lines.next() else {
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                continue;
            };
            let base = first.rsplit(' ').next().expect("address at the end of the banner").to_owned();
            assert_eq!(base, format!("http://{bind}"), "banner: {first}");
            std::thread::spawn(move || for _ in lines {});
            return Self { child, base, demo: None };
        }
        panic!("tessera serve could not start on {bind}");
    }
}
