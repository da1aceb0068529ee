# A TCP proxy that delays every chunk by DELAY seconds in each direction, keeping order: PostgreSQL
# on loopback made to answer like a server on another machine (docs/benchmarks.md, "One round trip
# per append, workers on their own threads").
#   python3 tests/ProcessDsl.Benchmarks/tools/delay-proxy.py LISTEN_PORT POSTGRES_PORT DELAY_SECONDS
# e.g. python3 ... 55440 55432 0.0005, then point the store at Port=55440. Each chunk waits at least
# DELAY; Python's event loop sleeps in whole milliseconds (epoll), so a DELAY under 1 ms is about 1 ms.
import asyncio, sys, time
LISTEN, TARGET, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def pipe(reader, writer):
    q = asyncio.Queue()
    async def rd():
        while True:
            data = await reader.read(65536)
            q.put_nowait((time.monotonic() + DELAY, data))
            if not data: return
    async def wr():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0: await asyncio.sleep(wait)
            if not data:
                writer.close(); return
            writer.write(data); await writer.drain()
    await asyncio.gather(rd(), wr(), return_exceptions=True)
async def handle(cr, cw):
    sr, sw = await asyncio.open_connection('127.0.0.1', TARGET)
    await asyncio.gather(pipe(cr, sw), pipe(sr, cw), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', LISTEN)
    async with server: await server.serve_forever()
asyncio.run(main())
