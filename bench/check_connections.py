#!/usr/bin/env python3
"""Opens N keep-alive connections at once and counts the answers each one gets in a few seconds.

wrk's totals hide a connection that is never served (Poco holds one worker thread per
keep-alive connection, so connections beyond server.threads wait in the queue until another
connection closes). This prints the fewest and the median answers per connection, and counts as
starved every connection that got less than a tenth of the median.
Usage: check_connections.py URL PATH CONNECTIONS SECONDS [HEADER:VALUE ...]
"""
import http.client
import sys
import threading
import time
from urllib.parse import urlparse


def main():
    url, path, connections, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    headers = dict(h.split(":", 1) for h in sys.argv[5:])
    target = urlparse(url)
    counts = [0] * connections
    deadline = time.monotonic() + seconds

    def client(index):
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=seconds + 5)
        try:
            while time.monotonic() < deadline:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    counts[index] += 1
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    median = sorted(counts)[len(counts) // 2]
    starved = sum(1 for c in counts if c * 10 < median)
    print(f"{connections} connections: answers per connection fewest {min(counts)}, "
          f"median {median}, most {max(counts)}; starved {starved}")
    return 1 if starved else 0


if __name__ == "__main__":
    sys.exit(main())
