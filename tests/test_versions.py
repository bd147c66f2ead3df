"""Release lists, ranges, samples and from:PATH lockfile readers (no browser; a fake registry)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import BundleError, HarnessError
from harness.versions.lockfiles import version_from
from harness.versions.published import Release, Releases, published_releases
from harness.versions.select import sample, select

DATA = Path(__file__).parent / "data" / "lockfiles"
PKG = "@clerk/clerk-js"
STABLE = ["5.0.0", "5.60.0", "5.101.0", "5.120.0", "5.128.0", "6.0.0", "6.1.0", "6.3.0", "6.5.0", "6.22.0",
          "6.29.3", "6.40.0"]
PRE = ["5.0.0-beta.33", "6.2.0-snapshot.1"]


def releases(stable: list[str] = STABLE, pre: list[str] = PRE) -> Releases:
    items = [Release(v, f"2026-01-{i + 1:02d}T00:00:00Z") for i, v in enumerate(stable + pre)]
    items.sort(key=lambda r: r.semver)
    return Releases(PKG, tuple(items), 0.0)


def versions(text: str, pre: bool = False) -> list[str]:
    return [r.version for r in select(text, releases(), pre=pre)]


# -- ranges, lists, samples ----------------------------------------------------------------------------------------

def test_npm_range_selects_stable_releases_in_version_order() -> None:
    assert versions(">=5.120.0 <6.5.0") == ["5.120.0", "5.128.0", "6.0.0", "6.1.0", "6.3.0"]
    assert versions("6.x") == ["6.0.0", "6.1.0", "6.3.0", "6.5.0", "6.22.0", "6.29.3", "6.40.0"]
    assert versions("*") == STABLE
    assert versions("^6.1.0 || 5.0.x") == ["5.0.0", "6.1.0", "6.3.0", "6.5.0", "6.22.0", "6.29.3", "6.40.0"]


def test_prereleases_only_with_pre() -> None:
    assert "5.0.0-beta.33" not in versions("*")
    assert versions(">=5.0.0-alpha <5.1.0", pre=True) == ["5.0.0-beta.33", "5.0.0"]
    assert "6.2.0-snapshot.1" in versions("6.x", pre=True)
    assert versions("5.0.0-beta.33") == ["5.0.0-beta.33"]  # an exact version is taken as written


def test_lists_with_commas_and_spaces_and_mixed_parts() -> None:
    assert versions("6.1.0, 5.128.0 6.0.0") == ["5.128.0", "6.0.0", "6.1.0"]
    assert versions(">=6.29.0, 5.0.0") == ["5.0.0", "6.29.3", "6.40.0"]


def test_every_k_keeps_both_ends() -> None:
    assert versions("every:5") == ["5.0.0", "6.0.0", "6.29.3", "6.40.0"]
    assert versions("every:4 6.x") == ["6.0.0", "6.22.0", "6.40.0"]
    assert versions("6.x every:1") == versions("6.x")
    items = releases().stable()
    assert [r.version for r in sample(list(items), 100)] == ["5.0.0", "6.40.0"]


@pytest.mark.parametrize("text, says", [
    (">=9.0.0", "no stable release of @clerk/clerk-js matches '>=9.0.0'"),
    (">=5 <<6", "is not an npm version range"),
    ("latest", "is not an npm version range"),
    ("7.7.7", "no published version 7.7.7"),
    ("every:0 6.x", "every:0 is not a sample step"),
    ("every:x", "every:x is not a sample step"),
    ("", "no versions given"),
    ("from:/nonexistent/lock.json", "no such file"),
])
def test_bad_selection_is_one_line(text: str, says: str) -> None:
    with pytest.raises(HarnessError) as err:
        select(text, releases())
    assert says in str(err.value)
    assert "\n" not in str(err.value)


# -- the registry list and its cache -------------------------------------------------------------------------------

class FakeRegistry:
    def __init__(self, answer: object = None, fail: bool = False) -> None:
        self.answer = answer if answer is not None else {
            "versions": ["6.1.0", "5.0.0", "6.0.0", "not-semver"],
            "time": {"5.0.0": "2024-12-13T10:33:55Z", "6.0.0": "2026-05-07T13:16:17Z", "6.1.0": "2026-04-01T00:00:00Z"}}
        self.fail = fail
        self.calls = 0

    def view_versions_time(self, package: str) -> object:
        self.calls += 1
        if self.fail:
            raise BundleError("npm could not reach its registry (ENOTFOUND)")
        return self.answer


def test_release_list_is_in_version_order_with_dates_and_cached(tmp_path: Path) -> None:
    registry = FakeRegistry()
    found = published_releases(PKG, registry, tmp_path, clock=lambda: 1000.0)
    assert [r.version for r in found.items] == ["5.0.0", "6.0.0", "6.1.0"]  # semver order, not the publish order
    assert found.get("6.0.0").date == "2026-05-07"
    again = published_releases(PKG, registry, tmp_path, clock=lambda: 1000.0 + 60)
    assert registry.calls == 1 and again.items == found.items and not again.stale
    published_releases(PKG, registry, tmp_path, ttl=3600, clock=lambda: 1000.0 + 7200)
    assert registry.calls == 2  # older than the TTL: asked again


def test_release_list_works_offline_from_a_stale_cache(tmp_path: Path) -> None:
    published_releases(PKG, FakeRegistry(), tmp_path, clock=lambda: 0.0)
    offline = published_releases(PKG, FakeRegistry(fail=True), tmp_path, clock=lambda: 10 * 86400.0)
    assert offline.stale and [r.version for r in offline.items] == ["5.0.0", "6.0.0", "6.1.0"]
    with pytest.raises(BundleError, match="ENOTFOUND"):
        published_releases(PKG, FakeRegistry(fail=True), tmp_path / "empty")


def test_a_garbled_registry_answer_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="npm gave no version list"):
        published_releases(PKG, FakeRegistry(answer=["6.0.0"]), tmp_path)


def test_real_registry_lists_clerk_js_with_dates(tmp_path: Path) -> None:
    from harness.sdks.npm import NpmBundleCache

    found = published_releases(PKG, NpmBundleCache(tmp_path / "npm"), tmp_path)
    stable = [r.version for r in found.stable()]
    assert {"5.0.0", "5.128.0", "6.0.0", "6.1.0"} <= set(stable) and len(stable) > 300
    assert stable.index("5.128.0") + 1 == stable.index("6.0.0")  # the last 5.x, then 6.0.0
    assert found.get("6.1.0").published and json.loads((tmp_path / "registry" / "clerk__clerk-js.json").read_text())


# -- from:PATH -----------------------------------------------------------------------------------------------------

def never() -> Releases:
    raise AssertionError("a lockfile must not need the registry")


@pytest.mark.parametrize("where, version", [
    ("npm-v1/package-lock.json", "5.60.0"),
    ("npm-v2/package-lock.json", "5.101.0"),  # the top-level copy, not a dependency's nested 5.0.0
    ("npm-v3", "6.22.0"),  # a folder: its lockfile
    ("pnpm-v5/pnpm-lock.yaml", "5.128.0"),  # peer suffix _react@18.2.0 dropped
    ("pnpm-v6/pnpm-lock.yaml", "6.1.0"),  # (react@18.2.0) dropped
    ("pnpm-v9/pnpm-lock.yaml", "6.29.3"),  # the root importer, not packages/admin's 6.0.0
    ("yarn-classic/yarn.lock", "5.128.0"),  # two entries: package.json beside it picks ^5.120.0's
    ("yarn-berry/yarn.lock", "6.40.0"),
])
def test_lockfiles_give_the_version_the_project_resolves(where: str, version: str) -> None:
    assert version_from(DATA / where, PKG, never) == version


def test_package_json_range_gives_the_newest_published_match() -> None:
    assert version_from(DATA / "pkgjson" / "package.json", PKG, releases) == "6.1.0"  # ~6.1.0


@pytest.mark.parametrize("content, name, says", [
    ('{"lockfileVersion": 3, "packages": {"": {}}}', "package-lock.json", "is not in it"),
    ('{"lockfileVersion": 3, "packages": {"node_modules/@clerk/clerk-js": {"link": true}}}', "package-lock.json",
     "not a published version"),
    ('{"lockfileVersion": 3,', "package-lock.json", "not valid JSON"),
    ("lockfileVersion: '9.0'\nimporters:\n  .: {}\n", "pnpm-lock.yaml", "is not in it"),
    ("lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      '@clerk/clerk-js':\n"
     "        specifier: link:../clerk\n        version: link:../clerk\n", "pnpm-lock.yaml", "not a published version"),
    ("a: [", "pnpm-lock.yaml", "not valid YAML"),
    ('{"dependencies": {"@clerk/clerk-js": "latest"}}', "package.json", "not a version range"),
    ('{"dependencies": {"@clerk/clerk-js": "file:../clerk-js"}}', "package.json", "not a published version range"),
    ('{"dependencies": {"@clerk/clerk-js": "^9.0.0"}}', "package.json", "no published stable release"),
    ('{"dependencies": {"react": "^18"}}', "package.json", "is not among its dependencies"),
])
def test_unresolvable_is_one_line(tmp_path: Path, content: str, name: str, says: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(HarnessError) as err:
        version_from(tmp_path / name, PKG, releases)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_several_nested_copies_and_no_own_one_is_refused() -> None:
    with pytest.raises(HarnessError, match=r"several versions \(5.128.0, 6.1.0\)"):
        version_from(DATA / "nested-only", PKG, never)


def test_a_folder_without_a_lockfile_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="no package-lock.json"):
        version_from(tmp_path, PKG, never)
