#!/usr/bin/env python3
"""A TCP proxy that adds a fixed delay to each direction, pipelined: every
chunk is delivered DELAY_MS after it arrived, in order, so the link keeps
its bandwidth and gains latency only, as a long path does. This kernel has
no netem to do it in the network stack.

    delay-proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS

Prints "ready PORT" on stdout once it listens (port 0: any free port), and
runs until killed. A new connection's first bytes leave a round trip late,
as a TCP handshake would make them."""
import asyncio
import sys
import time


async def pump(reader, writer, delay, hold_until=0.0):
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    task = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(1 << 16)
            queue.put_nowait((max(time.monotonic(), hold_until) + delay, data if data else None))
            if not data:
                break
    except (ConnectionError, OSError):
        queue.put_nowait((0, None))
    await task


async def main():
    port, host, tport, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000
    count = 0

    async def handle(cr, cw):
        nonlocal count
        count += 1
        try:
            sr, sw = await asyncio.open_connection(host, tport)
        except OSError:
            cw.close()
            return
        # The TCP handshake costs a round trip: what the client sends in
        # it leaves as if the connection were made only now.
        hold = time.monotonic() + 2 * delay
        await asyncio.gather(pump(cr, sw, delay, hold), pump(sr, cw, delay), return_exceptions=True)
        for w in (cw, sw):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
