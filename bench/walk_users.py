#!/usr/bin/env python3
"""Walks every user of an instance, 100 a page, following the `next` links of GET users/ on one
keep-alive connection (bench/scale). Prints the pages, the users, the total time and the time per
page in each tenth of the walk: a walk that stays linear has the same per-page time throughout.

Usage: walk_users.py BASE_URL INSTANCE API_KEY"""
import http.client
import json
import sys
import time
import urllib.parse


def main() -> int:
    base, instance, api_key = sys.argv[1:4]
    target = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    path = f"/v1.1/instances/{instance}/users/?page_size=100"
    times, users = [], 0
    started = time.monotonic()
    while path:
        before = time.monotonic()
        connection.request("GET", path, headers={"X-API-KEY": api_key})
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            print(f"walk: {path} answered {answer.status}: {body[:200]!r}", file=sys.stderr)
            return 1
        page = json.loads(body)
        times.append(time.monotonic() - before)
        users += len(page["objects"])
        path = page["next"]
    total = time.monotonic() - started
    tenths = [times[len(times) * k // 10:len(times) * (k + 1) // 10] for k in range(10)]
    per_tenth = [sum(part) / len(part) * 1000 for part in tenths if part]
    print(f"walked {users} users in {len(times)} pages, {total:.1f} s; ms per page by tenth: "
          + " ".join(f"{t:.2f}" for t in per_tenth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
