//! A private PostgreSQL server for the tests, the stress example and the
//! benchmark: `initdb` into a fresh directory under the temp dir, `pg_ctl`
//! on 127.0.0.1 with a free port and the socket in that directory, `trust`
//! authentication for the `postgres` user. As root, both run as the
//! `postgres` user (`initdb` refuses root).
//!
//! Without the binaries, [`PgServer::start_or_skip`] prints a notice and
//! returns `None` (the test passes), unless `TEMPFAIL_REQUIRE_SERVERS=1`, when
//! it panics: CI must not skip these tests.
//!
//! The test servers run with `fsync=off`: a `pg_ctl restart` shuts down with a
//! checkpoint, so what it proves (nothing committed is lost across a server
//! restart) does not depend on fsync; only an OS crash would. The benchmark
//! asks for a durable server (`fsync=on`, the default).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A running private server; stopped (and its directory removed) on drop.
/// A watchdog process also stops it when the process that started it exits,
/// so a server kept in a `static` does not outlive its test binary.
#[derive(Debug)]
pub struct PgServer {
    base: PathBuf,
    data: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn required() -> bool {
    std::env::var("TEMPFAIL_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// The directory holding `initdb` and `pg_ctl`: the newest
/// `/usr/lib/postgresql/*/bin` first, then `PATH`.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, b)| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    if let Some((_, b)) = versions.pop() {
        return Some(b);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl PgServer {
    /// Starts a server, or explains why not. `durable`: keep `fsync` on.
    pub fn start(durable: bool) -> Result<PgServer, String> {
        let bin = find_bin().ok_or_else(|| {
            "PostgreSQL's initdb and pg_ctl not found (in /usr/lib/postgresql/*/bin or PATH); \
             install the Debian package `postgresql`"
                .to_owned()
        })?;
        let as_postgres = is_root();
        // A random part, so a directory left by a killed earlier run with
        // the same pid is never reused.
        let stamp = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(COUNTER.load(Ordering::Relaxed));
            h.finish()
        };
        let base = std::env::temp_dir().join(format!(
            "tempfail-pg-{}-{}-{stamp}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&base).map_err(|e| format!("create {}: {e}", base.display()))?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&base))?;
        }
        let mut server = PgServer {
            data: base.join("data"),
            base,
            bin,
            port: 0,
            as_postgres,
        };
        server.watchdog();
        server.initdb()?;
        let mut last = String::new();
        // A port found free can be taken by another process before the server
        // binds it: try a few.
        for _ in 0..5 {
            server.port = free_port()?;
            match server.pg_ctl_start(durable) {
                Ok(()) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// [`start`](Self::start) for a test: `None` (after a notice) when the
    /// binaries are missing and servers are not required; a panic when they
    /// are required or the server fails to start.
    pub fn start_or_skip(durable: bool) -> Option<PgServer> {
        if find_bin().is_none() && !required() {
            eprintln!(
                "NOTICE: PostgreSQL binaries (initdb, pg_ctl) not found: skipping this test \
                 (set TEMPFAIL_REQUIRE_SERVERS=1 to make this a failure)"
            );
            return None;
        }
        match PgServer::start(durable) {
            Ok(s) => Some(s),
            Err(e) => panic!("private PostgreSQL server did not start: {e}"),
        }
    }

    /// One server per test binary, started on first use.
    pub fn shared() -> Option<&'static PgServer> {
        static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
        SERVER
            .get_or_init(|| PgServer::start_or_skip(false))
            .as_ref()
    }

    /// A tokio-postgres connection string for the server.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `pg_ctl restart` (fast shutdown: clients are disconnected, a shutdown
    /// checkpoint is written, the server starts again on the same port).
    pub fn restart(&self) -> Result<(), String> {
        run(self
            .pg_ctl()
            .args(["-m", "fast", "-w", "-t", "60", "restart"]))
    }

    fn cmd(&self, program: &Path) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn pg_ctl(&self) -> Command {
        let mut c = self.cmd(&self.bin.join("pg_ctl"));
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.base.join("log"));
        c
    }

    fn initdb(&self) -> Result<(), String> {
        run(self
            .cmd(&self.bin.join("initdb"))
            .arg("-D")
            .arg(&self.data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-N",
            ]))
    }

    fn pg_ctl_start(&self, durable: bool) -> Result<(), String> {
        let mut opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c autovacuum_naptime=10s",
            self.port,
            self.base.display()
        );
        if !durable {
            opts.push_str(" -c fsync=off -c full_page_writes=off");
        }
        run(self
            .pg_ctl()
            .args(["-w", "-t", "60", "-o"])
            .arg(opts)
            .arg("start"))
        .map_err(|e| {
            let log = std::fs::read_to_string(self.base.join("log")).unwrap_or_default();
            format!("{e}\nserver log:\n{log}")
        })
    }

    /// A detached shell that waits for this process to exit, then stops the
    /// server and removes its directory.
    fn watchdog(&self) {
        let stop = format!(
            "{} {} -D '{}' -m immediate stop",
            if self.as_postgres {
                "runuser -u postgres --"
            } else {
                ""
            },
            self.bin.join("pg_ctl").display(),
            self.data.display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{base}'",
            pid = std::process::id(),
            base = self.base.display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .pg_ctl()
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A queue name no other test in this process uses.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
