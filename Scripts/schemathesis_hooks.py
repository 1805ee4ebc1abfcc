"""What docs/openapi.yaml says in prose because OpenAPI 3.0 cannot say it, taught to Schemathesis.

Loaded by Scripts/schemathesis.toml for Scripts/schemathesis.sh. The rules in this first list
are ones the spec's descriptions state and the node enforces. Rules between
parameters apply to the requests Schemathesis generates as valid (positive mode): a request
that breaks one is invalid, whatever each parameter says alone, so it is made valid by leaving
out the parameter the rule forbids. Requests generated as invalid are left alone: the node must
refuse them.

- N bounds `r` and `w`: the spec is written for N = 3, the node under test says its own N
  (CAIRN_N).
- `cairn-context`: a causal context is base64url of the canonical context encoding
  (docs/versioning.md, CairnCore/Versions/CausalContext+Encoding.swift), which no pattern
  describes; these are drawn as real encodings.
- Keys, prefixes and values are bounded in bytes, OpenAPI's maxLength in characters.
- `r` not with `consistency`; one of X-Cairn-Context, If-Match, If-None-Match, blind=true per
  write; `?ttl=` only with an application/octet-stream body.

Three rules are about the run, not the spec; the third narrows what one check sees:

- A parameter Schemathesis drew to be invalid but took from values captured from responses
  (a key a scan listed) is judged again against the schema (`_relabel_captured`).

- Compare-and-set gets keys of its own (`cas~…`). A key CAS has written is managed by CAS, and
  a PUT or DELETE of it is `409 cas_managed` (docs/cas.md); Schemathesis draws keys from a small
  space, so without this most writes would answer 409 and the write path would go untested.
- In stateful sequences a DELETE carries no drawn X-Cairn-Context. A DELETE with a context
  deletes what that context covers; a drawn context covers nothing the key holds, so the value
  rightly stays (docs/api.md, "The causal context"), which Schemathesis's use-after-free check
  (a DELETE answered 2xx removes the resource) would report. Plain and If-Match DELETEs are
  checked for it; a context DELETE is still sent, and checked, in the other phases.
"""

import base64
import hashlib
import hmac
import os
import struct
from urllib.parse import unquote_to_bytes

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

REPLICATION_FACTOR = int(os.environ.get("CAIRN_N", "3"))
MAX_KEY_BYTES = 1024
MAX_VALUE_BYTES = 4 << 20


@schemathesis.hook
def before_load_schema(context, raw_schema):
    """The spec's `Quorum` is 1..3 (the default N); the node under test has CAIRN_N."""
    raw_schema["components"]["schemas"]["Quorum"]["maximum"] = REPLICATION_FACTOR


def _varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _seal_key(cluster_name):
    """The key of CairnHTTP's ContextSeal for a cluster without a secret: HKDF-SHA256 (RFC 5869)
    of "cairn cluster name <name>", salt "cairn context seal v1", info the name, 32 bytes."""
    name = cluster_name.encode()
    prk = hmac.new(b"cairn context seal v1", b"cairn cluster name " + name, hashlib.sha256).digest()
    return hmac.new(prk, name + b"\x01", hashlib.sha256).digest()


# The node under test runs alone without a secret (Scripts/schemathesis.sh).
_SEAL_KEY = _seal_key(os.environ.get("CAIRN_CLUSTER", "cairn"))


def _context_token(entries):
    """A sealed context as a node hands it out (docs/security.md, "Sealed contexts"): unpadded
    base64url of the canonical encoding of a context with these (node, epoch, counter) entries —
    header (format 1, kind 2, u32 LE body length), then the entry count and, per actor in
    ascending order, node (16 bytes) | varint epoch | varint counter — followed by the first 16
    bytes of its HMAC-SHA256 under the cluster's seal key."""
    entries = sorted({(node, epoch): counter for node, epoch, counter in entries}.items())
    body = _varint(len(entries)) + b"".join(node + _varint(epoch) + _varint(counter) for (node, epoch), counter in entries)
    encoded = bytes([1, 2]) + struct.pack("<I", len(body)) + body
    tag = hmac.new(_SEAL_KEY, encoded, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(encoded + tag).rstrip(b"=").decode("ascii")


_actor_entries = st.lists(
    st.tuples(
        st.binary(min_size=16, max_size=16),
        st.integers(min_value=0, max_value=2**32 - 1),
        st.integers(min_value=1, max_value=2**62),
    ),
    max_size=5,
)
contexts = _actor_entries.map(_context_token)

schemathesis.openapi.format("cairn-context", contexts)
schemathesis.openapi.format("cairn-context-tag", contexts.map(lambda token: f'"{token}"'))


def _relabel_captured(case):
    """A location drawn to be refused whose value came from the pool of values captured from
    responses is judged again against the schema.

    When it has captured values, Schemathesis draws a parameter it means to be invalid from them
    97 times in 100 (adapter/parameters.py, NEGATIVE_STRATEGY_PROBABILITY) and keeps calling the
    location negative: a key a scan listed, sent as invalid, which the node rightly serves.
    Marking the location changed makes Schemathesis validate it again and set its mode.
    """
    meta = case.meta
    if meta is None:
        return
    for draw in meta.pool_draws:
        location = ParameterLocation(draw.location)
        if meta.is_negative_at(location):
            meta.mark_dirty(location)


def _is_positive(case):
    _relabel_captured(case)
    return case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE


def _text_bytes(value):
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0


@schemathesis.hook
def filter_case(context, case):
    """Drop valid-looking requests over a byte bound that OpenAPI could only count in characters."""
    if not _is_positive(case):
        return True
    key = (case.path_parameters or {}).get("key")
    if isinstance(key, str) and len(unquote_to_bytes(key)) > MAX_KEY_BYTES:
        return False
    query = case.query or {}
    if any(_text_bytes(query.get(name)) > MAX_KEY_BYTES for name in ("prefix", "after")):
        return False
    if isinstance(case.body, dict):
        if any(_text_bytes(case.body.get(name)) > MAX_VALUE_BYTES for name in ("value", "expected")):
            return False
    return True


def _without(mapping, *names):
    for name in names:
        mapping.pop(name, None)


CAS_KEY_PREFIX = "cas~"


@schemathesis.hook
def map_case(context, case):
    """Keep valid-looking requests within the rules between parameters the spec states."""
    _relabel_captured(case)
    key = (case.path_parameters or {}).get("key")
    if not isinstance(key, str) or (case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)):
        pass  # a key drawn to be refused stays as drawn
    elif case.path == "/v1/keys/{key}/cas":
        if not key.startswith(CAS_KEY_PREFIX) and len(unquote_to_bytes(key)) + len(CAS_KEY_PREFIX) <= MAX_KEY_BYTES:
            case.path_parameters["key"] = CAS_KEY_PREFIX + key
    elif case.method.upper() in ("PUT", "DELETE"):
        # Keys a scan listed (Schemathesis reuses them) include CAS's own.
        while key.startswith(CAS_KEY_PREFIX) and len(key) > len(CAS_KEY_PREFIX):
            key = key[len(CAS_KEY_PREFIX):]
        case.path_parameters["key"] = key
    if not _is_positive(case):
        return case
    query = case.query if case.query is not None else {}
    headers = case.headers if case.headers is not None else {}
    method = case.method.upper()
    if case.path == "/v1/keys/{key}" and method == "GET" and "consistency" in query:
        _without(query, "r")
    if case.path == "/v1/keys/{key}" and method == "DELETE" and case.meta is not None \
            and case.meta.phase.name == TestPhase.STATEFUL:
        _without(headers, "X-Cairn-Context")
    if case.path == "/v1/keys/{key}" and method in ("PUT", "DELETE"):
        # What the write supersedes is said once: keep the first given.
        said = False
        for name in ("If-None-Match", "If-Match", "X-Cairn-Context"):
            if name in headers:
                if said:
                    del headers[name]
                said = True
        if query.get("blind") in (True, "true") and said:
            del query["blind"]
        if method == "PUT" and "ttl" in query and case.media_type != "application/octet-stream":
            del query["ttl"]
    return case
