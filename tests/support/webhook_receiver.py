#!/usr/bin/python3
"""A real HTTP receiver for the webhook sink's tests (Python's http.server on loopback).

Checks each POST's X-Latchkey-Signature independently of the host (HMAC-SHA256 of
"<X-Latchkey-Timestamp>.<body>" under --secret, with Python's hmac), appends one JSON line per
request to --log ({"delivery", "event", "signature_ok", "answered", "body"}), answers 503 to
the first --fail-first requests (a receiver that fails and recovers) and 204 to the rest, after
--delay-ms. Prints "port N" once it listens, then serves until stdin closes.
"""
import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    state = {"fail_left": args.fail_first}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            stamp = self.headers.get("X-Latchkey-Timestamp", "")
            expected = "v1=" + hmac.new(args.secret.encode(), stamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
            given = self.headers.get("X-Latchkey-Signature", "")
            fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
            with lock:
                failing = state["fail_left"] > 0
                if failing:
                    state["fail_left"] -= 1
                status = 503 if failing else 204
                record = {
                    "delivery": self.headers.get("X-Latchkey-Delivery"),
                    "event": self.headers.get("X-Latchkey-Event"),
                    "content_type": self.headers.get("Content-Type"),
                    "signature_ok": hmac.compare_digest(expected, given) and fresh,
                    "answered": status,
                    "body": json.loads(body),
                }
                with open(args.log, "a") as out:
                    out.write(json.dumps(record) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
