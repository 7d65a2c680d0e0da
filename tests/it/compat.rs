//! `cts serve` for the clients of every API version, over raw HTTP: the version list, the
//! identity endpoint (tokens that expire, outlive a restart, and serve another `cts serve`
//! through `--keystone`), trackers v1.0 with their `lts` and `smn` blocks, the trace list v1.0
//! and v2.0, and requests that are refused with nothing changed. The real client libraries
//! drive the same routes in `clients.rs`.

use serde_json::{Value, json};

use crate::clients::{record_and_forget_tracker, serve_with_users};
use crate::serve::{PROJECT_A, PROJECT_B, Serve, TOKEN_A};

/// Sign in at `serve`'s identity endpoint: the status, the token and the body.
fn sign_in(
    serve: &Serve,
    user: &str,
    password: &str,
    project: &str,
) -> (u16, Option<String>, Value) {
    let body = json!({"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "password": password,
                                           "domain": {"name": "team-a"}}}},
        "scope": {"project": {"id": project}}}});
    let (status, headers, value) = serve.send(
        "POST",
        "/identity/v3/auth/tokens",
        &[("Content-Type", "application/json")],
        Some(body.to_string()),
    );
    let token = headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, token, value)
}

#[test]
fn versions_and_the_identity_endpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut serve = serve_with_users(dir.path());

    let (status, body) = serve.call("GET", "/", None, None);
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["v1.0", "v2.0", "v3"]);
    let (status, body) = serve.call("GET", "/v2.0", None, None);
    assert_eq!(status, 200);
    assert_eq!(body["versions"][0]["status"], "SUPPORTED");
    assert_eq!(
        body["versions"][0]["links"][0]["href"],
        format!("{}/v2.0/", serve.url)
    );
    let (status, body) = serve.call("GET", "/v9", None, None);
    assert_eq!((status, &body["error_code"]), (404, &json!("CTS.0100")));
    let (status, body) = serve.call("GET", "/identity/v3", None, None);
    assert_eq!(
        (status, &body["version"]["status"]),
        (200, &json!("stable"))
    );

    // Wrong password, unknown user, another project: 401, and the same message for the first two.
    let (status, token, wrong) = sign_in(&serve, "alice", "wrong", PROJECT_A);
    assert_eq!((status, token), (401, None));
    let (status, _, unknown) =
        sign_in(&serve, "mallory", "correct horse battery staple", PROJECT_A);
    assert_eq!(status, 401);
    assert_eq!(wrong, unknown);
    let (status, _, _) = sign_in(&serve, "alice", "correct horse battery staple", PROJECT_B);
    assert_eq!(status, 401);

    // Signed in: a token in X-Subject-Token, a catalog pointing at this server.
    let (status, token, body) = sign_in(&serve, "alice", "correct horse battery staple", PROJECT_A);
    assert_eq!(status, 201, "{body}");
    let token = token.expect("X-Subject-Token");
    assert_eq!(body["token"]["project"]["id"], PROJECT_A);
    assert_eq!(body["token"]["user"]["name"], "alice");
    let catalog: Vec<(String, String)> = body["token"]["catalog"]
        .as_array()
        .expect("catalog")
        .iter()
        .map(|s| {
            let public = s["endpoints"]
                .as_array()
                .expect("endpoints")
                .iter()
                .find(|e| e["interface"] == "public")
                .expect("public endpoint");
            assert_eq!(public["region_id"], "eu-de");
            (
                s["type"].as_str().expect("type").to_string(),
                public["url"].as_str().expect("url").to_string(),
            )
        })
        .collect();
    let u = &serve.url;
    assert_eq!(
        catalog,
        [
            ("cts".to_string(), format!("{u}/v1.0/{PROJECT_A}")),
            ("ctsv2".to_string(), format!("{u}/v2.0/{PROJECT_A}")),
            ("ctsv3".to_string(), format!("{u}/v3/{PROJECT_A}")),
        ]
    );
    // A token lasts 24 hours, as Keystone's.
    let expires = chrono::DateTime::parse_from_rfc3339(
        body["token"]["expires_at"].as_str().expect("expires_at"),
    )
    .expect("time");
    let hours = (expires.timestamp() - chrono::Utc::now().timestamp()) as f64 / 3600.0;
    assert!((23.9..=24.0).contains(&hours), "{hours}");
    assert!(
        !serve.log_text().contains(&token),
        "the token is in the log"
    );

    // The token works on every route of its project, and on no other project's.
    let path = format!("/v3/{PROJECT_A}/quotas");
    assert_eq!(serve.call("GET", &path, Some(&token), None).0, 200);
    let (status, body) = serve.call(
        "GET",
        &format!("/v3/{PROJECT_B}/quotas"),
        Some(&token),
        None,
    );
    assert_eq!((status, &body["error_code"]), (403, &json!("CTS.0013")));
    // The last digit of the signature changed.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    assert_ne!(forged, token);
    let (status, body) = serve.call("GET", &path, Some(&forged), None);
    assert_eq!((status, &body["error_code"]), (401, &json!("APIGW.0301")));
    // Validation, as Keystone's GET /v3/auth/tokens.
    let (status, _, body) = serve.send(
        "GET",
        "/identity/v3/auth/tokens",
        &[("X-Auth-Token", &token), ("X-Subject-Token", &token)],
        None,
    );
    assert_eq!(
        (status, &body["token"]["project"]["id"]),
        (200, &json!(PROJECT_A))
    );

    // Another cts serve that knows no users takes the token from this one (--keystone).
    let other_dir = dir.path().join("other");
    let other_config = dir.path().join("other.json");
    std::fs::write(&other_config, json!({"projects": [PROJECT_A]}).to_string()).expect("config");
    let other = Serve::start(
        &other_dir,
        &[
            "--config",
            &other_config.to_string_lossy(),
            "--keystone",
            &format!("{}/identity/v3", serve.url),
        ],
        &[],
    );
    assert_eq!(other.call("GET", &path, Some(&token), None).0, 200);
    let (status, body) = other.call("GET", &path, Some(&forged), None);
    assert_eq!((status, &body["error_code"]), (401, &json!("APIGW.0301")));

    // Tokens outlive a restart of the server that issued them.
    serve.kill();
    // Remembered by the other server until it expires, with its issuer down.
    assert_eq!(other.call("GET", &path, Some(&token), None).0, 200);
    let (status, body) = other.call("GET", &path, Some("never-seen"), None);
    assert_eq!((status, &body["error_code"]), (503, &json!("CTS.0001")));
    serve.restart();
    assert_eq!(serve.call("GET", &path, Some(&token), None).0, 200);
}

/// The management tracker as v1.0 shows it, without the ID and the time.
fn v1_tracker(serve: &Serve, query: &str) -> (u16, Value) {
    let (status, mut body) = serve.call(
        "GET",
        &format!("/v1.0/{PROJECT_A}/tracker{query}"),
        Some(TOKEN_A),
        None,
    );
    let strip = |t: &mut Value| {
        if let Some(map) = t.as_object_mut() {
            map.remove("id");
            map.remove("create_time");
        }
    };
    match body.as_array_mut() {
        Some(all) => all.iter_mut().for_each(strip),
        None => strip(&mut body),
    }
    (status, body)
}

#[test]
fn trackers_v1_keep_lts_and_smn_and_refuse_bad_bodies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let serve = serve_with_users(dir.path());
    let path = format!("/v1.0/{PROJECT_A}/tracker");
    let v1 =
        |method: &str, path: &str, body: Value| serve.call(method, path, Some(TOKEN_A), Some(body));

    let (status, body) = v1_tracker(&serve, "");
    assert_eq!((status, &body["error_code"]), (404, &json!("CTS.0214")));
    let (status, body) = v1("POST", &path, json!({"file_prefix_name": "x"}));
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error_code": "CTS.0003", "error_msg": "bucket_name is missing"})
        )
    );
    let lts = json!({"is_lts_enabled": true, "log_group_name": "CTS", "log_topic_name": "system-trace",
                     "log_group_id": "1186622b-78ec-11ea-997c-286ed488c87f",
                     "log_topic_id": "751f0409-78ec-11ea-90c7-286ed488c880"});
    let smn = json!({"is_support_smn": true, "topic_id": "urn:smn:eu-de:p:cts-test",
                     "operations": ["delete", "create", "login"], "is_send_all_key_operation": false,
                     "need_notify_user_list": ["user1", "user2"]});
    let (status, created) = v1(
        "POST",
        &path,
        json!({"bucket_name": "cloudtraceservice", "file_prefix_name": "file-", "status": "enabled",
               "tracker_name": "system", "detail": "", "lts": lts, "smn": smn}),
    );
    assert_eq!(status, 201, "{created}");
    let expected = json!({
        "domain_id": PROJECT_A, "project_id": PROJECT_A, "tracker_name": "system",
        "tracker_type": "system", "bucket_name": "cloudtraceservice", "file_prefix_name": "file-",
        "is_obs_created": false, "is_support_validate": false, "status": "enabled",
        "lts": lts, "smn": smn,
    });
    // Without tracker_name an array, with it an object.
    assert_eq!(v1_tracker(&serve, ""), (200, json!([expected])));
    assert_eq!(
        v1_tracker(&serve, "?tracker_name=system"),
        (200, expected.clone())
    );
    let (status, _) = v1_tracker(&serve, "?tracker_name=other");
    assert_eq!(status, 404);
    // v3 shows the same tracker, without the v1.0 smn block.
    let (_, v3) = serve.a("GET", "/trackers", None);
    assert_eq!(
        v3["trackers"][0]["obs_info"]["bucket_name"],
        "cloudtraceservice"
    );
    assert_eq!(v3["trackers"][0]["lts"], lts);
    assert_eq!(v3["trackers"][0].get("smn"), None);

    // Refused, each naming what is wrong, and nothing changed.
    let id = created["id"].as_str().expect("id");
    let by_id = format!("{path}/{id}");
    for (body, code, message) in [
        (
            json!({"bucket": "b"}),
            "CTS.0003",
            "invalid message body: bucket: unknown field `bucket`, expected one of `tracker_name`, \
             `tracker_type`, `bucket_name`, `file_prefix_name`, `is_obs_created`, `status`, `lts`, \
             `smn`, `detail` at line 1 column 9",
        ),
        (
            json!({"is_obs_created": "yes"}),
            "CTS.0003",
            "invalid message body: is_obs_created: invalid type: string \"yes\", expected a boolean \
             at line 1 column 23",
        ),
        (
            json!({"smn": {"is_support_smn": false, "need_notify_user_list": vec!["u"; 51]}}),
            "CTS.0003",
            "smn.need_notify_user_list: at most 50 users, not 51",
        ),
        (
            json!({"smn": {"is_send_all_key_operation": true, "operations": ["login"]}}),
            "CTS.0003",
            "smn.operations: not allowed with is_send_all_key_operation, which sends every key operation",
        ),
        (
            json!({"smn": {"is_support_smn": true}}),
            "CTS.0003",
            "smn.topic_id: needed when is_support_smn is true",
        ),
        (
            json!({"lts": {"is_lts_enabled": true, "retention": 7}}),
            "CTS.0003",
            "invalid message body: lts.retention: unknown field `retention`, expected one of \
             `is_lts_enabled`, `log_group_name`, `log_topic_name`, `log_group_id`, `log_topic_id` \
             at line 1 column 41",
        ),
        (
            json!({"status": "paused"}),
            "CTS.0205",
            "status can only be enabled or disabled, not \"paused\"",
        ),
        (
            json!({"tracker_type": "data"}),
            "CTS.0003",
            "tracker_type: the v1.0 API manages the management tracker only (system), not \"data\"",
        ),
    ] {
        let (status, answer) = v1("PUT", &by_id, body.clone());
        assert_eq!(
            (status, answer),
            (400, json!({"error_code": code, "error_msg": message})),
            "{body}"
        );
    }
    assert_eq!(
        v1_tracker(&serve, "?tracker_name=system"),
        (200, expected.clone())
    );
    let (status, _) = v1(
        "PUT",
        &format!("{path}/other"),
        json!({"status": "disabled"}),
    );
    assert_eq!(status, 404);

    // Update by name and by ID; the blocks given are kept, the others stay.
    let (status, updated) = v1(
        "PUT",
        &format!("{path}/system"),
        json!({"file_prefix_name": "new-", "status": "disabled"}),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            &updated["file_prefix_name"],
            &updated["status"],
            &updated["smn"]
        ),
        (&json!("new-"), &json!("disabled"), &smn)
    );
    let quiet = json!({"is_support_smn": false, "is_send_all_key_operation": true});
    let (status, updated) = v1("PUT", &by_id, json!({"smn": quiet}));
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["smn"],
        json!({"is_support_smn": false, "is_send_all_key_operation": true,
                                      "operations": [], "need_notify_user_list": []})
    );
    assert_eq!(updated["lts"], lts);

    let (status, body) = serve.call(
        "DELETE",
        &format!("{path}?tracker_name=system"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(v1_tracker(&serve, "").0, 404);
}

#[test]
fn trace_lists_v1_and_v2_and_refused_signatures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let serve = serve_with_users(dir.path());
    record_and_forget_tracker(&serve, 8);

    // v1.0: the tracker in the path, user as a JSON string, paged by marker.
    let (status, page) = serve.call(
        "GET",
        &format!("/v1.0/{PROJECT_A}/system/trace?trace_rating=warning&limit=1"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["traces"][0]["trace_id"], "t-0002");
    assert_eq!(page["meta_data"], json!({"count": 1, "marker": "t-0002"}));
    let user: Value = serde_json::from_str(
        page["traces"][0]["user"]
            .as_str()
            .expect("user is a string"),
    )
    .expect("JSON");
    assert_eq!(user["name"], "alice");
    let (_, page) = serve.call(
        "GET",
        &format!("/v1.0/{PROJECT_A}/system/trace?trace_rating=warning&limit=1&next=t-0002"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!(page["traces"][0]["trace_id"], "t-0006");
    assert_eq!(page["meta_data"]["count"], 1);
    let (_, page) = serve.call(
        "GET",
        &format!("/v1.0/{PROJECT_A}/system/trace?trace_rating=warning&limit=1&next=t-0006"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!(page["meta_data"], json!({"count": 0, "marker": null}));

    // v2.0: trace_status in and out, user as an object.
    let (status, page) = serve.call(
        "GET",
        &format!("/v2.0/{PROJECT_A}/system/trace?trace_status=incident"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!(status, 200, "{page}");
    let got: Vec<(&Value, &Value, &Value)> = page["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .map(|t| (&t["trace_id"], &t["trace_status"], &t["user"]["name"]))
        .collect();
    assert_eq!(
        got,
        [
            (&json!("t-0003"), &json!("incident"), &json!("bob")),
            (&json!("t-0007"), &json!("incident"), &json!("bob"))
        ]
    );
    let (status, body) = serve.call(
        "GET",
        &format!("/v2.0/{PROJECT_A}/system/trace?trace_status=loud"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!((status, &body["error_code"]), (400, &json!("CTS.0003")));
    let (status, _) = serve.call(
        "GET",
        &format!("/v1.0/{PROJECT_B}/system/trace"),
        Some(TOKEN_A),
        None,
    );
    assert_eq!(status, 403);

    // Signatures that are malformed, stale, of an unknown key or wrong: 401, saying what is
    // wrong with the request, and the same for an unknown key as for a wrong secret.
    let quotas = format!("/v3/{PROJECT_A}/quotas");
    let date = |minutes_ago: i64| {
        (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago))
            .format("%Y%m%dT%H%M%SZ")
            .to_string()
    };
    let (now, stale) = (date(0), date(20));
    let zeros = "0".repeat(64);
    let signed = |access: &str| {
        format!("SDK-HMAC-SHA256 Access={access}, SignedHeaders=host;x-sdk-date, Signature={zeros}")
    };
    let not_verified = "Incorrect IAM authentication information: the signature could not be \
                        verified with this access key";
    let stale_message = format!(
        "Incorrect IAM authentication information: X-Sdk-Date: {stale} is more than 15 minutes \
         from the server's time"
    );
    for (authorization, sdk_date, message) in [
        (
            "Bearer abc".to_string(),
            None,
            "Authorization: only SDK-HMAC-SHA256 signatures are accepted (or send X-Auth-Token)",
        ),
        (
            "SDK-HMAC-SHA256 garbage".to_string(),
            None,
            "Authorization: \"garbage\" is not KEY=VALUE",
        ),
        (
            "SDK-HMAC-SHA256 Access=AKTESTCTS0000001, SignedHeaders=host, Signature=00".to_string(),
            None,
            "Authorization: SignedHeaders does not include x-sdk-date",
        ),
        (
            signed("AKTESTCTS0000001"),
            None,
            "Incorrect IAM authentication information: the signed header x-sdk-date is missing",
        ),
        (
            signed("UNKNOWN"),
            None,
            "Incorrect IAM authentication information: the signed header x-sdk-date is missing",
        ),
        (
            signed("AKTESTCTS0000001"),
            Some(stale.as_str()),
            stale_message.as_str(),
        ),
        (
            signed("UNKNOWN"),
            Some(stale.as_str()),
            stale_message.as_str(),
        ),
        (signed("AKTESTCTS0000001"), Some(now.as_str()), not_verified),
        (signed("UNKNOWN"), Some(now.as_str()), not_verified),
        (
            format!(
                "SDK-HMAC-SHA256 Access=UNKNOWN, SignedHeaders=host;x-sdk-date, Signature={zeros}0"
            ),
            Some(now.as_str()),
            "Incorrect IAM authentication information: Authorization: Signature is not 64 hex digits",
        ),
    ] {
        let mut headers = vec![("Authorization", authorization.as_str())];
        if let Some(d) = sdk_date {
            headers.push(("X-Sdk-Date", d));
        }
        let (status, _, body) = serve.send("GET", &quotas, &headers, None);
        assert_eq!(
            (status, body),
            (
                401,
                json!({"error_code": "APIGW.0301", "error_msg": message})
            ),
            "{authorization}"
        );
    }

    // A body swapped under a valid signature, even with its hash declared: refused, nothing
    // created.
    let path = format!("/v3/{PROJECT_A}/tracker");
    let host = serve.url.trim_start_matches("http://").to_string();
    let signed_body = r#"{"tracker_type": "system", "tracker_name": "system"}"#;
    let headers = [
        ("content-type", "application/json"),
        ("host", host.as_str()),
        ("x-sdk-date", now.as_str()),
    ];
    let names: Vec<String> = ["content-type", "host", "x-sdk-date"]
        .map(String::from)
        .to_vec();
    let request = cts::serve::auth::signature::Request {
        method: "POST",
        path: &path,
        query: "",
        headers: &headers,
        body: signed_body.as_bytes(),
    };
    let signature =
        cts::serve::auth::signature::sign(&request, &names, "sk-of-team-a-7f3c9d").expect("sign");
    let authorization = format!(
        "SDK-HMAC-SHA256 Access=AKTESTCTS0000001, SignedHeaders=content-type;host;x-sdk-date, \
         Signature={signature}"
    );
    let other_body = r#"{"tracker_type": "data", "tracker_name": "evil", "data_bucket": {"data_bucket_name": "b"}}"#;
    let body_hash: String = ring::digest::digest(&ring::digest::SHA256, signed_body.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for declared in [None, Some(body_hash.as_str()), Some("UNSIGNED-PAYLOAD")] {
        let mut sent = vec![
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/json"),
            ("X-Sdk-Date", now.as_str()),
        ];
        if let Some(d) = declared {
            sent.push(("X-Sdk-Content-Sha256", d));
        }
        let (status, _, body) = serve.send("POST", &path, &sent, Some(other_body.to_string()));
        assert_eq!(
            (status, &body["error_msg"]),
            (401, &json!(not_verified)),
            "{declared:?}"
        );
    }
    // The same signature with the body it signed: accepted.
    let (status, _, body) = serve.send(
        "POST",
        &path,
        &[
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/json"),
            ("X-Sdk-Date", now.as_str()),
        ],
        Some(signed_body.to_string()),
    );
    assert_eq!(status, 201, "{body}");
    let (_, trackers) = serve.a("GET", "/trackers", None);
    let names: Vec<&Value> = trackers["trackers"]
        .as_array()
        .expect("trackers")
        .iter()
        .map(|t| &t["tracker_name"])
        .collect();
    assert_eq!(names, [&json!("system")]);
    let (status, _, body) = serve.send("GET", &quotas, &[], None);
    assert_eq!(status, 401);
    assert_eq!(body["error_code"], "APIGW.0301");
}
