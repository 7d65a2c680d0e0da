"""Drive `cts serve` with Huawei's Python SDK (huaweicloudsdkcts v3, AK/SK SDK-HMAC-SHA256 signing).

Run by the Rust real-client test as `$CTS_CLIENTS_PYTHON sdk.py`, with:
  CTS_URL          http://127.0.0.1:PORT (cts serve)
  CTS_PROJECT      project id the AK/SK belongs to
  CTS_AK, CTS_SK   access key / secret key cts serve accepts for CTS_PROJECT
  CTS_FILTER_JSON  optional JSON object of extra ListTraces query params (wire names, so
                   "from" rather than the SDK's "_from"), e.g. {"limit": 5, "service_type": "CTS"}

stdout: one JSON object per line.
  Successes: {"call": NAME, "result": <response.to_dict()>}, calls in order:
    list_traces, create_tracker, list_trackers, update_tracker, list_trackers_after_update,
    list_quotas, delete_tracker, create_notification, list_notifications, update_notification,
    list_notifications_after_update, delete_notification, list_notifications_after_delete
    (the notification sends to CTS_TOPIC, a topic cts serve is configured with)
  Negative cases, each expected to be refused by the server:
    {"call": NAME, "status": <int>, "error_code": "...", "error_msg": "..."}, in order:
    wrong_secret   ListQuotas signed with a wrong secret key
    old_date       ListQuotas signed (correctly) with an X-Sdk-Date 20 minutes in the past
    tampered_body  CreateTracker signed for one body, sent with another
    other_project  ListQuotas on /v3/other-project/quotas, correctly signed with
                   X-Project-Id: other-project (the AK/SK belongs to CTS_PROJECT)
  A negative case the server wrongly accepts prints {"call": NAME, "result": ...} instead.
Every signature is made by huaweicloudsdkcore's own Signer, through the SDK's normal request path.
Any other error propagates (traceback on stderr, non-zero exit).
"""

import datetime
import json
import os
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkcts.v3 import (
    CreateTrackerRequest,
    CreateNotificationRequest,
    CreateNotificationRequestBody,
    CreateTrackerRequestBody,
    CtsClient,
    DeleteNotificationRequest,
    Filter,
    ListNotificationsRequest,
    NotificationUsers,
    Operations,
    UpdateNotificationRequest,
    UpdateNotificationRequestBody,
    DataBucket,
    DeleteTrackerRequest,
    ListQuotasRequest,
    ListTracesRequest,
    ListTrackersRequest,
    TrackerObsInfo,
    UpdateTrackerRequest,
    UpdateTrackerRequestBody,
)

URL = os.environ["CTS_URL"]
PROJECT = os.environ["CTS_PROJECT"]
AK = os.environ["CTS_AK"]
SK = os.environ["CTS_SK"]


def emit(obj):
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()


def ok(call, response):
    emit({"call": call, "result": response.to_dict()})


def refused(call, fn):
    """Run fn(), which the server should refuse with a 4xx; print what the SDK saw."""
    try:
        response = fn()
    except ClientRequestException as e:
        emit({"call": call, "status": e.status_code, "error_code": e.error_code, "error_msg": e.error_msg})
    else:
        ok(call, response)


def client(sk=SK, project=PROJECT, http_handler=None):
    builder = (
        CtsClient.new_builder()
        .with_credentials(BasicCredentials(AK, sk, project))
        .with_endpoints([URL])
    )
    if http_handler is not None:
        builder = builder.with_http_handler(http_handler)
    return builder.build()


def main():
    cts = client()

    filters = json.loads(os.environ.get("CTS_FILTER_JSON") or "{}")
    query = {"trace_type": "system"}
    query.update({("_from" if k == "from" else k): v for k, v in filters.items()})
    ok("list_traces", cts.list_traces(ListTracesRequest(**query)))

    ok("create_tracker", cts.create_tracker(CreateTrackerRequest(body=CreateTrackerRequestBody(
        tracker_type="data",
        tracker_name="sdk-data",
        obs_info=TrackerObsInfo(bucket_name="cts-sdk-bucket", file_prefix_name="sdk"),
        data_bucket=DataBucket(data_bucket_name="sdk-tracked", data_event=["WRITE"]),
    ))))

    ok("list_trackers", cts.list_trackers(ListTrackersRequest(tracker_name="sdk-data")))

    ok("update_tracker", cts.update_tracker(UpdateTrackerRequest(body=UpdateTrackerRequestBody(
        tracker_type="data",
        tracker_name="sdk-data",
        status="disabled",
        obs_info=TrackerObsInfo(bucket_name="cts-sdk-bucket", file_prefix_name="sdk2"),
    ))))

    ok("list_trackers_after_update", cts.list_trackers(ListTrackersRequest(tracker_name="sdk-data")))

    ok("list_quotas", cts.list_quotas(ListQuotasRequest()))

    ok("delete_tracker", cts.delete_tracker(DeleteTrackerRequest(tracker_name="sdk-data", tracker_type="data")))

    topic = os.environ["CTS_TOPIC"]
    created = cts.create_notification(CreateNotificationRequest(body=CreateNotificationRequestBody(
        notification_name="sdk_incidents",
        operation_type="complete",
        notify_user_list=[NotificationUsers(user_group="ops", user_list=["alice", "bob"])],
        topic_id=topic,
        filter=Filter(condition="OR", is_support_filter=True,
                      rule=["trace_rating = incident", "code != 200"]),
    )))
    ok("create_notification", created)
    ok("list_notifications", cts.list_notifications(ListNotificationsRequest(
        notification_type="smn", notification_name="sdk_incidents")))
    ok("update_notification", cts.update_notification(UpdateNotificationRequest(body=UpdateNotificationRequestBody(
        notification_id=created.notification_id,
        notification_name="sdk_incidents",
        operation_type="customized",
        operations=[Operations(service_type="ECS", resource_type="ecs", trace_names=["deleteServer"])],
        status="enabled",
        topic_id=topic,
    ))))
    ok("list_notifications_after_update", cts.list_notifications(ListNotificationsRequest(notification_type="smn")))
    ok("delete_notification", cts.delete_notification(DeleteNotificationRequest(notification_id=created.notification_id)))
    ok("list_notifications_after_delete", cts.list_notifications(ListNotificationsRequest(notification_type="smn")))

    # (a) Wrong secret key: the signature cannot match.
    refused("wrong_secret", lambda: client(sk="not-the-secret-key").list_quotas(ListQuotasRequest()))

    # (b) X-Sdk-Date 20 minutes old. The Signer keeps an X-Sdk-Date header that is already
    # there, and Client.preset_headers is merged into every request's headers before signing,
    # so the signature is valid, only stale.
    stale = client()
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    stale.preset_headers["X-Sdk-Date"] = old.strftime("%Y%m%dT%H%M%SZ")
    refused("old_date", lambda: stale.list_quotas(ListQuotasRequest()))

    # (c) Tampered body. A request handler runs after the Signer and before requests sends
    # the request: it swaps the signed body A for body B (same shape, another tracker and bucket).
    body_b = json.dumps({"tracker_type": "data", "tracker_name": "sdk-evil",
                         "obs_info": {"bucket_name": "evil-bucket", "file_prefix_name": "sdk"},
                         "data_bucket": {"data_bucket_name": "sdk-tracked", "data_event": ["WRITE"]}}).encode()

    def swap_body(request, **_):
        if request.method == "POST":
            request.body = body_b

    tampering = client(http_handler=HttpHandler().add_request_handler(swap_body))
    refused("tampered_body", lambda: tampering.create_tracker(CreateTrackerRequest(body=CreateTrackerRequestBody(
        tracker_type="data",
        tracker_name="sdk-tampered",
        obs_info=TrackerObsInfo(bucket_name="cts-sdk-bucket", file_prefix_name="sdk"),
        data_bucket=DataBucket(data_bucket_name="sdk-tracked", data_event=["WRITE"]),
    ))))

    # (d) Right AK/SK, another project: /v3/other-project/quotas with X-Project-Id: other-project,
    # correctly signed.
    refused("other_project", lambda: client(project="other-project").list_quotas(ListQuotasRequest()))


if __name__ == "__main__":
    main()
