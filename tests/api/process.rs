//! The real `formwork` binary as a separate process: for crash (kill -9) and shutdown tests.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct ServerProcess {
    pub child: Child,
    pub base: String,
}

/// `target/<profile>/formwork`, beside the directory of this test binary.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let bin = dir.join("formwork");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace first (make test does)",
        bin.display()
    );
    bin
}

impl ServerProcess {
    pub async fn start(db_url: &str, dir: &Path) -> ServerProcess {
        Self::start_with(db_url, dir, None).await
    }

    /// Start with its log (at debug level) written to `log`.
    pub async fn start_logging(db_url: &str, dir: &Path, log: &Path) -> ServerProcess {
        Self::start_with(db_url, dir, Some(log)).await
    }

    async fn start_with(db_url: &str, dir: &Path, log: Option<&Path>) -> ServerProcess {
        Self::start_env(db_url, dir, log, &[]).await
    }

    /// Start with extra environment (settings such as `FORMWORK_FLOWS__OUTBOX_LEASE`, or a
    /// `FORMWORK_FAILPOINT`).
    pub async fn start_env(
        db_url: &str,
        dir: &Path,
        log: Option<&Path>,
        env: &[(&str, String)],
    ) -> ServerProcess {
        let mut child = command(db_url, dir, log, env)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("formwork starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
                .await
                .expect("the server announces its address in time")
                .expect("stdout readable")
                .expect("the server printed its address");
            if let Some(addr) = line.strip_prefix("Formwork is listening on ") {
                break addr.trim().to_owned();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { child, base }
    }

    /// Run `formwork serve` until it exits by itself (a failpoint aborts it), at most 60 s.
    pub async fn run_until_exit(
        db_url: &str,
        dir: &Path,
        env: &[(&str, String)],
    ) -> std::process::ExitStatus {
        let mut child = command(db_url, dir, None, env)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("formwork starts");
        tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
            .await
            .expect("the server exits in time")
            .expect("exit status")
    }

    /// A client acting as the first administrator of this server.
    pub async fn admin(&self) -> reqwest::Client {
        crate::helpers::admin_client(&self.base).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.base, path)
    }

    /// SIGKILL: no chance to flush or finish anything.
    pub async fn kill_9(mut self) {
        self.child.kill().await.expect("kill -9");
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running") as i32;
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
        tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server stops within its grace period")
            .expect("exit status")
    }
}

/// `formwork serve` on a free port over `db_url`, with files, keys and (with `log`) a
/// debug log in `dir`; stdout left to the caller.
fn command(db_url: &str, dir: &Path, log: Option<&Path>, env: &[(&str, String)]) -> Command {
    let stderr = match log {
        Some(p) => Stdio::from(std::fs::File::create(p).expect("log file")),
        None => Stdio::inherit(),
    };
    let mut cmd = Command::new(binary());
    cmd.arg("serve")
        .env("FORMWORK_DATABASE__URL", db_url)
        .env("FORMWORK_SERVER__PORT", "0")
        .env("FORMWORK_SERVER__WEB_DIR", "/nonexistent")
        .env("FORMWORK_STORAGE__FILES_DIR", dir.join("files"))
        .env("FORMWORK_AUDIT__SIGNING_KEY", dir.join("audit-signing.key"))
        .env(
            "FORMWORK_LOG__LEVEL",
            if log.is_some() { "debug" } else { "warn" },
        )
        .env(
            "FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD",
            crate::helpers::ADMIN_PASSWORD,
        )
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(stderr);
    cmd
}

/// `formwork audit verify` on the store at `url` passes.
pub fn assert_audit_verifies(url: &str) {
    let out = std::process::Command::new(binary())
        .args(["audit", "verify"])
        .env("FORMWORK_DATABASE__URL", url)
        .output()
        .expect("formwork runs");
    assert!(
        out.status.success(),
        "audit verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
