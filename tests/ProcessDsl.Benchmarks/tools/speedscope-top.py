#!/usr/bin/env python3
"""Aggregate a dotnet-trace speedscope JSON (dotnet-sampled-thread-time profile).

Each sampled interval of each thread is classified by its leaf:
  cpu    - leaf pseudo-frame CPU_TIME (managed code on a CPU)
  native - UNMANAGED_CODE_TIME whose callers are not a wait (native work, e.g. a syscall send)
  wait   - blocked: semaphore/event waits, socket receives, the socket event loop, sleeps
Prints per-thread totals, then for busy time (cpu+native) of all threads: top exclusive frames
(deepest real frame), top inclusive frames, and the nearest ProcessDsl/Orders frame; and for wait
time the nearest ProcessDsl/Orders frame (where our code waits)."""
import json, re, sys
from collections import defaultdict

PSEUDO = {"CPU_TIME", "UNMANAGED_CODE_TIME"}
WAIT = re.compile(r"(\.Wait\(|WaitForSignal|WaitOne|WaitCore|Sleep|SocketAsyncEngine\.EventLoop|Receive|Poll|"
                  r"Monitor\.Enter|Monitor\.Wait|TryEnterSlow|Join|SpinThenBlockingWait|InternalWait|WaitForPendingFinalizers|"
                  r"LowLevelLifoSemaphore|WaitSubsystem|ReadFromSocket|EnsureLong|Blocking)", re.I)
OURS = re.compile(r"^(ProcessDsl|ProcessDsl\.PostgreSql|Orders)!")

def strip(name):
    return re.sub(r"\(.*", "", name)[:170]

def main(path, top=25):
    d = json.load(open(path))
    frames = [f["name"] for f in d["shared"]["frames"]]
    per_thread = []
    busy_excl = defaultdict(float); busy_incl = defaultdict(float); busy_ours = defaultdict(float)
    wait_ours = defaultdict(float); wait_leaf = defaultdict(float)
    grand = defaultdict(float)
    for p in d["profiles"]:
        stack = []; last = None; cat = defaultdict(float)
        for e in p["events"]:
            t = e["at"]
            if last is not None and stack and t > last:
                dt = t - last
                names = [frames[f] for f in stack]
                real = [n for n in names if n not in PSEUDO]
                pseudo = names[-1] if names[-1] in PSEUDO else None
                leaf = real[-1] if real else "?"
                if pseudo == "CPU_TIME": c = "cpu"
                elif any(WAIT.search(n) for n in real[-3:]): c = "wait"
                else: c = "native"
                cat[c] += dt; grand[c] += dt
                ours = next((strip(n) for n in reversed(real) if OURS.match(n)), "(no ProcessDsl frame)")
                if c == "wait":
                    wait_ours[ours] += dt; wait_leaf[strip(leaf)] += dt
                else:
                    busy_excl[f"{strip(leaf)}  [{c}]"] += dt
                    for n in {strip(n) for n in real}: busy_incl[n] += dt
                    busy_ours[ours] += dt
            last = t
            if e["type"] == "O": stack.append(e["frame"])
            else:
                while stack and stack[-1] != e["frame"]: stack.pop()
                if stack: stack.pop()
        per_thread.append((p.get("name", "?"), cat))
    per_thread.sort(key=lambda x: -(x[1]["cpu"] + x[1]["native"]))
    busy = grand["cpu"] + grand["native"]
    print(f"{len(per_thread)} threads; ms: cpu {grand['cpu']:.0f}, native (not a wait) {grand['native']:.0f}, wait {grand['wait']:.0f}")
    print("\nthreads by busy (cpu+native) ms:")
    for name, c in per_thread[:12]:
        print(f"  {c['cpu']:8.0f} cpu {c['native']:8.0f} native {c['wait']:8.0f} wait  {name}")
    def show(title, table, total):
        print(f"\n{title}:")
        for k, v in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {100*v/total:5.1f}%  {k}")
    show(f"top exclusive frames of busy time (% of {busy:.0f} ms busy)", busy_excl, busy)
    show("top inclusive frames of busy time", busy_incl, busy)
    show("busy time by nearest ProcessDsl/Orders frame", busy_ours, busy)
    show(f"wait time by nearest ProcessDsl/Orders frame (% of {grand['wait']:.0f} ms waiting)", wait_ours, grand["wait"])
    show("wait time by leaf", wait_leaf, grand["wait"])

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
