"""Drive `cts serve` with otcextensions' `conn.ctsv3` (CTS v3 API over a Keystone token).

Run by the Rust real-client test as `$CTS_CLIENTS_PYTHON ctsv3.py`, with:
  OS_CLIENT_CONFIG_FILE  clouds.yaml with a cloud `otc` (auth_url = cts serve's /identity/v3,
                         vendor_hook: otcextensions.sdk:load)
  CTS_FILTER_JSON        optional JSON object of extra ListTraces query params (wire names,
                         e.g. {"limit": 5, "service_type": "CTS", "from": 1700000000000})

stdout: one JSON object per line, {"call": NAME, "result": ...}. Calls, in order:
  create_data_tracker (expected to fail: {"call", "status", "error_code", "error_msg"}),
  create_tracker, trackers, trackers_by_name, traces, quotas, delete_tracker,
  trackers_after_delete, create_key_event, key_events, update_key_event,
  key_events_after_update, key_events_after_delete
  (key events send to CTS_TOPIC, a topic cts serve is configured with)
Logging goes to stderr. Any unexpected error propagates (traceback, non-zero exit).
"""

import json
import os
import sys

import openstack


def emit(call, result):
    sys.stdout.write(json.dumps({"call": call, "result": result}, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()


def main():
    openstack.enable_logging(debug=True, stream=sys.stderr)
    conn = openstack.connect(cloud="otc")

    # data_bucket is not an attribute of otcextensions' ctsv3 Tracker: openstacksdk drops it
    # from the request body, and CTS refuses a data tracker without its tracked bucket.
    try:
        conn.ctsv3.create_tracker(
            tracker_type="data",
            tracker_name="audit-data",
            obs_info={"bucket_name": "cts-v3-bucket", "file_prefix_name": "v3"},
            data_bucket={"data_bucket_name": "tracked-bucket", "data_event": ["READ", "WRITE"]},
        )
        emit("create_data_tracker", "accepted")
    except openstack.exceptions.HttpException as e:
        body = e.response.json() if e.response is not None else {}
        sys.stdout.write(json.dumps({"call": "create_data_tracker", "status": e.status_code,
                                     "error_code": body.get("error_code"),
                                     "error_msg": body.get("error_msg")}, sort_keys=True) + "\n")

    # The management tracker, as otcextensions' examples/ctsv3/create_tracker.py creates it.
    created = conn.ctsv3.create_tracker(
        tracker_type="system",
        tracker_name="system",
        obs_info={"bucket_name": "cts-v3-bucket", "file_prefix_name": "v3"},
    )
    emit("create_tracker", created.to_dict())

    emit("trackers", [t.to_dict() for t in conn.ctsv3.trackers()])

    by_name = list(conn.ctsv3.trackers(tracker_name="system"))
    emit("trackers_by_name", [t.to_dict() for t in by_name])

    query = {"trace_type": "system"}
    query.update(json.loads(os.environ.get("CTS_FILTER_JSON") or "{}"))
    emit("traces", [t.to_dict() for t in conn.ctsv3.traces(**query)])

    emit("quotas", [q.to_dict() for q in conn.ctsv3.quotas()])

    if len(by_name) != 1:
        raise SystemExit("expected exactly one tracker named system, got %d" % len(by_name))
    emit("delete_tracker", conn.ctsv3.delete_tracker(by_name[0]))

    emit("trackers_after_delete", [t.to_dict() for t in conn.ctsv3.trackers()])

    # Key-event notifications.
    topic = os.environ["CTS_TOPIC"]
    event = conn.ctsv3.create_key_event(
        notification_name="deleted_users",
        operation_type="customized",
        operations=[{"service_type": "IAM", "resource_type": "user",
                     "trace_names": ["deleteUser", "deleteGroup"]}],
        notify_user_list=[{"user_group": "admin", "user_list": ["alice"]}],
        topic_id=topic,
        filter={"condition": "AND", "is_support_filter": True, "rule": ["trace_rating = warning"]},
    )
    emit("create_key_event", event.to_dict())
    emit("key_events", [e.to_dict() for e in conn.ctsv3.key_events("smn", notification_name="deleted_users")])
    updated = conn.ctsv3.update_key_event(
        notification_id=event.notification_id,
        notification_name="deleted_users",
        operation_type="complete",
        status="disabled",
        topic_id=topic,
    )
    emit("update_key_event", updated.to_dict())
    emit("key_events_after_update", [e.to_dict() for e in conn.ctsv3.key_events("smn")])
    conn.ctsv3.delete_key_event(event)
    emit("key_events_after_delete", [e.to_dict() for e in conn.ctsv3.key_events("smn")])


if __name__ == "__main__":
    main()
