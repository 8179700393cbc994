"""Poll a simulated fleet with ncclient, as mastership-bench asks.

The ncclient scenario of mastership-bench (bench_ncclient.go) embeds this
script, writes it to its working directory and runs it with the python3 of
--python: ncclient (Debian's python3-ncclient, the library under Juniper's
PyEZ) polls every device the way the agent's fresh poll does: connect with
password auth, the host key verified against known_hosts (named by an
OpenSSH client config, as a user would), the Junos device handler, the
agent's RPCs one after the other, close-session. A thread pool polls
"concurrency" devices at once, as the agent's audit does.

    python3 bench_ncclient.py --probe
        prints {"versions": {...}, "python": "3.11.2"} and exits 0, or
        {"import_error": "..."} and exits 3 when ncclient, paramiko or lxml
        cannot be imported.

    python3 bench_ncclient.py < request.json
        request: {"concurrency": 32, "timeout": 30,
                  "rpcs": ["<get-system-uptime-information/>", ...],
                  "replication": "<get-routing-task-replication-state/>",
                  "devices": [{"name": "...", "host": "127.0.0.1",
                               "port": 40123, "username": "netconf",
                               "password": "...",
                               "ssh_config": "/tmp/.../ssh_config"}, ...]}
        (the passwords come on stdin, never on the command line). It prints
        one JSON line once it is ready to poll, imports done and request
        read:
            {"ready": true, "cpu": 0.41}
        then, when every device has been polled, one more:
            {"done": true, "cpu": 6.2, "wall": 5.8, "peak_rss": 61000000,
             "results": [{"name": "...", "ok": true}, ...]}
        "cpu" is this process's user+system CPU time so far in seconds
        (all threads), "wall" the seconds the polling took, "peak_rss" its
        VmHWM in bytes (0 where unknown). Exit status 0 whatever the polls
        gave (the bench counts them), 3 on an import error, 1 on any other
        failure, with "error" in a JSON line.
"""

import json
import resource
import sys
import time
import traceback
import warnings

# paramiko's imports warn about deprecated ciphers on newer cryptography.
warnings.filterwarnings("ignore")

try:
    from concurrent.futures import ThreadPoolExecutor

    import lxml
    import paramiko
    from lxml import etree
    from ncclient import manager
    import ncclient
except ImportError as e:
    print(json.dumps({"import_error": str(e)}), flush=True)
    sys.exit(3)


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def versions():
    return {
        "ncclient": getattr(ncclient, "__version__", "?"),
        "paramiko": getattr(paramiko, "__version__", "?"),
        "lxml": getattr(lxml, "__version__", "?"),
    }


def poll(dev, rpcs, replication, timeout):
    """One fresh-session poll of dev: connect, the RPCs, close-session.

    Then, as the agent does, the replication state where the device has
    two REs and graceful-switchover configured."""
    res = {"name": dev["name"], "ok": False}
    try:
        m = manager.connect(
            host=dev["host"],
            port=dev["port"],
            username=dev["username"],
            password=dev["password"],
            hostkey_verify=True,
            ssh_config=dev["ssh_config"],
            allow_agent=False,
            look_for_keys=False,
            timeout=timeout,
            device_params={"name": "junos"},
            manager_params={"timeout": timeout},
        )
    except Exception as e:
        res["error"] = "connect: %s: %s" % (type(e).__name__, e)
        return res
    try:
        dual = gres = False
        for body in rpcs:
            # The Junos handler's own operation, as PyEZ calls it: an
            # rpc-error raises RPCError.
            reply = m.rpc(etree.fromstring(body))
            if reply is None:
                raise RuntimeError("no reply to %s" % body[:60])
            if body == "<get-route-engine-information/>":
                dual = len(reply.xpath("//route-engine")) >= 2
            elif "<redundancy" in body:
                gres = bool(reply.xpath("//graceful-switchover"))
        if replication and dual and gres:
            if m.rpc(etree.fromstring(replication)) is None:
                raise RuntimeError("no reply to %s" % replication)
        res["ok"] = True
    except Exception as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        try:
            m.close_session()
        except Exception as e:
            if res["ok"]:
                res["ok"] = False
                res["error"] = "close-session: %s: %s" % (type(e).__name__, e)
    return res


def main():
    if sys.argv[1:] == ["--probe"]:
        print(json.dumps({"versions": versions(), "python": sys.version.split()[0]}), flush=True)
        return 0
    req = json.load(sys.stdin)
    rpcs = req["rpcs"]
    timeout = req.get("timeout", 30)
    devs = req["devices"]
    print(json.dumps({"ready": True, "cpu": cpu_seconds()}), flush=True)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, req.get("concurrency", 32))) as pool:
        results = list(pool.map(lambda d: poll(d, rpcs, req.get("replication"), timeout), devs))
    wall = time.monotonic() - began
    print(json.dumps({"done": True, "cpu": cpu_seconds(), "wall": wall, "peak_rss": peak_rss(),
                      "results": results}), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc()}),
              flush=True)
        sys.exit(1)
