//! Running the `cts` binary in tests.

use std::path::Path;
use std::process::Command;

/// `cts --data-dir DATA`, ready for more arguments.
pub(crate) fn cts(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cts"));
    c.arg("--data-dir").arg(data);
    c
}

/// NDJSON of `n` traces `ing-000000`... spread over the last `minutes` minutes.
pub(crate) fn recent_traces(n: usize, minutes: i64) -> String {
    let now = chrono::Utc::now().timestamp_millis();
    let mut text = String::new();
    for i in 0..n {
        let time = now - (i as i64 % minutes) * 60_000 - (i as i64 % 1000);
        text.push_str(&format!(
            "{{\"trace_id\":\"ing-{i:06}\",\"time\":{time},\"trace_name\":\"createServer\",\"service_type\":\"ECS\",\"resource_type\":\"ecs\",\"trace_rating\":\"normal\",\"trace_type\":\"ApiCall\",\"user\":{{\"name\":\"u{}\"}}}}\n",
            i % 7
        ));
    }
    text
}

/// The CSV that `cts sql` prints for `sql`.
pub(crate) fn sql_csv(data: &Path, sql: &str) -> String {
    let out = cts(data)
        .args(["sql", sql, "--format", "csv"])
        .output()
        .expect("query");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(count, distinct)` of a table.
pub(crate) fn counts(data: &Path, table: &str) -> (u64, u64) {
    let text = sql_csv(
        data,
        &format!("SELECT count(*) AS n, count(DISTINCT trace_id) AS d FROM {table}"),
    );
    let line = text.lines().nth(1).expect("a row");
    let (n, d) = line.split_once(',').expect("two numbers");
    (n.parse().expect("n"), d.parse().expect("d"))
}
