"""Headless Chromium over the DevTools protocol, with the stdlib only.

Used by tests/test_browser.py (not a test file). Chromium is started with
``--remote-debugging-pipe``: commands and replies are JSON messages ending
in a NUL byte, which Chromium reads on its fd 3 and writes on its fd 4, so
no WebSocket client (and no Selenium or chromedriver) is needed.
"""

import fcntl
import json
import os
import select
import subprocess
import time
from pathlib import Path


class Chromium:
    """One headless Chromium process and its DevTools pipe."""

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--disable-default-apps",
             "--no-default-browser-check", "--hide-scrollbars",
             "--mute-audio", "--force-color-profile=srgb",
             # Names resolve nowhere: the page's requests are also failed
             # by the test itself (Fetch), this guards the browser's own.
             "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
             "--remote-debugging-pipe")

    def __init__(self, binary, profile, log):
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # Moved above fd 9 first, so that dup2 onto 3 and 4 cannot clobber.
        child_in = fcntl.fcntl(to_browser, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser)
        os.close(from_browser)

        def wire():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.log = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [binary, *self.FLAGS, f"--user-data-dir={profile}",
                 "about:blank"], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, close_fds=False,
                preexec_fn=wire)
        os.close(child_in)
        os.close(child_out)
        self._buffer, self._next_id = b"", 0
        self.replies, self.events = {}, []
        self.handlers = {}  # event method -> callback(message)

    def _pump(self, timeout):
        """Read what Chromium sent within ``timeout`` s, handling events."""
        ready, _, _ = select.select([self._read], [], [], max(timeout, 0))
        if not ready:
            return
        chunk = os.read(self._read, 1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed the DevTools pipe:\n"
                               + Path(self.log).read_text()[-3000:])
        *messages, self._buffer = (self._buffer + chunk).split(b"\0")
        for raw in messages:
            message = json.loads(raw)
            if "id" in message:
                self.replies[message["id"]] = message
            else:
                self.events.append(message)
                handler = self.handlers.get(message.get("method"))
                if handler:
                    handler(message)

    def post(self, method, params=None, session=None):
        """Send a command; its id (the reply is collected by ``_pump``)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method,
                   "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._write, data):]
        return self._next_id

    def send(self, method, params=None, session=None, timeout=30):
        """Send a command and wait for its result."""
        ident = self.post(method, params, session)
        deadline = time.monotonic() + timeout
        while ident not in self.replies:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {method} in {timeout} s")
            self._pump(deadline - time.monotonic())
        reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_until(self, condition, timeout):
        """Pump until ``condition()`` holds; False on time-out."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            self._pump(min(0.1, deadline - time.monotonic()))
        return True

    def settle(self, quiet=0.5, timeout=10):
        """Pump until no event arrives for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = len(self.events)
            self._pump(0)
            end = time.monotonic() + quiet
            while time.monotonic() < end and len(self.events) == count:
                self._pump(end - time.monotonic())
            if len(self.events) == count:
                return

    def close(self):
        try:
            self.post("Browser.close")
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._read)
            os.close(self._write)
