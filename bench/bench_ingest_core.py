"""Benchmark of the ingest domain core alone: envelope parsing + record fields + Parquet flush.

No Event Hubs involved: synthetic ~3 KB sign-in records, 100 per event body, fed to RawBatchWriter
in memory and flushed to a temporary lake. Prints records/s, MB/s and peak RSS.

    .venv/bin/python bench/bench_ingest_core.py [--records 100000] [--batch 50000] [--repeat 3]

The writer also flushes at its default 64 MiB buffer bound (about 20,000 such records).
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa

from azlogs_pipeline.ingest.batch import RawBatchWriter

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APPS = ["Microsoft Teams", "Office 365 Exchange Online", "Azure Portal", "Microsoft Graph"]
CITIES = [("Seattle", "WA", "US", 47.6, -122.3), ("Berlin", "BE", "DE", 52.5, 13.4)]


def sign_in(rng: random.Random, when: datetime) -> dict[str, object]:
    """A realistic-looking sign-in record of about 3 KB."""
    city, state, country, lat, lon = rng.choice(CITIES)
    created = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(10**7):07d}Z"
    user = f"user{rng.randrange(5000)}@contoso.com"
    policies = [
        {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "displayName": f"Require MFA for group {i}",
            "enforcedGrantControls": ["Mfa"],
            "enforcedSessionControls": [],
            "result": rng.choice(["success", "notApplied", "failure"]),
        }
        for i in range(6)
    ]
    return {
        "time": (when + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "SignInLogs",
        "tenantId": TENANT,
        "resultType": rng.choice(["0", "50126", "50074"]),
        "resultSignature": "None",
        "durationMs": rng.randrange(2000),
        "callerIpAddress": f"203.0.113.{rng.randrange(256)}",
        "correlationId": str(uuid.UUID(int=rng.getrandbits(128))),
        "identity": user,
        "Level": 4,
        "location": country,
        "properties": {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "createdDateTime": created,
            "userDisplayName": user.split("@")[0].title(),
            "userPrincipalName": user,
            "userId": str(uuid.UUID(int=rng.getrandbits(128))),
            "appId": str(uuid.UUID(int=rng.getrandbits(128))),
            "appDisplayName": rng.choice(APPS),
            "ipAddress": f"203.0.113.{rng.randrange(256)}",
            "status": {"errorCode": 0, "additionalDetails": "MFA requirement satisfied"},
            "clientAppUsed": "Browser",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "deviceDetail": {
                "deviceId": "",
                "operatingSystem": "Windows 10",
                "browser": "Edge 120.0.0",
                "isCompliant": False,
                "isManaged": False,
            },
            "location": {
                "city": city,
                "state": state,
                "countryOrRegion": country,
                "geoCoordinates": {"latitude": lat, "longitude": lon},
            },
            "appliedConditionalAccessPolicies": policies,
            "authenticationDetails": [
                {
                    "authenticationStepDateTime": created,
                    "authenticationMethod": "Password",
                    "succeeded": True,
                    "authenticationStepResultDetail": "Correct password",
                }
            ],
            "conditionalAccessStatus": "success",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskEventTypes_v2": [],
            "resourceDisplayName": "Windows Azure Active Directory",
            "isInteractive": True,
            "tokenIssuerType": "AzureAD",
            "uniqueTokenIdentifier": uuid.UUID(int=rng.getrandbits(128)).hex,
        },
    }


def make_bodies(records: int, per_event: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    bodies = []
    for event in range(0, records, per_event):
        count = min(per_event, records - event)
        batch = [sign_in(rng, start + timedelta(seconds=(event + i) * 0.2)) for i in range(count)]
        bodies.append(orjson.dumps({"records": batch}))
    return bodies


def rss_mb() -> float:
    """Current resident set size (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def run_once(bodies: list[bytes], batch: int) -> tuple[int, int, float, float, float]:
    """(records landed, files written, wall seconds, CPU seconds, peak RSS MB sampled around each
    flush) for one drain of `bodies` into a fresh lake. CPU time is reported because wall time on
    a shared machine is noisy."""
    enqueued = datetime(2025, 3, 1, 1, tzinfo=UTC)
    landed = files = 0
    peak = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        writer = RawBatchWriter(Path(tmp), "insights-logs-signinlogs", "0", max_records=batch)
        started, cpu_started = time.perf_counter(), time.process_time()
        for seq, body in enumerate(bodies):
            writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=enqueued)
            if writer.is_full:
                peak = max(peak, rss_mb())
                summary = writer.flush()
                landed, files = landed + summary.records, files + len(summary.files)
        summary = writer.flush()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return landed + summary.records, files + len(summary.files), elapsed, cpu, peak


def run_baseline(bodies: list[bytes]) -> tuple[int, float]:
    """The naive way, on the same bodies: json.loads, json.dumps per record, pandas to Parquet
    (one file per event batch of 100 bodies, no record ids, no event time, no fsync)."""
    import json

    import pandas as pd

    landed = 0
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        for start in range(0, len(bodies), 100):
            rows = [
                {"category": r.get("category"), "time": r.get("time"), "record": json.dumps(r)}
                for body in bodies[start : start + 100]
                for r in json.loads(body)["records"]
            ]
            pd.DataFrame(rows).to_parquet(f"{tmp}/batch-{start}.parquet")
            landed += len(rows)
        return landed, time.perf_counter() - started


def run(records: int, batch: int, per_event: int, repeat: int) -> None:
    bodies = make_bodies(records, per_event)
    total_bytes = sum(len(b) for b in bodies)
    pa.array([0])  # pyarrow's first conversion imports pandas when installed: not batch memory
    baseline = rss_mb()
    print(f"{records} records in {len(bodies)} events, {total_bytes / records:.0f} B/record")
    peak = baseline
    for attempt in range(1, repeat + 1):
        landed, files, elapsed, cpu, pass_peak = run_once(bodies, batch)
        peak = max(peak, pass_peak)
        print(
            f"pass {attempt}: records={landed} files={files} seconds={elapsed:.2f} "
            f"records_per_s={landed / elapsed:,.0f} MB_per_s={total_bytes / elapsed / 1e6:.1f} "
            f"cpu_seconds={cpu:.2f} records_per_cpu_s={landed / cpu:,.0f}"
        )
    base_records, base_seconds = run_baseline(bodies)
    ours = landed / elapsed
    naive = base_records / base_seconds
    print(
        f"baseline (json + pandas): records_per_s={naive:,.0f}; "
        f"ratio: azlogs core is {ours / naive:.1f}x the baseline (last pass)"
    )
    print(
        f"RSS before ingest {baseline:.0f} MB (input bodies held: {total_bytes / 2**20:.0f} MB); "
        f"writer adds at most {peak - baseline:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=50_000, help="records per flush")
    parser.add_argument("--per-event", type=int, default=100, help="records per event body")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the same bodies")
    args = parser.parse_args()
    run(args.records, args.batch, args.per_event, args.repeat)


if __name__ == "__main__":
    main()
