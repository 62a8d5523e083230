//! What the cluster tests need from the machine, and the processes they
//! start: a database of their own, redis-server, `tessera` commands and
//! nodes. Each is killed (or dropped) on drop, also when a test panics.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// What the tests need from the machine.

#[derive(Debug)]
pub struct Tools {
    /// `TESSERA_TEST_POSTGRES`: a URL with the right to create databases.
    pub admin_url: String,
    pub psql: PathBuf,
    pub redis: PathBuf,
    pub nginx: PathBuf,
}

impl Tools {
    /// The tools, or `None` after a loud note (a panic under `TESSERA_REQUIRE_CLUSTER=1`).
    pub fn find() -> Option<Self> {
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
            (Some(admin_url), Some(psql), Some(redis), Some(nginx)) => Some(Self { admin_url, psql, redis, nginx }),
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// The last `n` lines of a log file.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A log file to append a process's output to.
pub fn log_file(path: &Path) -> File {
    File::options().create(true).append(true).open(path).expect("a log file")
}

// ---------------------------------------------------------------------------
// Processes.

/// A child process, killed with SIGKILL (with its whole process group when it
/// has one, as nginx's master and workers do) and reaped on drop.
#[derive(Debug)]
pub struct Process {
    pub child: Child,
    /// Whether the child leads a process group of its own (`process_group(0)`).
    pub group: bool,
}

impl Process {
    fn kill(&mut self) {
        if self.group {
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How it exited, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A database of its own on the PostgreSQL server at `TESSERA_TEST_POSTGRES`,
/// dropped on drop.
#[derive(Debug)]
pub struct Database {
    psql: PathBuf,
    admin_url: String,
    name: String,
    pub url: String,
}

impl Database {
    pub fn create(tools: &Tools) -> Self {
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

    /// Runs `sql` on the admin URL's database.
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
pub struct Redis {
    pub bin: PathBuf,
    pub port: u16,
    /// Its working directory, with `redis.log`.
    pub dir: PathBuf,
    /// `None` while it is killed.
    pub process: Option<Process>,
}

impl Redis {
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts it and waits until it answers `PING`.
    pub fn start(&mut self) {
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
        let mut process = Process { child, group: false };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !redis_answers_ping(self.port) {
            if let Some(status) = process.exited() {
                panic!("redis-server exited ({status}):\n{}", log_tail(&self.dir.join("redis.log"), 20));
            }
            assert!(Instant::now() < deadline, "redis-server did not answer PING on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.process = Some(process);
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        drop(self.process.take());
    }
}

fn redis_answers_ping(port: u16) -> bool {
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

// ---------------------------------------------------------------------------
// Tessera.

/// Tessera's commands get cheap password hashing (tests log in a lot) and
/// none of the test-only variables (Tessera notes every `TESSERA_*` it ignores).
pub fn tessera() -> Command {
    let mut cmd = crate::common::tessera();
    cmd.env_remove("TESSERA_TEST_POSTGRES").env_remove("TESSERA_REQUIRE_CLUSTER").env_remove("TESSERA_REQUIRE_BROWSER");
    cmd
}

/// Runs a `tessera` command to completion; panics with its output if it fails.
pub fn run_tessera(args: &[&str], stdin: Option<&str>) -> String {
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

/// Makes a data directory for one node: mode 0700, with nginx as trusted proxy.
pub fn make_data_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("data dir");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod data dir");
    std::fs::write(path.join("tessera.toml"), "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n").expect("tessera.toml");
}

/// One `tessera serve`.
#[derive(Debug)]
pub struct Node {
    pub id: &'static str,
    pub data: PathBuf,
    pub log: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT`, as nginx's log names it.
    pub addr: String,
    /// `None` once killed.
    pub process: Option<Process>,
}

impl Node {
    /// `ws://127.0.0.1:PORT`
    pub fn ws(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    /// `kill -9`: no graceful shutdown, sockets just die.
    pub fn kill(&mut self) {
        drop(self.process.take());
    }
}

/// A node started, its banner not read yet.
pub struct StartingNode {
    id: &'static str,
    data: PathBuf,
    log: PathBuf,
    process: Process,
    banner: std::sync::mpsc::Receiver<String>,
}

/// Starts node `id` with its data directory and log in `dir`, on a free
/// port, with `public` (nginx) as its public URL.
pub fn spawn_node(id: &'static str, dir: &Path, database: &str, redis: &str, public: &str) -> StartingNode {
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
    StartingNode { id, data, log, process: Process { child, group: false }, banner }
}

impl StartingNode {
    /// Waits for the banner that says where the node listens.
    pub fn listening(mut self) -> Node {
        let first = match self.banner.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => line,
            Err(_) => {
                let exited = self.process.exited().map_or("still running".into(), |s| s.to_string());
                panic!("{} printed no banner within 90 s ({exited}); its log:\n{}", self.id, log_tail(&self.log, 40));
            }
        };
        let base = first.rsplit(' ').next().unwrap_or_default().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{}'s banner: {first}", self.id);
        let addr = base.trim_start_matches("http://").to_owned();
        Node { id: self.id, data: self.data, log: self.log, base, addr, process: Some(self.process) }
    }
}
