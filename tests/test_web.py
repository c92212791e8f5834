"""The browser: examples/web/index.html loads the default export of
examples/small_cnn.h5 with ONNX Runtime Web in headless Chromium, and the
predictions it shows (POSTed back to the test's server) match what Keras
computed (examples/small_cnn.npz).

Needs a Chromium (Debian's `chromium` package) and onnxruntime-web
(`npm ci` in examples/web, or BRIDGE_NODE_MODULES naming a node_modules
folder that holds it); skips cleanly without either. The server listens on
127.0.0.1 only and the browser runs with a fresh profile and its background
networking off.
"""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import bridge
from bridge.validate import compare, load_reference

HERE = os.path.dirname(os.path.abspath(__file__))
WEB = os.path.join(HERE, "..", "examples", "web")
EXAMPLE = os.path.join(HERE, "..", "examples", "small_cnn.h5")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio"]


def _browser():
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def _modules():
    for root in (os.environ.get("BRIDGE_NODE_MODULES", ""), os.path.join(WEB, "node_modules")):
        if root and os.path.isfile(os.path.join(root, "onnxruntime-web", "package.json")):
            return os.path.abspath(root)
    return None


def _make_sample():
    spec = importlib.util.spec_from_file_location("make_sample", os.path.join(WEB, "make_sample.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.sample


class _Handler(SimpleHTTPRequestHandler):
    """examples/web, with the model and sample from the test's folder and
    node_modules from wherever onnxruntime-web is; POST /result is the page's
    report."""

    def __init__(self, *a, files, modules, done, **kw):
        self.files, self.modules, self.done = files, modules, done
        super().__init__(*a, directory=os.path.abspath(WEB), **kw)

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if path in ("/model.onnx", "/sample.json"):
            return os.path.join(self.files, path[1:])
        if path.startswith("/node_modules/"):
            return os.path.join(self.modules, path[len("/node_modules/"):])
        return super().translate_path(path)

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def guess_type(self, path):
        return "application/wasm" if str(path).endswith(".wasm") else super().guess_type(path)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()
        self.done["result"] = json.loads(body)
        self.done["event"].set()

    def log_message(self, *args):
        pass


def test_the_web_page_shows_keras_predictions(tmp_path):
    browser, modules = _browser(), _modules()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    if modules is None:
        pytest.skip("onnxruntime-web not installed (npm ci in examples/web)")
    bridge.to_onnx(EXAMPLE, str(tmp_path / "model.onnx"))
    with open(tmp_path / "sample.json", "w") as fh:
        json.dump(_make_sample()(EXAMPLE[:-3] + ".npz"), fh)
    done = {"event": threading.Event()}
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, files=str(tmp_path),
                                                           modules=modules, done=done))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html?report=/result"
    profile = tempfile.mkdtemp(prefix="bridge-chromium-")
    proc = subprocess.Popen([browser, *FLAGS, f"--user-data-dir={profile}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        reported = done["event"].wait(timeout=180)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    assert reported, "the page reported nothing within 180 s"
    result = done["result"]
    assert "error" not in result, result["error"]
    _, expected = load_reference(EXAMPLE[:-3] + ".npz")
    got = {name: np.asarray(o["data"], np.float32).reshape(o["dims"])
           for name, o in result["outputs"].items()}
    report = compare(got, expected, rtol=1e-5, atol=0.0)
    assert report.passed, str(report)
