"""The PyPI `redis` client against one real cairnd's Redis port (Scripts/resp-clients.sh).

Each check is a function; the run prints one line per check and ends with 'N passed, M failed',
exiting non-zero when any failed. It talks to the node as an application would: redis-py's
default connection (RESP3 since redis-py 8, so HELLO 3), an explicit RESP2 one, pipelines,
scan_iter, and Cairn's own commands through execute_command.

Usage: resp_redis_py.py HOST PORT
"""

import sys
import time
import traceback

import redis

HOST, PORT = sys.argv[1], int(sys.argv[2])
checks = []


def check(function):
    checks.append(function)
    return function


def client(**options):
    return redis.Redis(host=HOST, port=PORT, socket_timeout=10, **options)


@check
def strings_round_trip_in_both_protocols():
    for protocol in (2, 3):
        r = client(protocol=protocol)
        assert r.ping() is True
        assert r.set(f"py:greeting:{protocol}", "hello") is True
        assert r.get(f"py:greeting:{protocol}") == b"hello"
        assert r.get("py:never-written") is None
        assert r.exists(f"py:greeting:{protocol}", "py:never-written") == 1
        assert r.type(f"py:greeting:{protocol}") == b"string"
        assert r.delete(f"py:greeting:{protocol}", "py:never-written") == 1
        assert r.get(f"py:greeting:{protocol}") is None
        assert r.echo("x") == b"x"
        r.close()


@check
def binary_values_and_empty_values():
    r = client()
    value = bytes(range(256)) * 4
    assert r.set("py:binary", value)
    assert r.get("py:binary") == value
    assert r.set("py:empty", b"")
    assert r.get("py:empty") == b""


@check
def expiry():
    r = client()
    assert r.set("py:ttl", "v", ex=100)
    assert 99 <= r.ttl("py:ttl") <= 100
    assert r.set("py:ttl", "v", px=1500)
    assert 1400 <= r.pttl("py:ttl") <= 1500
    assert r.expire("py:ttl", 50) is True
    assert 49 <= r.ttl("py:ttl") <= 50
    assert r.persist("py:ttl") is True
    assert r.ttl("py:ttl") == -1
    assert r.pexpire("py:ttl", 200) is True
    time.sleep(0.4)
    assert r.get("py:ttl") is None
    assert r.ttl("py:ttl") == -2
    assert r.expire("py:ttl", 10) is False
    assert r.setex("py:setex", 30, "v")
    assert 29 <= r.ttl("py:setex") <= 30
    assert r.set("py:setex", "w", keepttl=True)
    assert 29 <= r.ttl("py:setex") <= 30
    assert r.set("py:setex", "x", get=True) == b"w"
    assert r.ttl("py:setex") == -1


@check
def nx_and_xx():
    r = client()
    r.delete("py:lock")
    assert r.set("py:lock", "a", xx=True) is None
    assert r.set("py:lock", "a", nx=True) is True
    assert r.set("py:lock", "b", nx=True) is None
    assert r.setnx("py:lock", "b") is False
    assert r.set("py:lock", "c", xx=True) is True
    assert r.get("py:lock") == b"c"
    # The lock pattern: release with DEL, take again.
    assert r.delete("py:lock") == 1
    assert r.set("py:lock", "d", nx=True) is True
    try:
        r.set("py:lock2", "x", nx=True, ex=10)
        raise AssertionError("SET NX EX was accepted")
    except redis.ResponseError as error:
        assert "NX or XX takes no EX" in str(error), error


@check
def mget_mset_and_pipelines():
    r = client()
    assert r.mset({f"py:m:{i}": f"v{i}" for i in range(50)})
    assert r.mget([f"py:m:{i}" for i in range(50)] + ["py:none"]) == [f"v{i}".encode() for i in range(50)] + [None]
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"py:p:{i}", i)
        pipe.get(f"py:p:{i}")
    answers = pipe.execute()
    assert answers[0::2] == [True] * 500
    assert answers[1::2] == [str(i).encode() for i in range(500)]


@check
def scan_iter_by_prefix():
    r = client()
    r.mset({f"py:scan:{i:03}": "v" for i in range(120)})
    keys = sorted(r.scan_iter(match="py:scan:*", count=17))
    assert keys == [f"py:scan:{i:03}".encode() for i in range(120)], keys[:5]
    cursor, page = r.scan(0, match="py:scan:*", count=10)
    assert cursor != 0 and len(page) <= 10
    try:
        r.scan(0, match="*scan*")
        raise AssertionError("a non-prefix pattern was accepted")
    except redis.ResponseError as error:
        assert "scans by prefix" in str(error), error


@check
def errors_leave_the_connection_usable():
    r = client()
    for bad in (("NOSUCHCOMMAND",), ("GET",), ("SET", "k", "v", "EX", "0"), ("SELECT", "1"), ("EXPIRE", "k", "x")):
        try:
            r.execute_command(*bad)
            raise AssertionError(f"{bad} was accepted")
        except redis.ResponseError:
            pass
    assert r.ping()
    try:
        r.set("k" * 2000, "v")
        raise AssertionError("a 2000-byte key was accepted")
    except redis.ResponseError as error:
        assert "key is longer" in str(error), error
    assert r.ping()


@check
def connection_commands():
    r = client(client_name="cairn-check")
    assert r.client_getname() == "cairn-check" or r.client_getname() == b"cairn-check"
    assert isinstance(r.client_id(), int)
    info = r.info()
    assert info["redis_mode"] == "standalone" and info["role"] == "master", info
    assert "cairn_members" in r.info("cluster")
    assert r.command_count() > 10
    commands = r.command()
    assert commands["get"]["arity"] == 2 and commands["cairn.getall"]["first_key_pos"] == 1, commands["get"]


@check
def siblings_and_contexts():
    r = client()
    r.delete("py:cart")
    r.execute_command("CAIRN.PUT", "py:cart", "apples", "")
    r.execute_command("CAIRN.PUT", "py:cart", "pears", "")
    values, context = r.execute_command("CAIRN.GETALL", "py:cart")
    assert sorted(values) == [b"apples", b"pears"], values
    assert r.get("py:cart") == values[-1]
    new_context = r.execute_command("CAIRN.PUT", "py:cart", "apples and pears", context)
    values, context = r.execute_command("CAIRN.GETALL", "py:cart")
    assert values == [b"apples and pears"] and context == new_context


@check
def compare_and_set():
    r = client()
    r.delete("py:cas")
    assert r.execute_command("CAIRN.CASNX", "py:cas", "1") == [b"applied"]
    assert r.execute_command("CAIRN.CAS", "py:cas", "1", "2") == [b"applied"]
    assert r.execute_command("CAIRN.CAS", "py:cas", "1", "3") == [b"failed", b"2"]
    assert r.execute_command("CAIRN.CASDEL", "py:cas", "2") == [b"applied"]
    assert r.execute_command("CAIRN.CAS", "py:cas", "2", "3") == [b"failed", None]


passed = failed = 0
for function in checks:
    try:
        function()
        passed += 1
        print(f"ok    {function.__name__}")
    except Exception:
        failed += 1
        print(f"FAIL  {function.__name__}")
        traceback.print_exc()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
