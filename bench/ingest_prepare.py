#!/usr/bin/env python3
"""Open N visits on a running Tessera and write one event ticket per line.

Usage: ingest_prepare.py BASE_URL SITE ORIGIN N OUTFILE [CONNS]

Each visit is a real page load (POST /monitor/SITE/hit with consent, no
cookies): a new visitor, a new visit, one page view queued, and a signed
ticket for later events, valid for the site's idle window. CONNS keep-alive
connections (threads) send the hits.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, site, origin, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
conns = int(sys.argv[6]) if len(sys.argv) > 6 else 8
url = urllib.parse.urlsplit(base)
path = f"/monitor/{site}/hit"
headers = {"Origin": origin, "Content-Type": "text/plain;charset=UTF-8"}

tickets = [None] * n
errors = []


def worker(k):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    for i in range(k, n, conns):
        body = json.dumps({"consent": True, "url": f"{origin}/landing/{i}", "title": f"Landing {i}",
                           "referrer": "", "tab": f"t{i}", "cookies": {}})
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            errors.append(f"hit {i}: {resp.status} {data[:200]!r}")
            return
        ticket = json.loads(data).get("ticket")
        if not ticket:
            errors.append(f"hit {i}: no ticket in {data[:200]!r}")
            return
        tickets[i] = ticket
    conn.close()


start = time.monotonic()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("\n".join(errors[:5]))
if len(set(tickets)) != n:
    sys.exit(f"expected {n} distinct tickets, got {len(set(tickets))}")
with open(out, "w") as f:
    f.write("\n".join(tickets) + "\n")
took = time.monotonic() - start
print(f"opened {n} visits in {took:.1f} s ({n / took:.0f} hits/s) -> {out}", file=sys.stderr)
