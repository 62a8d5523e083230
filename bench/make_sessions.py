#!/usr/bin/env python3
"""Log in N times to a running Tessera and write one session Cookie header per line.

Usage: make_sessions.py BASE_URL EMAIL PASSWORD N OUTFILE

Every login is a real one (CSRF token, Argon2 check, new session row), so the
server ends up with N distinct live sessions of one person.
"""
import http.client
import re
import sys
import urllib.parse

base, email, password, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
url = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def cookie_pairs(resp):
    pairs = {}
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie":
            k, _, v = value.split(";", 1)[0].partition("=")
            pairs[k.strip()] = v.strip()
    return pairs


conn.request("GET", "/login")
resp = conn.getresponse()
page = resp.read().decode()
anchor = cookie_pairs(resp)
token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
csrf_cookie = "; ".join(f"{k}={v}" for k, v in anchor.items())
body = urllib.parse.urlencode({"_csrf": token, "email": email, "password": password})
headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie}

cookies = []
for i in range(n):
    conn.request("POST", "/login", body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    session = {k: v for k, v in cookie_pairs(resp).items() if k.endswith("ts_portal")}
    if resp.status != 303 or not session:
        sys.exit(f"login {i} failed: {resp.status}")
    (name, value), = session.items()
    cookies.append(f"{name}={value}")
conn.close()
if len(set(cookies)) != n:
    sys.exit(f"expected {n} distinct sessions, got {len(set(cookies))}")
with open(out, "w") as f:
    f.write("\n".join(cookies) + "\n")
print(f"created {n} sessions -> {out}", file=sys.stderr)
