#!/usr/bin/python3
"""SMTP sink for tests: accepts every message and records it. Uses Debian's python3-aiosmtpd.

Listens on HOST with two ports: PORT (plain, offers STARTTLS; STARTTLS is required before MAIL
unless --no-require-starttls) and SMTPS_PORT (implicit TLS). AUTH PLAIN/LOGIN is offered after TLS
and accepts USER/PASSWORD; without AUTH mail is accepted too (auth is optional).

Each message is written to DIR/messages/NNNNNN.eml (the raw bytes as received; aiosmtpd adds no
headers) and DIR/messages/NNNNNN.json (envelope: mail_from, rcpt_tos, tls, port, auth user, peer,
time), .json written last (atomically), so a test waits for the .json.
Failure injection: each line of DIR/reject is an SMTP reply (e.g. "451 4.3.0 Try again later");
the next message gets the first line as its reply to DATA, and the line is removed.
"""
import argparse, asyncio, datetime, json, os, signal, ssl, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--smtps-port", type=int, required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--user", default="drifta@test")
ap.add_argument("--password", default="password")
ap.add_argument("--no-require-starttls", action="store_true")
args = ap.parse_args()

msgdir = os.path.join(args.dir, "messages")
os.makedirs(msgdir, exist_ok=True)
lock = threading.Lock()
counter = [len([f for f in os.listdir(msgdir) if f.endswith(".json")])]


def pop_reject():
    path = os.path.join(args.dir, "reject")
    with lock:
        try:
            with open(path) as f:
                lines = [l.rstrip("\r\n") for l in f if l.strip()]
        except FileNotFoundError:
            return None
        if not lines:
            os.unlink(path)
            return None
        rest = lines[1:]
        if rest:
            with open(path, "w") as f:
                f.write("\n".join(rest) + "\n")
        else:
            os.unlink(path)
        return lines[0]


class Recorder:
    def __init__(self, port):
        self.port = port

    async def handle_DATA(self, server, session, envelope):
        reject = pop_reject()
        if reject:
            return reject
        with lock:
            counter[0] += 1
            n = counter[0]
        base = os.path.join(msgdir, "%06d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": server.transport is not None and server.transport.get_extra_info("ssl_object") is not None,
            "port": self.port,
            "auth_user": (session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None),
            "peer": list(session.peer) if session.peer else None,
            "host_name": session.host_name,
            "received": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f, indent=1)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: queued as %06d" % n


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password)
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(args.cert, args.key)
common = dict(server_hostname="sink.test", authenticator=authenticator, auth_required=False,
              auth_require_tls=True, data_size_limit=50 * 1024 * 1024)
starttls = Controller(Recorder(args.port), hostname=args.host, port=args.port, tls_context=tls,
                      require_starttls=not args.no_require_starttls, **common)
smtps = Controller(Recorder(args.smtps_port), hostname=args.host, port=args.smtps_port,
                   ssl_context=tls, **common)
starttls.start()
smtps.start()
with open(os.path.join(args.dir, "ready"), "w") as f:
    f.write("%d\n" % os.getpid())
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
starttls.stop()
smtps.stop()
