#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An external test harness for hmx in Python: it creates two domains through the toolstack,
sends numbered messages from one to the other through Argo, reads them back out of the
receiver's ring the way a guest does, checks them, and writes a JUnit report.

    HMX_ADMIN_TOKEN=... python3 harness.py --listen 127.0.0.1:7070 --control 127.0.0.1:7071 \\
        --messages 500 --junit report.xml

With --toxiproxy (the hypervisor's --toxiproxy-listen) and --http (its --http-listen) it also
injects a fault mid-run, as a Jepsen nemesis would: a latency toxic on the sender's link from a
third of the messages to two thirds, through the Toxiproxy API; then it reads the history and
checks that the fault's start and end are there, with the sender's traffic before, during and
after it.

Exit code 0 only if every check passed (1: a check failed; 2: bad usage).
"""

import argparse
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))

from hmx import Guest, Ring, Toolstack, describe_ret  # noqa: E402
from hmx.history import HistorySubscriber  # noqa: E402
from hmx.abi import ERRNO, FIRST_GUEST_GFN, PAGE_SIZE, ring_len_for_pages  # noqa: E402

RING_APORT = 9
STAGING_GPA = 64 * PAGE_SIZE
FAULT = "harness-latency"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, help="the hypervisor's guest API address (host:port or unix:PATH)")
    p.add_argument("--control", required=True, help="the toolstack address (host:port)")
    p.add_argument("--admin-token-file", help="file holding the admin token (else HMX_ADMIN_TOKEN)")
    p.add_argument("--messages", type=int, default=500, help="how many numbered messages to send (default 500)")
    p.add_argument("--junit", help="write a JUnit XML report here")
    p.add_argument("--toxiproxy", help="the Toxiproxy API (host:port): inject a fault mid-run")
    p.add_argument("--http", help="the HTTP listener (host:port), to read the history (with --toxiproxy)")
    args = p.parse_args(argv)
    if args.messages <= 0:
        p.error(f"--messages {args.messages} must be positive")
    if (args.toxiproxy is None) != (args.http is None):
        p.error("--toxiproxy and --http go together: the fault is checked in the history")
    if args.toxiproxy is not None and args.messages < 3:
        p.error(f"--messages {args.messages} with --toxiproxy: need at least 3 (before, during, after the fault)")
    if args.admin_token_file:
        with open(args.admin_token_file, encoding="utf-8") as f:
            args.token = f.read().strip()
    else:
        args.token = os.environ.get("HMX_ADMIN_TOKEN", "")
    if not args.token:
        p.error("no admin token: pass --admin-token-file FILE or set HMX_ADMIN_TOKEN")
    return args


def toxiproxy(api, method, path, body=None):
    """One Toxiproxy API call; raises with the API's own error message when it refuses."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{api}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.read()
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"toxiproxy {method} {path}: {err.code} {err.read().decode()}") from err


def fault_at(args, k, link):
    """The nemesis: the sender's link gets 1 ms of latency from message n/3 until 2n/3."""
    if args.toxiproxy is None:
        return
    toxic = {"name": FAULT, "type": "latency", "stream": "upstream", "toxicity": 1, "attributes": {"latency": 1}}
    if k == args.messages // 3:
        toxiproxy(args.toxiproxy, "POST", f"/proxies/{link}/toxics", toxic)
    elif k == 2 * args.messages // 3:
        toxiproxy(args.toxiproxy, "DELETE", f"/proxies/{link}/toxics/{FAULT}")


def read_history(args):
    """Every hypercall and fault event recorded so far (the window holds the run)."""
    events = HistorySubscriber(args.http, args.token, since=0, until="now", kinds=["hypercall", "fault"])
    return list(events.iter_events())


def run(args):
    """Sends the messages and returns (checks, figures): each check is (name, failure or None)."""
    run_id = uuid.uuid4().hex[:8]
    with Toolstack(args.control, args.token) as toolstack:
        rx_dom = toolstack.create_domain(f"harness-rx-{run_id}", "harness_rx_t")
        tx_dom = toolstack.create_domain(tx_dom_name(run_id), "harness_tx_t")
        try:
            with Guest(args.listen, rx_dom.credential) as rx, Guest(args.listen, tx_dom.credential) as tx:
                ring = Ring(rx, FIRST_GUEST_GFN, ring_len_for_pages(4), RING_APORT, partner_id=tx_dom.domid)
                ring.register()
                received, eagains, started = [], 0, time.monotonic()
                for k in range(args.messages):
                    fault_at(args, k, tx_dom_name(run_id))
                    payload = struct.pack("<I", k) + b"\x5a" * (k % 64)
                    assert tx.write_memory(STAGING_GPA, payload) == 0
                    while True:
                        ret = tx.sendv(rx_dom.domid, RING_APORT, [(STAGING_GPA, len(payload))], src_aport=1)
                        if ret != -ERRNO["EAGAIN"]:
                            break
                        eagains += 1  # the ring is full: drain it, as the receiver would on a VIRQ
                        received.extend(ring.receive())
                    if ret != len(payload):
                        raise RuntimeError(f"sendv of message {k} returned {describe_ret(ret)}")
                received.extend(ring.receive())
                elapsed = time.monotonic() - started
        finally:
            toolstack.destroy_domain(rx_dom.domid)
            toolstack.destroy_domain(tx_dom.domid)

    numbers = [struct.unpack_from("<I", m.payload)[0] for m in received]
    checks = check_delivery(numbers, [m.src_domid for m in received], args.messages, tx_dom.domid)
    figures = {"messages": args.messages, "received": len(received), "eagain": eagains, "seconds": round(elapsed, 3)}
    if args.toxiproxy is not None:
        events = read_history(args)
        checks.append(check_fault_window(events, tx_dom.domid, f"{tx_dom_name(run_id)}/{FAULT}"))
        figures["historyEvents"] = len(events)
    return checks, figures


def tx_dom_name(run_id):
    """The sender's domain name, which is also its link's name in the Toxiproxy API."""
    return f"harness-tx-{run_id}"


def check_fault_window(events, sender, fault):
    """The fault's start and end are in the history, in order, with the sender's sendvs before,
    during and after it: what a checker needs to line the fault up with the traffic."""
    name = "fault start and end around the traffic"
    starts = [e["seq"] for e in events if e["kind"] == "fault" and e.get("name") == fault and e["type"] == "start"]
    stops = [e["seq"] for e in events if e["kind"] == "fault" and e.get("name") == fault and e["type"] == "stop"]
    if len(starts) != 1 or len(stops) != 1:
        return (name, f"{fault}: {len(starts)} start and {len(stops)} stop events, expected one each")
    start, stop = starts[0], stops[0]
    if stop < start:
        return (name, f"{fault}: stop (seq {stop}) before start (seq {start})")
    sends = [e["seq"] for e in events if e["kind"] == "hypercall" and e.get("f") == "sendv" and e.get("process") == sender]
    phases = {
        "before": sum(1 for s in sends if s < start),
        "during": sum(1 for s in sends if start < s < stop),
        "after": sum(1 for s in sends if s > stop),
    }
    empty = [phase for phase, n in phases.items() if n == 0]
    if empty:
        return (name, f"no sendv from domain {sender} {' or '.join(empty)} the fault ({phases})")
    return (name, None)


def check_delivery(numbers, sources, expected, sender):
    """The checks on what arrived: each is (name, None if it passed, else what went wrong)."""
    missing = sorted(set(range(expected)) - set(numbers))
    duplicates = len(numbers) - len(set(numbers))
    out_of_order = sum(1 for a, b in zip(numbers, numbers[1:]) if b <= a)
    spoofed = sum(1 for source in sources if source != sender)
    return [
        ("no loss", None if not missing else f"{len(missing)} missing, first {missing[:5]}"),
        ("no duplication", None if duplicates == 0 else f"{duplicates} duplicated"),
        ("per-pair FIFO", None if out_of_order == 0 else f"{out_of_order} out of order"),
        ("source stamped by the hypervisor", None if spoofed == 0 else f"{spoofed} with another source"),
    ]


def write_junit(path, checks, figures):
    suite = ET.Element("testsuite", name="hmx-python-harness", tests=str(len(checks)))
    suite.set("failures", str(sum(1 for _, failure in checks if failure)))
    props = ET.SubElement(suite, "properties")
    for key, value in figures.items():
        ET.SubElement(props, "property", name=key, value=str(value))
    for name, failure in checks:
        case = ET.SubElement(suite, "testcase", classname="hmx.argo", name=name)
        if failure:
            ET.SubElement(case, "failure", message=failure)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main(argv):
    args = parse_args(argv)
    checks, figures = run(args)
    for name, failure in checks:
        print(f"{'ok  ' if failure is None else 'FAIL'} {name}{'' if failure is None else ': ' + failure}")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    if args.junit:
        write_junit(args.junit, checks, figures)
    return 0 if all(failure is None for _, failure in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
