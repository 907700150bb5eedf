#!/usr/bin/env python3
"""A reverse proxy that signs every request as a registered terminal would,
so schemathesis can fuzz the hub's handlers and not only its auth layer.

    signing_proxy.py keygen KEYFILE      writes a key, prints `ed25519:<b64>`
    signing_proxy.py serve KEYFILE TERMINAL_ID UPSTREAM_URL
                                         listens on 127.0.0.1:0, prints the port

The signature is model::auth's: Ed25519 over
cunban-request-v1\\nMETHOD\\nPATH?QUERY\\nCONTENT-RANGE\\nSHA256(body)\\nTS\\nNONCE\\nTERMINAL.
Incoming x-cunban-* headers are replaced. Test tooling only.
"""
import base64
import hashlib
import http.client
import http.server
import os
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host", "content-length"}


def keygen(path):
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    print("ed25519:" + base64.b64encode(pub).decode())


def serve(path, terminal, upstream):
    with open(path, "rb") as f:
        key = Ed25519PrivateKey.from_private_bytes(f.read())
    up = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            # A request schemathesis sends without the security header on
            # purpose goes through unsigned, so the hub's refusal is tested.
            sign = "x-cunban-signature" in {k.lower() for k in self.headers.keys()}
            content_range = self.headers.get("content-range", "")
            ts = str(int(time.time()))
            nonce = os.urandom(16).hex()
            sha = hashlib.sha256(body).hexdigest()
            msg = "\n".join(["cunban-request-v1", self.command, self.path, content_range, sha, ts, nonce, terminal]).encode()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and not k.lower().startswith("x-cunban-")}
            if sign:
                headers.update({
                    "x-cunban-terminal": terminal,
                    "x-cunban-timestamp": ts,
                    "x-cunban-nonce": nonce,
                    "x-cunban-content-sha256": sha,
                    "x-cunban-signature": base64.b64encode(key.sign(msg)).decode(),
                })
            headers["content-length"] = str(len(body))
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except Exception as e:  # the hub closed or broke: say so as a gateway would
                self.send_response(502)
                msg = str(e).encode()
                self.send_header("content-length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            finally:
                conn.close()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def __getattr__(self, name):
            # Any method schemathesis invents (QUERY, FOO) goes to the hub as is.
            if name.startswith("do_"):
                return self.handle_any
            raise AttributeError(name)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["keygen"]:
        keygen(sys.argv[2])
    elif sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
