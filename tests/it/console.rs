//! The console: `cts serve`'s pages driven in a real browser (Debian's Chromium through
//! chromedriver, `tests/clients/console.py`, installed by the tests' set-up), and `cts ui` over a
//! local data directory, asked over HTTP.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::cli::{cts, sql_csv};
use crate::serve::{PROJECT_A, Serve, TOKEN_A, batch, trace};

/// A resource name and a trace name that are markup; each would set `window.__xss` if it ran.
const XSS_NAME: &str = "<script>window.__xss = 1; alert(1)</script>";
const XSS_TRACE_NAME: &str = "<img src=x onerror=\"window.__xss = 2\">";

/// The Python Selenium is installed in, and Chromium with its driver.
fn browser_python() -> String {
    let python = std::env::var("CTS_CLIENTS_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CTS_CLIENTS_PYTHON is not set: run the tests with scripts/test.sh, which installs \
             Selenium (tests/clients/requirements.txt) and Debian's chromium and chromium-driver"
        )
    });
    for program in ["CTS_CHROMIUM", "CTS_CHROMEDRIVER"] {
        let default = if program == "CTS_CHROMIUM" {
            "/usr/bin/chromium"
        } else {
            "/usr/bin/chromedriver"
        };
        let path = std::env::var(program).unwrap_or_else(|_| default.to_string());
        assert!(
            Path::new(&path).exists(),
            "{path} is missing: scripts/test.sh installs Debian's chromium and chromium-driver"
        );
    }
    python
}

/// The JSON lines of the browser script, by step.
fn steps(stdout: &str) -> BTreeMap<String, Value> {
    crate::clients::calls(stdout).into_iter().collect()
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_console_in_a_real_browser() {
    let python = browser_python();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--token", &format!("{TOKEN_A}={PROJECT_A}")], &[]);
    let (status, _) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system"})),
    );
    assert_eq!(status, 201);
    let now = chrono::Utc::now().timestamp_millis();
    // 130 traces, one every 10 s back from a second ago: alice on even ones, warning on i % 4 == 2.
    let (status, _) = serve.a(
        "POST",
        "/traces",
        Some(json!(batch("c", 0..130, now - 1000))),
    );
    assert_eq!(status, 200);
    let mut markup = trace("xss-0001", now - 5000, "ECS", "mallory", "normal");
    markup["resource_name"] = json!(XSS_NAME);
    markup["trace_name"] = json!(XSS_TRACE_NAME);
    let (status, _) = serve.a("POST", "/traces", Some(json!([markup])));
    assert_eq!(status, 200);

    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads");
    let shots = std::env::var("CTS_CONSOLE_SHOTS").ok();
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/console.py"))
        .env("CTS_URL", &serve.url)
        .env("CTS_TOKEN", TOKEN_A)
        .env("CTS_DOWNLOADS", &downloads)
        .env("CTS_XSS", XSS_NAME)
        .envs(shots.iter().map(|s| ("CTS_SHOTS", s)))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the browser script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "console.py failed: {stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        serve.log_text()
    );
    let s = steps(&stdout);
    let console = format!("{}/console", serve.url);

    // Signing in.
    assert_eq!(s["unsigned"]["url"], json!(format!("{console}/sign-in")));
    assert_eq!(s["wrong_token"]["url"], json!(format!("{console}/sign-in")));
    assert!(
        s["wrong_token"]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Not signed in")),
        "{}",
        s["wrong_token"]
    );
    assert_eq!(s["signed_in"]["url"], json!(format!("{console}/traces")));
    assert_eq!(s["signed_in"]["http_only"], json!(true));
    assert_eq!(s["signed_in"]["same_site"], json!("Strict"));
    assert_eq!(s["signed_in"]["path"], json!("/console"));

    // Pages of alice's warnings, newest first: c-0002, c-0006, ... (32 of them), 20 and 12.
    let expected: Vec<String> = (0..130)
        .filter(|i| i % 4 == 2)
        .map(|i| format!("c-{i:04}"))
        .collect();
    assert_eq!(expected.len(), 32);
    let pages = &s["pages"];
    assert_eq!(texts(&pages["first"]), expected[..20]);
    assert_eq!(texts(&pages["second"]), expected[20..]);
    assert_eq!(texts(&pages["back"]), expected[..20]);
    assert_eq!(texts(&pages["again"]), expected[..20]);
    assert_eq!(pages["older_on_last"], json!(0), "no page after the last");
    assert_eq!(
        pages["newer_on_first"],
        json!(0),
        "no page before the first"
    );
    let url = pages["url"].as_str().expect("url");
    assert!(
        url.contains("user=alice") && url.contains("rating=warning") && url.contains("limit=20"),
        "{url}"
    );

    // The CSV holds the whole search, as `cts sql` finds it.
    assert_eq!(s["csv"]["found"], json!(true));
    let csv = s["csv"]["text"].as_str().expect("csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let id_column = header
        .iter()
        .position(|h| *h == "trace_id")
        .expect("trace_id column");
    let csv_ids: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(id_column).expect("id").to_string())
        .collect();
    let project_dir = data.join("projects").join(PROJECT_A);
    let by_sql: Vec<String> = sql_csv(
        &project_dir,
        "SELECT trace_id FROM traces WHERE user_name = 'alice' AND trace_rating = 'warning' \
         ORDER BY time DESC, trace_id DESC",
    )
    .lines()
    .skip(1)
    .map(str::to_string)
    .collect();
    assert_eq!(csv_ids, by_sql);
    assert_eq!(csv_ids, expected);

    // One trace.
    let one = &s["trace"];
    let url = one["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!("{console}/traces/c%2D0002?at=")),
        "{url}"
    );
    assert_eq!(one["trace_id"], json!("c-0002"));
    assert_eq!(one["request"], json!("{\n  \"a\": 1\n}"));
    assert!(
        one["user"]
            .as_str()
            .is_some_and(|u| u.contains("\"name\": \"alice\"")),
        "{one}"
    );

    // Markup in a trace is text, and nothing runs.
    let xss = &s["xss_list"];
    let cells = texts(&xss["cells"]);
    assert!(cells.contains(&XSS_NAME.to_string()), "{cells:?}");
    assert!(cells.contains(&XSS_TRACE_NAME.to_string()), "{cells:?}");
    assert_eq!(xss["scripts"], json!(0));
    assert_eq!(xss["injected"], Value::Null);
    assert_eq!(xss["no_alert"], json!(true));
    let xss = &s["xss_trace"];
    assert_eq!(xss["resource_name"], json!(XSS_NAME));
    assert_eq!(xss["trace_name"], json!(XSS_TRACE_NAME));
    assert_eq!(xss["scripts"], json!(0));
    assert_eq!(xss["injected"], Value::Null);
    assert_eq!(xss["no_alert"], json!(true));

    // Charts: alice's traces are all ECS, VPC or IAM, each bar a link to them.
    let mut links = texts(&s["charts"]["service_links"]);
    links.sort();
    assert_eq!(
        links,
        ["ECS", "IAM", "VPC"].map(|svc| format!("/console/traces?service={svc}&user=alice"))
    );
    assert!(s["charts"]["time_bars"].as_u64().is_some_and(|n| n >= 1));

    // Trackers: the API's message on the field; created, disabled, refused without a CSRF
    // token, deleted.
    assert!(
        s["tracker_invalid"]["field_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("obs_info.bucket_name \"Bad_Bucket!\"")),
        "{}",
        s["tracker_invalid"]
    );
    assert_eq!(
        s["tracker_created"]["url"],
        json!(format!("{console}/trackers"))
    );
    assert_eq!(s["tracker_created"]["status"], json!("enabled"));
    assert_eq!(s["tracker_disabled"]["status"], json!("disabled"));
    assert_eq!(s["csrf"]["title"], json!("Error 403"));
    assert!(
        s["csrf"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("CSRF token is missing or wrong")),
        "{}",
        s["csrf"]
    );
    assert_eq!(
        s["tracker_deleted"]["before"],
        json!(1),
        "the forged form deleted nothing"
    );
    assert_eq!(s["tracker_deleted"]["after"], json!(0));
    let (_, trackers) = serve.a("GET", "/trackers?tracker_type=data", None);
    assert_eq!(trackers["trackers"], json!([]));

    // The report finds what `cts sql` finds with the same defaults: warnings and incidents.
    let failed = sql_csv(
        &project_dir,
        "SELECT count(*) FROM report_failed_operations",
    );
    let failed: usize = failed.lines().nth(1).expect("count").parse().expect("n");
    assert_eq!(failed, 64);
    assert_eq!(
        s["report"]["count"],
        json!(format!("{failed} findings · Download CSV"))
    );
    assert_eq!(s["report"]["rows"], json!(failed));

    // SQL: read, not write.
    assert_eq!(texts(&s["sql"]["cells"]), ["131"]);
    assert!(
        s["sql_write"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("DDL not supported")),
        "{}",
        s["sql_write"]
    );

    assert_eq!(s["signed_out"]["url"], json!(format!("{console}/sign-in")));
    let log = serve.log_text();
    assert!(!log.contains(TOKEN_A), "the token is in the log");
}

/// The records of a CSV text (a quoted value may hold line breaks).
fn csv_records(text: &str) -> u64 {
    let (mut records, mut quoted) = (0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => records += 1,
            _ => {}
        }
    }
    records
}

/// `cts ui` on a free loopback port; stopped when dropped.
struct Ui {
    child: std::process::Child,
    url: String,
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ui(data: &Path) -> Ui {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = cts(data)
        .args(["ui", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cts ui");
    // Dropped (killed and waited for) on every path from here.
    let ui = Ui {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return ui;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("cts ui did not start on {}", ui.url);
}

/// A GET with these headers: status, the headers, the body.
fn get(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut request = client.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.expect("body"))
    })
}

#[test]
fn cts_ui_serves_a_local_data_directory_to_loopback_names_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let bucket = dir.path().join("bucket");
    crate::common::sample_bucket(&bucket, 2000, 7);
    let load = cts(&data).arg("load").arg(&bucket).output().expect("load");
    assert!(load.status.success(), "{load:?}");
    let ui = ui(&data);

    let (status, headers, page) = get(
        &format!("{}/console/traces?period=all&limit=20", ui.url),
        &[],
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<tr data-trace-id=").count(), 20);
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a CSP");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        !page.contains("Sign out") && !page.contains("/console/trackers"),
        "no sign-in, no trackers"
    );

    // Every trace, as CSV: the count `cts sql` gives.
    let (status, _, csv) = get(
        &format!("{}/console/traces?period=all&format=csv", ui.url),
        &[],
    );
    assert_eq!(status, 200);
    let total = sql_csv(&data, "SELECT count(*) FROM traces");
    let total: u64 = total.lines().nth(1).expect("n").parse().expect("n");
    assert_eq!(total, 2000);
    assert_eq!(csv_records(&csv), total + 1);

    // A request by another name (a page of another site, through DNS rebinding) gets nothing.
    let (status, _, _) = get(
        &format!("{}/console/traces", ui.url),
        &[("Host", "attacker.example:80")],
    );
    assert_eq!(status, 403);
    // No tracker pages, no sign-in.
    let (status, _, _) = get(&format!("{}/console/trackers", ui.url), &[]);
    assert_eq!(status, 404);
    let (status, headers, _) = get(&format!("{}/console/sign-in", ui.url), &[]);
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/console/traces");
    // A bad filter names itself.
    let (status, _, page) = get(&format!("{}/console/traces?rating=bad", ui.url), &[]);
    assert_eq!(status, 400);
    assert!(
        page.contains("rating: &#34;bad&#34; is not normal, warning or incident"),
        "{page}"
    );

    // It will not listen beyond loopback.
    let refused = cts(&data)
        .args(["ui", "--listen", "0.0.0.0:0"])
        .output()
        .expect("cts ui");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("listens on a loopback address only"),
        "{refused:?}"
    );
}
