//! Real headless Chromium for the browser tests: a chromedriver on a free
//! port and browsers on their own profiles, all killed when the driver drops.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

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
        if let Some(lang) = options.accept_language {
            // Either sets Accept-Language in headless Chromium 148 (`--lang` does not).
            args.push(format!("--accept-lang={lang}"));
            chrome["prefs"] = json!({ "intl": { "accept_languages": lang } });
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
