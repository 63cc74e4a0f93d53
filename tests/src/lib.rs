//! Test harness for NTB Care's end-to-end tests.
//!
//! A [`TestApp`] is the local Spin-compatible host (`ntbcare-host`, built in release by
//! `scripts/build`) serving a manifest on an ephemeral loopback port with a fresh state
//! directory. Tests talk to it over real HTTP, exactly as a citizen's phone or an officer's
//! browser would. Nothing here knows about the components' internals.

pub mod fake_lapor;
pub mod fake_provider;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests crate lives in the repository").to_path_buf()
}

/// The host binary built by `scripts/build` (override with `NTBCARE_HOST_BIN`).
pub fn host_binary() -> PathBuf {
    std::env::var_os("NTBCARE_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/release/ntbcare-host"))
}

/// How to start a [`TestApp`].
#[derive(Clone, Debug)]
pub struct AppConfig {
    pub manifest: PathBuf,
    /// Runtime config (Spin's format), written into the test's state directory so that
    /// relative store paths, which Spin resolves against the file's directory, stay there.
    pub runtime_config: Option<String>,
    pub env: Vec<(String, String)>,
    pub extra_args: Vec<String>,
}

impl AppConfig {
    /// The NTB Care application as shipped: `spin.toml`, with the stores of
    /// `runtime-config.toml` kept in the test's own state directory.
    pub fn ntbcare() -> Self {
        let root = repo_root();
        AppConfig {
            manifest: root.join("spin.toml"),
            runtime_config: Some(NTBCARE_TEST_RUNTIME_CONFIG.to_string()),
            env: vec![
                ("SPIN_VARIABLE_ADMIN_TOKEN".into(), TEST_ADMIN_TOKEN.into()),
                ("SPIN_VARIABLE_INTERNAL_TOKEN".into(), "test-internal-token".into()),
                ("SPIN_VARIABLE_SESSION_SECRET".into(), "test-session-secret".into()),
                ("SPIN_VARIABLE_DEPLOYMENT_KEY".into(), "test-deployment-key".into()),
                // Tests submit many complaints from one address; the limits have tests of their own.
                ("SPIN_VARIABLE_RATE_LIMIT_PER_ADDRESS".into(), "100000".into()),
                ("SPIN_VARIABLE_RATE_LIMIT_PER_SENDER".into(), "100000".into()),
            ],
            extra_args: vec![],
        }
    }

    /// Any other manifest (conformance guests), without runtime config.
    pub fn manifest(path: impl Into<PathBuf>) -> Self {
        AppConfig { manifest: path.into(), runtime_config: None, env: vec![], extra_args: vec![] }
    }

    /// Set an environment variable, replacing an earlier value of the same name.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }
}

/// The shipped runtime config's stores, with paths inside the test's state directory.
pub const NTBCARE_TEST_RUNTIME_CONFIG: &str = r#"
[key_value_store.identity]
type = "spin"
path = "identity.db"
"#;

/// The administrator token the harness gives the app.
pub const TEST_ADMIN_TOKEN: &str = "test-admin-token";

/// A running host over a state directory that outlives restarts of the host.
pub struct TestApp {
    pub base_url: String,
    pub config: AppConfig,
    state: tempfile::TempDir,
    child: Option<Child>,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TestApp {
    /// Start the shipped NTB Care application with fresh state.
    pub fn spawn() -> Result<Self> {
        Self::spawn_with(AppConfig::ntbcare())
    }

    pub fn spawn_with(config: AppConfig) -> Result<Self> {
        let state = tempfile::tempdir()?;
        let mut app =
            TestApp { base_url: String::new(), config, state, child: None, log: Default::default() };
        app.start()?;
        Ok(app)
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// Lines the host printed so far (stdout and stderr).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn start(&mut self) -> Result<()> {
        let bin = host_binary();
        if !bin.exists() {
            bail!("{} is missing: run scripts/build first", bin.display());
        }
        let mut cmd = Command::new(&bin);
        cmd.arg("up")
            .arg("--from")
            .arg(&self.config.manifest)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--state-dir")
            .arg(self.state.path());
        if let Some(text) = &self.config.runtime_config {
            let file = self.state.path().join("runtime-config.toml");
            std::fs::write(&file, text)?;
            cmd.arg("--runtime-config-file").arg(file);
        }
        cmd.args(&self.config.extra_args);
        for (k, v) in &self.config.env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        let mut child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let (tx, rx) = mpsc::channel::<String>();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            let log = self.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("NTBCARE_TEST_LOG").is_some() {
                        eprintln!("[host] {line}");
                    }
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        // Only the reader threads hold senders now: if the host exits, the channel closes
        // and the wait below ends at once instead of at its deadline.
        drop(tx);
        // The host prints `Serving http://ADDR` once it listens, as `spin up` does.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix("Serving ") {
                        self.base_url = url.trim().trim_end_matches('/').to_string();
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    bail!("host did not start; log:\n{}", self.log().join("\n"));
                }
            }
        }
        self.child = Some(child);
        Ok(())
    }

    /// Stop the host (SIGKILL: nothing acknowledged may depend on a clean shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stop the host and start it again over the same state directory.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.start()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn agent() -> ureq::Agent {
        ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build()
    }

    pub fn get(&self, path: &str) -> Result<Reply> {
        Reply::from(Self::agent().get(&self.url(path)).call())
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Result<Reply> {
        let mut req = Self::agent().get(&self.url(path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        Reply::from(req.call())
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<Reply> {
        self.post_raw(path, "application/json", body.to_string().as_bytes(), &[])
    }

    /// POST JSON with `Authorization: Bearer <token>`.
    pub fn post_json_as(&self, token: &str, path: &str, body: &serde_json::Value) -> Result<Reply> {
        let auth = format!("Bearer {token}");
        self.post_raw(path, "application/json", body.to_string().as_bytes(), &[("authorization", &auth)])
    }

    /// Sign an officer in (`POST /api/v1/sessions`) and hand back their bearer token; a
    /// refusal fails the test where it happens.
    pub fn sign_in(&self, username: &str, password: &str) -> String {
        let r = self
            .post_json("/api/v1/sessions", &serde_json::json!({"username": username, "password": password}))
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.json().unwrap()["token"].as_str().unwrap().to_string()
    }

    /// GET with `Authorization: Bearer <token>`.
    pub fn get_as(&self, token: &str, path: &str) -> Result<Reply> {
        let auth = format!("Bearer {token}");
        self.get_with(path, &[("authorization", &auth)])
    }

    /// DELETE with `Authorization: Bearer <token>`.
    pub fn delete_as(&self, token: &str, path: &str) -> Result<Reply> {
        Reply::from(
            Self::agent().delete(&self.url(path)).set("authorization", &format!("Bearer {token}")).call(),
        )
    }

    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Reply> {
        let mut req = Self::agent().post(&self.url(path)).set("content-type", content_type);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        Reply::from(req.send_bytes(body))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// PUT a body with headers.
pub fn put_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Result<Reply> {
    let mut all = vec![("content-type", content_type)];
    all.extend_from_slice(headers);
    send_with_body(app, "PUT", path, body, &all)
}

/// PATCH a JSON body with headers.
pub fn patch_raw(app: &TestApp, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Result<Reply> {
    send_with_body(app, "PATCH", path, body, headers)
}

/// DELETE with a JSON body and headers.
pub fn delete_raw(app: &TestApp, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Result<Reply> {
    send_with_body(app, "DELETE", path, body, headers)
}

fn send_with_body(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Result<Reply> {
    let mut req = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
        .request(method, &app.url(path))
        .set("content-type", "application/json");
    // A later content-type in `headers` replaces the default.
    for (k, v) in headers {
        req = req.set(k, v);
    }
    Reply::from(req.send_bytes(body))
}

/// GET raw bytes: (status, body).
pub fn get_bytes(app: &TestApp, path: &str) -> Result<(u16, Vec<u8>)> {
    let resp =
        match ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build().get(&app.url(path)).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(anyhow!("transport error: {e}")),
        };
    let status = resp.status();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes)?;
    Ok((status, bytes))
}

/// An HTTP answer, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A ureq result as a reply: an HTTP error status is a reply too, only a transport failure
    /// is an error.
    pub fn from(result: Result<ureq::Response, ureq::Error>) -> Result<Self> {
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(anyhow!("transport error: {e}")),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = resp.header(&n).unwrap_or_default().to_string();
                (n, v)
            })
            .collect();
        let body = resp.into_string()?;
        Ok(Reply { status, headers, body })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("status {} body is not JSON: {}", self.status, self.body))
    }
}

/// The moment `days` from now as RFC 3339 UTC to the minute (`as_of` for sweeps).
pub fn rfc3339_days_from_now(days: i64) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
        + days * 86_400;
    let (d, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:00Z", rem / 3600, rem / 60 % 60)
}
