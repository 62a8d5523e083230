//! Shared helpers for the binary's end-to-end tests: the real `tessera`
//! binary on port 0 with a fresh data directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");
pub const PASSWORD: &str = "correct horse battery";

/// A running server; stopped (SIGTERM) on drop.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data: &Path) -> Self {
        Self::start_with(data, &[])
    }

    /// Starts the server with extra `serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--data"])
            .arg(data)
            .args(["--bind", "127.0.0.1:0"])
            .args(extra)
            .env("TESSERA_PASSWORD__ARGON2_MEMORY_KIB", "256")
            .env("TESSERA_PASSWORD__ARGON2_ITERATIONS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tessera serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a banner line").expect("readable banner");
        let base = first.rsplit(' ').next().expect("address at the end of the banner").to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "banner: {first}");
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base }
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
    let mut child = Command::new(BIN)
        .args(["user", "add", "--data"])
        .arg(data)
        .args(["--email", email, "--role", role, "--password-stdin"])
        .env("TESSERA_PASSWORD__ARGON2_MEMORY_KIB", "256")
        .env("TESSERA_PASSWORD__ARGON2_ITERATIONS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run user add");
    child.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("write password");
    child.wait_with_output().expect("user add output")
}
