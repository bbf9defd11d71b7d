#!/usr/bin/python3
"""TorrentEdge footprint benchmark (issue 22): the memory and CPU of each process of the suite, idle and with 10 and
100 active torrents served by a local libtorrent seeder, with qbittorrent-nox measured beside it in the same run.

Started by benchmarks/footprint.sh (which builds the AppHost first unless --no-build). Every process it starts is
stopped by its id on exit; the suite's processes are found among the descendants of the AppHost launcher it started.
RSS and its parts come from /proc/<pid>/status (VmRSS = RssAnon + RssFile + RssShmem), CPU from utime+stime in
/proc/<pid>/stat over the window. A service is the process that runs its code, not DCP's `dotnet run` wrapper around it.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVICES = ["Catalog", "Analytics", "Notifier", "PeerWorker", "Gateway"]
children = []  # Popen objects we started, stopped by pid in reverse order


# ---------------------------------------------------------------- processes

def spawn(args, log, env=None, cwd=None):
    out = open(log, "wb")
    # A session of its own: Ctrl+C in the terminal reaches us, not the suite, and we stop it in order.
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                         start_new_session=True)
    out.close()
    children.append(p)
    return p


def descendants(root):
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    s = f.read()
                parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    found, frontier = [], [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found.extend(kids)
        frontier.extend(kids)
    return found


def stop(p, grace=15.0):
    """SIGTERM to the process, then SIGKILL to it and any descendant still alive after `grace` seconds."""
    if p.poll() is not None:
        return
    tree = descendants(p.pid)
    try:
        os.kill(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.time() + grace
    while time.time() < end and p.poll() is None:
        time.sleep(0.2)
    for pid in [p.pid] + tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        pass


def stop_all():
    while children:
        stop(children.pop())


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def status_kib(pid):
    """VmRSS, RssAnon, RssFile, RssShmem in KiB (zeros when the process is gone)."""
    out = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0, "RssShmem": 0}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in out:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def pss_kib(pid):
    """Proportional set size: file pages shared with other processes (the framework's images) count once overall."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


def classify(pid):
    """A name for a process of the suite: the service it runs, its wrapper, or the suite's machinery."""
    args = cmdline(pid)
    if not args:
        return None
    joined = " ".join(args)
    exe = os.path.basename(args[0])
    if exe == "dotnet" and len(args) > 1 and args[1] == "run":
        m = re.search(r"(\w+)\.csproj", joined) or re.search(r"src/(\w+)", joined)
        return "wrapper:" + (m.group(1) if m else "?")
    for svc in SERVICES + ["AppHost"]:
        if exe == "TorrentEdge." + svc or re.search(r"(^|/)TorrentEdge\.%s\.dll(\s|$)" % svc, joined):
            return svc
    if "Aspire.Dashboard" in joined:
        return "dashboard"
    if exe == "dcp":
        return "dcp " + (args[1] if len(args) > 1 else "")
    if exe.startswith("redis-server"):
        return "redis-server"
    return "other:" + exe


def suite_processes(root):
    """The launcher's descendants, and DCP's: DCP detaches from the AppHost (its parent becomes init) and names the
    AppHost it serves with --monitor <pid>; the services and their wrappers are DCP's children."""
    pids = [root] + descendants(root)
    apphosts = {str(p) for p in pids if classify(p) == "AppHost"}
    for d in os.listdir("/proc"):
        if d.isdigit():
            args = cmdline(int(d))
            if len(args) > 2 and os.path.basename(args[0]) == "dcp" and "--monitor" in args \
                    and args[args.index("--monitor") + 1] in apphosts:
                pids += [int(d)] + descendants(int(d))
    procs = {}
    for pid in dict.fromkeys(pids):
        name = classify(pid)
        if name:
            procs[pid] = name
    return procs


# ---------------------------------------------------------------- measuring

def measure(pids, seconds, step=5.0):
    """RSS sampled every `step` s (mean and max) and CPU over the window, per pid."""
    start_ticks = {p: cpu_ticks(p) for p in pids}
    samples = {p: [] for p in pids}
    t0 = time.time()
    while True:
        for p in pids:
            samples[p].append(status_kib(p))
        if time.time() - t0 >= seconds:
            break
        time.sleep(min(step, max(0.0, seconds - (time.time() - t0))))
    elapsed = time.time() - t0
    out = {}
    for p in pids:
        a, b = start_ticks[p], cpu_ticks(p)
        rss = [s["VmRSS"] for s in samples[p] if s["VmRSS"]]
        last = samples[p][-1]
        out[p] = {
            "rss_mean": sum(rss) / len(rss) / 1024 if rss else 0.0,
            "rss_max": max(rss) / 1024 if rss else 0.0,
            "anon": last["RssAnon"] / 1024, "file": last["RssFile"] / 1024, "shmem": last["RssShmem"] / 1024,
            "pss": pss_kib(p) / 1024,
            "cpu_pct": 100.0 * (b - a) / CLK_TCK / elapsed if a is not None and b is not None else float("nan"),
        }
    return out


def wait_idle(pids, threshold_pct, max_seconds, window=5.0):
    """Waits until the processes together use under threshold_pct of one core over `window` s (bounded)."""
    end = time.time() + max_seconds
    while time.time() < end:
        r = measure(pids, window, step=window)
        total = sum(v["cpu_pct"] for v in r.values())
        if total < threshold_pct:
            return total
    return None


# ---------------------------------------------------------------- HTTP

def http(method, url, body=None, headers=None, timeout=15, form=None):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e).encode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, step=0.5):
    end = time.time() + timeout
    while time.time() < end:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    raise RuntimeError("timed out after %d s waiting for %s" % (timeout, what))


# ---------------------------------------------------------------- the suite

class Suite:
    name = "TorrentEdge"

    def __init__(self, cfg, work):
        self.cfg, self.work = cfg, work
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(work, "apphost.log")
        self.token = None

    def start(self):
        env = dict(os.environ)
        # The dashboard's login token would be printed in the log; the benchmark needs no dashboard login.
        env.setdefault("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "true")
        # The launch profile's fixed dashboard ports may be taken by another suite on this machine: free ones instead.
        env.update({"ASPNETCORE_ENVIRONMENT": "Development", "DOTNET_ENVIRONMENT": "Development",
                    "ASPNETCORE_URLS": "http://127.0.0.1:%d" % free_port(),
                    "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL": "http://127.0.0.1:%d" % free_port(),
                    "ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL": "http://127.0.0.1:%d" % free_port(),
                    "ASPIRE_ALLOW_UNSECURED_TRANSPORT": "true"})
        # As qbittorrent-nox runs here (queueing off): every torrent active, none queued behind the default of 5.
        if self.cfg.torrents:
            env["PeerWorker__MaxActiveTorrents"] = str(max(self.cfg.torrents))
        for kv in self.cfg.env:
            k, _, v = kv.partition("=")
            env[k] = v
        args = ["dotnet", "run", "--project", os.path.join(REPO, "src", "AppHost"), "-c", "Release", "--no-build",
                "--no-launch-profile", "--", "--data-dir", os.path.join(self.work, "data"), "--gateway-port", str(self.port),
                "--workers", str(self.cfg.workers)]
        self.proc = spawn(args, self.log, env=env, cwd=REPO)
        self.t0 = time.time()
        wait_for(lambda: self.proc.poll() is not None and _raise("the AppHost exited; see " + self.log)
                 or "processes of the suite are running and healthy" in read(self.log), 240, "the suite to be healthy")
        self.healthy_s = time.time() - self.t0

    def processes(self):
        return suite_processes(self.proc.pid)

    def login(self):
        user = {"username": "bench", "password": "correct-horse-battery-42"}
        code, body = http("POST", self.base + "/api/auth/register", user)
        if code not in (200, 201):
            print("   register: %d %s" % (code, body[:300]), flush=True)
        code, body = http("POST", self.base + "/api/auth/login", user)
        if code != 200:
            raise RuntimeError("login failed: %d %s" % (code, body[:300]))
        self.token = json.loads(body)["accessToken"]

    def add(self, magnets):
        for m in magnets:
            code, body = http("POST", self.base + "/api/torrents", {"magnetURI": m},
                              {"authorization": "Bearer " + self.token})
            if code not in (200, 201, 202):
                raise RuntimeError("adding a torrent failed: %d %s" % (code, body[:300]))

    def states(self):
        states, page = {}, 1
        while page < 20:
            code, body = http("GET", self.base + "/api/torrents?pageSize=200&page=%d" % page, None,
                              {"authorization": "Bearer " + self.token})
            if code != 200:
                return states
            v = json.loads(body)
            for t in v["items"]:
                states[t["infoHash"]] = (t["state"], t["progress"])
            if page * 200 >= v["total"]:
                break
            page += 1
        return states

    def stop(self):
        stop(self.proc, grace=20)
        children.remove(self.proc) if self.proc in children else None


class QBittorrent:
    name = "qbittorrent-nox"

    def __init__(self, cfg, work):
        self.cfg, self.work = cfg, work
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(work, "qbittorrent.log")

    def start(self):
        profile = os.path.join(self.work, "qbt-profile")
        conf = os.path.join(profile, "qBittorrent", "config")
        os.makedirs(conf, exist_ok=True)
        save = os.path.join(self.work, "qbt-downloads")
        os.makedirs(save, exist_ok=True)
        # Like our suite here: no queueing limit (every torrent active), loopback only, no DHT/LSD/PeX, and the
        # Web UI/API on 127.0.0.1 without a login for localhost (the benchmark talks to it from there).
        with open(os.path.join(conf, "qBittorrent.conf"), "w") as f:
            f.write("""[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DefaultSavePath=%(save)s
Session\\Port=%(peer)d
Session\\InterfaceAddress=127.0.0.1
Session\\QueueingSystemEnabled=false
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\AnonymousModeEnabled=false

[Preferences]
WebUI\\Address=127.0.0.1
WebUI\\Port=%(web)d
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
Connection\\UPnP=false
General\\Locale=en
""" % {"save": save, "peer": free_port(), "web": self.port})
        self.proc = spawn(["qbittorrent-nox", "--profile=" + profile, "--webui-port=%d" % self.port], self.log)
        self.t0 = time.time()
        wait_for(lambda: self.proc.poll() is not None and _raise("qbittorrent-nox exited; see " + self.log)
                 or http("GET", self.base + "/api/v2/app/version")[0] == 200, 60, "qbittorrent-nox's API")
        self.healthy_s = time.time() - self.t0

    def processes(self):
        return {self.proc.pid: "qbittorrent-nox"}

    def login(self):
        pass

    def add(self, magnets):
        code, body = http("POST", self.base + "/api/v2/torrents/add", form={"urls": "\n".join(magnets)}, timeout=60)
        if code != 200:
            raise RuntimeError("qbittorrent add failed: %d %s" % (code, body[:300]))

    def states(self):
        code, body = http("GET", self.base + "/api/v2/torrents/info")
        if code != 200:
            return {}
        return {t["hash"]: (t["state"], t["progress"]) for t in json.loads(body)}

    def stop(self):
        stop(self.proc, grace=15)
        children.remove(self.proc) if self.proc in children else None


def _raise(msg):
    raise RuntimeError(msg)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ---------------------------------------------------------------- a run

ACTIVE = {"downloading", "fetchingMetadata", "checking", "seeding",  # TorrentEdge
          "metaDL", "stalledDL", "forcedDL", "uploading", "stalledUP", "forcedUP", "checkingDL"}
TRANSFERRING = {"downloading", "forcedDL"}


def label(name):
    return name.split(":", 1)[0] if name.startswith(("dcp:", "other:")) else name


def measure_phase(client, what, seconds):
    procs = client.processes()
    r = measure(list(procs), seconds)
    rows = []
    for pid, name in sorted(procs.items(), key=lambda kv: kv[1]):
        v = r[pid]
        rows.append(dict(v, pid=pid, name=name))
    return {"phase": what, "rows": rows, "load": open("/proc/loadavg").read().split()[:3]}


def run_client(client, cfg, magnets, results):
    print("== %s: starting" % client.name, flush=True)
    client.start()
    print("   healthy after %.1f s" % client.healthy_s, flush=True)
    procs = client.processes()
    # Idle means the services' own work has settled: right after "healthy" the JIT's background tier-up still
    # recompiles hot methods for a minute or two (seen per thread: ".NET Tiered Com" at 3 % of a core).
    idle = wait_idle([p for p, n in procs.items() if n in SERVICES or n == "qbittorrent-nox"],
                     cfg.idle_threshold, cfg.idle_wait, window=10.0)
    print("   idle (%s)" % ("%.1f %% of a core" % idle if idle is not None else "not reached in %d s" % cfg.idle_wait),
          flush=True)
    phases = [measure_phase(client, "idle", cfg.seconds)]
    print_phase(client.name, phases[-1])
    added = 0
    if cfg.torrents:
        client.login()
    for n in cfg.torrents:
        if n > len(magnets):
            break
        client.add(magnets[added:n])
        added = n
        wanted = {json.loads(m)["infoHash"] for m in cfg.lines[:n]}

        def ready():
            s = client.states()
            active = [h for h in wanted if h in s and s[h][0] in ACTIVE]
            return len(active) >= n and s
        try:
            wait_for(ready, cfg.active_wait, "%d active torrents in %s" % (n, client.name), step=2)
        except RuntimeError as e:
            # Measured all the same: the states line of the report says how many were active.
            print("   %s" % e, flush=True)
        time.sleep(cfg.settle)
        ph = measure_phase(client, "%d torrents" % n, cfg.seconds)
        s = client.states()
        counts = {}
        for h in wanted:
            st = s.get(h, ("missing", 0))[0]
            counts[st] = counts.get(st, 0) + 1
        ph["states"] = counts
        ph["progress"] = sum(s.get(h, ("", 0))[1] for h in wanted) / max(1, len(wanted))
        phases.append(ph)
        print_phase(client.name, ph)
    client.stop()
    results[client.name] = {"healthy_s": client.healthy_s, "phases": phases}


def print_phase(name, ph):
    print("   %s, %s (load %s):" % (name, ph["phase"], " ".join(ph["load"])), flush=True)
    for r in ph["rows"]:
        print("     %-22s pid %-7d RSS %6.1f MiB (max %6.1f; anon %6.1f, file %6.1f, shmem %6.1f; PSS %6.1f)  CPU %5.2f %%" % (
            r["name"], r["pid"], r["rss_mean"], r["rss_max"], r["anon"], r["file"], r["shmem"], r["pss"], r["cpu_pct"]), flush=True)
    if "states" in ph:
        print("     states %s, mean progress %.2f" % (ph["states"], ph["progress"]), flush=True)


def machine():
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) // 1024
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    cg = ""
    try:
        cg = open("/sys/fs/cgroup/cpu.max").read().strip() + " / memory.max " + open("/sys/fs/cgroup/memory.max").read().strip()
    except OSError:
        pass
    return "%d cores (%s), %d MiB memory, Linux %s, cgroup cpu.max %s, .NET %s" % (
        os.cpu_count(), model, mem, platform.release(), cg or "n/a",
        subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip())


def report(cfg, results, started):
    lines = ["# Footprint, %s" % started.strftime("%Y-%m-%d %H:%M UTC"), "",
             "Machine: %s. Shared with other engineers' builds and tests; load average at the start %s." % (
                 machine(), " ".join(open("/proc/loadavg").read().split()[:3]) if not cfg.start_load else cfg.start_load),
             "", "Command: `benchmarks/footprint.sh %s`" % " ".join(cfg.argv), "",
             "Each window is %d s; RSS is the mean of samples every 5 s (max in brackets), anon/file at the end; "
             "CPU is %% of one core over the window. Seeder: one libtorrent 2.0.8 session on 127.0.0.1, %d torrents of "
             "%d MiB, each limited to %d KiB/s upload, so every torrent keeps downloading through the windows." % (
                 cfg.seconds, max(cfg.torrents), cfg.size // (1024 * 1024), cfg.per_torrent_limit // 1024), ""]
    if cfg.env:
        lines += ["Extra environment of the AppHost (inherited by the services): `%s`" % " ".join(cfg.env), ""]
    for client, r in results.items():
        lines += ["## %s (healthy after %.1f s)" % (client, r["healthy_s"]), "",
                  "| phase | process | pid | RSS MiB | anon | file | shmem | PSS | CPU % |", "|---|---|---|---|---|---|---|---|---|"]
        for ph in r["phases"]:
            for row in ph["rows"]:
                lines.append("| %s | %s | %d | %.1f (%.1f) | %.1f | %.1f | %.1f | %.1f | %.2f |" % (
                    ph["phase"], row["name"], row["pid"], row["rss_mean"], row["rss_max"], row["anon"], row["file"],
                    row["shmem"], row["pss"], row["cpu_pct"]))
            svc = [x for x in ph["rows"] if x["name"] in SERVICES or x["name"] == "qbittorrent-nox"]
            lines.append("| %s | **services together** | | **%.1f** | | | | **%.1f** | **%.2f** |" % (
                ph["phase"], sum(x["rss_mean"] for x in svc), sum(x["pss"] for x in svc), sum(x["cpu_pct"] for x in svc)))
            allp = ph["rows"]
            lines.append("| %s | every process above | | %.1f | | | | %.1f | %.2f |" % (
                ph["phase"], sum(x["rss_mean"] for x in allp), sum(x["pss"] for x in allp), sum(x["cpu_pct"] for x in allp)))
            if "states" in ph:
                lines.append("| %s | torrent states: %s, mean progress %.2f; load %s | | | | | | | |" % (
                    ph["phase"], ", ".join("%s %d" % kv for kv in sorted(ph["states"].items())), ph["progress"],
                    " ".join(ph["load"])))
        lines.append("")
        # Per active torrent: what the torrent-holding processes grew by since idle.
        idle = r["phases"][0]
        holders = {"PeerWorker", "qbittorrent-nox"}
        base = sum(x["rss_mean"] for x in idle["rows"] if x["name"] in holders)
        for ph in r["phases"][1:]:
            n = int(ph["phase"].split()[0])
            now = sum(x["rss_mean"] for x in ph["rows"] if x["name"] in holders)
            lines.append("- %s: %s RSS %.1f MiB idle, %.1f MiB with %d torrents: %.2f MiB per torrent" % (
                ph["phase"], "/".join(sorted(holders & {x["name"] for x in ph["rows"]})), base, now, n,
                (now - base) / n))
        lines.append("")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=60, help="each measuring window")
    ap.add_argument("--torrents", default="10,100", help="active-torrent phases after idle ('' for idle only)")
    ap.add_argument("--size", type=int, default=16 * 1024 * 1024, help="bytes per torrent")
    ap.add_argument("--per-torrent-limit", type=int, default=32 * 1024, help="seeder upload bytes/s per torrent")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the AppHost and the services it starts")
    ap.add_argument("--no-qbittorrent", action="store_true")
    ap.add_argument("--no-suite", action="store_true", help="measure only qbittorrent-nox")
    ap.add_argument("--idle-threshold", type=float, default=3.0,
                    help="%% of one core, the services together over 10 s, before the idle window starts")
    ap.add_argument("--idle-wait", type=int, default=240, help="longest wait for idle (then measured anyway)")
    ap.add_argument("--active-wait", type=int, default=240)
    ap.add_argument("--settle", type=int, default=10, help="seconds after the torrents are active")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    cfg = ap.parse_args()
    cfg.argv = sys.argv[1:]
    cfg.torrents = [int(x) for x in cfg.torrents.split(",") if x.strip()]
    cfg.start_load = " ".join(open("/proc/loadavg").read().split()[:3])
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    work = tempfile.mkdtemp(prefix="footprint-")
    results = {}
    ok = False
    try:
        print("# %s" % machine(), flush=True)
        magnets = []
        cfg.lines = []
        if cfg.torrents:
            listf = os.path.join(work, "torrents.jsonl")
            seeder = spawn(["/usr/bin/python3", os.path.join(HERE, "footprint_seeder.py"), "--dir",
                            os.path.join(work, "seed"), "--count", str(max(cfg.torrents)), "--size", str(cfg.size),
                            "--per-torrent-limit", str(cfg.per_torrent_limit), "--list", listf],
                           os.path.join(work, "seeder.log"))
            wait_for(lambda: seeder.poll() is not None and _raise("the seeder exited: " + read(os.path.join(work, "seeder.log")))
                     or '"seeding"' in read(os.path.join(work, "seeder.log")), 300, "the seeder")
            cfg.lines = read(listf).splitlines()
            magnets = [json.loads(x)["magnet"] for x in cfg.lines]
            print("seeder ready: %s" % read(os.path.join(work, "seeder.log")).strip(), flush=True)
        if not cfg.no_suite:
            run_client(Suite(cfg, work), cfg, magnets, results)
        if not cfg.no_qbittorrent:
            if shutil.which("qbittorrent-nox"):
                run_client(QBittorrent(cfg, work), cfg, magnets, results)
            else:
                print("qbittorrent-nox is not installed (apt-get install -y qbittorrent-nox)", flush=True)
        ok = True
    finally:
        stop_all()
        text = report(cfg, results, started) if results else None
        if text:
            os.makedirs(cfg.out, exist_ok=True)
            path = os.path.join(cfg.out, "footprint-%s.md" % started.strftime("%Y-%m-%d-%H%M"))
            with open(path, "w") as f:
                f.write(text)
            print(text)
            print("written to %s" % os.path.relpath(path, REPO))
        if not cfg.keep and ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work folder kept: %s" % work)


if __name__ == "__main__":
    import urllib.parse  # noqa: E402 (used by http's form bodies)
    main()
