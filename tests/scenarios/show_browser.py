#!/usr/bin/env python3
"""Drive the `sluice pipeline NAME show` page in headless Chromium through
chromedriver's WebDriver HTTP protocol (W3C), with the standard library only.

usage: show_browser.py URL
Checks what a user sees: the overview, the schema tree, a table's rows paged
through, a query and a refused write, the load history; and that hostile
values in the data are shown as text, never run as markup.
Prints "N passed, N failed" and exits non-zero on any failure.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ELEM = "element-6066-11e4-a52e-4f735466cecf"
passed = 0
failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (what, detail), file=sys.stderr)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Driver:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.sid = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read().decode() or "null")
        except urllib.error.HTTPError as e:
            raise RuntimeError("WebDriver %s %s: %s" % (method, path, e.read().decode()[:500]))

    def start(self, chromium):
        args = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--window-size=1280,900"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}}}}
        r = self.call("POST", "/session", caps)
        self.sid = r["value"]["sessionId"]

    def s(self, path):
        return "/session/%s%s" % (self.sid, path)

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def js(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})["value"]

    def find(self, css):
        r = self.call("POST", self.s("/element"), {"using": "css selector", "value": css})
        return r["value"][ELEM]

    def click(self, css):
        self.call("POST", self.s("/element/%s/click" % self.find(css)), {})

    def text(self, css):
        return self.call("GET", self.s("/element/%s/text" % self.find(css)))["value"]

    def wait(self, what, fn, timeout=20):
        t0 = time.time()
        last = None
        while time.time() - t0 < timeout:
            try:
                last = fn()
                if last:
                    return last
            except RuntimeError as e:
                last = str(e)
            time.sleep(0.1)
        check(what, False, "(timed out; last: %r)" % (last,))
        return None

    def quit(self):
        if self.sid:
            try:
                self.call("DELETE", "/session/%s" % self.sid)
            except Exception:
                pass


def main():
    url = sys.argv[1]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    cd_bin = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    port = free_port()
    logdir = tempfile.mkdtemp(prefix="sl_cd_")
    cd = subprocess.Popen([cd_bin, "--port=%d" % port, "--log-path=%s/cd.log" % logdir],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = Driver(port)
    try:
        for _ in range(100):
            try:
                d.call("GET", "/status")
                break
            except Exception:
                time.sleep(0.1)
        d.start(chromium)
        d.go(url)
        # Overview
        d.wait("title shows the pipeline", lambda: d.text("#title") == "sluice: showpipe")
        ov = d.wait("overview lists tables", lambda: "pins__tags" in d.text("#ov-tables") and d.text("#ov-tables"))
        rows = d.js("""var out = {}; var trs = document.querySelectorAll('#ov-tables tr');
            for (var i = 1; i < trs.length; i++) out[trs[i].cells[0].textContent] = trs[i].cells[4].textContent;
            return out;""")
        check("overview row count of pins", rows.get("pins") == "45", repr(rows))
        check("overview row count of pins__tags", rows.get("pins__tags") == "45", repr(rows))
        check("overview shows the dataset", "showpipe_dataset" in d.text("#ov-info"))
        check("overview lists a load", d.js("return document.querySelectorAll('#ov-loads tr').length") >= 2)
        # Schema tree: the child table sits under its parent, with column types.
        d.click("nav button[data-tab=schema]")
        nested = d.js("""var n = document.querySelector('#schema-tree li ul span[data-table="pins__tags"]');
            if (!n) return null; var li = n.parentNode.parentNode.parentNode;
            return li.querySelector('span.tname').textContent;""")
        check("schema tree nests pins__tags under pins", nested == "pins", repr(nested))
        check("schema tree shows column types", "id: bigint" in d.text("#schema-tree"))
        # Data: open the table, page through it.
        d.click("nav button[data-tab=data]")
        d.wait("data tab lists tables", lambda: d.js("return document.querySelectorAll('#data-tables button').length") >= 2)
        d.click('#data-tables button[data-table="pins"]')
        d.wait("first page", lambda: d.text("#page-info") == "rows 1\u201320 of 45")
        n = d.js("return document.querySelectorAll('#data-grid tr').length")
        check("first page has 20 rows", n == 21, repr(n))
        first_ids = d.js("""var a = []; var trs = document.querySelectorAll('#data-grid tr');
            for (var i = 1; i < trs.length; i++) a.push(trs[i].cells[0].textContent); return a;""")
        check("rows in load order", first_ids == [str(i) for i in range(1, 21)], repr(first_ids))
        d.click("#next")
        d.wait("second page", lambda: d.text("#page-info") == "rows 21\u201340 of 45")
        d.click("#next")
        d.wait("last page", lambda: d.text("#page-info") == "rows 41\u201345 of 45")
        n = d.js("return document.querySelectorAll('#data-grid tr').length")
        check("last page has 5 rows", n == 6, repr(n))
        check("next is disabled on the last page", d.js("return document.getElementById('next').disabled") is True)
        d.click("#prev")
        d.click("#prev")
        d.wait("back on the first page", lambda: d.text("#page-info") == "rows 1\u201320 of 45")
        again = d.js("""var a = []; var trs = document.querySelectorAll('#data-grid tr');
            for (var i = 1; i < trs.length; i++) a.push(trs[i].cells[0].textContent); return a;""")
        check("paging is stable", again == first_ids)
        # Hostile values are text.
        cells = d.js("""var a = []; document.querySelectorAll('#data-grid td').forEach(function (c) { a.push(c.textContent); }); return a;""")
        check("hostile value shown as text", any("<img src=x onerror=" in c for c in cells), repr(cells[:8]))
        check("hostile value did not run", d.js("return window.__pwned === undefined && document.querySelectorAll('#data-grid img').length === 0") is True)
        # SQL box.
        d.click("nav button[data-tab=sql]")
        d.js("document.getElementById('sql-text').value = arguments[0];", "select count(*) as n from pins")
        d.click("#run")
        d.wait("query runs", lambda: d.text("#sql-status") == "1 row")
        check("query result", d.js("return document.querySelector('#sql-result tr:nth-child(2) td').textContent") == "45")
        check("query header", d.js("return document.querySelector('#sql-result th').textContent") == "n")
        d.js("document.getElementById('sql-text').value = arguments[0];", "delete from pins")
        d.click("#run")
        d.wait("write refused", lambda: "only SELECT" in d.text("#sql-error"))
        d.js("document.getElementById('sql-text').value = arguments[0];", "select * from no_such_table")
        d.click("#run")
        d.wait("bad SQL error shown", lambda: "no_such_table" in d.text("#sql-error"))
        # Load history with the trace.
        d.click("nav button[data-tab=loads]")
        d.wait("load history", lambda: d.js("return document.querySelectorAll('#loads-table tr').length") >= 2)
        check("load history status", "ok" in d.text("#loads-table"))
        tr = d.wait("trace shown", lambda: '"steps"' in d.text("#trace") and d.text("#trace"))
        check("trace has the pipeline", tr is not None and '"pipeline_name": "showpipe"' in tr)
    except Exception as e:  # a broken driver or page: report, never hang
        check("browser session", False, str(e))
        try:
            with open(logdir + "/cd.log") as f:
                print(f.read()[-3000:], file=sys.stderr)
        except OSError:
            pass
    finally:
        d.quit()
        cd.terminate()
        try:
            cd.wait(10)
        except subprocess.TimeoutExpired:
            cd.kill()
        shutil.rmtree(logdir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
