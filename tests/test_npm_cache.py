"""The SDK bundle cache: real registry fetches (small packages, and the real clerk-js the harness uses), and a fake
npm on disk for tampering and every failure path."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

from harness.errors import BundleError
from harness.sdks.npm import Bundle, NpmBundleCache, default_cache_dir

# -- helpers ---------------------------------------------------------------------------------------------------

PKG, VER = "@fake/widget", "1.0.0"
FILES = {
    "package/package.json": b'{"name": "@fake/widget", "version": "1.0.0"}',
    "package/dist/x.js": b"console.log('x');\n",
    "package/dist/chunks/y.js": b"console.log('y');\n",
    "package/README.md": b"# not unpacked\n",
}

# Emulates the npm commands the cache runs, from fake-npm.json beside it; logs every call to calls.log.
FAKE_NPM = r'''
import json, shutil, sys, time
from pathlib import Path

here = Path(__file__).parent
cfg = json.loads((here / "fake-npm.json").read_text())
args = sys.argv[1:]
with open(here / "calls.log", "a") as log:
    log.write(json.dumps(args) + "\n")

def fail(code, summary):
    print(json.dumps({"error": {"code": code, "summary": summary, "detail": "first line\nsecond line"}}))
    sys.stderr.write(f"npm error code {code}\nnpm error {summary}\nnpm error   at some/stack.js:1:2\n")
    sys.exit(1)

time.sleep(cfg.get("sleep", 0))
if cfg.get("error"):
    fail(*cfg["error"])
command, spec, *rest = args
version = spec.rpartition("@")[2]
if command == "view" and rest[0] == "versions":
    print(json.dumps(cfg["versions"]))
elif command == "view" and rest[0] == "dist":
    if version not in cfg["published"]:
        fail("E404", f"No match found for version {version}")
    print(json.dumps({"integrity": cfg["published"][version], "shasum": "0" * 40}))
elif command == "pack":
    dest = Path(rest[rest.index("--pack-destination") + 1])
    if cfg.get("race"):  # another run finishes the same entry while this one packs
        shutil.copytree(*cfg["race"])
    src = Path(cfg["tarballs"][version])
    shutil.copy(src, dest / src.name)
    print(json.dumps([{"filename": src.name}]))
else:
    fail("EUSAGE", "unexpected command " + " ".join(args))
'''


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def make_tarball(path: Path, files: dict[str, bytes]) -> str:
    """Write a .tgz holding ``files`` (archive path -> content); its SRI."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sri(path.read_bytes())


class FakeNpm:
    def __init__(self, where: Path) -> None:
        where.mkdir()
        self.path = where / "npm"
        self.path.write_text(f"#!{sys.executable}\n{FAKE_NPM}")
        self.path.chmod(0o755)
        self.tarball = where / "fake-widget-1.0.0.tgz"
        integrity = make_tarball(self.tarball, FILES)
        self.config = {"published": {VER: integrity}, "tarballs": {VER: str(self.tarball)}, "versions": ["0.9.0", VER]}
        self.configure()

    def configure(self, **changes: object) -> None:
        self.config.update(changes)
        (self.path.parent / "fake-npm.json").write_text(json.dumps(self.config))

    def calls(self) -> list[list[str]]:
        log = self.path.parent / "calls.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def fake(tmp_path: Path) -> FakeNpm:
    return FakeNpm(tmp_path / "fake-npm")


@pytest.fixture
def cache(tmp_path: Path, fake: FakeNpm) -> NpmBundleCache:
    return NpmBundleCache(tmp_path / "cache", npm=str(fake.path))


def one_line_error(excinfo: pytest.ExceptionInfo[BundleError]) -> str:
    msg = str(excinfo.value)
    assert msg and "\n" not in msg and msg == msg.strip(), msg
    assert "Traceback" not in msg and "stack.js" not in msg
    return msg


def assert_no_entry(root: Path, package: str = PKG, version: str = VER) -> None:
    """Neither the entry nor any staging/trash folder is left behind."""
    pkg_dir = root / package.lstrip("@").replace("/", "__")
    assert not (pkg_dir / version).exists()
    leftovers = [p.name for p in pkg_dir.iterdir()] if pkg_dir.exists() else []
    assert not [n for n in leftovers if n.startswith(".")], leftovers


# -- real registry -----------------------------------------------------------------------------------------------


def test_real_miss_then_hit_runs_no_npm(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache = NpmBundleCache(root)
    first = cache.get("is-number", "7.0.0")
    assert cache.last_event == "miss"
    assert first.integrity.startswith("sha512-")
    assert json.loads((first.root / "package.json").read_text())["version"] == "7.0.0"
    assert first.tarball.is_file() and (root / "is-number" / "7.0.0" / "manifest.json").is_file()
    # is-number ships no dist/: its top-level script is what is unpacked (and served), no docs or licence.
    assert sorted(p.name for p in first.root.iterdir()) == ["index.js", "package.json"] and first.dist == first.root

    # A hit must not run npm: with no npm at all it still works.
    offline = NpmBundleCache(root, npm=str(tmp_path / "no-such-npm"))
    assert offline.get("is-number", "7.0.0") == first
    assert offline.last_event == "hit"


def test_real_clerk_js_bundle(tmp_path: Path) -> None:
    cache = NpmBundleCache(tmp_path / "cache")
    bundle = cache.get("@clerk/clerk-js", "6.0.0")
    assert bundle.root == tmp_path / "cache" / "clerk__clerk-js" / "6.0.0" / "package"
    assert bundle.dist == bundle.root / "dist"
    assert (bundle.dist / "clerk.browser.js").stat().st_size > 100_000
    assert bundle.integrity == (
        "sha512-tccxJ0R+Uib5cUISf0tgJ7CfSj1PcS5hE0u0QCxtDP5yXzzfs1Pn+/GsJkOQHG7200cx0KSITXxPJ22bUzO0sQ=="
    )


def test_real_unknown_version(tmp_path: Path) -> None:
    with pytest.raises(BundleError) as excinfo:
        NpmBundleCache(tmp_path / "cache").get("is-number", "7.0.99")
    assert one_line_error(excinfo) == (
        "no published version 7.0.99 of is-number (list them with: npm view is-number versions)"
    )
    assert_no_entry(tmp_path / "cache", "is-number", "7.0.99")


def test_real_versions_in_registry_order(tmp_path: Path) -> None:
    versions = NpmBundleCache(tmp_path / "cache").versions("is-number")
    assert versions[:3] == ["0.1.0", "0.1.1", "1.0.0"]
    assert "7.0.0" in versions


# -- fake npm: hits, tampering, races ----------------------------------------------------------------------------


def test_fake_miss_unpacks_package_json_and_dist_only(cache: NpmBundleCache, fake: FakeNpm) -> None:
    bundle = cache.get(PKG, VER)
    assert cache.last_event == "miss"
    assert isinstance(bundle, Bundle) and bundle.integrity == fake.config["published"][VER]
    unpacked = sorted(p.relative_to(bundle.root).as_posix() for p in bundle.root.rglob("*") if p.is_file())
    assert unpacked == ["dist/chunks/y.js", "dist/x.js", "package.json"]
    manifest = json.loads((cache.root / "fake__widget" / VER / "manifest.json").read_text())
    assert manifest["files"]["dist/x.js"] == hashlib.sha256(FILES["package/dist/x.js"]).hexdigest()
    assert [c[:2] for c in fake.calls()] == [["view", f"{PKG}@{VER}"], ["pack", f"{PKG}@{VER}"]]

    assert cache.get(PKG, VER) == bundle
    assert cache.last_event == "hit"
    assert len(fake.calls()) == 2  # no npm on a hit


def test_a_package_without_dist_is_served_from_its_root_scripts(tmp_path: Path, cache: NpmBundleCache,
                                                                 fake: FakeNpm) -> None:
    # firebase publishes its browser builds (firebase-app.js, firebase-auth.js) at the package root, with no dist/.
    rooted = tmp_path / "rooted.tgz"
    integrity = make_tarball(rooted, {"package/package.json": FILES["package/package.json"],
                                      "package/firebase-app.js": b"export const app = 1;\n",
                                      "package/firebase-app.js.map": b"{}", "package/README.md": b"# no\n",
                                      "package/app/dist/index.cjs.js": b"module.exports = 1;\n"})
    fake.configure(published={VER: integrity}, tarballs={VER: str(rooted)})
    bundle = cache.get(PKG, VER)
    unpacked = sorted(p.relative_to(bundle.root).as_posix() for p in bundle.root.rglob("*") if p.is_file())
    assert unpacked == ["firebase-app.js", "package.json"]  # top-level scripts only: no maps, docs or subfolders
    assert bundle.dist == bundle.root and (bundle.dist / "firebase-app.js").is_file()
    assert cache.get(PKG, VER) == bundle and cache.last_event == "hit"  # and it verifies on the next use


def _edit_dist(b: Bundle) -> None:
    (b.dist / "x.js").write_text("console.log('patched while debugging');\n")


def _same_size_edit(b: Bundle) -> None:
    data = (b.dist / "x.js").read_bytes()
    (b.dist / "x.js").write_bytes(data.replace(b"x", b"z"))


TAMPERS = {
    "dist file edited": _edit_dist,
    "dist file edited, same size": _same_size_edit,
    "dist file deleted": lambda b: (b.dist / "chunks" / "y.js").unlink(),
    "file added": lambda b: (b.dist / "extra.js").write_text("evil()"),
    "package.json edited": lambda b: (b.root / "package.json").write_text("{}"),
    "tarball edited": lambda b: b.tarball.write_bytes(b.tarball.read_bytes() + b"\0"),
    "tarball deleted": lambda b: b.tarball.unlink(),
    "manifest corrupt": lambda b: (b.root.parent / "manifest.json").write_text("{not json"),
    "manifest deleted": lambda b: (b.root.parent / "manifest.json").unlink(),
    "package folder deleted": lambda b: shutil.rmtree(b.root),
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
def test_tampered_entry_is_refetched(cache: NpmBundleCache, fake: FakeNpm, tamper, caplog) -> None:
    bundle = cache.get(PKG, VER)
    tamper(bundle)
    with caplog.at_level(logging.WARNING, logger="harness.sdks.npm"):
        again = cache.get(PKG, VER)
    assert cache.last_event == "refetched-after-tamper"
    assert again == bundle
    assert (again.dist / "x.js").read_bytes() == FILES["package/dist/x.js"]
    assert not (again.dist / "extra.js").exists()
    assert "failed its check" in caplog.text
    assert len(fake.calls()) == 4  # fetched again: view + pack
    assert_no_staging(cache.root)

    cache.get(PKG, VER)
    assert cache.last_event == "hit"


def assert_no_staging(root: Path) -> None:
    assert not [p for p in root.rglob(".*")], list(root.rglob(".*"))


def test_race_other_run_finishes_first(tmp_path: Path, fake: FakeNpm) -> None:
    winner = NpmBundleCache(tmp_path / "winner", npm=str(fake.path))
    winner.get(PKG, VER)
    late = NpmBundleCache(tmp_path / "late", npm=str(fake.path))
    entry = late.root / "fake__widget" / VER
    fake.configure(race=[str(winner.root / "fake__widget" / VER), str(entry)])
    bundle = late.get(PKG, VER)
    assert late.last_event == "miss"
    assert bundle.root == entry / "package"
    assert (bundle.dist / "x.js").read_bytes() == FILES["package/dist/x.js"]
    assert_no_staging(late.root)


def test_npm_from_env(tmp_path: Path, fake: FakeNpm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_NPM", str(fake.path))
    cache = NpmBundleCache(tmp_path / "cache")
    assert cache.get(PKG, VER).dist.is_dir()
    assert cache.versions(PKG) == ["0.9.0", VER]


# -- fake npm: failures ------------------------------------------------------------------------------------------


def test_unknown_version(cache: NpmBundleCache) -> None:
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, "9.9.9")
    assert one_line_error(excinfo) == (
        "no published version 9.9.9 of @fake/widget (list them with: npm view @fake/widget versions)"
    )
    assert_no_entry(cache.root, version="9.9.9")


@pytest.mark.parametrize("version", ["latest", "^6.0.0", "6.0", "6.x", "v6.0.0", "06.0.0", "6.0.0 || 7.0.0", ""])
def test_inexact_version_is_refused_before_npm(cache: NpmBundleCache, fake: FakeNpm, version: str) -> None:
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, version)
    assert "not an exact version of @fake/widget" in one_line_error(excinfo)
    assert fake.calls() == []


@pytest.mark.parametrize("package", ["--registry=x", "../etc", "@scope/../x", "a b", ""])
def test_bad_package_name_is_refused_before_npm(cache: NpmBundleCache, fake: FakeNpm, package: str) -> None:
    with pytest.raises(BundleError) as excinfo:
        cache.get(package, VER)
    assert "is not an npm package name" in one_line_error(excinfo)
    assert fake.calls() == []


def test_prerelease_version_is_accepted(cache: NpmBundleCache, fake: FakeNpm) -> None:
    fake.configure(
        published={"1.0.0-beta.2": fake.config["published"][VER]}, tarballs={"1.0.0-beta.2": str(fake.tarball)}
    )
    assert cache.get(PKG, "1.0.0-beta.2").version == "1.0.0-beta.2"


@pytest.mark.parametrize("code", ["ENOTFOUND", "ETIMEDOUT", "ECONNREFUSED", "EAI_AGAIN"])
def test_registry_unreachable(cache: NpmBundleCache, fake: FakeNpm, code: str) -> None:
    fake.configure(error=[code, f"request to the registry failed, reason: {code}"])
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    msg = one_line_error(excinfo)
    assert msg.startswith(f"npm could not reach its registry to fetch @fake/widget@1.0.0 ({code}); check the network")
    assert "pre-fill the cache" in msg
    assert_no_entry(cache.root)


def test_other_npm_failure_is_one_line(cache: NpmBundleCache, fake: FakeNpm) -> None:
    fake.configure(error=["E401", "Unable to authenticate,\nneed: Basic realm"])
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    assert one_line_error(excinfo).startswith("npm failed to fetch @fake/widget@1.0.0 (E401: Unable to authenticate,")
    assert_no_entry(cache.root)


def test_npm_timeout(tmp_path: Path, fake: FakeNpm) -> None:
    fake.configure(sleep=5)
    cache = NpmBundleCache(tmp_path / "cache", npm=str(fake.path), timeout=0.5)
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    assert one_line_error(excinfo).startswith("npm did not answer within 0.5 s to fetch @fake/widget@1.0.0")
    assert_no_entry(cache.root)


def test_integrity_mismatch(cache: NpmBundleCache, fake: FakeNpm) -> None:
    fake.configure(published={VER: sri(b"some other tarball")})
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    assert "does not match the registry's integrity" in one_line_error(excinfo)
    assert_no_entry(cache.root)


def test_sha1_integrity_of_old_packages(cache: NpmBundleCache, fake: FakeNpm) -> None:
    sha1 = "sha1-" + base64.b64encode(hashlib.sha1(fake.tarball.read_bytes()).digest()).decode()
    fake.configure(published={VER: sha1})
    assert cache.get(PKG, VER).integrity == sha1
    cache.get(PKG, VER)
    assert cache.last_event == "hit"


@pytest.mark.parametrize("evil", ["package/../../escaped.js", "/tmp/absolute.js", "package/dist/../../../up.js"])
def test_unsafe_tarball_path_is_refused(tmp_path: Path, cache: NpmBundleCache, fake: FakeNpm, evil: str) -> None:
    bad = tmp_path / "bad.tgz"
    integrity = make_tarball(bad, {**FILES, evil: b"pwned"})
    fake.configure(published={VER: integrity}, tarballs={VER: str(bad)})
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    assert "unsafe path" in one_line_error(excinfo)
    assert_no_entry(cache.root)
    assert not [p for p in tmp_path.rglob("*.js") if p.read_bytes() == b"pwned"]


def test_npm_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_NPM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    cache = NpmBundleCache(tmp_path / "cache")
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    assert one_line_error(excinfo) == (
        "npm not found: install Node.js and npm (e.g. apt-get install -y npm) or set HARNESS_NPM to its path"
    )
    assert_no_entry(cache.root)


def test_npm_path_missing(tmp_path: Path) -> None:
    cache = NpmBundleCache(tmp_path / "cache", npm=str(tmp_path / "nowhere" / "npm"))
    with pytest.raises(BundleError) as excinfo:
        cache.get(PKG, VER)
    assert one_line_error(excinfo).startswith(f"npm not found at {tmp_path / 'nowhere' / 'npm'}: install Node.js")
    assert_no_entry(cache.root)


# -- cache location ----------------------------------------------------------------------------------------------


def test_default_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HARNESS_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "session-harness"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "session-harness"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert NpmBundleCache().root == tmp_path / "mine" / "npm"


# -- several processes, listing and pruning ------------------------------------------------------------------------

FETCH_IN_CHILD = r'''
import json, sys
from pathlib import Path
from harness.sdks.npm import NpmBundleCache
cache = NpmBundleCache(Path(sys.argv[1]), npm=sys.argv[2])
bundle = cache.get(sys.argv[3], sys.argv[4])
files = sorted(p.relative_to(bundle.root).as_posix() for p in bundle.root.rglob("*") if p.is_file())
print(json.dumps({"event": cache.last_event, "files": files}))
'''


def test_two_processes_fetching_the_same_version_at_once(tmp_path: Path, fake: FakeNpm) -> None:
    """The second waits on the lock and then serves the first one's whole entry: npm packs once, both see it all."""
    import subprocess

    fake.configure(sleep=1.0)  # every npm call takes a second, so the two fetches overlap
    root = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", FETCH_IN_CHILD, str(root), str(fake.path), PKG, VER],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        answers.append(json.loads(out))
    assert sorted(a["event"] for a in answers) == ["hit", "miss"]
    assert answers[0]["files"] == answers[1]["files"] == ["dist/chunks/y.js", "dist/x.js", "package.json"]
    assert [c[0] for c in fake.calls()].count("pack") == 1


def test_list_and_prune_by_keep_list_and_age(tmp_path: Path, fake: FakeNpm) -> None:
    second = fake.path.parent / "fake-widget-2.0.0.tgz"
    integrity = make_tarball(second, {**FILES, "package/package.json": b'{"name": "@fake/widget"}'})
    fake.configure(published={VER: fake.config["published"][VER], "2.0.0": integrity},
                   tarballs={VER: str(fake.tarball), "2.0.0": str(second)})
    cache = NpmBundleCache(tmp_path / "cache", npm=str(fake.path))
    cache.get(PKG, "2.0.0")
    cache.get(PKG, VER)
    listed = cache.entries()
    assert [(e.package, e.version) for e in listed] == [(PKG, VER), (PKG, "2.0.0")]  # version order
    assert all(e.size > 0 for e in listed)
    assert cache.prune(older_than_s=3600) == []  # both used just now
    removed = cache.prune(keep=frozenset({"2.0.0"}))
    assert [e.version for e in removed] == [VER]
    assert [e.version for e in cache.entries()] == ["2.0.0"]
    assert_no_entry(tmp_path / "cache")
    later = cache.prune(older_than_s=60, clock=lambda: listed[1].last_used + 3600)
    assert [e.version for e in later] == ["2.0.0"] and cache.entries() == []


def test_bundle_list_command(tmp_path: Path) -> None:
    import subprocess

    env = {**__import__("os").environ, "HARNESS_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bundle", "--list"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"0 bundles, 0 B in {tmp_path / 'npm'}"
