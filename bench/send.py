#!/usr/bin/env python3
"""Send N sequential GETs over one keep-alive connection, rotating Cookie lines.

Usage: send.py PORT PATH N COOKIEFILE|-   (exits non-zero on an unexpected status)
"""
import http.client
import sys

port, path, n, cookie_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
cookies = [line.strip() for line in open(cookie_file) if line.strip()] if cookie_file != "-" else [""]
expect = int(sys.argv[5]) if len(sys.argv) > 5 else 200
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(n):
    headers = {"Cookie": cookies[i % len(cookies)]} if cookies[0] else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    if resp.status != expect:
        sys.exit(f"GET {path}: {resp.status}, expected {expect}")
