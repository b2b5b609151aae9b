//! Test support shared by the crates' tests: where the public test data lives, and a real
//! PostgreSQL server started by the test process itself (initdb + pg_ctl in a temp dir, on a
//! free port). When PostgreSQL is missing the tests fail with a message; they never skip.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The folder with the public test data (`shared/testdata`): `SAMVERKA_TESTDATA`, or a
/// `shared/testdata` beside one of the checkout's parent folders.
pub fn testdata_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SAMVERKA_TESTDATA") {
        return PathBuf::from(dir);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates =
        here.ancestors().map(|a| a.join("shared/testdata")).chain([PathBuf::from("/work/shared/testdata")]);
    for c in candidates {
        if c.join("README.md").is_file() {
            return c;
        }
    }
    panic!("the shared test data was not found: set SAMVERKA_TESTDATA to the shared/testdata folder");
}

/// Reads a file of the test data as text.
pub fn testdata(path: &str) -> String {
    let p = testdata_dir().join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The Python that has the interop tests' independent implementations (`hl7`,
/// `fhir.resources`), set up by `scripts/test`. Tests fail, never skip, without it.
pub fn python() -> String {
    std::env::var("SAMVERKA_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "SAMVERKA_TEST_PYTHON is not set: run ./scripts/test, which installs hl7 and fhir.resources from PyPI \
             (crates/testkit/interop-requirements.txt)"
        )
    })
}

fn postgres_bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SAMVERKA_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p): &(u32, PathBuf)| p.join("initdb").is_file())
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, p)) => p,
        None => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). Install it with \
             `apt-get install postgresql` or set SAMVERKA_PG_BIN; storage tests run on both databases and do not skip."
        ),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A PostgreSQL server that lives as long as the test process. A watchdog shell holds the
/// other end of a pipe; when this process exits (even by SIGKILL) the pipe closes and the
/// watchdog stops the server and removes its folder.
pub struct PgServer {
    pub port: u16,
    bin: PathBuf,
    /// The server's folder and start options, to stop and start it again.
    dir: PathBuf,
    opts: String,
    /// Holding the pipe open keeps the server alive; the child is reaped by the OS at exit.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

impl PgServer {
    fn start() -> PgServer {
        let bin = postgres_bin_dir();
        let dir = tempfile::Builder::new().prefix("samverka-pg-").tempdir().expect("temp dir").keep();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let as_root = current_uid() == 0;
        if as_root {
            // initdb refuses to run as root; the server runs as the postgres user.
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().expect("chown");
            assert!(status.success(), "could not give {} to the postgres user", dir.display());
        }
        let data = dir.join("data");
        let b = |tool: &str| shell_quote(bin.join(tool).to_str().unwrap());
        let d = shell_quote(data.to_str().unwrap());
        let sock = shell_quote(dir.to_str().unwrap());
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300",
            dir.display()
        );
        let script = format!(
            "set -e; {initdb} -D {d} -A trust -U postgres -E UTF8 --locale=C.UTF-8 >{sock}/initdb.log 2>&1; \
             {pg_ctl} -D {d} -o {opts} -l {sock}/server.log -w start >/dev/null; echo ready; \
             cat >/dev/null || true; {pg_ctl} -D {d} -m immediate stop >/dev/null 2>&1 || true; rm -rf {sock}",
            initdb = b("initdb"),
            pg_ctl = b("pg_ctl"),
            opts = shell_quote(&opts),
        );
        let mut cmd = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", &script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the PostgreSQL watchdog");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read from watchdog");
        if line.trim() != "ready" {
            let log = std::fs::read_to_string(dir.join("initdb.log")).unwrap_or_default()
                + &std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("PostgreSQL did not start in {}:\n{log}", dir.display());
        }
        let stdin = child.stdin.take().unwrap();
        PgServer { port, bin, dir, opts, _watchdog: Mutex::new((child, stdin)) }
    }

    /// The server of this test process, started on first use.
    pub fn get() -> &'static PgServer {
        static SERVER: OnceLock<PgServer> = OnceLock::new();
        SERVER.get_or_init(PgServer::start)
    }

    /// A new, empty database on the server, as a connection URL.
    pub fn fresh_database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("t_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres", "-qAt", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("run psql");
        assert!(out.status.success(), "CREATE DATABASE failed: {}", String::from_utf8_lossy(&out.stderr));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server (fast shutdown: open connections are cut), as an outage would.
    pub fn stop(&self) {
        self.pg_ctl(&format!("-D {} -m fast -w stop", shell_quote(self.dir.join("data").to_str().unwrap())));
    }

    /// Starts the stopped server again with the same folder, port and options.
    pub fn start_again(&self) {
        let d = self.dir.join("data");
        self.pg_ctl(&format!(
            "-D {} -o {} -l {} -w start",
            shell_quote(d.to_str().unwrap()),
            shell_quote(&self.opts),
            shell_quote(self.dir.join("server.log").to_str().unwrap())
        ));
    }

    fn pg_ctl(&self, args: &str) {
        let script = format!("{} {args} >/dev/null", shell_quote(self.bin.join("pg_ctl").to_str().unwrap()));
        let mut cmd = if current_uid() == 0 {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", &script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        };
        let status = cmd.status().expect("run pg_ctl");
        assert!(status.success(), "pg_ctl {args} failed");
    }

    /// Runs SQL through psql (for checks from outside the application).
    pub fn psql(&self, url_db: &str, sql: &str) -> String {
        let db = url_db.rsplit('/').next().unwrap();
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", db, "-qAt", "-c", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

fn current_uid() -> u32 {
    // `id -u` avoids an unsafe libc call for a value read once per test process.
    let out = Command::new("id").arg("-u").output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(1)
}

/// An SMTP server from PyPI (aiosmtpd) writing what it receives into a maildir; killed on drop.
pub struct SmtpServer {
    child: std::process::Child,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start(port: u16) -> SmtpServer {
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        SmtpServer { child, maildir }
    }

    /// Each mail received, decoded by Python's own `email` package (lettre may send the body
    /// quoted-printable or base64): its to, subject and plain-text body.
    pub fn received(&self) -> Vec<serde_json::Value> {
        let dir = self.maildir.path().join("mail").join("new");
        let files: Vec<std::path::PathBuf> =
            std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
        files
            .iter()
            .map(|path| {
                let out = std::process::Command::new(python())
                    .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/read_mail.py"))
                    .arg(path)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                serde_json::from_slice(&out.stdout).unwrap()
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
