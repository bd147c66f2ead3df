"""A third app for the harness's tests (neither example): a page that loads clerk-js through the front door.

Usage: python tiny_app.py PORT. Environment: TINY_APP_PIDFILE (writes its pid there), TINY_APP_EXIT_AFTER (seconds
after its first page it exits with status 3, saying so on stderr), CLERK_PUBLISHABLE_KEY.
"""

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = os.environ.get("CLERK_PUBLISHABLE_KEY", "")
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>tiny app</title>
<script src="/__clerk/npm/@clerk/clerk-js@6/dist/clerk.browser.js" data-clerk-publishable-key="{KEY}"
  data-clerk-proxy-url="/__clerk" crossorigin="anonymous"></script>
<script>window.addEventListener('load', () => window.Clerk.load());</script>
</head><body><h1>tiny app</h1></body></html>""".encode()
served = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 -- http.server's name
        if self.path.split("?")[0] not in ("/", "/index.html"):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)
        served.set()

    def log_message(self, *args: object) -> None:
        pass


def exit_later(seconds: float) -> None:
    served.wait()
    time.sleep(seconds)
    print(f"tiny app: exiting on purpose after {seconds:g} s", file=sys.stderr, flush=True)
    os._exit(3)


if __name__ == "__main__":
    if os.environ.get("TINY_APP_PIDFILE"):
        with open(os.environ["TINY_APP_PIDFILE"], "w") as f:
            f.write(str(os.getpid()))
    if os.environ.get("TINY_APP_EXIT_AFTER"):
        threading.Thread(target=exit_later, args=(float(os.environ["TINY_APP_EXIT_AFTER"]),), daemon=True).start()
    print("tiny app: listening", flush=True)
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
