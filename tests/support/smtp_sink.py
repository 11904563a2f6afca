#!/usr/bin/python3
"""A real SMTP server for the tests (Debian's python3-aiosmtpd).

Saves every message it accepts into --dir as <n>.eml (written whole, then renamed), optionally
requires AUTH (--user/--password) and offers STARTTLS (--cert/--key; with --implicit-tls the
connection is TLS from the start instead, as on port 465), and can refuse the first
messages with a temporary error (--fail-first N) to exercise retries, or take --delay seconds
over each message to act as a slow server. Prints "port N" once it
listens, then serves until stdin closes or it is terminated.
"""
import argparse
import asyncio
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, folder, fail_first, delay):
        self.folder = folder
        self.fail_left = fail_first
        self.delay = delay
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return "451 Try again later"
            self.count += 1
            number = self.count
        temporary = os.path.join(self.folder, f".{number}.tmp")
        with open(temporary, "wb") as out:
            out.write(envelope.original_content or envelope.content)
        os.rename(temporary, os.path.join(self.folder, f"{number}.eml"))
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)
    return check


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    options = {}
    if args.user:
        options.update(authenticator=authenticator(args.user, args.password or ""),
                       auth_required=True, auth_require_tls=bool(args.cert))
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.implicit_tls:
            options.update(ssl_context=context)
        else:
            options.update(tls_context=context, require_starttls=True)
    port = free_port()
    controller = Controller(Saver(args.dir, args.fail_first, args.delay), hostname="127.0.0.1", port=port,
                            **options)
    controller.start()
    print(f"port {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
