#!/usr/bin/env python3
"""Write the hand-made seed inputs (corpus/*/seed-*): run from fuzz/ as `python3 seed-corpus.py`.

decode: the spec fixtures (crates/cts-core/tests/fixtures/spec), one of them gzipped, an NDJSON file, an API
envelope, a two-member gzip, and small shapes from the decode module's tests. layout: the object
keys of cts-spec.md section 2 (trace files, digests, other objects).
"""
import glob
import gzip
import json
import os

DECODE = "corpus/decode"
LAYOUT = "corpus/layout"
os.makedirs(DECODE, exist_ok=True)
os.makedirs(LAYOUT, exist_ok=True)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


traces = []
for path in sorted(glob.glob("../crates/cts-core/tests/fixtures/spec/*.json")):
    raw = open(path, "rb").read()
    write(f"{DECODE}/seed-{os.path.basename(path)}", raw)
    value = json.loads(raw)
    if isinstance(value, list):
        traces += value
    elif isinstance(value, dict) and "traces" in value:
        traces += value["traces"]
    elif isinstance(value, dict) and "cts" in value:
        traces.append(value["cts"])
    else:
        traces.append(value)

first = open("../crates/cts-core/tests/fixtures/spec/a_ecs_create_server_2024.json", "rb").read()
write(f"{DECODE}/seed-a_ecs_create_server_2024.json.gz", gzip.compress(first, 9, mtime=0))
small = traces[:3]
write(f"{DECODE}/seed-ndjson.json",
      "".join(json.dumps(t, separators=(",", ":")) + "\n" for t in small))
write(f"{DECODE}/seed-envelope.json",
      json.dumps({"meta_data": {"count": len(small), "marker": None}, "traces": small},
                 separators=(",", ":")))
write(f"{DECODE}/seed-multimember.json.gz",
      gzip.compress(b'{"trace_id":"a","time":1719745200000}\n', mtime=0)
      + gzip.compress(b'{"trace_id":"b","time":1719745200001}\n', mtime=0))
shapes = {
    "bom.json": b'\xef\xbb\xbf[{"trace_id":"a","time":1719745200000}]',
    "mixed-rejects.json": b'[{"trace_id":"a","time":1719745200000}, 7, "x", [1, 2], null, '
                          b'{"time":1}, {"trace_id":" ","time":1}, {"trace_id":"b","time":"yesterday"}]',
    "times.json": b'[{"trace_id":"a","time":1718777931170},{"trace_id":"b","time":"1765788999507"},'
                  b'{"trace_id":"c","time":1529996047},{"trace_id":"d","time":"2016/12/08 11:07:28 GMT+08:00"},'
                  b'{"trace_id":"e","time":"2024-06-19T06:18:51.170Z"},'
                  b'{"trace_id":"f","time":"2024-06-19 06:18:51","record_time":1.5e12}]',
    "types.json": b'[{"trace_id":"a","time":1719745200000,"read_only":"maybe","content_length":[1],'
                  b'"total_time":"12","trace_rating":"normal","trace_status ":"warning","traces":[1],'
                  b'"cts":{"x":1},"user":"xxx"}]',
    "user.json": b'[{"trace_id":"a","time":1719745200000,"user":"{\\"name\\":\\"alice\\",'
                 b'\\"principal_is_root_user\\":\\"true\\",\\"invoked_by\\":[\\"service.console\\"],'
                 b'\\"domain\\":{\\"name\\":\\"acme\\",\\"id\\":\\"d1\\"},'
                 b'\\"session_context\\":{\\"attributes\\":{\\"mfa_authenticated\\":\\"false\\"}}}"}]',
    "cts-event.json": b'{"cts":{"trace_id":"a","time":1719745200000}}',
}
for name, data in shapes.items():
    write(f"{DECODE}/seed-{name}", data)

keys = {
    "spec-example": "CloudTraces/eu-de/2024/6/19/system/ECS/cts_CloudTrace_eu-de_2024-06-19T06-20-00Z_3f4d1e2a9b8c7d6e.json.gz",
    "real-screenshot": "obs-cts/CloudTraces/cn-southwest-237/2023/08/30/system/CTS/file_CloudTrace_cn-southwest-237_2023-08-30T01-50-12Z_d22ef9d12629392c.json.gz",
    "swiss-docs": "CloudTraces/region/2024/12/13/system/ECS/FilePrefix_CloudTrace_region-project_2024-12-13T01-29-19Z_47b9d51830deff47.json.gz",
    "otc-docs-space": "User-defined name/CloudTraces/region/2016/5/19/system/ECS/File Prefix_CloudTrace_region-project_2016-05-30T16-20-56Z_21d36ced8c8af71e.json.gz",
    "no-service-plain": "CloudTraces/eu-de/2016/5/19/system/my_pre_fix_CloudTrace_eu-de_myproj_2016-05-19T16-20-56Z_21d36ced8c8af71e.json",
    "bare-name": "FilePrefix_CloudTrace_eu-nl_2024-12-13T01-29-19Z_47b9d51830deff47.json.gz",
    "digest-tracker": "CloudTraces/eu-de/2017/11/15/system/Digest/ECS/tGPYa_CloudTrace-Digest_eu-de_2017-11-15T10-12-10Z.json.gz",
    "digest-java": "CloudTraces/eu-de/2017/11/15/Digest/ECS/tGPYa_CloudTrace-Digest_eu-de_2017-11-15T10-12-10Z.json.gz",
    "digest-doc": "CloudTraces/eu-de-01/2017/3/28/Digest/EVS/mylog_CloudTrace-Digest_eu-de-01/_2017-03-28T02-09-17Z.json.gz",
    "logfile-doc": "CloudTraces/eu-de-01/2017/3/28/ECS/mylog_CloudTrace_eu-de-01/_2017-03-28T02-09-17Z_0faa86bc40071242.json.gz",
    "tracker-named-digest": "CloudTraces/eu-de/2024/06/19/Digest/OBS/x_CloudTrace_eu-de_2024-06-19T06-20-00Z_d22ef9d12629392c.json.gz",
    "other-readme": "README.txt",
    "other-root": "backup/CloudTraces",
    "other-csv": "CloudTraces/eu-de/2024/01/01/system/ECS/x_CloudTrace_eu-de_2024-01-01T00-00-00Z_00aa.csv",
}
for name, key in keys.items():
    write(f"{LAYOUT}/seed-{name}", key)
