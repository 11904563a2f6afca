#!/usr/bin/env python3
"""Connection-level load for the serving benchmarks (bench/serving), with asyncio.

  connections.py hold URL IDLE SLOW SECONDS
      opens IDLE silent connections and SLOW ones that send a request head one byte every few
      seconds, holds them for SECONDS, then prints how many the server still held at the end.
  connections.py latency URL SAMPLES
      opens SAMPLES new connections one after another, each sending GET /healthz, and prints
      the median and the slowest time to the answer.
  connections.py answered URL PATH CLIENTS SECONDS [HEADER:VALUE ...]
      runs CLIENTS keep-alive clients sending PATH back to back for SECONDS and prints the
      fewest, median and most answers a client got (wrk's totals hide a starved client).
"""
import asyncio
import resource
import sys
import time
from urllib.parse import urlparse

HEAD = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"s" * 4000 + b"\r\n\r\n"


def target(url):
    u = urlparse(url)
    return u.hostname, u.port


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return int(head[9:12])


async def hold(url, idle, slow, seconds):
    host, port = target(url)
    conns = []
    for i in range(idle + slow):
        for attempt in range(50):
            try:
                conns.append(await asyncio.open_connection(host, port))
                break
            except OSError:
                await asyncio.sleep(0.05)
        if i % 500 == 499:
            await asyncio.sleep(0)  # let the server keep up with the accepts
    print(f"opened {len(conns)} connections ({idle} idle, {slow} slow)", flush=True)
    deadline = time.monotonic() + seconds
    slow_conns = conns[idle:]

    async def trickle(writer, offset):
        position = 0
        await asyncio.sleep(offset)
        while time.monotonic() < deadline and position < len(HEAD) - 4:
            writer.write(HEAD[position:position + 1])
            position += 1
            await asyncio.sleep(3)

    tasks = [asyncio.create_task(trickle(w, (i % 300) / 100)) for i, (_, w) in enumerate(slow_conns)]
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    for t in tasks:
        t.cancel()
    # Still held: nothing to read yet and not closed by the server.
    held = 0
    for reader, writer in conns:
        if not reader.at_eof() and not reader._buffer and not writer.is_closing():  # noqa: SLF001
            held += 1
    print(f"held at the end: {held} of {len(conns)}", flush=True)
    for _, writer in conns:
        writer.close()


async def latency(url, samples):
    host, port = target(url)
    times = []
    for _ in range(samples):
        start = time.monotonic()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        status = await asyncio.wait_for(read_answer(reader), 10)
        times.append((time.monotonic() - start) * 1000)
        writer.close()
        if status != 200:
            print(f"unexpected status {status}")
    times.sort()
    print(f"new client answered: median {times[len(times) // 2]:.2f} ms, slowest {times[-1]:.2f} ms "
          f"({samples} samples)", flush=True)


async def answered(url, path, clients, seconds, headers):
    host, port = target(url)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n".encode()
    for h in headers:
        name, value = h.split(":", 1)
        request += f"{name}: {value}\r\n".encode()
    request += b"\r\n"
    counts = [0] * clients
    deadline = time.monotonic() + seconds

    async def client(index):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                status = await asyncio.wait_for(read_answer(reader), seconds + 5)
                if status == 200:
                    counts[index] += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    ordered = sorted(counts)
    print(f"{clients} keep-alive clients for {seconds:g} s: answers per client fewest {ordered[0]}, "
          f"median {ordered[len(ordered) // 2]}, most {ordered[-1]}; "
          f"clients with none {sum(1 for c in counts if c == 0)}", flush=True)
    return 0 if ordered[0] > 0 else 1


def main():
    raise_fd_limit()
    mode = sys.argv[1]
    if mode == "hold":
        asyncio.run(hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
    elif mode == "latency":
        asyncio.run(latency(sys.argv[2], int(sys.argv[3])))
    elif mode == "answered":
        return asyncio.run(answered(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]),
                                    sys.argv[6:]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
