"""The user's own app under test: started like Playwright's ``webServer``, reached through a per-run front door.

* :mod:`harness.app.spec` -- what the user says about the app (an ``app:`` block, ``--app-*`` options, presets),
  validated at load;
* :mod:`harness.app.process` -- the app's process: started once per session in its own process group, waited for,
  stopped on every exit path;
* :mod:`harness.sdks.clerk.backend_api` -- the Backend API mock a Clerk server SDK calls (one per session);
* :mod:`harness.app.front_door` -- per run, what the mock server serves in front of the app: the SDK's API mock and
  bundles on their paths, everything else proxied (HTTP and WebSocket) to the app, and the app's answers observed;
* :mod:`harness.app.session` -- the three together, as the engine owns them for a session.
"""
