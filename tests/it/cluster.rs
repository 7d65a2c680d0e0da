//! `cts cluster`: a Ballista scheduler and two executors started from the cts binary on
//! 127.0.0.1 run every report over a loaded bucket with exactly the rows of a local run; a
//! query stopped by its time limit cancels its job on the scheduler; a cluster that is down, or
//! an executor killed mid-query, is an error (or an answer) within the query timeout, never a
//! hang.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::cli::cts;
use crate::common::sample_bucket;

/// The processes a test started: killed and waited for when it ends, however it ends.
struct Processes(Vec<(String, Child)>);

impl Processes {
    fn start(&mut self, name: &str, mut command: Command, logs: &Path) {
        let log = |suffix: &str| {
            std::fs::File::create(logs.join(format!("{name}.{suffix}"))).expect("log file")
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(log("out"))
            .stderr(log("err"))
            .spawn()
            .expect("start a cluster process");
        self.0.push((name.to_string(), child));
    }

    fn kill(&mut self, name: &str) {
        if let Some(i) = self.0.iter().position(|(n, _)| n == name) {
            let (_, mut child) = self.0.remove(i);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Run `cts` and give its output, failing the test when it takes longer than `limit`.
fn run_within(mut command: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cts");
    // Read the pipes on threads, so that a large result does not block the child.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).map(|_| v)
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).map(|_| v)
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = Output {
        status,
        stdout: out.join().expect("stdout thread").expect("stdout"),
        stderr: err.join().expect("stderr thread").expect("stderr"),
    };
    (output, started.elapsed())
}

/// The lines of a CSV after its header, sorted: rows as a set, ordering aside.
fn sorted_rows(csv: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(csv);
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap_or_default();
    let mut rows: Vec<String> = lines.collect();
    rows.sort();
    (header, rows)
}

struct Cluster {
    url: String,
    data: PathBuf,
    processes: Processes,
}

/// A scheduler and two executors over the archive of `data`.
fn start_cluster(data: &Path, logs: &Path) -> Cluster {
    let port = free_port();
    let mut processes = Processes(Vec::new());
    let mut scheduler = cts(data);
    scheduler.args(["cluster", "scheduler", "--listen"]);
    scheduler.arg(format!("127.0.0.1:{port}"));
    scheduler.args(["--executor-timeout", "4"]);
    // Its log says when a job is cancelled.
    scheduler.env("CTS_CLUSTER_LOG", "info");
    processes.start("scheduler", scheduler, logs);
    for i in 1..=2 {
        let mut executor = cts(data);
        executor.args(["cluster", "executor", "--scheduler"]);
        executor.arg(format!("127.0.0.1:{port}"));
        executor.args(["--port", &free_port().to_string()]);
        executor.args(["--grpc-port", &free_port().to_string()]);
        executor.args(["--concurrency", "2", "--heartbeat", "1"]);
        processes.start(&format!("executor-{i}"), executor, logs);
    }
    let cluster = Cluster {
        url: format!("df://127.0.0.1:{port}"),
        data: data.to_path_buf(),
        processes,
    };
    // Ready when a query runs (the executors have registered).
    let started = Instant::now();
    loop {
        let (out, _) = run_within(
            cluster.sql("SELECT count(*) FROM traces", 20.0),
            Duration::from_secs(40),
        );
        if out.status.success() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the cluster did not answer: {out:?}\n{}",
            logs_text(logs)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    cluster
}

fn logs_text(logs: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
        text.push_str(&format!("--- {}\n{body}\n", entry.path().display()));
    }
    text
}

impl Cluster {
    fn sql(&self, sql: &str, timeout: f64) -> Command {
        let mut c = cts(&self.data);
        c.args(["--query-timeout", &timeout.to_string()]);
        c.args(["sql", sql, "--format", "csv", "--cluster", &self.url]);
        c
    }
}

#[test]
fn reports_on_a_cluster_match_the_local_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let bucket = dir.path().join("bucket");
    sample_bucket(&bucket, 3000, 11);
    let loaded = cts(&data)
        .args(["load", "--quiet"])
        .arg(&bucket)
        .output()
        .expect("load");
    assert!(loaded.status.success(), "{loaded:?}");
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Days::new(10)).to_string();
    let to = (today + chrono::Days::new(2)).to_string();

    let mut cluster = start_cluster(&data, &logs);

    // Every report: the cluster's rows are the local run's.
    let limit = Duration::from_secs(120);
    let mut differ = Vec::new();
    for name in cts::output::report::builtin_names() {
        let run = |on_cluster: bool| {
            let mut c = cts(&data);
            c.args([
                "--query-timeout",
                "60",
                "report",
                "run",
                name,
                "--format",
                "csv",
            ]);
            c.args(["--from", &from, "--to", &to]);
            if on_cluster {
                c.args(["--cluster", &cluster.url]);
            }
            let (out, took) = run_within(c, limit);
            eprintln!("{name} (cluster: {on_cluster}): {took:?}");
            out
        };
        let local = run(false);
        assert!(local.status.success(), "{name}: {local:?}");
        let remote = run(true);
        if !remote.status.success() {
            differ.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&remote.stderr).trim()
            ));
        } else if sorted_rows(&local.stdout) != sorted_rows(&remote.stdout) {
            differ.push(format!("{name}: the rows differ"));
        }
    }
    assert!(
        differ.is_empty(),
        "on the cluster:\n{}\n{}",
        differ.join("\n"),
        logs_text(&logs)
    );

    // The pack runs every report there too.
    let mut pack = cts(&data);
    pack.args([
        "--query-timeout",
        "30",
        "report",
        "pack",
        "--from",
        &from,
        "--to",
        &to,
    ]);
    pack.arg("--cluster").arg(&cluster.url);
    pack.arg("--out").arg(dir.path().join("pack"));
    let (out, _) = run_within(pack, Duration::from_secs(200));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let failed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.split(':').next())
        .collect();
    assert!(failed.is_empty(), "{out:?}");
    for name in cts::output::report::builtin_names() {
        let csv = std::fs::read(dir.path().join("pack").join(format!("{name}.csv")));
        assert!(csv.is_ok(), "{name}.csv: {out:?}");
    }

    // SQL: the same answer; the hot store is refused by name.
    let count = "SELECT count(*) AS n, count(DISTINCT trace_id) AS d FROM traces";
    let (remote, _) = run_within(cluster.sql(count, 30.0), limit);
    assert!(remote.status.success(), "{remote:?}");
    assert_eq!(
        String::from_utf8_lossy(&remote.stdout),
        crate::common::cli::sql_csv(&data, count)
    );
    let (hot, _) = run_within(cluster.sql("SELECT count(*) FROM hot_traces", 30.0), limit);
    assert_eq!(hot.status.code(), Some(1), "{hot:?}");
    assert!(
        String::from_utf8_lossy(&hot.stderr).contains("hot_traces is not on the cluster"),
        "{hot:?}"
    );

    // A window function with IGNORE NULLS, which the executors would not honour: refused.
    let ignoring = "SELECT last_value(user_name) IGNORE NULLS OVER (PARTITION BY region \
                    ORDER BY time) FROM traces";
    let (refused, _) = run_within(cluster.sql(ignoring, 30.0), limit);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("last_value ... IGNORE NULLS cannot run on the cluster"),
        "{refused:?}"
    );

    // Export: the same rows, written here.
    let export = |on_cluster: bool| {
        let out = dir.path().join(format!("export-{on_cluster}"));
        let mut c = cts(&data);
        c.args(["export", "--quiet", "--partition-by", "none", "--out"]);
        c.arg(&out);
        if on_cluster {
            c.args(["--cluster", &cluster.url]);
        }
        let (result, _) = run_within(c, limit);
        assert!(result.status.success(), "{result:?}");
        let text = String::from_utf8_lossy(&result.stdout).into_owned();
        text.split(" rows").next().unwrap_or_default().to_string()
    };
    assert_eq!(export(true), export(false));

    // A query stopped by its time limit: the error says so, and its job is cancelled on the
    // scheduler (not left running on the executors).
    let endless = "SELECT count(*) FROM traces a, traces b, traces c \
                   WHERE length(a.trace_id) + length(b.trace_id) > length(c.trace_id)";
    let (stopped, took) = run_within(cluster.sql(endless, 2.0), Duration::from_secs(20));
    assert_eq!(stopped.status.code(), Some(1), "{stopped:?}");
    assert!(
        String::from_utf8_lossy(&stopped.stderr).contains("ran longer than the limit of 2 s"),
        "{stopped:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    let scheduler_log = std::fs::read_to_string(logs.join("scheduler.err")).unwrap_or_default();
    let cancelled = scheduler_log
        .lines()
        .filter(|l| l.contains("Job cancelled"))
        .count();
    assert_eq!(cancelled, 1, "{}", logs_text(&logs));

    // An executor killed mid-query: an answer or an error within the timeout, never a hang.
    let heavy = "SELECT a.service_type, count(*) FROM traces a JOIN traces b \
                 ON a.user_name = b.user_name AND a.service_type = b.service_type \
                 GROUP BY 1";
    let query = cluster.sql(heavy, 30.0);
    let handle = std::thread::spawn(move || run_within(query, Duration::from_secs(45)));
    std::thread::sleep(Duration::from_millis(700));
    cluster.processes.kill("executor-2");
    let (out, took) = handle.join().expect("the query's thread");
    assert!(took < Duration::from_secs(40), "{took:?}: {out:?}");
    if !out.status.success() {
        assert!(!out.stderr.is_empty(), "{out:?}");
    }

    // A cluster that is down: a clear error, at once.
    cluster.processes.kill("executor-1");
    cluster.processes.kill("scheduler");
    let (down, took) = run_within(cluster.sql("SELECT 1", 60.0), Duration::from_secs(20));
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let message = String::from_utf8_lossy(&down.stderr);
    assert!(message.contains("no scheduler answers there"), "{message}");
    assert!(message.contains(&cluster.url), "{message}");
}
