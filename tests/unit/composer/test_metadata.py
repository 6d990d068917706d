"""Composer 2 metadata documents and minification."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cargoman.composer.metadata import (
    MINIFIED_FORMAT,
    expand,
    manifest_from_composer_json,
    minify,
    package_document,
    root_document,
    version_entry,
)


def test_minify_keeps_first_entry_whole_and_only_differences_after() -> None:
    versions = [
        {"name": "a/b", "version": "2.0.0", "require": {"php": ">=8.1"}, "license": ["MIT"]},
        {"name": "a/b", "version": "1.0.0", "require": {"php": ">=7.4"}, "license": ["MIT"]},
        {"name": "a/b", "version": "0.9.0", "license": ["MIT"]},
    ]
    minified = minify(versions)
    assert minified[0] == versions[0]
    assert minified[1] == {"version": "1.0.0", "require": {"php": ">=7.4"}}
    assert minified[2] == {"version": "0.9.0", "require": "__unset"}
    assert expand(minified) == versions


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)


def test_minify_treats_true_and_one_as_different_values() -> None:
    versions = [{"a": 1, "b": [1]}, {"a": True, "b": [True]}]
    assert minify(versions)[1] == {"a": True, "b": [True]}


@settings(deadline=None, max_examples=150)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), json_values, max_size=4), max_size=6))
def test_expand_inverts_minify(versions: list[dict[str, object]]) -> None:
    import json

    canonical = [json.dumps(v, sort_keys=True) for v in versions]
    assert [json.dumps(v, sort_keys=True) for v in expand(minify(versions))] == canonical


def test_manifest_publishes_only_known_composer_keys() -> None:
    manifest = manifest_from_composer_json(
        {"name": "a/b", "version": "9.9.9", "require": {"php": "^8"}, "repositories": [{"url": "secret"}]}
    )
    assert manifest == {"require": {"php": "^8"}}


def test_version_entry_and_documents() -> None:
    entry = version_entry(
        name="a/b",
        version="dev-main",
        version_normalized="dev-main",
        manifest={"type": "library"},
        dist_url="https://r.test/dist/a/b/dev-main.zip",
        reference="abc",
        dist_sha1="f" * 40,
        released_at="2026-01-01T00:00:00Z",
        default_branch=True,
    )
    assert entry["dist"] == {
        "type": "zip",
        "url": "https://r.test/dist/a/b/dev-main.zip",
        "reference": "abc",
        "shasum": "f" * 40,
    }
    assert entry["default-branch"] is True and entry["time"] == "2026-01-01T00:00:00Z"
    document = package_document("a/b", [entry])
    assert document["minified"] == MINIFIED_FORMAT and document["packages"]["a/b"] == [entry]
    root = root_document(base_url="https://r.test", available_packages=["z/z", "a/b"])
    assert root["metadata-url"] == "https://r.test/p2/%package%.json"
    assert root["available-packages"] == ["a/b", "z/z"]
    assert root["notify-batch"] == "https://r.test/downloads"
