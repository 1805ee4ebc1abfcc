#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for Scripts/trace-export-check.sh.

Listens on HOST:PORT, accepts POST /v1/traces with an ExportTraceServiceRequest in protobuf
(what swift-otel's OTLP/HTTP exporter sends), and appends one JSON object per span to OUT:
{"trace", "span", "parent", "name", "kind", "node"} (node: the resource attribute cairn.node).
Answers 200 with an empty ExportTraceServiceResponse. Needs opentelemetry-proto (PyPI).

usage: otlp-receiver.py HOST PORT OUT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


class Receiver(BaseHTTPRequestHandler):
    out = None

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path != "/v1/traces" or self.headers.get("Content-Type", "") != "application/x-protobuf":
            self.send_response(415 if self.path == "/v1/traces" else 404)
            self.end_headers()
            return
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.ParseFromString(body)
        with open(Receiver.out, "a") as out:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        out.write(json.dumps({
                            "trace": span.trace_id.hex(), "span": span.span_id.hex(),
                            "parent": span.parent_span_id.hex() or None, "name": span.name, "kind": span.kind,
                            "node": attributes.get("cairn.node"),
                        }) + "\n")
        reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port, Receiver.out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    HTTPServer((host, port), Receiver).serve_forever()
