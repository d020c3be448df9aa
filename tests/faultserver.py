#!/usr/bin/env python3
"""A small HTTPS server that misbehaves on purpose, for pull's tests.

    faultserver.py DOCROOT CERT KEY MODE PORTFILE

Serves DOCROOT like a plain file server, except that tarballs (*.tar.gz)
are answered according to MODE:

  cut       Content-Length of the whole file, half the body, then close;
            Range is ignored (a fresh 200 every time)
  cut-once  like cut for the first tarball request; later ones are served
            whole, honouring a Range request with a 206
  short     a Content-Length of half the file, and that half
  stall     headers and 1000 bytes, then silence for a minute
  endless   no Content-Length, and bytes until the client hangs up
  range416  416 to every Range request, the whole file otherwise
  503-once  503 to the first tarball request, then served whole
  drip      honours Range with a 206, but sends one byte and hangs up

It writes its port to PORTFILE once it listens, and one line per tarball
request ("GET <path> range=<header or ->") to DOCROOT/../fault.log.
"""
import http.server
import os
import re
import socketserver
import ssl
import sys
import time

docroot, cert, key, mode, portfile = sys.argv[1:6]
log_path = os.path.join(os.path.dirname(os.path.abspath(docroot)), "fault.log")
state = {"tarball_requests": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_plain(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = os.path.normpath(self.path.split("?", 1)[0]).lstrip("/")
        full = os.path.join(docroot, path)
        if ".." in path.split("/") or not os.path.isfile(full):
            return self.send_plain(404, b"not found\n")
        with open(full, "rb") as f:
            data = f.read()
        if not path.endswith(".tar.gz"):
            return self.send_plain(200, data)

        state["tarball_requests"] += 1
        first = state["tarball_requests"] == 1
        rng = self.headers.get("Range")
        with open(log_path, "a") as log:
            log.write("GET /%s range=%s\n" % (path, rng or "-"))
        half = len(data) // 2

        if mode == "cut" or (mode == "cut-once" and first):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:half])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "short":
            return self.send_plain(200, data[:half])
        if mode == "stall":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:1000])
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
            return
        if mode == "endless":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = os.urandom(65536)
            try:
                while True:
                    self.wfile.write(chunk)
            except OSError:
                return
        if mode == "range416" and rng:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % len(data))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "drip":
            m = re.match(r"bytes=(\d+)-$", rng or "")
            start = int(m.group(1)) if m else 0
            self.send_response(206 if m else 200)
            if m:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:start + 1])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "503-once" and first:
            return self.send_plain(503, b"try later\n")
        m = re.match(r"bytes=(\d+)-$", rng or "")
        if m and mode == "cut-once" and int(m.group(1)) < len(data):
            start = int(m.group(1))
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])
            return
        return self.send_plain(200, data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


httpd = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
os.rename(portfile + ".tmp", portfile)
httpd.serve_forever()
