#!/usr/bin/env python3
"""Fills a mailbox fast: one MULTIAPPEND command with non-synchronising literals (LITERAL+),
so N messages cost one round trip. Usage: imap-multiappend.py USER N"""
import os, socket, ssl, sys, time
user, n = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=os.environ["DRIFTA_IMAP_CA"])
s = ctx.wrap_socket(socket.create_connection((os.environ["DRIFTA_IMAP_HOST"], int(os.environ["DRIFTA_IMAPS_PORT"]))),
                    server_hostname=os.environ["DRIFTA_IMAP_HOST"])
f = s.makefile("rb")
def until(tag):
    while True:
        line = f.readline()
        if not line: raise SystemExit("connection closed")
        if line.startswith(tag + b" "):
            if not line.startswith(tag + b" OK"): raise SystemExit(line)
            return line
f.readline()  # greeting
s.sendall(b'a LOGIN "%s" "%s"\r\n' % (user.encode(), os.environ["DRIFTA_IMAP_PASSWORD"].encode())); until(b"a")
t = time.time()
parts = [b"b APPEND INBOX"]
for i in range(n):
    m = (f"From: Person {i % 50} <p{i % 50}@example.no>\r\nTo: {user}\r\nSubject: Bulk {i}\r\n"
         f"Message-ID: <bulk-{i}@example.no>\r\nDate: Tue, 02 Dec 2025 10:00:00 +0100\r\n"
         f"Content-Type: text/plain; charset=utf-8\r\n\r\nMelding nummer {i}.\r\n").encode()
    parts.append(b" {%d+}\r\n" % len(m) + m)
s.sendall(b"".join(parts) + b"\r\n")
print(until(b"b").decode().strip()[:80], "...")
print(f"MULTIAPPEND {n}: {time.time() - t:.2f} s")
s.sendall(b"c LOGOUT\r\n")
