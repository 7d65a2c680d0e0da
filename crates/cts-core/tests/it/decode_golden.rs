//! Golden decoding tests: every example trace of cts-spec.md §1.5, decoded to exact rows.
//!
//! Each expected row lists every non-null column; every other column must be null, so a field
//! decoded into the wrong column, or dropped, fails the test.

use std::collections::BTreeMap;

use arrow::util::display::array_value_to_string;
use cts_core::decode::decode_file;

type Row = BTreeMap<String, String>;

fn decode_fixture(name: &str) -> (Vec<Row>, Vec<String>) {
    let path = format!("{}/tests/fixtures/spec/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let decoded =
        decode_file(&bytes, name, Some("eu-de")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let batch = decoded.batch;
    let schema = batch.schema();
    let rows = (0..batch.num_rows())
        .map(|row| {
            schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(i, _)| !batch.column(*i).is_null(row))
                .map(|(i, field)| (field.name().clone(), show(batch.column(i), row)))
                .collect()
        })
        .collect();
    let rejects = decoded.rejects.iter().map(|r| r.to_string()).collect();
    (rows, rejects)
}

/// A value as text, as Arrow shows it; times as RFC 3339 in UTC (Arrow's own display of a
/// zone named `UTC` needs the `chrono-tz` feature, which only the query engine brings).
fn show(column: &dyn arrow::array::Array, row: usize) -> String {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
    match column.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            let ms = column.as_primitive::<TimestampMillisecondType>().value(row);
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
                .unwrap_or_else(|| format!("{ms} ms"))
        }
        _ => array_value_to_string(column, row).unwrap_or_else(|e| panic!("{e}")),
    }
}

fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assert_rows(name: &str, expected: &[Row]) {
    let (rows, rejects) = decode_fixture(name);
    assert_eq!(rejects, Vec::<String>::new(), "{name}: unexpected rejects");
    assert_eq!(rows.len(), expected.len(), "{name}: row count");
    for (i, (got, want)) in rows.iter().zip(expected).enumerate() {
        for (k, v) in want {
            assert_eq!(got.get(k), Some(v), "{name} row {i}: column {k}");
        }
        for (k, v) in got {
            assert!(
                want.contains_key(k),
                "{name} row {i}: unexpected {k} = {v:?}"
            );
        }
    }
}

const USER_A: &str = r#"{
  "access_key_id": "HSTAZVL6WYS0J5MYE2GA",
  "account_id": "7e0d78c85***d0b9b7cba",
  "user_name": "IAMUserA",
  "domain": {"name": "IAMDomainB", "id": "7e0d78c85***d0b9b7cba"},
  "name": "IAMUserA",
  "principal_is_root_user": "true",
  "id": "f36972ced***d619f1214",
  "principal_urn": "iam::7e0d78c85***d0b9b7cba:user:IAMUserA",
  "type": "User",
  "principal_id": "f36972ced***d619f1214"
 }"#;

#[test]
fn a_management_trace_with_user_object_and_json_string_bodies() {
    assert_rows(
        "a_ecs_create_server_2024.json",
        &[row(&[
            ("trace_id", "cbdd4480-2e03-11ef-82de-cf140e2a70fb"),
            ("time", "2024-06-19T06:18:51.170Z"),
            ("record_time", "2024-06-19T06:18:51.170Z"),
            ("service_type", "ECS"),
            ("resource_type", "ecs"),
            ("resource_name", "ecs-test"),
            ("resource_id", "7285ea5d-f15c-4d9c-9e4e-37d37023f2f4"),
            ("trace_name", "createServer"),
            ("trace_rating", "normal"),
            ("trace_type", "ConsoleAction"),
            ("event_type", "system"),
            ("source_ip", "124.71.93.243"),
            ("api_version", "1.0"),
            ("message", "success"),
            (
                "request",
                r#"{"server":{"adminPass":"********", … ,"name":"ecs-test", … }}"#,
            ),
            (
                "response",
                r#"{"job_id":"ff8080828fe9028a01902f2542df1b10","job_type":"createSingleServer","begin_time":"2024-06-19T06:18:09.502Z","end_time":"2024-06-19T06:18:51.169Z","status":"SUCCESS","error_code":null,"fail_reason":null,"entities":{"server_id":"7285ea5d-f15c-4d9c-9e4e-37d37023f2f4"}}"#,
            ),
            ("request_id", "null"),
            ("tracker_name", "system"),
            ("project_id", "07066c6fc90025a02f6dc01e105b286e"),
            ("domain_id", "7e0d78c85***d0b9b7cba"),
            ("operation_id", "ListSubscriptions"),
            ("read_only", "false"),
            ("resource_account_id", "7e0d78c85***d0b9b7cba"),
            ("user_id", "f36972ced***d619f1214"),
            ("user_name", "IAMUserA"),
            ("user_domain_id", "7e0d78c85***d0b9b7cba"),
            ("user_domain_name", "IAMDomainB"),
            ("user_type", "User"),
            ("access_key_id", "HSTAZVL6WYS0J5MYE2GA"),
            ("principal_urn", "iam::7e0d78c85***d0b9b7cba:user:IAMUserA"),
            ("principal_id", "f36972ced***d619f1214"),
            ("principal_is_root_user", "true"),
            ("user", USER_A),
            ("region", "eu-de"),
            ("source_file", "a_ecs_create_server_2024.json"),
        ])],
    );
}

#[test]
fn b_empty_request_string_is_kept_as_empty_text() {
    let (rows, _) = decode_fixture("b_evs_delete_volume_2024.json");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.get("request").map(String::as_str), Some(""));
    assert_eq!(
        r.get("trace_name").map(String::as_str),
        Some("deleteVolume")
    );
    assert_eq!(
        r.get("time").map(String::as_str),
        Some("2024-06-19T06:32:58.419Z")
    );
    assert_eq!(
        r.get("access_key_id").map(String::as_str),
        Some("HSTAA8960GPIROJGW19L")
    );
    assert_eq!(
        r.get("request_id").map(String::as_str),
        Some("defe9cf7b5ca4566860edbebb181e17a")
    );
    assert_eq!(r.get("extra"), None);
}

#[test]
fn c_functiongraph_login_event_with_digit_string_times_and_numeric_code() {
    assert_rows(
        "c_iam_login_fg_event.json",
        &[row(&[
            ("trace_id", "b394d958-d990-11f0-91ec-f9a8f9ca8a51"),
            ("time", "2025-12-15T08:56:39.507Z"),
            ("record_time", "2025-12-15T08:56:39.507Z"),
            ("code", "302"),
            ("trace_name", "login"),
            ("resource_type", "user"),
            ("trace_rating", "normal"),
            (
                "message",
                r#"{"login":{"mode":"password","user_type":"iam user","login_protect":{"status":"off"}}}"#,
            ),
            ("source_ip", "62.156.151.4"),
            ("domain_id", "e51dfca1c18747919f6c16af2721f35d"),
            ("trace_type", "ConsoleAction"),
            ("service_type", "IAM"),
            ("event_type", "global"),
            ("project_id", "ae050143781c4ab6a130522e5f2d30c1"),
            ("read_only", "false"),
            ("resource_id", "e14aed517380466cac2d109877a5ac6b"),
            ("tracker_name", "system"),
            ("resource_name", "USERNAME"),
            ("user_id", "USERID"),
            ("user_name", "USERNAME"),
            ("user_domain_id", "e51dfca1c18747919f6c16af2721f35d"),
            ("user_domain_name", "USERDOMAINNAME"),
            (
                "user",
                r#"{"domain": {"name": "USERDOMAINNAME", "id": "e51dfca1c18747919f6c16af2721f35d"}, "name": "USERNAME", "id": "USERID"}"#,
            ),
            ("region", "eu-de"),
            ("source_file", "c_iam_login_fg_event.json"),
        ])],
    );
}

#[test]
fn d_real_2024_file_with_user_as_json_string() {
    assert_rows(
        "d_obs_trace_file_2024.json",
        &[row(&[
            ("trace_id", "eb0472a4-5944-11ef-acce-294fee19871b"),
            ("time", "2024-08-13T07:21:37.290Z"),
            ("record_time", "2024-08-13T07:21:37.290Z"),
            ("code", "200"),
            ("event_type", "system"),
            ("project_id", "4008a952b3f44b5a919c9a48d90811f3"),
            ("resource_name", "-"),
            ("resource_type", "bucket"),
            ("service_type", "OBS"),
            ("source_ip", "<blurred>"),
            ("trace_name", "listAllMyBucket"),
            ("trace_rating", "normal"),
            ("trace_type", "Others"),
            ("tracker_name", "system"),
            ("user_id", "5f2cd06722f24250976264ebe7753a08"),
            ("user_name", "<blurred>"),
            ("user_domain_id", "25fe78d91e0448f6a37f35427c6a420b"),
            ("user_domain_name", "<blurred>"),
            (
                "user",
                r#"{"name":"<blurred>","id":"5f2cd06722f24250976264ebe7753a08","domain":{"name":"<blurred>","id":"25fe78d91e0448f6a37f35427c6a420b"}}"#,
            ),
            ("region", "eu-de"),
            ("source_file", "d_obs_trace_file_2024.json"),
        ])],
    );
}

#[test]
fn e_2017_file_with_trace_status_and_object_bodies() {
    let common = [
        ("user_id", "59f40829165447fb9470b56f41dff599"),
        ("user_name", "<blurred>"),
        ("user_domain_id", "0f27bc42d1eb46a69482a72cbfc33ed2"),
        ("user_domain_name", "<blurred>"),
        (
            "user",
            r#"{"id": "59f40829165447fb9470b56f41dff599", "name": "<blurred>", "domain": {"name": "<blurred>", "id": "0f27bc42d1eb46a69482a72cbfc33ed2"}}"#,
        ),
        ("service_type", "CTS"),
        ("resource_type", "tracker"),
        ("resource_name", "system"),
        ("source_ip", "<blurred>"),
        ("trace_name", "updateTracker"),
        ("trace_type", "ConsoleAction"),
        ("api_version", "1.0"),
        ("trace_rating", "normal"),
        ("region", "eu-de"),
        ("source_file", "e_cts_trace_file_2017.json"),
    ];
    let mut first = row(&common);
    first.extend(row(&[
        ("trace_id", "7519ef09-1ac6-11e7-8cc0-3d812829baf6"),
        ("time", "2017-04-06T12:42:12.828Z"),
        ("record_time", "2017-04-06T12:42:12.857Z"),
        (
            "request",
            r#"{"bucket_name": "obs-570f", "file_prefix_name": "-RsU", "status": "disabled"}"#,
        ),
        (
            "response",
            r#"{"bucket_name": "obs-570f", "file_prefix_name": "-RsU", "status": "disabled", "tracker_name": "system"}"#,
        ),
    ]));
    let mut second = row(&common);
    second.extend(row(&[
        ("trace_id", "9c1f3a10-1ac6-11e7-8cc0-3d812829baf6"),
        ("time", "2017-04-06T12:43:20Z"),
        ("record_time", "2017-04-06T12:43:20.031Z"),
        (
            "request",
            r#"{"bucket_name": "obs-570f", "file_prefix_name": "-RsU", "status": "enabled"}"#,
        ),
        (
            "response",
            r#"{"bucket_name": "obs-570f", "file_prefix_name": "-RsU", "status": "enabled", "tracker_name": "system"}"#,
        ),
    ]));
    assert_rows("e_cts_trace_file_2017.json", &[first, second]);
}

#[test]
fn f_code_as_string_and_user_agent() {
    let (rows, _) = decode_fixture("f_obs_create_bucket.json");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.get("code").map(String::as_str), Some("200"));
    assert_eq!(
        r.get("user_agent").map(String::as_str),
        Some(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
        )
    );
    assert_eq!(r.get("trace_type").map(String::as_str), Some("Others"));
    assert_eq!(r.get("read_only").map(String::as_str), Some("false"));
    assert_eq!(
        r.get("access_key_id").map(String::as_str),
        Some("HSTAEXAMPLEKEY000001")
    );
}

#[test]
fn g_api_envelope_with_legacy_string_user_and_locator_fields() {
    let (rows, rejects) = decode_fixture("g_api_v3_response.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(rows.len(), 2);
    let (warning, legacy) = (&rows[0], &rows[1]);
    assert_eq!(
        warning.get("trace_rating").map(String::as_str),
        Some("warning")
    );
    assert_eq!(
        warning.get("response").map(String::as_str),
        Some(r#"{"code": "VPC.0514", "message": "Update port fail."}"#)
    );
    assert_eq!(warning.get("user_name").map(String::as_str), Some("xxx"));
    assert_eq!(warning.get("user_id"), None);
    assert_eq!(
        warning.get("time").map(String::as_str),
        Some("2016-08-25T18:11:48.232Z")
    );
    // The legacy v1 user string with assumedBy: flat fields from the outer user, the whole
    // object kept in `user`.
    assert_eq!(legacy.get("user_id").map(String::as_str), Some("u1"));
    assert!(
        legacy
            .get("user")
            .is_some_and(|u| u.contains(r#""assumedBy":{"user":{"name":"op""#))
    );
    assert_eq!(
        legacy.get("request_id").map(String::as_str),
        Some("a0001c1b9-bctt-2136-c12b-4b2a611116")
    );
    assert_eq!(
        legacy.get("location_info").map(String::as_str),
        Some("resource has been deleted")
    );
    assert_eq!(
        legacy.get("endpoint").map(String::as_str),
        Some("https://*****/vpc?agencyId=***&region=***&locale=zh-cn#")
    );
    assert_eq!(
        legacy.get("resource_url").map(String::as_str),
        Some("/vpc/vpcmanager/vpcs?vpcid=*****")
    );
}

#[test]
fn h_functiongraph_event_with_both_rating_names_code_zero_and_an_unknown_field() {
    let (rows, _) = decode_fixture("h_fg_create_function.json");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    let get = |k: &str| r.get(k).map(String::as_str);
    assert_eq!(get("code"), Some("0"));
    assert_eq!(get("trace_rating"), Some("normal"));
    assert_eq!(get("operation_id"), Some("CreateFunction"));
    assert_eq!(get("resource_account_id"), Some(""));
    assert_eq!(get("resource_type"), Some("Functions"));
    assert_eq!(get("service_type"), Some("FunctionGraph"));
    assert_eq!(get("invoked_by"), Some("[service.console]"));
    assert_eq!(get("mfa_authenticated"), Some("false"));
    assert_eq!(get("content_length"), Some("512"));
    assert_eq!(get("total_time"), Some("37"));
    assert_eq!(get("enterprise_project_id"), Some("0"));
    // Same rating under both names: nothing extra; the unknown field is kept verbatim.
    assert_eq!(get("extra"), Some(r#"{"x_future_field":{"a": [1, 2]}}"#));
}
