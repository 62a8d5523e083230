//! The cluster: a fresh PostgreSQL database with its schema and three
//! people, a Redis server, three `tessera serve` nodes and nginx running
//! `deploy/nginx.conf`, all on free ports. Dropping it kills everything;
//! after a panic it first prints the tail of every log and keeps the
//! directory.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::PASSWORD;
use crate::processes::{
    Database, Node, Process, Redis, StartingNode, Tools, free_port, log_file, log_tail, make_data_dir, run_tessera,
    spawn_node,
};

pub const NODE_IDS: [&str; 3] = ["node1", "node2", "node3"];
/// The cookie by which nginx keeps a browser on one node.
pub const NODE_COOKIE: &str = "__Host-ts_node";
pub const ADMIN: &str = "admin@example.com";
pub const AGENT: &str = "agent@example.com";
pub const ANN: &str = "ann@example.com";

#[derive(Debug)]
pub struct Cluster {
    /// The test's name for it, in every note and in the logs printed after a panic.
    label: &'static str,
    started: Instant,
    /// `http://127.0.0.1:PORT`: nginx, what browsers use (and every node's `--public-url`).
    pub public: String,
    pub nodes: Vec<Node>,
    pub redis: Redis,
    nginx: Option<Process>,
    nginx_dir: PathBuf,
    db: Option<Database>,
    /// A client without cookies that does not follow redirects.
    pub http: reqwest::Client,
    /// Whether the nodes have `/readyz` (another engineer is adding it).
    readyz: bool,
    dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start(tools: &Tools, label: &'static str) -> Self {
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
        let mut redis = Redis { bin: tools.redis.clone(), port: free_port(), dir: redis_dir, process: None };
        redis.start();
        let db = Database::create(tools);
        let nginx_port = free_port();
        let public = format!("http://127.0.0.1:{nginx_port}");

        // The schema first, then the people, through node 1's data directory.
        let dirs: Vec<PathBuf> = NODE_IDS.iter().map(|id| dir.path().join(id)).collect();
        for d in &dirs {
            make_data_dir(d);
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
        let others: Vec<StartingNode> =
            NODE_IDS[1..].iter().map(|id| spawn_node(id, dir.path(), &db.url, &redis_url, &public)).collect();
        let mut nodes = vec![node1];
        nodes.extend(others.into_iter().map(StartingNode::listening));

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
        cluster.wait_cluster_state("up", Duration::from_secs(60)).await;
        cluster.note(&format!("cluster up in {:.1} s", started.elapsed().as_secs_f64()));
        cluster
    }

    /// Prints `what` with the time since the cluster started (see it with `--nocapture`).
    pub fn note(&self, what: &str) {
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
        self.nginx = Some(Process { child, group: true });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.nginx.as_mut().and_then(Process::exited) {
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
            .map(|f| format!("--- {f}\n{}", log_tail(&self.nginx_dir.join(f), 20)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn node(&self, id: &str) -> &Node {
        self.nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no node {id}"))
    }

    /// The node listening on `addr` (`127.0.0.1:PORT`).
    fn node_at_addr(&self, addr: &str) -> Option<&'static str> {
        self.nodes.iter().find(|n| n.addr == addr).map(|n| n.id)
    }

    /// Polls every live node's `/readyz` until it says `"cluster":"<want>"`.
    /// Without `/readyz` (a 404: not built yet) it polls `/login` instead and
    /// says so; only "up" can be told that way. Whether every node said so
    /// in time: not saying "up" fails the test, any other state is noted.
    pub async fn wait_cluster_state(&mut self, want: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let bases: Vec<(&'static str, String, PathBuf)> =
            self.nodes.iter().filter(|n| n.process.is_some()).map(|n| (n.id, n.base.clone(), n.log.clone())).collect();
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
                            log_tail(&log, 40)
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
    async fn upstreams_tried(&self, marker: &str) -> Vec<String> {
        let log = self.nginx_dir.join("logs/tessera-access.log");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains(marker)) {
                let field = line.split("upstream=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
                return field.split(", ").map(str::to_owned).collect();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {marker:?} in nginx's access log:\n{}",
                log_tail(&log, 20)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The node that finally answered the request marked `marker`.
    pub async fn served_by(&self, marker: &str) -> &'static str {
        let tried = self.upstreams_tried(marker).await;
        let last = tried.last().cloned().unwrap_or_default();
        self.node_at_addr(&last).unwrap_or_else(|| panic!("{marker}: nginx used {tried:?}, which is no node"))
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
                eprintln!("--- {} ({})\n{}", node.id, node.base, log_tail(&node.log, 40));
            }
            eprintln!("--- nginx\n{}", self.nginx_logs());
            eprintln!("--- redis\n{}", log_tail(&self.redis.dir.join("redis.log"), 10));
            // Keep the directory for a closer look.
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
            let _ = dir.keep();
        }
    }
}
