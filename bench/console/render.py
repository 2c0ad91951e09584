#!/usr/bin/env python3
"""Times the console's pages in headless Chromium through chromedriver (W3C WebDriver over HTTP,
Python's standard library only): per round and page, the Navigation Timing and Paint entries
(responseStart, domContentLoaded, first-contentful-paint, load, in ms from the navigation's start)
and what the page shows (device total, table rows, map nodes and links), as JSON lines.

    render.py --base https://127.33.10.2:18444 --user bench --password-env BENCH_PASSWORD \
              --chromedriver-port 19533 --rounds 7 --page /devices --page /map --out FILE.jsonl

Chromium runs with --headless=new --ignore-certificate-errors --no-sandbox, and every
non-loopback destination goes to a dead proxy (127.0.0.1:9), so nothing leaves the machine.
Each round navigates to about:blank first, then to the page (a fresh navigation; the browser's
cache keeps the stylesheet and script after round 1, like a user's browser does). Round 1 runs
with an empty cache and is reported apart.
"""

import argparse
import json
import os
import ssl
import sys
import tempfile
import time
import urllib.request

METRICS_JS = """
const nav = performance.getEntriesByType('navigation')[0];
const fcp = performance.getEntriesByName('first-contentful-paint')[0];
const fp = performance.getEntriesByName('first-paint')[0];
const total = document.getElementById('device-total');
return {
  url: location.pathname + location.search,
  connectStart: nav.connectStart,
  connectEnd: nav.connectEnd,
  requestStart: nav.requestStart,
  responseStart: nav.responseStart,
  responseEnd: nav.responseEnd,
  domInteractive: nav.domInteractive,
  domContentLoaded: nav.domContentLoadedEventEnd,
  load: nav.loadEventEnd,
  firstPaint: fp ? fp.startTime : null,
  firstContentfulPaint: fcp ? fcp.startTime : null,
  transferSize: nav.transferSize,
  bodySize: nav.decodedBodySize,
  title: document.title,
  deviceTotal: total ? total.textContent : null,
  tableRows: document.querySelectorAll('#devices tbody tr').length,
  mapNodes: document.querySelectorAll('#device-map a.map-link').length,
  mapEdges: document.querySelectorAll('#device-map g.edge').length,
};
"""


class WebDriver:
    """The few W3C WebDriver commands this needs."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.session = None

    def call(self, method, path, body=None, timeout=120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r).get("value")
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            raise RuntimeError(f"webdriver {method} {path}: HTTP {e.code}: {detail}") from None

    def start(self, profile):
        args = [
            "--headless=new", "--ignore-certificate-errors", "--no-sandbox",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.33.0.0/16",
            "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
            "--window-size=1366,900", f"--user-data-dir={profile}",
        ]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "acceptInsecureCerts": True, "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}}
        value = self.call("POST", "/session", caps)
        self.session = value["sessionId"]
        self.call("POST", f"/session/{self.session}/timeouts", {"pageLoad": 60000, "script": 30000})
        return value.get("capabilities", {}).get("browserVersion", "")

    def get(self, url):
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def script(self, js):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": js, "args": []})

    def add_cookie(self, cookie):
        self.call("POST", f"/session/{self.session}/cookie", {"cookie": cookie})

    def cdp(self, cmd, params):
        return self.call("POST", f"/session/{self.session}/goog/cdp/execute", {"cmd": cmd, "params": params})

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=30)
            except Exception:  # noqa: BLE001 - best effort at the end
                pass


def login(base, user, password):
    """Opens a session through the API; returns the session cookie's value."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request(base + "/api/session", method="POST",
                                 data=json.dumps({"name": user, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                         urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as r:
        for h in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = h.partition("=")
            if name.strip() == "otsensor_session":
                return rest.split(";", 1)[0]
    raise RuntimeError("login answered without an otsensor_session cookie")


def wait_port(port, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:
                if json.load(r).get("value", {}).get("ready"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"chromedriver does not answer on 127.0.0.1:{port}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", required=True)
    ap.add_argument("--chromedriver-port", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--page", action="append", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    wait_port(a.chromedriver_port)
    secret = login(a.base, a.user, os.environ[a.password_env])
    wd = WebDriver(a.chromedriver_port)
    with tempfile.TemporaryDirectory(prefix="bench-console-profile.") as profile, open(a.out, "w") as out:
        try:
            version = wd.start(profile)
            out.write(json.dumps({"browser": version}) + "\n")
            # a page of the site first, so that the cookie can be set for it
            wd.get(a.base + "/login")
            wd.add_cookie({"name": "otsensor_session", "value": secret, "path": "/",
                           "secure": a.base.startswith("https:"), "httpOnly": True,
                           "sameSite": "Strict"})
            wd.cdp("Network.clearBrowserCache", {})
            for rnd in range(1, a.rounds + 1):
                for page in a.page:
                    wd.get("about:blank")
                    t0 = time.monotonic()
                    wd.get(a.base + page)
                    wall = (time.monotonic() - t0) * 1000
                    m = wd.script(METRICS_JS)
                    # the paint entry can come after the load event: wait for it (its time does not change)
                    for _ in range(60):
                        if m.get("firstContentfulPaint") is not None:
                            break
                        time.sleep(0.05)
                        m = wd.script(METRICS_JS)
                    m.update({"round": rnd, "page": page, "webdriver_ms": round(wall, 1)})
                    out.write(json.dumps(m) + "\n")
                    out.flush()
                    print(f"round {rnd} {page}: response {m['responseStart']:.0f} ms, "
                          f"DCL {m['domContentLoaded']:.0f} ms, FCP {m['firstContentfulPaint'] or 0:.0f} ms, "
                          f"load {m['load']:.0f} ms ({m['deviceTotal'] or ''} rows {m['tableRows']}, "
                          f"map {m['mapNodes']} nodes {m['mapEdges']} links)", flush=True)
        finally:
            wd.quit()


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError, KeyError) as e:
        sys.exit(f"bench/console/render.py: {e}")
