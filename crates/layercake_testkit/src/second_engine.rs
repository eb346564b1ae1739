//! A second Docker Engine on this machine, for tests of a pool of builders:
//! Debian's `dockerd` with its own data root, exec root, pid file, socket
//! and bridge (a bridge of its own, since the first engine's `docker0` is
//! taken; without one, BuildKit's `RUN` steps find no network). Needs root
//! (it makes a network interface) and `ip` (iproute2).

use layercake_build::{Docker, DockerSelection};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package puts the daemon.
const DOCKERD: &str = "/usr/sbin/dockerd";

/// A running second engine; stopped, its bridge removed and its files
/// deleted when dropped.
#[derive(Debug)]
pub struct SecondEngine {
    dir: PathBuf,
    bridge: String,
    child: Option<Child>,
    /// Its endpoint, as `DOCKER_HOST` names it.
    pub host: String,
}

impl SecondEngine {
    /// Starts one and waits until it answers. `Err` says why it cannot
    /// run here (not root, no `dockerd`, no `ip`).
    pub fn start() -> Result<SecondEngine, String> {
        if !Path::new(DOCKERD).is_file() {
            return Err(format!("{DOCKERD} is missing (Debian's docker.io)"));
        }
        // Short paths: a unix socket's path has at most 107 bytes.
        let unique = format!("{}{}", std::process::id() % 100_000, nanos() % 1000);
        let dir = PathBuf::from(format!("/tmp/lc-engine-{unique}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let bridge = format!("lcb{unique}");
        // A /24 of its own in 172.31.0.0/16, away from docker0's 172.17.0.0/16.
        let subnet = 20 + (std::process::id() % 200);
        let address = format!("172.31.{subnet}.1/24");
        run_ip(&["link", "add", &bridge, "type", "bridge"])?;
        run_ip(&["addr", "add", &address, "dev", &bridge])?;
        run_ip(&["link", "set", &bridge, "up"])?;
        let host = format!("unix://{}/docker.sock", dir.display());
        let mut engine = SecondEngine {
            dir,
            bridge,
            child: None,
            host,
        };
        engine.run()?;
        Ok(engine)
    }

    fn run(&mut self) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.join("dockerd.log"))
            .map_err(|e| format!("dockerd log: {e}"))?;
        let child = Command::new(DOCKERD)
            .arg("--data-root")
            .arg(self.dir.join("data"))
            .arg("--exec-root")
            .arg(self.dir.join("exec"))
            .arg("--pidfile")
            .arg(self.dir.join("dockerd.pid"))
            .args(["--host", &self.host, "--bridge", &self.bridge])
            .args(["--iptables=false", "--ip-masq=false"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {DOCKERD}: {e}"))?;
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if self.docker().is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "the second dockerd did not answer within a minute; its log: {}",
            std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
        ))
    }

    /// The docker CLI talking to it.
    pub fn docker(&self) -> Result<Docker, String> {
        Docker::detect(&DockerSelection {
            host: Some(self.host.clone()),
            ..DockerSelection::from_env()
        })
        .map_err(|unavailable| unavailable.reason)
    }

    /// Stops the daemon (SIGTERM, as `systemctl stop` does) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again after [`SecondEngine::stop`], with the same data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.run()
    }
}

/// A second engine, or `None` with a note on stderr when one cannot run
/// here (not root, no `dockerd`, no `ip`); under `LAYERCAKE_REQUIRE_DOCKER=1`
/// (CI) that fails the test instead, as [`crate::docker_or_skip`] does.
///
/// # Panics
///
/// Under `LAYERCAKE_REQUIRE_DOCKER=1` when the engine cannot start.
pub fn second_engine_or_skip() -> Option<SecondEngine> {
    match SecondEngine::start() {
        Ok(engine) => Some(engine),
        Err(reason) => {
            if std::env::var(crate::REQUIRE_DOCKER_ENV).is_ok_and(|value| value == "1") {
                panic!(
                    "{}=1 but a second Docker Engine cannot run here: {reason}",
                    crate::REQUIRE_DOCKER_ENV
                );
            }
            crate::note_skip(&format!(
                "skipped: a second Docker Engine cannot run here ({reason})"
            ));
            None
        }
    }
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        self.stop();
        let _ = run_ip(&["link", "delete", &self.bridge]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip (iproute2): {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}
