#!/usr/bin/python3
"""A libtorrent 2.0 peer for interop tests: seeds or downloads one torrent on loopback.

Prints one JSON object per line on stdout:
  {"event":"listening","port":N}
  {"event":"status","state":"...","progress":0.5,"done":N,"total":N,"peers":N,"down":N,"up":N,"seeding":bool,"has_metadata":bool}
  {"event":"metadata"}           once the metadata is known (magnet)
  {"event":"finished"}           once every wanted piece is there
  {"event":"alert","type":"...","message":"..."}   errors and peer events worth seeing
  {"event":"peers","peers":[{"ip":"...","port":N,"source":N}]}   with --report-peers, after each status line
                                 (source: libtorrent's peer_info source flags, tracker 1, dht 2, pex 4, lsd 8, incoming 32)
It runs until it is killed (the tests stop it by pid) or --max-seconds passes.
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["seed", "download"], required=True)
    p.add_argument("--torrent")
    p.add_argument("--magnet")
    p.add_argument("--save", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--peer", action="append", default=[], help="host:port to dial (repeatable)")
    p.add_argument("--seed-mode", action="store_true",
                   help="trust the files without checking (serves whatever is on disk: a corrupt seeder)")
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--interval", type=float, default=0.25)
    p.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = none")
    p.add_argument("--download-limit", type=int, default=0, help="bytes/s, 0 = none")
    p.add_argument("--enc", choices=["default", "forced", "disabled"], default="default",
                   help="forced: RC4-encrypted connections only, in and out (pe_forced, allowed_enc_level rc4); "
                        "disabled: plaintext only, in and out")
    p.add_argument("--address", default="127.0.0.1",
                   help="loopback address to listen and dial from (libtorrent's DHT keeps one node per address)")
    p.add_argument("--dht-bootstrap", action="append", default=[],
                   help="host:port of a DHT node to join through (repeatable); turns libtorrent's DHT on")
    p.add_argument("--lsd", action="store_true",
                   help="local service discovery (BEP 14) on: only inside a network namespace a test made (multicast)")
    p.add_argument("--lsd-interval", type=int, default=5,
                   help="seconds between libtorrent's LSD announces with --lsd (local_service_announce_interval)")
    p.add_argument("--report-peers", action="store_true", help="print the connected peers and how each was found")
    p.add_argument("--keep-seed-connections", action="store_true",
                   help="keep connections between seeds (close_redundant_connections off), so a seed can pass another on in PEX")
    p.add_argument("--no-seeding-dials", action="store_true",
                   help="a seed dials nobody (seeding_outgoing_connections off): every connection to it is the other side's")
    p.add_argument("--high-performance", action="store_true",
                   help="start from lt.high_performance_seed() (what seedboxes run) instead of the default settings; "
                        "the loopback settings below still apply")
    a = p.parse_args()

    settings = {
        "listen_interfaces": "%s:%d" % (a.address, a.port),
        "outgoing_interfaces": a.address,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "ssrf_mitigation": False,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.tracker_notification
        # connect: incoming_connection_alert, peer_connect_alert and peer_disconnected_alert are in it in 2.0.
        | lt.alert.category_t.connect_notification,
        "user_agent": "lt_peer/2.0.8",
        # TCP only and plaintext when dialling: transmission hangs up on libtorrent's encrypted
        # handshake here, and our engine speaks plain BitTorrent. Incoming encryption stays allowed.
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "allowed_enc_level": int(lt.enc_level.plaintext),
        "upload_rate_limit": a.upload_limit,
        "download_rate_limit": a.download_limit,
        # Loopback counts as the local network, which libtorrent exempts from rate limits by default.
        "ignore_limits_on_local_network": False,
    }
    if a.keep_seed_connections:
        settings["close_redundant_connections"] = False
    if a.no_seeding_dials:
        settings["seeding_outgoing_connections"] = False
    if a.lsd:
        settings["enable_lsd"] = True
        settings["local_service_announce_interval"] = a.lsd_interval
    if a.enc == "forced":
        settings["out_enc_policy"] = int(lt.enc_policy.forced)
        settings["in_enc_policy"] = int(lt.enc_policy.forced)
        settings["allowed_enc_level"] = int(lt.enc_level.rc4)
        settings["prefer_rc4"] = True
    elif a.enc == "disabled":
        settings["out_enc_policy"] = int(lt.enc_policy.disabled)
        settings["in_enc_policy"] = int(lt.enc_policy.disabled)
        settings["allowed_enc_level"] = int(lt.enc_level.plaintext)
    if a.dht_bootstrap:
        # A private DHT on loopback: only the given nodes, and libtorrent's guards against many nodes on one address,
        # ids not derived from the address (BEP 42) and "dark" address ranges relaxed so loopback nodes are accepted.
        settings.update({
            "enable_dht": True,
            "dht_bootstrap_nodes": ",".join(a.dht_bootstrap),
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_enforce_node_id": False,
            "dht_prefer_verified_node_ids": False,
            "dht_ignore_dark_internet": False,
            # Announce and look up every few seconds rather than every 15 minutes, so a test need not wait.
            "dht_announce_interval": 5,
            "alert_mask": settings["alert_mask"] | lt.alert.category_t.dht_notification,
        })
    if a.high_performance:
        base = lt.high_performance_seed()
        base.update(settings)
        settings = base
    ses = lt.session(settings)

    # Wait for the listen socket so the port can be reported (port 0 = any free port).
    port = 0
    deadline = time.time() + 10
    while time.time() < deadline and port == 0:
        port = ses.listen_port()
        if port == 0:
            time.sleep(0.05)
    emit({"event": "listening", "port": port})

    if a.torrent:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(a.torrent)
    elif a.magnet:
        atp = lt.parse_magnet_uri(a.magnet)
    else:
        p.error("--torrent or --magnet is required")
    atp.save_path = a.save
    if a.seed_mode:
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)

    for peer in a.peer:
        host, _, pport = peer.rpartition(":")
        h.connect_peer((host, int(pport)))

    started = time.time()
    finished = False
    had_metadata = h.status().has_metadata
    if had_metadata and a.magnet:
        emit({"event": "metadata"})
    redialled = time.time()
    while time.time() - started < a.max_seconds:
        for al in ses.pop_alerts():
            t = type(al).__name__
            if t in ("metadata_received_alert",):
                emit({"event": "metadata"})
            elif t.endswith("error_alert") or t in ("hash_failed_alert", "peer_ban_alert",
                                                     "peer_connect_alert", "peer_disconnected_alert",
                                                     "tracker_reply_alert", "tracker_error_alert",
                                                     "incoming_connection_alert", "torrent_finished_alert",
                                                     "dht_bootstrap_alert", "dht_announce_alert", "dht_get_peers_alert",
                                                     "dht_reply_alert", "dht_error_alert"):
                emit({"event": "alert", "type": t, "message": al.message()})
        s = h.status()
        emit({
            "event": "status",
            "state": str(s.state),
            "progress": s.progress,
            "done": s.total_wanted_done,
            "total": s.total_wanted,
            "peers": s.num_peers,
            "down": s.total_payload_download,
            "up": s.total_payload_upload,
            "seeding": bool(s.is_seeding),
            "has_metadata": bool(s.has_metadata),
        })
        if a.report_peers:
            emit({"event": "peers", "peers": [{"ip": pi.ip[0], "port": pi.ip[1], "source": int(pi.source)}
                                              for pi in h.get_peer_info()]})
        if not finished and s.has_metadata and (s.is_finished or s.is_seeding) \
                and s.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
            finished = True
            emit({"event": "finished", "down": s.total_payload_download})
        # Keep dialling the given peers while nobody is connected (the other side may start later).
        if a.peer and s.num_peers == 0 and time.time() - redialled > 2:
            redialled = time.time()
            for peer in a.peer:
                host, _, pport = peer.rpartition(":")
                h.connect_peer((host, int(pport)))
        time.sleep(a.interval)
    emit({"event": "timeout"})
    return 2


if __name__ == "__main__":
    sys.exit(main())
