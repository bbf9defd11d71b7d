#!/usr/bin/python3
"""Seeds many small torrents from one libtorrent session on 127.0.0.1, each throttled so that a leecher keeps it
downloading for minutes: the "active torrents" of benchmarks/footprint.py.

Every torrent is one file, a hard link of the same random data under its own name, so N torrents cost the disk (and
the page cache) one file while each has its own info-hash. Prints one JSON line per torrent
({"name", "infoHash", "magnet"}) to --list, then {"event": "seeding", "port": P} on stdout once all are checked.
Stops by itself after --max-seconds.
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", type=int, default=16 * 1024 * 1024)
    p.add_argument("--piece", type=int, default=256 * 1024)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--per-torrent-limit", type=int, default=32 * 1024, help="upload bytes/s per torrent")
    p.add_argument("--list", required=True)
    p.add_argument("--max-seconds", type=float, default=3600)
    a = p.parse_args()

    data = os.path.join(a.dir, "data")
    os.makedirs(data, exist_ok=True)
    base = os.path.join(a.dir, "base.bin")
    if not os.path.exists(base) or os.path.getsize(base) != a.size:
        with open(base, "wb") as f:
            f.write(os.urandom(a.size))

    settings = {
        "listen_interfaces": "127.0.0.1:%d" % a.port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "ssrf_mitigation": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "allowed_enc_level": int(lt.enc_level.plaintext),
        # Loopback counts as the local network, which libtorrent exempts from rate limits by default.
        "ignore_limits_on_local_network": False,
        # Every torrent stays active here, whatever the leechers do.
        "active_downloads": -1,
        "active_seeds": -1,
        "active_limit": -1,
        "dont_count_slow_torrents": False,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    }
    ses = lt.session(settings)
    port = 0
    for _ in range(100):
        port = ses.listen_port()
        if port:
            break
        time.sleep(0.05)

    handles = []
    with open(a.list, "w") as out:
        for i in range(a.count):
            name = "footprint-%03d.bin" % i
            path = os.path.join(data, name)
            if not os.path.exists(path):
                os.link(base, path)
            fs = lt.file_storage()
            lt.add_files(fs, path)
            # v1 only: the plain torrents every client here reads.
            ct = lt.create_torrent(fs, a.piece, flags=lt.create_torrent.v1_only)
            lt.set_piece_hashes(ct, data)
            ti = lt.torrent_info(ct.generate())
            ih = str(ti.info_hashes().v1)
            h = ses.add_torrent({"ti": ti, "save_path": data})
            h.set_upload_limit(a.per_torrent_limit)
            handles.append(h)
            magnet = "magnet:?xt=urn:btih:%s&dn=%s&x.pe=127.0.0.1:%d" % (ih, name, port)
            out.write(json.dumps({"name": name, "infoHash": ih, "magnet": magnet}) + "\n")

    deadline = time.time() + 300
    while time.time() < deadline and not all(h.status().is_seeding for h in handles):
        time.sleep(0.2)
    print(json.dumps({"event": "seeding", "port": port, "torrents": sum(h.status().is_seeding for h in handles)}), flush=True)

    end = time.time() + a.max_seconds
    while time.time() < end:
        ses.pop_alerts()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
