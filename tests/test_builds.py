"""SDK builds wherever a version goes (harness/sdks/builds.py): a tarball, a package folder, a tarball URL, a
dist-tag and a lockfile's file:/link:/URL dependency.

The two-sided proof uses real parts, through ``harness run``: clerk-js 6.0.0's published tarball with the founding
fix's guard applied to its bundle (one expression: an empty token is never emitted) survives, as a tarball and as a
folder, while published 6.0.0 still reproduces; 6.1.0's bundle with the fix taken out (four expressions) reproduces
while published 6.1.0 survives. Everything else runs no
browser: bad builds are refused in one line with exit 2 and nothing cached; a rebuilt folder is a new cache entry;
a URL over loopback is fetched once, with a size limit.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import pytest

from harness.errors import HarnessError
from harness.sdks.builds import BuildSpec, claims_version, resolve
from harness.sdks.npm import NpmBundleCache
from harness.versions.lockfiles import spec_from

PKG = "@clerk/clerk-js"
BUNDLE = "clerk.browser.js"
# 6.0.0's token dispatch emits whatever the fetch returned, an empty token included (clerk-js-internals.md 1.1);
# the founding fix (PR #7912) made it emit only a token with a raw string. This is that guard, in 6.0.0's bundle.
UNFIXED = "#K(e,t){t&&(iM.emit(iE,{token:e})"
FIXED = "#K(e,t){t&&e.getRawString()&&(iM.emit(iE,{token:e})"
# The fix taken out of 6.1.0's bundle: fetch while offline, turn an empty answer into null instead of an error, and
# emit empty tokens again -- 6.0.0's code path (clerk-js-internals.md 1.1 and 1.3).
REVERT_6_1_0 = [
    ('else if(l())t=await this.#B(r,n,s,o,i);else throw new y("Browser is offline, skipping token fetch",'
     '{code:"network_error"});', "else t=await this.#B(r,n,s,o,i);"),
    ('let t=e.getRawString();if(!t)throw new y("Token fetch returned empty response",{code:"network_error"});'
     "return this.#K(e,r),t", "let t=e.getRawString();return this.#K(e,r),t||null"),
    ("#K(e,t){!t||e.getRawString()&&(", "#K(e,t){t&&("),
    ("o&&e.getRawString()&&iF.emit(ix,{token:e})", "o&&iF.emit(ix,{token:e})"),
]


def harness(*args: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


def pack(where: Path, files: dict[str, bytes], top: str = "package") -> Path:
    with tarfile.open(where, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return where


def meta(name: str = PKG, version: str = "6.0.0", **extra: str) -> bytes:
    return json.dumps({"name": name, "version": version, **extra}).encode()


def small_build(**extra: str) -> dict[str, bytes]:
    return {"package.json": meta(**extra), f"dist/{BUNDLE}": b"console.log('a build');\n"}


def cache_entries(root: Path) -> list[str]:
    """Every entry (and any staging or trash folder) under the cache's package folders."""
    return sorted(p.name for d in root.glob("*") if d.is_dir() and not d.name.startswith("_") for p in d.iterdir())


# -- parsing ----------------------------------------------------------------------------------------------------

def test_every_kind_of_version_is_told_apart(tmp_path: Path) -> None:
    tgz = pack(tmp_path / "b.tgz", small_build())
    assert BuildSpec.parse("6.1.0").kind == "release"
    assert BuildSpec.parse("latest").kind == "tag" and BuildSpec.parse("canary").kind == "tag"
    assert BuildSpec.parse(str(tgz)).kind == "tarball"
    assert BuildSpec.parse(str(tmp_path)).kind == "folder"
    assert BuildSpec.parse("http://127.0.0.1:1/x.tgz").kind == "url"
    assert BuildSpec.parse("6.1.0+build.0123456789ab").kind == "cached"
    assert BuildSpec.parse("from:package-lock.json").kind == "lockfile"
    for bad in ("6.x", "^6.1.0", ">=6.0.0", "6.0", "./missing.tgz", "ftp://host/x.tgz"):
        with pytest.raises(HarnessError):
            BuildSpec.parse(bad)
    assert claims_version("6.0.0+build.0123456789ab", "6.1.0") == "6.1.0"
    assert claims_version("6.0.0+build.0123456789ab", None) == "6.0.0"
    assert claims_version("6.0.0", "6.1.0") == "6.0.0"  # a release keeps its own claims


# -- the cache --------------------------------------------------------------------------------------------------

def test_a_tarball_and_its_folder_are_one_build_and_a_rebuilt_folder_is_a_new_one(tmp_path: Path) -> None:
    cache = NpmBundleCache(tmp_path / "cache")
    said: list[str] = []
    tgz = pack(tmp_path / "b.tgz", small_build())
    label = resolve(BuildSpec.parse(str(tgz)), PKG, BUNDLE, cache, list, said.append)
    assert label.startswith("6.0.0+build.") and "cached as" in said[-1]
    folder = tmp_path / "pkg"
    (folder / "dist").mkdir(parents=True)
    (folder / "package.json").write_bytes(meta())
    (folder / "dist" / BUNDLE).write_bytes(b"console.log('a build');\n")
    (folder / "README.md").write_text("not played, not hashed")
    assert resolve(BuildSpec.parse(str(folder)), PKG, BUNDLE, cache, list, said.append) == label
    assert "unchanged, from the cache" in said[-1]
    bundle = cache.get(PKG, label)
    assert bundle.build is not None and (bundle.build["kind"], bundle.build["source"]) == ("folder", str(folder))
    assert bundle.build is not None and bundle.build["sha256"].startswith(label.split(".")[-1])
    assert (bundle.dist / BUNDLE).read_bytes() == b"console.log('a build');\n"

    (folder / "dist" / BUNDLE).write_bytes(b"console.log('rebuilt');\n")  # same version, new bytes
    rebuilt = resolve(BuildSpec.parse(str(folder)), PKG, BUNDLE, cache, list, said.append)
    assert rebuilt != label and rebuilt.startswith("6.0.0+build.")
    assert (cache.get(PKG, rebuilt).dist / BUNDLE).read_bytes() == b"console.log('rebuilt');\n"  # never stale
    assert cache_entries(cache.root) == sorted([label, rebuilt])


BAD_BUILDS = {
    "unsafe-path": ({"package.json": meta(), f"dist/{BUNDLE}": b"x", "../../evil.js": b"x"}, "unsafe path"),
    "no-package-json": ({f"dist/{BUNDLE}": b"x"}, "no package.json"),
    "other-package": ({"package.json": meta(name="@supabase/supabase-js"), f"dist/{BUNDLE}": b"x"},
                      "not @clerk/clerk-js"),
    "no-dist-file": ({"package.json": meta(), "dist/other.js": b"x"}, f"no dist/{BUNDLE}"),
}


@pytest.mark.parametrize("kind", sorted(BAD_BUILDS))
def test_a_bad_build_is_one_line_exit_2_and_nothing_cached(tmp_path: Path, kind: str) -> None:
    files, said = BAD_BUILDS[kind]
    tgz = tmp_path / f"{kind}.tgz"
    if kind == "unsafe-path":  # the unsafe member sits beside the package folder, as an attacker would put it
        pack(tgz, {f"package/{k}" if not k.startswith("..") else k: v for k, v in files.items()}, top="")
    else:
        pack(tgz, files)
    cache = tmp_path / "cache"
    proc = harness("run", "offline-refresh-due", "--sdk-version", str(tgz), "--reports", str(tmp_path / "reports"),
                   env={"HARNESS_CACHE_DIR": str(cache)}, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert said in lines[0] and "Traceback" not in proc.stderr
    assert cache_entries(cache / "npm") == []  # no entry, no staging folder
    assert not (tmp_path / "reports").exists()


# -- dist-tags --------------------------------------------------------------------------------------------------

FAKE_NPM = """
import json, sys
if sys.argv[1:4] == ["view", "@clerk/clerk-js", "dist-tags"]:
    print(json.dumps({"latest": "6.1.0", "canary": "6.2.0-canary.v20260301"}))
    sys.exit(0)
print(json.dumps({"error": {"code": "E404", "summary": "not faked"}}))
sys.exit(1)
"""


def test_a_dist_tag_resolves_to_its_release_and_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    npm = tmp_path / "npm"
    npm.write_text(f"#!{sys.executable}\n{FAKE_NPM}")
    npm.chmod(0o755)
    monkeypatch.setenv("HARNESS_NPM", str(npm))
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    from harness.versions.commands import resolve_versions

    assert resolve_versions(["latest", "canary"], PKG) == ["6.1.0", "6.2.0-canary.v20260301"]
    err = capsys.readouterr().err
    assert "latest = @clerk/clerk-js 6.1.0 (its dist-tag, resolved now)" in err
    assert "canary = @clerk/clerk-js 6.2.0-canary.v20260301" in err
    with pytest.raises(HarnessError, match="no dist-tag 'nightly' .*canary, latest"):
        resolve_versions(["nightly"], PKG)


# -- URLs -------------------------------------------------------------------------------------------------------

@pytest.fixture
def tarball_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server serving one build tarball at /build.tgz; the list records every GET."""
    body = pack(tmp_path / "served.tgz", small_build(description="served")).read_bytes()
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            hits.append(self.path)
            if self.path.split("?")[0] != "/build.tgz":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_a_url_is_fetched_once_with_a_size_limit(tmp_path: Path, tarball_server: tuple[str, list[str]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base, hits = tarball_server
    cache = NpmBundleCache(tmp_path / "cache")
    url = f"{base}/build.tgz"
    first = resolve(BuildSpec.parse(url), PKG, BUNDLE, cache, list)
    again = resolve(BuildSpec.parse(url), PKG, BUNDLE, cache, list)  # a second SDK or front door, same command
    assert first == again and hits == ["/build.tgz"]
    assert cache.get(PKG, first).build == {**cache.get(PKG, first).build, "kind": "url", "source": url}

    monkeypatch.setenv("HARNESS_BUILD_MAX_BYTES", "64")
    fresh = NpmBundleCache(tmp_path / "cache2")
    with pytest.raises(HarnessError, match="larger than 64 bytes"):
        resolve(BuildSpec.parse(f"{base}/build.tgz?again"), PKG, BUNDLE, fresh, list)
    with pytest.raises(HarnessError, match="answered 404"):
        resolve(BuildSpec.parse(f"{base}/missing.tgz"), PKG, BUNDLE, fresh, list)
    with pytest.raises(HarnessError, match="cannot be fetched"):
        resolve(BuildSpec.parse("http://127.0.0.1:9/unreachable.tgz"), PKG, BUNDLE, fresh, list)
    assert cache_entries(fresh.root) == []


# -- lockfiles --------------------------------------------------------------------------------------------------

def test_matrix_versions_split_releases_from_builds(tmp_path: Path) -> None:
    from harness.versions.commands import split_builds

    tgz = pack(tmp_path / "b.tgz", small_build())
    assert split_builds(f">=6.0.0 <6.2.0, every:2, {tgz}, latest, 5.128.0 6.0.0") == (
        ">=6.0.0 <6.2.0, every:2, 5.128.0 6.0.0", [str(tgz), "latest"])


def test_pytest_collects_a_build_by_its_label_and_a_bisect_places_it_at_its_version(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    seed = Path(__file__).resolve().parents[1] / "scenarios" / "offline-refresh-due.yaml"
    (tmp_path / "scenarios" / "offline-refresh-due.yaml").write_text(seed.read_text())
    tgz = pack(tmp_path / "b.tgz", small_build())
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "scenarios", "--sdk-version", str(tgz), "--sdk-version", f"clerk={tgz}",
                           "--rootdir", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")})
    items = [line for line in proc.stdout.splitlines() if "::offline-refresh-due[" in line]
    assert len(items) == 1 and "offline-refresh-due[6.0.0+build." in items[0], proc.stdout + proc.stderr

    from harness.versions.commands import span
    from harness.versions.published import Release, Releases

    known = Releases(PKG, tuple(Release(v, None) for v in ("5.0.0", "5.1.0", "6.0.0", "6.1.0")), 0.0)
    build = Release("6.0.0+build.0123456789ab", None)
    assert [r.version for r in span(known, build, known.items[0], False)] == [
        "5.0.0", "5.1.0", "6.0.0", "6.0.0+build.0123456789ab"]


def test_a_lockfile_names_a_build_by_file_link_or_url(tmp_path: Path) -> None:
    tgz = pack(tmp_path / "clerk.tgz", small_build())
    project = tmp_path / "app"
    project.mkdir()
    lock = {"lockfileVersion": 3, "packages": {"": {"dependencies": {PKG: "file:../clerk.tgz"}},
                                               f"node_modules/{PKG}": {"version": "6.0.0",
                                                                       "resolved": "file:../clerk.tgz"}}}
    (project / "package-lock.json").write_text(json.dumps(lock))
    assert spec_from(project / "package-lock.json", PKG, list) == str(tgz)  # type: ignore[arg-type]
    from_lock = BuildSpec.parse(f"from:{project / 'package-lock.json'}")
    read = lambda path: spec_from(path, PKG, list)  # noqa: E731 -- as versions.commands hands it to the builds layer
    played = resolve(from_lock, PKG, BUNDLE, NpmBundleCache(tmp_path / "cache"), read)  # type: ignore[arg-type]
    assert played.startswith("6.0.0+build.")
    (project / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      '@clerk/clerk-js':\n"
        "        specifier: link:../app\n        version: link:../app\n")
    assert spec_from(project / "pnpm-lock.yaml", PKG, list) == str(project)  # type: ignore[arg-type]
    (project / "package.json").write_text(json.dumps({"dependencies": {PKG: "https://example.test/c.tgz"}}))
    assert spec_from(project / "package.json", PKG, list) == "https://example.test/c.tgz"  # type: ignore[arg-type]
    (project / "package.json").write_text(json.dumps({"dependencies": {PKG: "file:../gone.tgz"}}))
    with pytest.raises(HarnessError, match="does not exist"):
        spec_from(project / "package.json", PKG, list)  # type: ignore[arg-type]


# -- real parts: the founding fix in 6.0.0's bundle -------------------------------------------------------------

def unpack_release(bundle_cache: NpmBundleCache, version: str, where: Path) -> Path:
    with tarfile.open(bundle_cache.get(PKG, version).tarball) as tar:
        tar.extractall(where, filter="data")
    return where / "package"


def patch_bundle(folder: Path, edits: list[tuple[str, str]]) -> None:
    bundle = folder / "dist" / BUNDLE
    text = bundle.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    bundle.write_text(text, encoding="utf-8")


def pack_folder(folder: Path, tgz: Path) -> Path:
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(folder, arcname="package")
    return tgz


def test_patched_builds_get_the_patched_verdict_beside_the_releases(tmp_path: Path, bundle_cache) -> None:
    """Both directions, one command of five runs: 6.0.0 with the fix's guard (a tarball, and a folder) survives
    where published 6.0.0 reproduces -- a fix; 6.1.0 with the fix taken out reproduces where published 6.1.0
    survives -- a regression, said first. Then ``--claims-as`` judges the fixed build by 6.1.0's claims."""
    cache = tmp_path / "cache"
    for version in ("6.0.0", "6.1.0"):  # the releases from the shared cache; the builds land in this test's own
        shutil.copytree(bundle_cache.get(PKG, version).tarball.parent, cache / "npm" / "clerk__clerk-js" / version)
    fixed = unpack_release(bundle_cache, "6.0.0", tmp_path / "fixed")
    said: list[str] = []  # unpatched, the folder is byte for byte the release: it is played as the release
    unpatched = resolve(BuildSpec.parse(str(fixed)), PKG, BUNDLE, NpmBundleCache(cache / "npm"), list, said.append)
    assert unpatched == "6.0.0"
    assert "byte for byte the published release" in said[0] and cache_entries(cache / "npm") == ["6.0.0", "6.1.0"]
    patch_bundle(fixed, [(UNFIXED, FIXED)])
    fixed_tgz = pack_folder(fixed, tmp_path / "clerk-js-6.0.0-fixed.tgz")
    package_json = json.loads((fixed / "package.json").read_text())  # the folder: a second build of the same fix
    (fixed / "package.json").write_text(json.dumps({**package_json, "description": "patched, from a folder"}))
    reverted = unpack_release(bundle_cache, "6.1.0", tmp_path / "reverted")
    patch_bundle(reverted, REVERT_6_1_0)
    reverted_tgz = pack_folder(reverted, tmp_path / "clerk-js-6.1.0-reverted.tgz")

    reports, junit = tmp_path / "reports", tmp_path / "junit.xml"
    proc = harness("run", "offline-refresh-due", "--sdk-version", "6.0.0", "--sdk-version", str(fixed_tgz),
                   "--sdk-version", str(fixed), "--sdk-version", "6.1.0", "--sdk-version", str(reverted_tgz),
                   "--jobs", "2", "--no-trace", "--reports", str(reports), "--junit", str(junit),
                   env={"HARNESS_CACHE_DIR": str(cache)}, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the builds differ from their versions' claims
    results = {r["version"]: r for r in (json.loads(p.read_text()) for p in reports.glob("*/result.json"))}
    assert results["6.0.0"]["outcome"] == "reproduced" and results["6.1.0"]["outcome"] == "survived"
    builds = {v: r for v, r in results.items() if r["build"]}
    assert len(builds) == 3
    for label, r in builds.items():
        version = r["build"]["version"]
        assert label == f"{version}+build.{r['build']['sha256'][:12]}"
        assert r["outcome"] == ("survived" if version == "6.0.0" else "reproduced")  # the patched verdict
        assert r["expected"] == results[version]["expected"]  # claims by its package.json version
        assert any(line.startswith(f"{label}  {r['outcome']}") for line in proc.stdout.splitlines())  # CLI line
    assert sorted(r["build"]["kind"] for r in builds.values()) == ["folder", "tarball", "tarball"]
    summary = proc.stdout.split("builds beside releases:\n", 1)[1].splitlines()
    assert summary[0].startswith("REGRESSION in offline-refresh-due: build 6.1.0+build.")
    assert summary[0].endswith("reproduced, release 6.1.0 survived")
    assert summary[1].startswith("  release 6.1.0: the session survived")
    assert summary[2].startswith("  build 6.1.0+build.") and "`__session` removed" in summary[2]
    assert [line.split(":")[0] for line in summary if not line.startswith(" ")] == [
        "REGRESSION in offline-refresh-due", "FIX in offline-refresh-due", "FIX in offline-refresh-due"]
    html = (reports / "report.html").read_text()
    assert "Builds beside releases" in html and all(r["build"]["sha256"] in html for r in builds.values())
    props = {p.get("value") for p in ET.parse(junit).iter("property") if p.get("name") == "sdk_build_sha256"}
    assert props == {r["build"]["sha256"] for r in builds.values()}
    assert sorted(cache_entries(cache / "npm")) == sorted(["6.0.0", "6.1.0", *builds])

    claimed = harness("run", "offline-refresh-due", "--sdk-version", str(fixed_tgz), "--claims-as", "6.1.0",
                      "--no-trace", "--reports", str(tmp_path / "claimed"), env={"HARNESS_CACHE_DIR": str(cache)},
                      cwd=tmp_path)
    assert claimed.returncode == 0, claimed.stdout + claimed.stderr  # survived, as 6.1.0's claim says
    [result] = [json.loads(p.read_text()) for p in (tmp_path / "claimed").glob("*/result.json")]
    assert result["outcome"] == result["expected"] == "survived" and result["build"]["claims_as"] == "6.1.0"
    assert "unchanged, from the cache" in claimed.stderr
