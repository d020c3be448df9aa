#!/usr/bin/env python3
"""A registry's Bearer-token front, for pull's and push's tests.

    tokenserver.py UPSTREAM CA CERT KEY PORTFILE LOG [OPTION...]

Listens on 127.0.0.1 over HTTPS (CERT, KEY) and answers:

  /token?scope=..&service=..   a token, as a registry's auth server does
                               ({"token": ...}); with users=USER:PASS,
                               only for those Basic credentials (else 401)
  /v2/...                      without a valid "Authorization: Bearer"
                               token: 401 with a Bearer challenge naming
                               /token; with one: the GET passed on to
                               UPSTREAM (https://HOST:PORT, trusted through
                               CA), status, body and the headers a registry
                               sends; HEAD, POST, PUT and PATCH too (a
                               push), with the body and the Location (made
                               to point here) passed on
  /storage/<digest>            a blob, as blob storage a registry
                               redirects to would serve it

Options:
  uses=N        a token is good for N requests, then refused (expired)
  redirect      blobs are answered with a 307 to https://localhost:PORT/
                storage/<digest>: another host than the one asked
  429-once      the first manifest request (a GET, or a push's PUT) gets
                429, Retry-After: 1 and TOOMANYREQUESTS
  retry-after=V 429-once's Retry-After is V
  upload-elsewhere  an upload's Location names https://localhost:PORT
                (another host than the one asked), where the upload's
                requests are taken without a token
  upload-regress  a chunked upload's PATCHes are taken here, not passed
                on: every other one is accepted (202), the rest answered
                500, and the upload's status says it holds one byte (a
                registry that loses what it accepted, over and over)
  digest-junk   a manifest PUT's Docker-Content-Digest is another digest
                with terminal escapes in it
  users=U:P     the token server wants these Basic credentials
  token=T       every token it gives is T (known to the test beforehand)
  bad-manifest  manifests are served with a byte more than their digest's
  lie-size      an image manifest's last layer is said to be 10 bytes
                larger than it is (the Docker-Content-Digest made to match)
  cut-once      the first request for a blob over 100 KB gets its whole
                Content-Length but half the body, then the connection is
                closed; a Range request is passed on (206)
  cut-upload=N  the first N PUT or PATCH requests of an upload with over
                100 KB of body: half of it is read, then the connection is
                closed with no answer (a registry gone mid-upload)
  bad-token=K   the token server's 200 is no token: K "garbage" (HTML),
                "huge" (a JSON string of 2 MiB), "ctl" (a token holding a
                line break)
  log-scope     a /token line says the scopes asked: " scope=A scope=B"
  slow          every blob is answered a second late, and logged as
                "blob <digest> inflight=<N>": how many blob answers were
                being held then, its own included (a puller that asks for
                layers at once has several)
  fail=HEX      the blob sha256:HEX is always answered with 503 (after the
                second's wait, with slow)

It writes its port to PORTFILE once it listens, and a line per request to
LOG: "GET <path> auth=<none|basic|bearer>[ range=<Range>]".
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import secrets
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

upstream, ca, cert, key, portfile, log_path = sys.argv[1:7]
opts = sys.argv[7:]
uses = next((int(o[5:]) for o in opts if o.startswith("uses=")), 1000000)
users = next((o[6:] for o in opts if o.startswith("users=")), None)
cuts = next((int(o[11:]) for o in opts if o.startswith("cut-upload=")), 0)
retry_after = next((o[12:] for o in opts if o.startswith("retry-after=")), "1")
bad_token = next((o[10:] for o in opts if o.startswith("bad-token=")), None)
fixed_token = next((o[6:] for o in opts if o.startswith("token=")), None)
state = {"tokens": {}, "throttled": False, "cut": False, "cuts": cuts, "inflight": 0}
lock = threading.Lock()
fail = next((o[5:] for o in opts if o.startswith("fail=")), None)
up = urllib.parse.urlsplit(upstream)
up_ctx = ssl.create_default_context(cafile=ca)


def log(line):
    with open(log_path, "a") as f:
        f.write(line + "\n")


def fetch(path, accept, rng=None, method="GET", body=None, extra=None):
    c = http.client.HTTPSConnection(up.hostname, up.port, context=up_ctx)
    headers = {"Accept": accept} if accept else {}
    if rng:
        headers["Range"] = rng
    headers.update(extra or {})
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    body = r.read()
    return r.status, r.getheaders(), body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, ecode, msg, headers=()):
        body = json.dumps({"errors": [{"code": ecode, "message": msg}]}).encode()
        self.send(code, body, [("Content-Type", "application/json")] + list(headers))

    def do_GET(self):
        self.handle_one("GET")

    def do_HEAD(self):
        self.handle_one("HEAD")

    def do_POST(self):
        self.handle_one("POST")

    def do_PUT(self):
        self.handle_one("PUT")

    def do_PATCH(self):
        self.handle_one("PATCH")

    def send_head(self, code, headers, length):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    # A push's request: its body read and passed on, the answer's Location
    # pointed back here.
    def forward(self, method, path):
        port = self.server.server_address[1]
        length = int(self.headers.get("Content-Length") or 0)
        if "/manifests/" in path and "429-once" in opts and not state["throttled"]:
            state["throttled"] = True
            self.rfile.read(length)
            return self.error(429, "TOOMANYREQUESTS", "slow down", [("Retry-After", retry_after)])
        if method in ("PUT", "PATCH") and length > 100000 and state["cuts"] > 0:
            state["cuts"] -= 1
            self.rfile.read(length // 2)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        extra = {k: self.headers[k] for k in ("Content-Type", "Content-Range") if self.headers.get(k)}
        if body is None and method != "HEAD":
            extra["Content-Length"] = "0"
        status, headers, rbody = fetch(path, self.headers.get("Accept"), None, method, body, extra)
        keep = []
        for k, v in headers:
            if k.lower() == "location":
                v = v.replace(upstream, "https://%s:%d" % (
                    "localhost" if "upload-elsewhere" in opts else "127.0.0.1", port))
            if k.lower() == "docker-content-digest" and "/manifests/" in path and "digest-junk" in opts:
                v = "sha256:\x1b]0;pwned\x07" + "0" * 64
            if k.lower() in ("content-type", "docker-content-digest", "location", "range", "docker-upload-uuid"):
                keep.append((k, v))
        if method == "HEAD":
            length = next((v for k, v in headers if k.lower() == "content-length"), "0")
            return self.send_head(status, keep, length)
        self.send(status, rbody, keep)

    def handle_one(self, method):
        auth = self.headers.get("Authorization", "")
        kind = auth.split(" ", 1)[0].lower() if auth else "none"
        path = self.path
        rng = self.headers.get("Range")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        scopes = "".join(" scope=" + s for s in query.get("scope", [])) \
            if path.startswith("/token") and "log-scope" in opts else ""
        log("%s %s auth=%s%s%s" % (method, path.split("?", 1)[0], kind, " range=" + rng if rng else "", scopes))
        port = self.server.server_address[1]
        if path.startswith("/token"):
            if users:
                want = "Basic " + base64.b64encode(users.encode()).decode()
                if auth != want:
                    return self.error(401, "UNAUTHORIZED", "bad credentials")
            if bad_token == "garbage":
                return self.send(200, b"<html>a login page</html>", [("Content-Type", "text/html")])
            if bad_token == "huge":
                return self.send(200, json.dumps({"token": "x" * (2 << 20)}).encode(),
                                 [("Content-Type", "application/json")])
            if bad_token == "ctl":
                return self.send(200, b'{"token": "a\\r\\nX-Injected: 1"}', [("Content-Type", "application/json")])
            token = fixed_token or secrets.token_hex(16)
            state["tokens"][token] = uses
            return self.send(200, json.dumps({"token": token, "expires_in": 60}).encode(),
                             [("Content-Type", "application/json")])
        if path.startswith("/storage/"):
            digest = path[len("/storage/"):]
            status, headers, body = fetch(state["blob_paths"][digest], None)
            return self.send(status, body, [("Content-Type", "application/octet-stream")])
        if not path.startswith("/v2/"):
            return self.send(404)
        token = auth[7:] if kind == "bearer" else None
        if "upload-elsewhere" in opts and "/blobs/uploads/" in path and \
                (self.headers.get("Host") or "").startswith("localhost"):
            return self.forward(method, path)
        if token not in state["tokens"] or state["tokens"][token] <= 0:
            parts = path.split("?", 1)[0].split("/")
            kinds = [i for i, p in enumerate(parts) if p in ("blobs", "manifests")]
            repo = "/".join(parts[2:kinds[0]]) if kinds else ""
            challenge = 'Bearer realm="https://127.0.0.1:%d/token",service="roost-test"' % port
            if repo:
                challenge += ',scope="repository:%s:%s"' % (repo, "pull" if method in ("GET", "HEAD") else "pull,push")
            if method == "HEAD":
                return self.send_head(401, [("WWW-Authenticate", challenge)], 0)
            if method in ("PUT", "PATCH", "POST"):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self.error(401, "UNAUTHORIZED", "authentication required",
                              [("WWW-Authenticate", challenge)])
        state["tokens"][token] -= 1
        if "upload-regress" in opts and "/blobs/uploads/" in path and method in ("PATCH", "GET"):
            here = [("Location", "https://127.0.0.1:%d%s" % (port, path))]
            if method == "GET":
                return self.send(204, b"", here + [("Range", "0-0")])
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["patches"] = state.get("patches", 0) + 1
            if state["patches"] % 2:
                return self.send(202, b"", here)
            return self.error(500, "UNKNOWN", "lost it")
        if method != "GET":
            return self.forward(method, path)
        if "/manifests/" in path and "429-once" in opts and not state["throttled"]:
            state["throttled"] = True
            return self.error(429, "TOOMANYREQUESTS", "slow down", [("Retry-After", retry_after)])
        if "/blobs/" in path and "redirect" in opts:
            digest = path.rsplit("/", 1)[1]
            state.setdefault("blob_paths", {})[digest] = path
            return self.send(307, b"", [("Location", "https://localhost:%d/storage/%s" % (port, digest))])
        status, headers, body = fetch(path, self.headers.get("Accept"), rng)
        keep = [(k, v) for k, v in headers
                if k.lower() in ("content-type", "docker-content-digest", "docker-distribution-api-version",
                                 "content-range")]
        if "/manifests/" in path and "bad-manifest" in opts and status == 200:
            body += b" "
        if "/manifests/" in path and "lie-size" in opts and status == 200:
            m = json.loads(body)
            if "layers" in m:
                m["layers"][-1]["size"] += 10
                body = json.dumps(m).encode()
                keep = [(k, v) for k, v in keep if k.lower() != "docker-content-digest"]
                keep.append(("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest()))
        if "/blobs/" in path and "slow" in opts:
            with lock:
                state["inflight"] += 1
                log("blob %s inflight=%d" % (path.rsplit("/", 1)[1], state["inflight"]))
            time.sleep(1)
            with lock:
                state["inflight"] -= 1
        if "/blobs/" in path and fail and path.endswith("sha256:" + fail):
            return self.error(503, "UNAVAILABLE", "not now")
        if "/blobs/" in path and "cut-once" in opts and status == 200 and len(body) > 100000 \
                and not state["cut"]:
            state["cut"] = True
            self.send_response(200)
            for k, v in keep:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send(status, body, keep)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
