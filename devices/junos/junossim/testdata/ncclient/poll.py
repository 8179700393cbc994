#!/usr/bin/python3
"""Poll one junossim router with ncclient, the way the mastership agent does.

Used by interop_ncclient_test.go: it proves that a NETCONF client junossim
was not written with (ncclient, the library behind Juniper's PyEZ) accepts
the simulator's SSH server, hello, framing and replies.

Input, as one JSON object on stdin (the password stays off the command
line):

    {"host": "127.0.0.1", "port": 40123, "username": "netconf",
     "password": "...", "ssh_config": "/tmp/.../ssh_config",
     "handler": "junos" | "default", "timeout": 20,
     "rpcs": [{"name": "get-route-engine-information",
               "body": "<get-route-engine-information/>",
               "expect": ["route-engine-information", "route-engine"]}, ...],
     "bad_rpc": {"name": "get-interface-information",
                 "body": "<get-interface-information/>"}}

"expect" is a chain of element local names that must occur in the reply,
each below the previous one. The host key is verified: ssh_config names the
known_hosts file (UserKnownHostsFile), as an OpenSSH user would.

Output, on stdout: one JSON object, for example

    {"ok": true, "handler": "junos", "base11": false, "session_id": 1,
     "server_base11": false, "rpcs": [{"name": ..., "ok": true, ...}],
     "bad_rpc": {"raised": true, "tag": "...", ...}}

Exit status 0 when the session was run (whatever the RPCs gave; the test
judges), 3 when ncclient or lxml cannot be imported, 1 on any other failure
(connect, hello, ...), with "error" in the JSON.
"""

import json
import sys
import traceback

try:
    from lxml import etree
    from ncclient import manager
    from ncclient.operations.rpc import RPCError
    from ncclient.transport.session import NetconfBase
    import ncclient
except ImportError as e:  # pragma: no cover - the test skips on this
    print(json.dumps({"ok": False, "import_error": str(e)}))
    sys.exit(3)

BASE11 = "urn:ietf:params:netconf:base:1.1"


def xpath_for(chain):
    """//*[local-name()='a']//*[local-name()='b'] for chain ['a', 'b']."""
    return "".join("//*[local-name()='%s']" % name for name in chain)


def reply_root(reply):
    """The reply as an lxml tree, whatever the handler returned.

    The default handler returns an RPCReply (raw XML in .xml); the junos
    handler's rpc() returns an NCElement, the reply with namespaces removed
    by the handler's XSLT (what PyEZ works on), whose str() is that XML.
    """
    if hasattr(reply, "xml") and isinstance(reply.xml, str) and reply.xml.lstrip().startswith("<"):
        raw = reply.xml
    else:
        raw = str(reply)
    return raw, etree.fromstring(raw.encode("utf-8"))


def call(m, handler, body):
    ele = etree.fromstring(body)
    if handler == "junos":
        # The Junos handler's own operation, as PyEZ calls it.
        return m.rpc(ele)
    return m.dispatch(ele)


def run(req):
    handler = req["handler"]
    device_params = {"name": "junos"} if handler == "junos" else {"name": "default"}
    out = {"ok": False, "handler": handler, "ncclient": getattr(ncclient, "__version__", "")}
    m = manager.connect(
        host=req["host"],
        port=req["port"],
        username=req["username"],
        password=req["password"],
        hostkey_verify=True,
        ssh_config=req["ssh_config"],
        allow_agent=False,
        look_for_keys=False,
        timeout=req.get("timeout", 20),
        device_params=device_params,
        manager_params={"timeout": req.get("timeout", 20)},
    )
    try:
        session = m._session
        out["session_id"] = int(session.id) if str(session.id).isdigit() else session.id
        out["server_base11"] = BASE11 in list(m.server_capabilities)
        out["client_base11"] = BASE11 in list(m.client_capabilities)
        out["base11"] = session._base == NetconfBase.BASE_11
        results = []
        for rpc in req["rpcs"]:
            res = {"name": rpc["name"], "ok": False}
            try:
                reply = call(m, handler, rpc["body"])
                raw, root = reply_root(reply)
                res["bytes"] = len(raw)
                res["root"] = etree.QName(root).localname
                if getattr(reply, "ok", True) is False:
                    res["error"] = "reply not ok: %s" % raw[:300]
                elif root.xpath("//*[local-name()='rpc-error']"):
                    res["error"] = "rpc-error in reply: %s" % raw[:300]
                else:
                    found = root.xpath(xpath_for(rpc["expect"]))
                    if not found:
                        res["error"] = "no %s in reply: %s" % ("/".join(rpc["expect"]), raw[:300])
                    else:
                        res["ok"] = True
                        res["found"] = len(found)
                        text = "".join(found[0].itertext()).strip()
                        res["text"] = text[:80]
                        res["text_len"] = len(text)
            except RPCError as e:
                res["error"] = "RPCError: tag=%s message=%s" % (e.tag, e.message)
            except Exception as e:  # report, keep going
                res["error"] = "%s: %s" % (type(e).__name__, e)
            results.append(res)
        out["rpcs"] = results

        bad = req.get("bad_rpc")
        if bad:
            res = {"name": bad["name"], "raised": False}
            try:
                call(m, handler, bad["body"])
            except RPCError as e:
                res.update(raised=True, tag=e.tag, type=e.type, severity=e.severity,
                           message=(e.message or "").strip())
            except Exception as e:
                res["error"] = "%s: %s" % (type(e).__name__, e)
            out["bad_rpc"] = res
        # The session must still work after an rpc-error.
        if req["rpcs"]:
            try:
                raw, root = reply_root(call(m, handler, req["rpcs"][0]["body"]))
                out["after_error_ok"] = bool(root.xpath(xpath_for(req["rpcs"][0]["expect"])))
            except Exception as e:
                out["after_error_ok"] = False
                out["after_error"] = "%s: %s" % (type(e).__name__, e)
        out["ok"] = True
    finally:
        try:
            m.close_session()
            out["closed"] = True
        except Exception as e:
            out["closed"] = False
            out["close_error"] = "%s: %s" % (type(e).__name__, e)
    return out


def main():
    req = json.load(sys.stdin)
    try:
        out = run(req)
    except Exception as e:
        out = {"ok": False, "handler": req.get("handler"), "error": "%s: %s" % (type(e).__name__, e),
               "traceback": traceback.format_exc()}
        print(json.dumps(out))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
