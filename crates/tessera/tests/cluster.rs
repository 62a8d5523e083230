//! Cluster mode end to end: a fresh PostgreSQL database, a Redis server,
//! three real `tessera serve` nodes and nginx running `deploy/nginx.conf`
//! (the shipped file, with its ports and paths replaced as the file's header
//! says), all started by the test on free ports and killed on drop, also when
//! a test panics.
//!
//! Needs `TESSERA_TEST_POSTGRES` (an admin URL; `eval "$(.ci/postgres.sh start)"`
//! starts a throwaway server and prints it), `psql`, `redis-server` and `nginx`.
//! Without them each test says so loudly and passes, unless
//! `TESSERA_REQUIRE_CLUSTER=1` (CI), where a missing one is a failure.
//!
//! The tests take turns (one cluster at a time): they measure failover and an
//! outage, which two clusters sharing the CPU would blur. Run them with
//! `cargo test -p tessera --all-features --test cluster -- --nocapture` to
//! see each phase's timing; a failing test prints the tail of every log.
//!
//! The visitor in the failover test is a WebSocket client that behaves like
//! the Messenger (`messenger.js`): it keeps what it sent until acknowledged
//! and resends it with the same key on a new socket, resumes from the highest
//! `seq` below which it has everything, and renders each `seq` once. Not the
//! real Messenger in Chromium: pinning the frame's partitioned, HttpOnly node
//! cookie to node 1 and reading which messages the frame had acknowledged are
//! out of WebDriver's reach, and the frame's reconnect backoff (0.5 to 10 s,
//! with jitter) would make the failover slow to observe.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use common::{BIN, PASSWORD};

const NODE_IDS: [&str; 3] = ["node1", "node2", "node3"];
const NODE_COOKIE: &str = "__Host-ts_node";
const SESSION_COOKIE: &str = "__Host-ts_portal";
const REMEMBER_COOKIE: &str = "__Host-ts_remember_portal";
const ADMIN: &str = "admin@example.com";
const AGENT: &str = "agent@example.com";
const ANN: &str = "ann@example.com";

/// One cluster at a time (see the module documentation).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------
// What the tests need from the machine.

#[derive(Debug)]
struct Tools {
    admin_url: String,
    psql: PathBuf,
    redis: PathBuf,
    nginx: PathBuf,
}

/// The tools, or `None` after a loud note (a panic under `TESSERA_REQUIRE_CLUSTER=1`).
fn tools() -> Option<Tools> {
    let required = std::env::var("TESSERA_REQUIRE_CLUSTER").is_ok_and(|v| v == "1");
    let admin_url = std::env::var("TESSERA_TEST_POSTGRES").ok().filter(|u| !u.trim().is_empty());
    let (psql, redis, nginx) = (program("psql"), program("redis-server"), program("nginx"));
    let mut missing = Vec::new();
    if admin_url.is_none() {
        missing.push("TESSERA_TEST_POSTGRES (run: eval \"$(.ci/postgres.sh start)\")");
    }
    if psql.is_none() {
        missing.push("psql (apt-get install postgresql)");
    }
    if redis.is_none() {
        missing.push("redis-server (apt-get install redis-server)");
    }
    if nginx.is_none() {
        missing.push("nginx (apt-get install nginx)");
    }
    match (admin_url, psql, redis, nginx) {
        (Some(admin_url), Some(psql), Some(redis), Some(nginx)) => Some(Tools { admin_url, psql, redis, nginx }),
        _ => {
            let message = format!("the cluster tests need {}", missing.join(", "));
            assert!(!required, "{message}; TESSERA_REQUIRE_CLUSTER=1 makes that a failure");
            // Straight to the process's stderr: the test harness captures
            // `eprintln!` of passing tests, and a skip must not go unnoticed.
            let _ = writeln!(
                std::io::stderr(),
                "\n**********\nSKIPPED: {message}.\nSee README.md, \"Running a cluster\"; \
                 TESSERA_REQUIRE_CLUSTER=1 turns this skip into a failure.\n**********\n"
            );
            None
        }
    }
}

/// An executable on `PATH`, or in the sbin directories (nginx lives in
/// /usr/sbin, which is not on every user's `PATH`).
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn log_file(path: &Path) -> File {
    File::options().create(true).append(true).open(path).expect("a log file")
}

// ---------------------------------------------------------------------------
// Processes.

/// A child process, killed with SIGKILL (with its whole process group when it
/// has one, as nginx's master and workers do) and reaped on drop.
#[derive(Debug)]
struct Proc {
    child: Child,
    group: bool,
}

impl Proc {
    fn kill(&mut self) {
        if self.group {
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A database of its own on the PostgreSQL server at `TESSERA_TEST_POSTGRES`,
/// dropped on drop.
#[derive(Debug)]
struct Database {
    psql: PathBuf,
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    fn create(tools: &Tools) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("tessera_cluster_{}_{}", std::process::id(), nanos % 1_000_000_000);
        let db = Self {
            psql: tools.psql.clone(),
            admin_url: tools.admin_url.clone(),
            url: with_database(&tools.admin_url, &name),
            name,
        };
        let out = db.psql(&format!("CREATE DATABASE {}", db.name));
        assert!(out.status.success(), "CREATE DATABASE on {}: {}", db.admin_url, String::from_utf8_lossy(&out.stderr));
        db
    }

    fn psql(&self, sql: &str) -> std::process::Output {
        Command::new(&self.psql)
            .arg(&self.admin_url)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("run psql")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// `postgres://u@h:p/admin?x` with the database `name` instead of `admin`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// A Redis server on a fixed port, so that it can be killed and started again
/// where the nodes expect it. No persistence: a restart is an empty Redis.
#[derive(Debug)]
struct Redis {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    proc: Option<Proc>,
}

impl Redis {
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn start(&mut self) {
        let log = log_file(&self.dir.join("redis.log"));
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start redis-server");
        let mut proc = Proc { child, group: false };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !redis_ping(self.port) {
            if let Some(status) = proc.exited() {
                panic!("redis-server exited ({status}):\n{}", tail(&self.dir.join("redis.log"), 20));
            }
            assert!(Instant::now() < deadline, "redis-server did not answer PING on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.proc = Some(proc);
    }

    /// `kill -9`.
    fn kill(&mut self) {
        drop(self.proc.take());
    }
}

fn redis_ping(port: u16) -> bool {
    let answer = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))?;
        s.set_read_timeout(Some(Duration::from_millis(500)))?;
        s.write_all(b"PING\r\n")?;
        let mut buf = [0u8; 7];
        let n = s.read(&mut buf)?;
        Ok(buf[..n].starts_with(b"+PONG"))
    };
    answer().unwrap_or(false)
}

/// One `tessera serve`.
#[derive(Debug)]
struct Node {
    id: &'static str,
    data: PathBuf,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`
    base: String,
    /// `127.0.0.1:PORT`, as nginx's log names it.
    addr: String,
    proc: Option<Proc>,
}

impl Node {
    fn ws(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    /// `kill -9`: no graceful shutdown, sockets just die.
    fn kill(&mut self) {
        drop(self.proc.take());
    }
}

/// A node started, its banner not read yet.
struct Starting {
    id: &'static str,
    data: PathBuf,
    log: PathBuf,
    proc: Proc,
    banner: std::sync::mpsc::Receiver<String>,
}

/// Tessera's commands get cheap password hashing (tests log in a lot) and
/// none of the test-only variables (Tessera notes every `TESSERA_*` it ignores).
fn tessera() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("TESSERA_PASSWORD__ARGON2_MEMORY_KIB", "256")
        .env("TESSERA_PASSWORD__ARGON2_ITERATIONS", "1")
        .env_remove("TESSERA_TEST_POSTGRES")
        .env_remove("TESSERA_REQUIRE_CLUSTER")
        .env_remove("TESSERA_REQUIRE_BROWSER");
    cmd
}

/// A data directory for one node: mode 0700, with nginx as trusted proxy.
fn data_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("data dir");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod data dir");
    std::fs::write(path.join("tessera.toml"), "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n").expect("tessera.toml");
}

fn spawn_node(id: &'static str, dir: &Path, database: &str, redis: &str, public: &str) -> Starting {
    let data = dir.join(id);
    let log = dir.join(format!("{id}.log"));
    let mut child = tessera()
        .args(["serve", "--data"])
        .arg(&data)
        .args(["--database", database, "--redis", redis, "--node-id", id])
        .args(["--bind", "127.0.0.1:0", "--public-url", public])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file(&log))
        .spawn()
        .expect("start tessera serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, banner) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        // Keep draining so that the node never blocks on a full pipe.
        for _ in lines {}
    });
    Starting { id, data, log, proc: Proc { child, group: false }, banner }
}

impl Starting {
    fn listening(mut self) -> Node {
        let first = match self.banner.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => line,
            Err(_) => {
                let exited = self.proc.exited().map_or("still running".into(), |s| s.to_string());
                panic!("{} printed no banner within 90 s ({exited}); its log:\n{}", self.id, tail(&self.log, 40));
            }
        };
        let base = first.rsplit(' ').next().unwrap_or_default().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{}'s banner: {first}", self.id);
        let addr = base.trim_start_matches("http://").to_owned();
        Node { id: self.id, data: self.data, log: self.log, base, addr, proc: Some(self.proc) }
    }
}

/// Runs a `tessera` command to completion; panics with its output if it fails.
fn run_tessera(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = tessera()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tessera");
    let input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        let mut input = input;
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("tessera output");
    assert!(
        out.status.success(),
        "tessera {} failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------
// The cluster.

#[derive(Debug)]
struct Cluster {
    label: &'static str,
    started: Instant,
    /// `http://127.0.0.1:PORT`: nginx, what browsers use (and every node's `--public-url`).
    public: String,
    nodes: Vec<Node>,
    redis: Redis,
    nginx: Option<Proc>,
    nginx_dir: PathBuf,
    db: Option<Database>,
    http: reqwest::Client,
    /// Whether the nodes have `/readyz` (another engineer is adding it).
    readyz: bool,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn start(tools: &Tools, label: &'static str) -> Self {
        let started = Instant::now();
        let dir = tempfile::tempdir().expect("temp dir");
        // nginx's workers drop root (`user www-data`) and must reach their temp directories.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
        let nginx_dir = dir.path().join("nginx");
        for sub in ["logs", "temp"] {
            std::fs::create_dir_all(nginx_dir.join(sub)).expect("nginx dirs");
        }
        let redis_dir = dir.path().join("redis");
        std::fs::create_dir_all(&redis_dir).expect("redis dir");
        let mut redis = Redis { bin: tools.redis.clone(), port: free_port(), dir: redis_dir, proc: None };
        redis.start();
        let db = Database::create(tools);
        let nginx_port = free_port();
        let public = format!("http://127.0.0.1:{nginx_port}");

        // The schema first, then the people, through node 1's data directory.
        let dirs: Vec<PathBuf> = NODE_IDS.iter().map(|id| dir.path().join(id)).collect();
        for d in &dirs {
            data_dir(d);
        }
        let data1 = dirs[0].to_str().expect("UTF-8 path");
        let url = db.url.as_str();
        run_tessera(&["migrate", "--data", data1, "--database", url], None);
        for (email, role) in [(ADMIN, "admin"), (AGENT, "agent"), (ANN, "user")] {
            let args = ["user", "add", "--data", data1, "--database", url, "--email", email, "--role", role];
            run_tessera(&[&args[..], &["--password-stdin"]].concat(), Some(&format!("{PASSWORD}\n")));
        }

        // Node 1 creates the secret key; the others get a copy before they start.
        let redis_url = redis.url();
        let node1 = spawn_node(NODE_IDS[0], dir.path(), &db.url, &redis_url, &public).listening();
        for d in &dirs[1..] {
            let key = d.join("secret.key");
            std::fs::copy(dirs[0].join("secret.key"), &key).expect("copy the secret key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod key");
        }
        let others: Vec<Starting> =
            NODE_IDS[1..].iter().map(|id| spawn_node(id, dir.path(), &db.url, &redis_url, &public)).collect();
        let mut nodes = vec![node1];
        nodes.extend(others.into_iter().map(Starting::listening));

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .expect("HTTP client");
        let mut cluster = Self {
            label,
            started,
            public,
            nodes,
            redis,
            nginx: None,
            nginx_dir,
            db: Some(db),
            http,
            readyz: true,
            dir,
        };
        for node in &cluster.nodes {
            assert!(
                !node.data.join("tessera.db").exists(),
                "{} made an embedded database in {}: it should be on PostgreSQL",
                node.id,
                node.data.display()
            );
        }
        cluster.start_nginx(tools, nginx_port).await;
        cluster.wait_cluster("up", Duration::from_secs(60)).await;
        cluster.note(&format!("cluster up in {:.1} s", started.elapsed().as_secs_f64()));
        cluster
    }

    fn note(&self, what: &str) {
        eprintln!("[{} +{:6.2}s] {what}", self.label, self.started.elapsed().as_secs_f64());
    }

    /// `deploy/nginx.conf` as the test runs it: the replacements its header lists.
    fn nginx_conf(&self, port: u16) -> String {
        let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/nginx.conf");
        let mut conf = std::fs::read_to_string(shipped).expect("deploy/nginx.conf");
        let dir = self.nginx_dir.display();
        let replacements = [
            ("listen 8080;".to_owned(), format!("listen 127.0.0.1:{port};")),
            ("127.0.0.1:8081".to_owned(), self.nodes[0].addr.clone()),
            ("127.0.0.1:8082".to_owned(), self.nodes[1].addr.clone()),
            ("127.0.0.1:8083".to_owned(), self.nodes[2].addr.clone()),
            ("/run/nginx.pid".to_owned(), format!("{dir}/nginx.pid")),
            ("/var/log/nginx/".to_owned(), format!("{dir}/logs/")),
            ("/var/lib/nginx/".to_owned(), format!("{dir}/temp/")),
        ];
        for (from, to) in &replacements {
            assert!(
                conf.contains(from.as_str()),
                "deploy/nginx.conf no longer contains {from:?}, which the test replaces (see the file's header)"
            );
            conf = conf.replace(from.as_str(), to);
        }
        for line in conf.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
            assert!(
                !line.contains("/var/") && !line.contains("/run/") && !line.contains(":808"),
                "deploy/nginx.conf has a path or port the test does not replace: {line}"
            );
        }
        conf
    }

    async fn start_nginx(&mut self, tools: &Tools, port: u16) {
        let conf = self.nginx_dir.join("nginx.conf");
        std::fs::write(&conf, self.nginx_conf(port)).expect("write nginx.conf");
        let out = log_file(&self.nginx_dir.join("logs/stdout.log"));
        let child = Command::new(&tools.nginx)
            .arg("-p")
            .arg(&self.nginx_dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(self.nginx_dir.join("logs/startup-error.log"))
            .args(["-g", "daemon off;"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start nginx");
        self.nginx = Some(Proc { child, group: true });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.nginx.as_mut().and_then(Proc::exited) {
                panic!("nginx exited ({status}):\n{}", self.nginx_logs());
            }
            let answer = self.http.get(format!("{}/healthz", self.public)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(Instant::now() < deadline, "nginx did not answer on {}:\n{}", self.public, self.nginx_logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn nginx_logs(&self) -> String {
        ["logs/stdout.log", "logs/startup-error.log", "logs/error.log"]
            .iter()
            .map(|f| format!("--- {f}\n{}", tail(&self.nginx_dir.join(f), 20)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn node(&self, id: &str) -> &Node {
        self.nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no node {id}"))
    }

    fn node_at(&self, addr: &str) -> Option<&'static str> {
        self.nodes.iter().find(|n| n.addr == addr).map(|n| n.id)
    }

    /// Polls every live node's `/readyz` until it says `"cluster":"<want>"`.
    /// Without `/readyz` (a 404: not built yet) it polls `/login` instead and
    /// says so; only "up" can be told that way.
    async fn wait_cluster(&mut self, want: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let bases: Vec<(&'static str, String, PathBuf)> =
            self.nodes.iter().filter(|n| n.proc.is_some()).map(|n| (n.id, n.base.clone(), n.log.clone())).collect();
        for (id, base, log) in bases {
            loop {
                let last = if self.readyz {
                    match self.http.get(format!("{base}/readyz")).send().await {
                        Ok(r) if r.status() == 404 => {
                            self.readyz = false;
                            self.note("NOTE: the nodes have no /readyz yet; polling /login for readiness instead");
                            continue;
                        }
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body = r.text().await.unwrap_or_default();
                            let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                            if json["cluster"] == want {
                                break;
                            }
                            format!("{status} {body}")
                        }
                        Err(e) => e.to_string(),
                    }
                } else if want != "up" {
                    return false;
                } else {
                    match self.http.get(format!("{base}/login")).send().await {
                        Ok(r) if r.status() == 200 => break,
                        Ok(r) => format!("GET /login: {}", r.status()),
                        Err(e) => e.to_string(),
                    }
                };
                if Instant::now() > deadline {
                    if want == "up" {
                        panic!(
                            "{id} did not report \"cluster\":\"up\" within {within:?} (last answer: {last}); its log:\n{}",
                            tail(&log, 40)
                        );
                    }
                    self.note(&format!("{id} did not report \"cluster\":\"{want}\" within {within:?}: {last}"));
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        true
    }

    /// The upstream addresses nginx tried for the request whose line contains
    /// `marker` (logged when the request ends; for a WebSocket, when it closes).
    async fn upstreams(&self, marker: &str) -> Vec<String> {
        let log = self.nginx_dir.join("logs/tessera-access.log");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains(marker)) {
                let field = line.split("upstream=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
                return field.split(", ").map(str::to_owned).collect();
            }
            assert!(Instant::now() < deadline, "no line with {marker:?} in nginx's access log:\n{}", tail(&log, 20));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The node that finally answered the request marked `marker`.
    async fn served_by(&self, marker: &str) -> &'static str {
        let tried = self.upstreams(marker).await;
        let last = tried.last().cloned().unwrap_or_default();
        self.node_at(&last).unwrap_or_else(|| panic!("{marker}: nginx used {tried:?}, which is no node"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        drop(self.nginx.take());
        for node in &mut self.nodes {
            node.kill();
        }
        self.redis.kill();
        drop(self.db.take());
        if std::thread::panicking() {
            eprintln!("\n===== {}: logs (kept in {}) =====", self.label, self.dir.path().display());
            for node in &self.nodes {
                eprintln!("--- {} ({})\n{}", node.id, node.base, tail(&node.log, 40));
            }
            eprintln!("--- nginx\n{}", self.nginx_logs());
            eprintln!("--- redis\n{}", tail(&self.redis.dir.join("redis.log"), 10));
            // Keep the directory for a closer look.
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
            let _ = dir.keep();
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP like a browser: a cookie jar by hand (the `__Host-` cookies are
// `Secure`, and HTTP clients disagree about loopback) and no redirects.

#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Answer {
    fn sets(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            pair.strip_prefix(name)?.strip_prefix('=').map(str::to_owned)
        })
    }

    fn clears(&self, name: &str) -> bool {
        self.set_cookies.iter().any(|c| c.starts_with(&format!("{name}=")) && c.contains("Max-Age=0"))
    }
}

/// What is wrong with a `Set-Cookie: __Host-ts_node=...`, if anything: it must
/// be an essential session cookie, `Path=/; Secure; HttpOnly; SameSite=None;
/// Partitioned`, naming one of the nodes.
fn node_cookie_problem(header: &str) -> Option<String> {
    let mut parts = header.split(';').map(str::trim);
    let value = parts.next()?.strip_prefix(NODE_COOKIE)?.strip_prefix('=')?;
    let mut attributes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    attributes.sort();
    let want = ["httponly", "partitioned", "path=/", "samesite=none", "secure"];
    if attributes != want {
        return Some(format!("{header}: want exactly Path=/; Secure; HttpOnly; SameSite=None; Partitioned"));
    }
    (!NODE_IDS.contains(&value)).then(|| format!("{header}: names no node of the cluster"))
}

/// Takes `Set-Cookie` headers into a jar; returns what was wrong with a node cookie.
fn absorb(jar: &mut BTreeMap<String, String>, set_cookies: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for text in set_cookies {
        let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
        let Some((name, value)) = pair.split_once('=') else { continue };
        if name == NODE_COOKIE {
            problems.extend(node_cookie_problem(text));
        }
        if attributes.contains("Max-Age=0") {
            jar.remove(name);
        } else {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }
    problems
}

fn cookie_header(jar: &BTreeMap<String, String>) -> String {
    jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

#[derive(Debug, Clone)]
struct Browser {
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
    /// What was wrong with the node cookies it was given (asserted at the
    /// end of a test, so that they do not hide what else fails).
    problems: Vec<String>,
}

impl Browser {
    fn new() -> Self {
        Self::from_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// A browser whose connections come from `local` (127.0.0.2 is another
    /// client than nginx's 127.0.0.1).
    fn from_address(local: IpAddr) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .local_address(local)
            .build()
            .expect("HTTP client");
        Self { http, jar: BTreeMap::new(), problems: Vec::new() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let req = if self.jar.is_empty() { req } else { req.header("cookie", cookie_header(&self.jar)) };
        let answer = answer(req).await.unwrap_or_else(|e| panic!("request failed: {e}"));
        let problems = absorb(&mut self.jar, &answer.set_cookies);
        self.problems.extend(problems);
        answer
    }

    async fn get(&mut self, url: &str) -> Answer {
        let req = self.http.get(url);
        self.send(req).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.http.post(url).form(form);
        self.send(req).await
    }

    /// Logs in at `{base}{prefix}/login` (the agent interface asks for the site).
    async fn login(&mut self, base: &str, prefix: &str, email: &str, remember: bool, headers: &[(&str, &str)]) {
        let page = self.get(&format!("{base}{prefix}/login")).await;
        assert_eq!(page.status, 200, "GET {base}{prefix}/login: {}", page.body);
        let csrf = csrf_of(&page.body);
        let mut form = vec![("_csrf", csrf.as_str()), ("email", email), ("password", PASSWORD)];
        if prefix == "/agent" {
            form.push(("site_id", "1001"));
        }
        if remember {
            form.push(("remember", "on"));
        }
        let mut req = self.http.post(format!("{base}{prefix}/login")).form(&form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = self.send(req).await;
        assert_eq!(res.status, 303, "{email} logs in at {base}{prefix}/login: {}", res.body);
        assert_eq!(res.location.as_deref(), Some(format!("{prefix}/account").as_str()));
    }
}

async fn answer(req: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let res = req.send().await?;
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let set_cookies =
        res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
    let body = res.text().await?;
    Ok(Answer { status, location, set_cookies, body })
}

/// GET with exactly this `Cookie` header (no jar): a copied cookie on another node.
async fn get_with(http: &reqwest::Client, url: &str, cookies: &str) -> Answer {
    let mut req = http.get(url);
    if !cookies.is_empty() {
        req = req.header("cookie", cookies);
    }
    answer(req).await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"_csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF field in {page}")) + 20;
    page[start..].split('"').next().expect("closing quote").to_owned()
}

/// The ID the sessions pages give a session: hex SHA-256 of the cookie's 32 bytes.
fn session_id(cookie: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cookie).expect("a base64url session cookie");
    sha2::Sha256::digest(raw).iter().map(|b| format!("{b:02x}")).collect()
}

/// The table row of a sessions page that revokes session `id`.
fn row_of<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("value=\"{id}\"")).unwrap_or_else(|| panic!("no session {id} on the page:\n{page}"));
    let start = page[..at].rfind("<tr>").expect("the row's start");
    &page[start..at]
}

/// Starts a Messenger session (what the frame POSTs) and returns its JSON.
async fn messenger_session(browser: &mut Browser, base: &str, public: &str) -> Value {
    let req = browser
        .http
        .post(format!("{base}/messenger/session"))
        .header("origin", public)
        .header("content-type", "application/json")
        .body(json!({"site": 1001, "consent": true}).to_string());
    let res = browser.send(req).await;
    assert_eq!(res.status, 200, "POST {base}/messenger/session: {}", res.body);
    serde_json::from_str(&res.body).expect("JSON")
}

// ---------------------------------------------------------------------------
// Chat clients: the visitor's Messenger socket and the agent console, each a
// task that reconnects by itself and records everything it is told.

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    author: String,
    body: String,
}

#[derive(Debug, Clone)]
struct Handshake {
    marker: String,
    /// The `__Host-ts_node` the 101 response set, if any.
    node_cookie: Option<String>,
}

#[derive(Debug, Default)]
struct ChatLog {
    conversation: Option<i64>,
    /// Every message once, by `seq` (what a client renders).
    rendered: BTreeMap<u64, Line>,
    /// A `seq` the server sent twice on one socket, or a `seq` whose text changed.
    repeats: Vec<String>,
    /// Sent, not acknowledged yet: (key, body).
    pending: Vec<(String, String)>,
    /// key -> (seq, body); a key acknowledged with two different seqs is in `repeats`.
    acked: BTreeMap<String, (u64, String)>,
    /// `error` frames (with a key: a refused message).
    errors: Vec<Value>,
    /// The agent's latest queue.
    queue: Vec<Value>,
    handshakes: Vec<Handshake>,
    /// Sockets that could not be opened, and why.
    failures: Vec<String>,
    /// Keys sent again on a later socket (unacknowledged when one closed).
    resent: Vec<String>,
    connected: bool,
}

impl ChatLog {
    /// The highest `seq` below which nothing is missing: where a resume starts.
    fn floor(&self) -> u64 {
        let mut n = 0;
        while self.rendered.contains_key(&(n + 1)) {
            n += 1;
        }
        n
    }

    fn count(&self, body: &str) -> usize {
        self.rendered.values().filter(|l| l.body == body).count()
    }
}

#[derive(Debug)]
enum Cmd {
    Send(String),
    Open(i64),
    Stop,
}

#[derive(Debug, Clone)]
enum Role {
    /// The Messenger: `hello` with its messaging token, then `start`.
    Visitor { token: String, name: String },
    /// The agent console: `open` once told which conversation.
    Agent,
}

impl Role {
    fn author(&self) -> &'static str {
        match self {
            Role::Visitor { .. } => "visitor",
            Role::Agent => "agent",
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug)]
struct ChatClient {
    label: &'static str,
    log: Arc<Mutex<ChatLog>>,
    tx: mpsc::UnboundedSender<Cmd>,
    task: tokio::task::JoinHandle<()>,
}

impl ChatClient {
    /// `url` is the socket's (`ws://.../messenger/ws?site=1001`); each
    /// connection adds `c=<label>-<n>` so nginx's log tells them apart.
    fn spawn(label: &'static str, role: Role, url: String, origin: &str, jar: BTreeMap<String, String>) -> Self {
        let log = Arc::new(Mutex::new(ChatLog::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        let actor = Actor {
            label,
            role,
            url,
            origin: origin.to_owned(),
            jar,
            log: log.clone(),
            rx,
            counter: 0,
            sent_ever: HashSet::new(),
        };
        let task = tokio::spawn(actor.run());
        Self { label, log, tx, task }
    }

    fn send(&self, body: impl Into<String>) {
        self.tx.send(Cmd::Send(body.into())).expect("the chat task runs");
    }

    fn open(&self, conversation: i64) {
        self.tx.send(Cmd::Open(conversation)).expect("the chat task runs");
    }

    fn read<T>(&self, f: impl FnOnce(&ChatLog) -> T) -> T {
        f(&self.log.lock().expect("chat log"))
    }

    /// Polls until `ready` holds; panics after `within` with the log.
    async fn wait(&self, what: &str, within: Duration, ready: impl Fn(&ChatLog) -> bool) {
        let deadline = Instant::now() + within;
        while !self.read(&ready) {
            assert!(
                Instant::now() < deadline,
                "{}: {what}: not within {within:?}; what it has:\n{:#?}",
                self.label,
                self.log.lock().expect("chat log")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Closes the socket (so that nginx logs it) and ends the task.
    async fn stop(mut self) -> ChatLog {
        let _ = self.tx.send(Cmd::Stop);
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
        std::mem::take(&mut *self.log.lock().expect("chat log"))
    }
}

impl Drop for ChatClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Actor {
    label: &'static str,
    role: Role,
    url: String,
    origin: String,
    jar: BTreeMap<String, String>,
    log: Arc<Mutex<ChatLog>>,
    rx: mpsc::UnboundedReceiver<Cmd>,
    counter: u64,
    /// Every key sent on some socket.
    sent_ever: HashSet<String>,
}

/// What the actor does after a socket ends.
enum Next {
    Reconnect,
    Stop,
}

impl Actor {
    fn log(&self) -> std::sync::MutexGuard<'_, ChatLog> {
        self.log.lock().expect("chat log")
    }

    async fn run(mut self) {
        let mut attempt = 0u32;
        for n in 1.. {
            let marker = format!("{}-{n}", self.label);
            let sep = if self.url.contains('?') { '&' } else { '?' };
            match self.connect(&format!("{}{sep}c={marker}", self.url)).await {
                Ok((ws, set_cookies)) => {
                    let node_cookie = set_cookies
                        .iter()
                        .find_map(|c| c.strip_prefix(&format!("{NODE_COOKIE}="))?.split(';').next().map(str::to_owned));
                    let problems = absorb(&mut self.jar, &set_cookies);
                    {
                        let mut log = self.log();
                        log.repeats.extend(problems);
                        log.handshakes.push(Handshake { marker, node_cookie });
                        log.connected = true;
                    }
                    let next = self.live(ws, &mut attempt).await;
                    self.log().connected = false;
                    if let Next::Stop = next {
                        return;
                    }
                }
                Err(e) => self.log().failures.push(format!("{marker}: {e}")),
            }
            // Like the Messenger: back off, doubling, but stay responsive.
            let delay = Duration::from_millis((100u64 << attempt.min(4)).min(1_500));
            attempt += 1;
            let until = tokio::time::Instant::now() + delay;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => break,
                    cmd = self.rx.recv() => match cmd {
                        Some(Cmd::Send(body)) => {
                            self.queue(body);
                        }
                        Some(Cmd::Open(id)) => self.log().conversation = Some(id),
                        Some(Cmd::Stop) | None => return,
                    },
                }
            }
        }
    }

    async fn connect(&self, url: &str) -> Result<(Socket, Vec<String>), String> {
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        req.headers_mut().insert("origin", self.origin.parse().map_err(|_| "origin header")?);
        if !self.jar.is_empty() {
            req.headers_mut().insert("cookie", cookie_header(&self.jar).parse().map_err(|_| "cookie header")?);
        }
        match tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(req)).await {
            Err(_) => Err("no handshake within 5 s".into()),
            Ok(Err(tungstenite::Error::Http(res))) => Err(format!("refused: HTTP {}", res.status())),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok((ws, res))) => Ok((
                ws,
                res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect(),
            )),
        }
    }

    fn queue(&mut self, body: String) -> String {
        self.counter += 1;
        let key = format!("{}-{}", self.label, self.counter);
        self.log().pending.push((key.clone(), body));
        key
    }

    async fn live(&mut self, mut ws: Socket, attempt: &mut u32) -> Next {
        let (conversation, floor) = {
            let log = self.log();
            (log.conversation, log.floor())
        };
        let greeting = match &self.role {
            Role::Visitor { token, .. } => {
                Some(json!({"type": "hello", "token": token, "conversation": conversation, "after": floor}))
            }
            Role::Agent => conversation.map(|c| json!({"type": "open", "conversation": c, "after": floor})),
        };
        let mut sent_here: HashSet<String> = HashSet::new();
        let mut seen_here: HashSet<u64> = HashSet::new();
        if let Some(greeting) = greeting
            && say(&mut ws, &greeting).await.is_err()
        {
            return Next::Reconnect;
        }
        if conversation.is_some() && self.flush(&mut ws, &mut sent_here).await.is_err() {
            return Next::Reconnect;
        }
        loop {
            tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(tungstenite::Message::Text(text))) => {
                        let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                        if self.handle(&mut ws, &frame, &mut seen_here, &mut sent_here, attempt).await.is_err() {
                            return Next::Reconnect;
                        }
                    }
                    Some(Ok(tungstenite::Message::Close(_)) | Err(_)) | None => return Next::Reconnect,
                    Some(Ok(_)) => {}
                },
                cmd = self.rx.recv() => match cmd {
                    Some(Cmd::Send(body)) => {
                        self.queue(body);
                        let live = self.log().conversation.is_some();
                        if live && self.flush(&mut ws, &mut sent_here).await.is_err() {
                            return Next::Reconnect;
                        }
                    }
                    Some(Cmd::Open(id)) => {
                        let floor = {
                            let mut log = self.log();
                            log.conversation = Some(id);
                            log.floor()
                        };
                        let open = json!({"type": "open", "conversation": id, "after": floor});
                        if say(&mut ws, &open).await.is_err() || self.flush(&mut ws, &mut sent_here).await.is_err() {
                            return Next::Reconnect;
                        }
                    }
                    Some(Cmd::Stop) | None => {
                        let _ = ws.close(None).await;
                        return Next::Stop;
                    }
                },
            }
        }
    }

    /// Sends what is pending and was not sent on this socket yet (a resend
    /// on a new socket keeps its key).
    async fn flush(&mut self, ws: &mut Socket, sent_here: &mut HashSet<String>) -> Result<(), tungstenite::Error> {
        let pending = self.log().pending.clone();
        for (key, body) in pending {
            if sent_here.insert(key.clone()) {
                if !self.sent_ever.insert(key.clone()) {
                    self.log().resent.push(key.clone());
                }
                say(ws, &json!({"type": "send", "key": key, "body": body})).await?;
            }
        }
        Ok(())
    }

    async fn handle(
        &mut self,
        ws: &mut Socket,
        frame: &Value,
        seen_here: &mut HashSet<u64>,
        sent_here: &mut HashSet<String>,
        attempt: &mut u32,
    ) -> Result<(), tungstenite::Error> {
        match frame["type"].as_str().unwrap_or_default() {
            "welcome" => {
                *attempt = 0;
                let unstarted = self.log().conversation.is_none();
                if let Role::Visitor { name, .. } = &self.role
                    && unstarted
                {
                    say(ws, &json!({"type": "start", "name": name})).await?;
                }
            }
            "queue" => {
                *attempt = 0;
                self.log().queue = frame["conversations"].as_array().cloned().unwrap_or_default();
            }
            "started" => {
                self.log().conversation = frame["conversation"].as_i64();
                self.flush(ws, sent_here).await?;
            }
            "message" => {
                let mut log = self.log();
                if frame["conversation"].as_i64().is_some_and(|c| Some(c) != log.conversation) {
                    return Ok(());
                }
                let Some(seq) = frame["seq"].as_u64() else { return Ok(()) };
                if !seen_here.insert(seq) {
                    log.repeats.push(format!("seq {seq} sent twice on one socket: {frame}"));
                }
                let line = Line {
                    author: frame["author"].as_str().unwrap_or_default().to_owned(),
                    body: frame["body"].as_str().unwrap_or_default().to_owned(),
                };
                match log.rendered.get(&seq).cloned() {
                    None => {
                        log.rendered.insert(seq, line);
                    }
                    Some(known) if known != line => {
                        log.repeats.push(format!("seq {seq} was {known:?}, now {line:?}"));
                    }
                    Some(_) => {}
                }
            }
            "ack" => {
                let (Some(key), Some(seq)) = (frame["key"].as_str(), frame["seq"].as_u64()) else { return Ok(()) };
                let author = self.role.author().to_owned();
                let mut log = self.log();
                let Some(at) = log.pending.iter().position(|(k, _)| k == key) else {
                    // A second ack for a resend: it must name the same seq.
                    let earlier = log.acked.get(key).map(|(s, _)| *s);
                    if earlier.is_some_and(|s| s != seq) {
                        log.repeats.push(format!("{key} acknowledged as seq {seq} and before as {earlier:?}"));
                    }
                    return Ok(());
                };
                let (_, body) = log.pending.remove(at);
                // The Messenger shows its own message at the acknowledged seq.
                log.rendered.entry(seq).or_insert(Line { author, body: body.clone() });
                log.acked.insert(key.to_owned(), (seq, body));
            }
            "error" => {
                let mut log = self.log();
                if let Some(key) = frame["key"].as_str() {
                    log.pending.retain(|(k, _)| k != key);
                }
                log.errors.push(frame.clone());
            }
            _ => {}
        }
        Ok(())
    }
}

async fn say(ws: &mut Socket, msg: &Value) -> Result<(), tungstenite::Error> {
    ws.send(tungstenite::Message::Text(msg.to_string().into())).await
}

/// The conversation as the store has it: a fresh console on `node` replays
/// it all, up to the `last_seq` its queue (read from the store) names.
async fn transcript(cluster: &Cluster, node: &str, agent_jar: &BTreeMap<String, String>, conversation: i64) -> ChatLog {
    let url = format!("{}/agent/ws", cluster.node(node).ws());
    let auditor = ChatClient::spawn("auditor", Role::Agent, url, &cluster.public, agent_jar.clone());
    let within = Duration::from_secs(15);
    let entry = |l: &ChatLog| l.queue.iter().find(|c| c["id"] == conversation).and_then(|c| c["last_seq"].as_u64());
    auditor.wait(&format!("the conversation in {node}'s queue"), within, |l| entry(l).is_some()).await;
    let last = auditor.read(entry).unwrap_or_default();
    auditor.open(conversation);
    auditor.wait(&format!("the conversation's {last} messages from {node}"), within, |l| l.floor() >= last).await;
    auditor.stop().await
}

/// Every message of the store's transcript once, `seq` 1..=N with no gap, no
/// text stored twice; and `side` shows exactly that, with each message it
/// sent acknowledged at the seq where the store has it.
fn assert_exactly_once(side: &str, truth: &ChatLog, log: &ChatLog) {
    let seqs: Vec<u64> = truth.rendered.keys().copied().collect();
    let want: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, want, "the store's seqs have a gap: {:#?}", truth.rendered);
    let mut bodies = HashSet::new();
    for line in truth.rendered.values().filter(|l| l.author != "system") {
        assert!(bodies.insert(&line.body), "stored twice: {line:?}\n{:#?}", truth.rendered);
    }
    assert!(log.pending.is_empty(), "{side}: never acknowledged: {:?}", log.pending);
    assert!(log.errors.is_empty(), "{side}: error frames: {:?}", log.errors);
    assert!(log.repeats.is_empty(), "{side}: duplicates: {:#?}", log.repeats);
    for (key, (seq, body)) in &log.acked {
        assert_eq!(
            truth.rendered.get(seq).map(|l| l.body.as_str()),
            Some(body.as_str()),
            "{side}: {key} was acknowledged as seq {seq}, the store has {:?} there",
            truth.rendered.get(seq)
        );
    }
    let missing: Vec<_> = truth.rendered.iter().filter(|(s, _)| !log.rendered.contains_key(s)).collect();
    assert!(missing.is_empty(), "{side} never saw: {missing:#?}");
    let differ: Vec<_> = log.rendered.iter().filter(|(s, l)| truth.rendered.get(s) != Some(l)).collect();
    assert!(differ.is_empty(), "{side} saw what the store does not have: {differ:#?}");
}

// ---------------------------------------------------------------------------
// 1. Sessions: any node, and a revocation anywhere holds everywhere at once.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_works_on_every_node_and_a_revocation_on_one_holds_on_the_very_next_request_of_the_others() {
    let Some(tools) = tools() else { return };
    let _turn = TURN.lock().await;
    let cluster = Cluster::start(&tools, "sessions").await;
    let http = &cluster.http;

    // The shipped nginx config: the node cookie picks the node, anything else any node.
    for node in &cluster.nodes {
        let marker = format!("route-{}", node.id);
        let url = format!("{}/healthz?probe={marker}", cluster.public);
        assert_eq!(get_with(http, &url, &format!("{NODE_COOKIE}={}", node.id)).await.status, 200);
        assert_eq!(cluster.served_by(&marker).await, node.id, "nginx routes {NODE_COOKIE}={} to it", node.id);
    }
    let url = format!("{}/healthz?probe=route-unknown", cluster.public);
    assert_eq!(get_with(http, &url, &format!("{NODE_COOKIE}=node9; other=1")).await.status, 200);
    cluster.served_by("route-unknown").await;
    let metrics = get_with(http, &format!("{}/metrics", cluster.public), "").await;
    assert_eq!(metrics.status, 404, "/metrics is not served through nginx");
    cluster.note("nginx routes by the node cookie");

    // Ann logs in through nginx (remember-me ticked) from another address
    // than nginx's, claiming a third one.
    let mut ann = Browser::from_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    ann.login(&cluster.public, "", ANN, true, &[("x-forwarded-for", "203.0.113.7")]).await;
    let session = ann.jar.get(SESSION_COOKIE).cloned().expect("a session cookie");
    assert!(ann.jar.contains_key(REMEMBER_COOKIE), "remember-me was ticked");
    let account = ann.get(&format!("{}/account", cluster.public)).await;
    assert_eq!((account.status, account.body.contains(ANN)), (200, true), "{}", account.body);
    cluster.note(&format!("Ann logged in through nginx (node cookie: {:?})", ann.jar.get(NODE_COOKIE)));

    // The session cookie alone works on every node.
    let alone = format!("{SESSION_COOKIE}={session}");
    for node in &cluster.nodes {
        let res = get_with(http, &format!("{}/api/session", node.base), &alone).await;
        assert_eq!(res.status, 200, "{}: Ann's session: {}", node.id, res.body);
        assert!(res.body.contains("\"ann\""), "{}: {}", node.id, res.body);
    }

    // The admin revokes it on node 2, and sees the address nginx saw.
    let node2 = &cluster.node("node2").base;
    let mut admin = Browser::new();
    admin.login(node2, "/admin", ADMIN, false, &[]).await;
    let page = admin.get(&format!("{node2}/admin/sessions")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let id = session_id(&session);
    let row = row_of(&page.body, &id);
    assert!(
        row.contains("127.0.0.2") && !row.contains("203.0.113.7"),
        "the session's address is the client nginx saw (X-Forwarded-For from trusted_proxies), \
         not the one the client claimed: {row}"
    );
    let csrf = csrf_of(&page.body);
    let revoked = admin
        .post(&format!("{node2}/admin/sessions/revoke"), &[("_csrf", csrf.as_str()), ("session", id.as_str())])
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(revoked.location.as_deref(), Some("/admin/sessions?done=revoked"));

    // The very next request on node 1 (the cookie alone) and on node 3 (the
    // whole browser, remember-me too: its series ended with the session).
    let on1 = get_with(http, &format!("{}/api/session", cluster.node("node1").base), &alone).await;
    let on3 = get_with(http, &format!("{}/api/session", cluster.node("node3").base), &cookie_header(&ann.jar)).await;
    cluster.note("revoked on node 2; asked node 1 and node 3 right after");
    assert_eq!(on1.status, 401, "node 1 accepted a session revoked on node 2: {on1:?}");
    assert!(on1.clears(SESSION_COOKIE), "node 1 clears the dead cookie: {on1:?}");
    assert_eq!(on3.status, 401, "node 3 accepted a session revoked on node 2: {on3:?}");
    assert_eq!(on3.sets(SESSION_COOKIE).filter(|v| !v.is_empty()), None, "no new session from remember-me: {on3:?}");
    for node in ["node2", "node1", "node3"] {
        let res = get_with(http, &format!("{}/account", cluster.node(node).base), &alone).await;
        assert_eq!((res.status, res.location.as_deref()), (303, Some("/login")), "{node}: {res:?}");
    }
    let through = ann.get(&format!("{}/api/session", cluster.public)).await;
    assert_eq!(through.status, 401, "through nginx: {through:?}");
    cluster.note("the revocation held on every node");

    // The node cookie (last, so that the above is reported on its own): the
    // first answer names the node that gave it, with the declared attributes;
    // a request that names its node is not told again.
    // Node 1's settings in cluster mode (its --node-id and --redis as settings).
    let out = tessera()
        .args(["cookies", "--format", "json", "--data"])
        .arg(&cluster.node("node1").data)
        .env("TESSERA_CLUSTER__NODE_ID", "node1")
        .env("TESSERA_CLUSTER__REDIS_URL", cluster.redis.url())
        .output()
        .expect("tessera cookies");
    assert!(out.status.success(), "tessera cookies: {}", String::from_utf8_lossy(&out.stderr));
    let registry: Value = serde_json::from_slice(&out.stdout).expect("the registry is JSON");
    let declared = common::declaration(&registry, NODE_COOKIE).expect("__Host-ts_node is in the cookie registry");
    assert_eq!(
        (&declared["category"], &declared["lifetime"], &declared["same_site"], &declared["partitioned"]),
        (&json!("essential"), &json!("session"), &json!("None"), &json!(true)),
        "{declared}"
    );
    let mut fresh = Browser::new();
    let first = fresh.get(&format!("{}/healthz?probe=fresh-1", cluster.public)).await;
    let named = first.sets(NODE_COOKIE).expect("the first answer through nginx sets __Host-ts_node");
    assert_eq!(named, cluster.served_by("fresh-1").await, "the cookie names the node that answered");
    let again = fresh.get(&format!("{}/login", cluster.public)).await;
    assert_eq!(again.sets(NODE_COOKIE), None, "a request that names its node is not told again");
    for browser in [&ann, &admin, &fresh] {
        assert!(browser.problems.is_empty(), "{:?}", browser.problems);
    }
    cluster.note("done");
}

// ---------------------------------------------------------------------------
// 2. Chat across nodes, and a node dying mid-conversation.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_across_nodes_survives_kill_9_of_the_visitors_node_with_every_message_exactly_once() {
    let Some(tools) = tools() else { return };
    let _turn = TURN.lock().await;
    let mut cluster = Cluster::start(&tools, "failover").await;

    // The agent's console is on node 3.
    let node3 = cluster.node("node3").base.clone();
    let mut agent_browser = Browser::new();
    agent_browser.login(&node3, "/agent", AGENT, false, &[]).await;
    let agent_url = format!("{}/agent/ws", cluster.node("node3").ws());
    let agent = ChatClient::spawn("agent", Role::Agent, agent_url, &cluster.public, agent_browser.jar.clone());
    agent.wait("the console's queue", Duration::from_secs(10), |l| l.connected).await;

    // The visitor comes through nginx, pinned to node 1.
    let mut visitor_browser = Browser::new();
    visitor_browser.jar.insert(NODE_COOKIE.into(), "node1".into());
    let session = messenger_session(&mut visitor_browser, &cluster.public, &cluster.public).await;
    assert_eq!(visitor_browser.jar.get(NODE_COOKIE).map(String::as_str), Some("node1"), "served by node 1");
    let token = session["token"].as_str().expect("a messaging token").to_owned();
    let visitor_url = format!("{}/messenger/ws?site=1001", cluster.public.replacen("http://", "ws://", 1));
    let visitor = ChatClient::spawn(
        "visitor",
        Role::Visitor { token, name: "Vic".into() },
        visitor_url,
        &cluster.public,
        visitor_browser.jar.clone(),
    );
    visitor.wait("a conversation", Duration::from_secs(10), |l| l.conversation.is_some()).await;
    let conversation = visitor.read(|l| l.conversation).expect("started");
    agent
        .wait("the new conversation (started on node 1) in node 3's queue", Duration::from_secs(10), |l| {
            l.queue.iter().any(|c| c["id"] == conversation)
        })
        .await;
    agent.open(conversation);
    cluster.note("visitor on node 1 (through nginx), agent on node 3");

    // Live, both ways, across nodes.
    let within = Duration::from_secs(10);
    for i in 1..=3 {
        let text = format!("visitor says {i}");
        visitor.send(&text);
        agent.wait(&format!("{text:?} live from node 1"), within, |l| l.count(&text) == 1).await;
        let text = format!("agent says {i}");
        agent.send(&text);
        visitor.wait(&format!("{text:?} live from node 3"), within, |l| l.count(&text) == 1).await;
    }
    cluster.note("live exchange across nodes");

    // Both keep talking; node 1 dies in the middle of it.
    let before_kill = visitor.read(|l| l.handshakes.len());
    for i in 4..=9 {
        visitor.send(format!("visitor says {i}"));
        agent.send(format!("agent says {i}"));
        if i == 6 {
            cluster.nodes[0].kill();
            cluster.note("kill -9 node1");
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    visitor
        .wait("reconnected through nginx with nothing pending", Duration::from_secs(30), |l| {
            l.handshakes.len() > before_kill && l.connected && l.pending.is_empty()
        })
        .await;
    let resent = visitor.read(|l| l.resent.clone());
    cluster.note(&format!("the visitor reconnected; every message acknowledged ({} resent: {resent:?})", resent.len()));
    for i in 10..=12 {
        visitor.send(format!("visitor says {i}"));
        agent.send(format!("agent says {i}"));
    }
    let everything = |l: &ChatLog| {
        (1..=12).all(|i| l.count(&format!("visitor says {i}")) >= 1 && l.count(&format!("agent says {i}")) >= 1)
            && l.pending.is_empty()
    };
    visitor.wait("every message", within, everything).await;
    agent.wait("every message", within, everything).await;
    cluster.note("both sides have all 24 messages");

    // The truth, from the store through node 2.
    let truth = transcript(&cluster, "node2", &agent_browser.jar, conversation).await;
    let visitor_log = visitor.stop().await;
    let agent_log = agent.stop().await;
    assert_exactly_once("the visitor", &truth, &visitor_log);
    assert_exactly_once("the agent", &truth, &agent_log);

    // Where the sockets were, from nginx's log, and what the visitor was told.
    let first = &visitor_log.handshakes[0];
    assert_eq!(cluster.served_by(&first.marker).await, "node1", "the visitor's first socket was on node 1");
    let after = &visitor_log.handshakes[before_kill];
    let new_node = cluster.served_by(&after.marker).await;
    assert_ne!(new_node, "node1");
    assert_eq!(
        after.node_cookie.as_deref(),
        Some(new_node),
        "the socket that replaced node 1's must move the visitor's node cookie to the node that took it \
         (handshakes: {:?})",
        visitor_log.handshakes
    );
    cluster.note("done");
}

// ---------------------------------------------------------------------------
// 3. Redis dies for 10 seconds under load.

/// Occurrences of one kind of outcome ("what, where, when: status"): how
/// many, and the first one in full.
type Tally = BTreeMap<String, (usize, String)>;

fn count(tally: &mut Tally, key: String, example: String) {
    tally.entry(key).or_insert((0, example)).0 += 1;
}

fn show(tally: &Tally) -> String {
    let lines: Vec<String> =
        tally.iter().map(|(key, (n, first))| format!("  {n} x {key}\n      first: {first}")).collect();
    lines.join("\n")
}

/// When a request was sent, relative to the outage.
const PHASES: [&str; 3] = ["before the outage", "during the outage", "after Redis returned"];

/// What the load saw.
#[derive(Debug, Default)]
struct Load {
    requests: u64,
    /// Every 5xx: which request, on which node, when, and what it said.
    server_errors: Tally,
    /// Requests that got no answer at all.
    transport_errors: Tally,
    /// The valid session refused.
    refused: Tally,
    /// The revoked session accepted after its revocation returned.
    accepted_revoked: Tally,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_a_10_second_redis_outage_gives_no_5xx_no_revoked_session_and_fan_out_comes_back() {
    let Some(tools) = tools() else { return };
    let _turn = TURN.lock().await;
    let mut cluster = Cluster::start(&tools, "redis-outage").await;
    let public = cluster.public.clone();
    let bases: Vec<(String, String)> = cluster
        .nodes
        .iter()
        .map(|n| (n.id.to_owned(), n.base.clone()))
        .chain([("nginx".into(), public.clone())])
        .collect();

    // Ann twice: a session that stays (through nginx) and one that will be revoked (node 1).
    let mut keeper = Browser::new();
    keeper.login(&public, "", ANN, false, &[]).await;
    let mut doomed = Browser::new();
    doomed.login(&cluster.node("node1").base, "", ANN, false, &[]).await;
    let doomed_cookie = format!("{SESSION_COOKIE}={}", doomed.jar[SESSION_COOKIE]);
    let doomed_id = session_id(&doomed.jar[SESSION_COOKIE]);

    // A chat: the visitor on node 1, the agent on node 3 (both directly).
    let mut agent_browser = Browser::new();
    agent_browser.login(&cluster.node("node3").base, "/agent", AGENT, false, &[]).await;
    let agent_url = format!("{}/agent/ws", cluster.node("node3").ws());
    let agent = ChatClient::spawn("agent", Role::Agent, agent_url, &public, agent_browser.jar.clone());
    let mut visitor_browser = Browser::new();
    let session = messenger_session(&mut visitor_browser, &cluster.node("node1").base, &public).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let visitor_url = format!("{}/messenger/ws?site=1001", cluster.node("node1").ws());
    let visitor = Arc::new(ChatClient::spawn(
        "visitor",
        Role::Visitor { token, name: "Lou".into() },
        visitor_url,
        &public,
        visitor_browser.jar.clone(),
    ));
    visitor.wait("a conversation", Duration::from_secs(10), |l| l.conversation.is_some()).await;
    let conversation = visitor.read(|l| l.conversation).expect("started");
    agent
        .wait("the conversation in the queue", Duration::from_secs(10), |l| {
            l.queue.iter().any(|c| c["id"] == conversation)
        })
        .await;
    agent.open(conversation);
    visitor.send("before the outage");
    agent.wait("a message from node 1", Duration::from_secs(10), |l| l.count("before the outage") == 1).await;

    // The load: session-validated pages through nginx and on each node, the
    // revoked-to-be session everywhere, and the visitor chatting.
    let stop = Arc::new(AtomicBool::new(false));
    let revoked = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(AtomicUsize::new(0));
    let load = Arc::new(Mutex::new(Load::default()));
    let mut tasks = Vec::new();
    for (path, cookies) in [("/api/session", cookie_header(&keeper.jar)), ("/account", cookie_header(&keeper.jar))] {
        let (bases, stop, load, http) = (bases.clone(), stop.clone(), load.clone(), cluster.http.clone());
        let phase = phase.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let (name, base) = &bases[round % bases.len()];
                let what = format!("valid session GET {path} on {name} {}", PHASES[phase.load(Ordering::SeqCst)]);
                let started = Instant::now();
                match answer(http.get(format!("{base}{path}")).header("cookie", &cookies)).await {
                    Ok(res) => {
                        let mut load = load.lock().expect("load");
                        load.requests += 1;
                        let example = format!(
                            "{} after {:?}: {:?} {:.300}",
                            res.status,
                            started.elapsed(),
                            res.location,
                            res.body
                        );
                        if res.status >= 500 {
                            count(&mut load.server_errors, format!("{what}: {}", res.status), example);
                        } else if res.status != 200 {
                            count(&mut load.refused, format!("{what}: {}", res.status), example);
                        }
                    }
                    Err(e) => count(&mut load.lock().expect("load").transport_errors, what, e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    {
        let (bases, stop, load, revoked, http) =
            (bases.clone(), stop.clone(), load.clone(), revoked.clone(), cluster.http.clone());
        let (cookies, phase) = (doomed_cookie.clone(), phase.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let (name, base) = &bases[round % bases.len()];
                let after_revocation = revoked.load(Ordering::SeqCst);
                let what =
                    format!("revoked session GET /api/session on {name} {}", PHASES[phase.load(Ordering::SeqCst)]);
                let started = Instant::now();
                match answer(http.get(format!("{base}/api/session")).header("cookie", &cookies)).await {
                    Ok(res) => {
                        let mut load = load.lock().expect("load");
                        load.requests += 1;
                        let example = format!("{} after {:?}: {:.300}", res.status, started.elapsed(), res.body);
                        if res.status >= 500 {
                            count(&mut load.server_errors, format!("{what}: {}", res.status), example);
                        } else if after_revocation && res.status != 401 {
                            count(&mut load.accepted_revoked, format!("{what}: {}", res.status), example);
                        }
                    }
                    Err(e) => count(&mut load.lock().expect("load").transport_errors, what, e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    {
        let (stop, visitor) = (stop.clone(), visitor.clone());
        tasks.push(tokio::spawn(async move {
            for i in 1.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                visitor.send(format!("under load {i}"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.note("load running");

    // Redis dies; a session is revoked (on node 2, by Ann herself) while it is away.
    let killed = Instant::now();
    phase.store(1, Ordering::SeqCst);
    cluster.redis.kill();
    cluster.note("kill -9 redis-server");
    if cluster.wait_cluster("down", Duration::from_secs(8)).await {
        cluster.note("every node reports \"cluster\":\"down\"");
    }
    let node2 = cluster.node("node2").base.clone();
    let page = keeper.get(&format!("{node2}/account/sessions")).await;
    assert_eq!(page.status, 200, "Ann's sessions page on node 2 during the outage: {}", page.body);
    let csrf = csrf_of(&page.body);
    let res =
        keeper.post(&format!("{node2}/account/sessions/revoke"), &[("_csrf", &csrf), ("session", &doomed_id)]).await;
    assert_eq!(
        (res.status, res.location.as_deref()),
        (303, Some("/account/sessions?done=revoked")),
        "revoking a session on node 2 during the outage: {}",
        res.body
    );
    revoked.store(true, Ordering::SeqCst);
    cluster.note(&format!("session revoked on node 2, {:.1} s into the outage", killed.elapsed().as_secs_f64()));

    // Chat goes on without Redis (docs/cluster.md: sockets re-read the store each second).
    let sent = Instant::now();
    visitor.send("during the outage");
    agent
        .wait("node 1's message during the outage", Duration::from_secs(5), |l| l.count("during the outage") == 1)
        .await;
    cluster.note(&format!("node 1 -> node 3 without Redis ({} ms)", sent.elapsed().as_millis()));

    tokio::time::sleep(Duration::from_secs(10).saturating_sub(killed.elapsed())).await;
    cluster.redis.start();
    phase.store(2, Ordering::SeqCst);
    cluster.note("redis-server is back on the same port");
    cluster.wait_cluster("up", Duration::from_secs(30)).await;
    cluster.note("every node reports \"cluster\":\"up\" again");

    // Fan-out across nodes is live again.
    let sent = Instant::now();
    visitor.send("after the outage");
    agent
        .wait("node 1's message after the outage", Duration::from_secs(15), |l| l.count("after the outage") == 1)
        .await;
    cluster.note(&format!("fan-out node 1 -> node 3 again ({} ms)", sent.elapsed().as_millis()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a load task");
    }
    visitor.wait("every message acknowledged", Duration::from_secs(15), |l| l.pending.is_empty()).await;
    let last = visitor.read(|l| l.acked.values().map(|(s, _)| *s).max().unwrap_or(0));
    agent.wait("every message of the conversation", Duration::from_secs(15), |l| l.floor() >= last).await;

    let load = std::mem::take(&mut *load.lock().expect("load"));
    let total = |t: &Tally| t.values().map(|(n, _)| n).sum::<usize>();
    cluster.note(&format!(
        "{} requests; {} 5xx, {} without an answer, {} valid refused, {} revoked accepted",
        load.requests,
        total(&load.server_errors),
        total(&load.transport_errors),
        total(&load.refused),
        total(&load.accepted_revoked)
    ));
    let truth = transcript(&cluster, "node2", &agent_browser.jar, conversation).await;
    let visitor = Arc::into_inner(visitor).expect("the load task is done with the visitor");
    let (visitor_log, agent_log) = (visitor.stop().await, agent.stop().await);
    assert!(load.server_errors.is_empty(), "5xx answers:\n{}", show(&load.server_errors));
    assert!(load.transport_errors.is_empty(), "requests without an answer:\n{}", show(&load.transport_errors));
    assert!(
        load.accepted_revoked.is_empty(),
        "the session revoked on node 2 was accepted:\n{}",
        show(&load.accepted_revoked)
    );
    assert!(load.refused.is_empty(), "the valid session was refused:\n{}", show(&load.refused));
    assert_exactly_once("the visitor", &truth, &visitor_log);
    assert_exactly_once("the agent (messages from the outage caught up)", &truth, &agent_log);
    cluster.note("done");
}
