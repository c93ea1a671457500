#!/usr/bin/env python3
"""The floor's Runtime API: serves one event on GET /2018-06-01/runtime/invocation/next,
takes the function's POST (response or error), writes its body to RESPONSE_FILE and exits.
Binds 127.0.0.1 on a free port and writes the port to PORT_FILE once it listens.

    python3 bench/invoke/runtime_api.py EVENT.json PORT_FILE RESPONSE_FILE

Exit 0 after a response, 1 after an error POST, 2 when nothing came within 60 s.
"""
import http.server
import os
import sys
import time
import uuid

event_file, port_file, response_file = sys.argv[1:4]
EVENT = open(event_file, "rb").read()
API = "/2018-06-01/runtime"
REQUEST_ID = str(uuid.uuid4())
state = {"done": None}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != f"{API}/invocation/next":
            return self.reply(404, b'{"errorType":"NotFound"}')
        deadline = int(time.time() * 1000) + 30_000
        self.reply(200, EVENT, [
            ("Lambda-Runtime-Aws-Request-Id", REQUEST_ID),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == f"{API}/invocation/{REQUEST_ID}/response":
            outcome = 0
        elif self.path in (f"{API}/invocation/{REQUEST_ID}/error", f"{API}/init/error"):
            outcome = 1
        else:
            return self.reply(404, b'{"errorType":"NotFound"}')
        with open(response_file, "wb") as f:
            f.write(body)
        self.reply(202, b'{"status":"OK"}')
        state["done"] = outcome


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
server.timeout = 1
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
give_up = time.monotonic() + 60
while state["done"] is None and time.monotonic() < give_up:
    server.handle_request()
server.server_close()
sys.exit(2 if state["done"] is None else state["done"])
