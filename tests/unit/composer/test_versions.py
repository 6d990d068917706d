"""Unit tests for cargoman.composer.versions (port of composer/semver's VersionParser & co).

The expected values below were checked against the real composer/semver library; the
exhaustive comparison lives in test_semver_differential.py.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cargoman.composer.versions import (
    InvalidVersion,
    branch_version,
    compare,
    normalize,
    normalize_branch,
    normalize_default_branch,
    parse_numeric_alias_prefix,
    parse_stability,
    php_version_compare,
    sort_key,
    sort_versions,
    tag_version,
    version_compare,
)

# --------------------------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # plain numbers are padded to four parts
        ("1.0.0", "1.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("0", "0.0.0.0"),
        ("1.0", "1.0.0.0"),
        # v prefix
        ("v1.0.0", "1.0.0.0"),
        ("V2.1", "2.1.0.0"),
        # stability suffixes, with numbers, any delimiter, any case
        ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
        ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0-rc1", "1.0.0.0-RC1"),
        ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
        ("1.0-dev", "1.0.0.0-dev"),
        ("10.4.13-beta", "10.4.13.0-beta"),
        ("10.4.13beta2", "10.4.13.0-beta2"),
        ("10.4.13beta.2", "10.4.13.0-beta2"),
        ("v1.13.11-beta.0", "1.13.11.0-beta0"),
        ("1.13.11.0-beta0", "1.13.11.0-beta0"),
        ("10.4.13-b", "10.4.13.0-beta"),
        ("10.4.13-b5", "10.4.13.0-beta5"),
        ("1.0.0-alpha", "1.0.0.0-alpha"),
        ("1.0.0a2", "1.0.0.0-alpha2"),
        ("1.0p1", "1.0.0.0-patch1"),
        ("1.0.0-stable", "1.0.0.0"),
        ("1.0.0-STABLE", "1.0.0.0-stable"),  # only lower-case "stable" is dropped
        ("1.0-stable-dev", "1.0.0.0"),  # ... and it takes a -dev suffix with it
        # semver build metadata is dropped
        ("1.0.0+foo", "1.0.0.0"),
        ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
        ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
        ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
        # zero padding is kept
        ("00.01.03.04", "00.01.03.04"),
        ("0700", "0700.0.0.0"),
        # date versions
        ("2010.01", "2010.01.0.0"),
        ("2010.01.02", "2010.01.02.0"),
        ("v20100102", "20100102"),
        ("2010-01-02", "2010.01.02"),
        ("2010-01-02.5", "2010.01.02.5"),
        ("20100102-203040", "20100102.203040"),
        ("20100102203040-10", "20100102203040.10"),
        ("20100102-203040-p1", "20100102.203040-patch1"),
        # branches
        ("dev-master", "dev-master"),
        ("master", "dev-master"),
        ("trunk", "dev-trunk"),
        ("default", "dev-default"),
        ("dev-feature/foo", "dev-feature/foo"),
        ("DEV-FOOBAR", "dev-FOOBAR"),
        ("dev-foo bar", "dev-foo bar"),
        ("1.x-dev", "1.9999999.9999999.9999999-dev"),
        ("2.1.x-dev", "2.1.9999999.9999999-dev"),
        ("041.x-dev", "041.9999999.9999999.9999999-dev"),
        # aliases and stability flags are stripped
        ("dev-master as 1.0.0", "dev-master"),
        ("1.0.0+foo as 2.0", "1.0.0.0"),
        ("1.0.0+foo@dev", "1.0.0.0"),
        ("dev-load-varnish@stable", "dev-load-varnish"),
        # surrounding whitespace
        (" 1.0.0", "1.0.0.0"),
        ("1.0.0 ", "1.0.0.0"),
    ],
)
def test_normalize(version: str, expected: str) -> None:
    assert normalize(version) == expected


@pytest.mark.parametrize(
    "version",
    [
        "",
        "a",
        "1.0.0-meh",
        "1.0.0.0.0",
        "feature-foo",
        "1.0.0+foo bar",
        "1.0.1-SNAPSHOT",
        "1.0.0<1.0.5-dev",
        "foo bar-dev",
        "1.0 .2",
        " as ",
        " @stable",
        "main",
        "1.0#abc",
        "100000.0.0",
    ],
)
def test_normalize_rejects_what_composer_rejects(version: str) -> None:
    with pytest.raises(InvalidVersion, match="Invalid version string"):
        normalize(version)


def test_normalize_is_not_idempotent_for_date_versions() -> None:
    # a normalized date version looks like a classical one and gets padded the second time
    assert normalize("2010-01-02") == "2010.01.02"
    assert normalize("2010.01.02") == "2010.01.02.0"


def test_normalize_alias_error_messages() -> None:
    with pytest.raises(InvalidVersion, match="the alias source must be an exact version"):
        normalize("foo as 1.0")
    with pytest.raises(InvalidVersion, match="the alias must be an exact version"):
        normalize("foo", "1.0 as foo")


def test_invalid_version_is_a_value_error() -> None:
    assert issubclass(InvalidVersion, ValueError)


# --------------------------------------------------------------------------------------------
# branches, stability, aliases
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("v1.x", "1.9999999.9999999.9999999-dev"),
        ("v1.*", "1.9999999.9999999.9999999-dev"),
        ("v1.0", "1.0.9999999.9999999-dev"),
        ("2.0", "2.0.9999999.9999999-dev"),
        ("v1.0.x", "1.0.9999999.9999999-dev"),
        ("v1.0.3.*", "1.0.3.9999999-dev"),
        ("v2.4.0", "2.4.0.9999999-dev"),
        ("2.4.4", "2.4.4.9999999-dev"),
        ("2.x", "2.9999999.9999999.9999999-dev"),
        ("master", "dev-master"),
        ("main", "dev-main"),
        ("feature-a", "dev-feature-a"),
        ("1.2.3.4.5", "dev-1.2.3.4.5"),
    ],
)
def test_normalize_branch(branch: str, expected: str) -> None:
    assert normalize_branch(branch) == expected


def test_normalize_default_branch() -> None:
    assert normalize_default_branch("dev-master") == "9999999-dev"
    assert normalize_default_branch("dev-trunk") == "9999999-dev"
    assert normalize_default_branch("dev-main") == "dev-main"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1", "stable"),
        ("1.0", "stable"),
        ("3.2.1", "stable"),
        ("v3.2.1", "stable"),
        ("v2.0.x-dev", "dev"),
        ("v2.0.x-dev#abc123", "dev"),
        ("v2.0.x-dev#trunk/@123", "dev"),
        ("3.0-RC2", "RC"),
        ("dev-master", "dev"),
        ("3.1.2-dev", "dev"),
        ("dev-feature+issue-1", "dev"),
        ("3.1.2-p1", "stable"),
        ("3.1.2-pl2", "stable"),
        ("3.1.2-patch", "stable"),
        ("3.1.2-alpha5", "alpha"),
        ("3.1.2-beta", "beta"),
        ("2.0B1", "beta"),
        ("1.2.0a1", "alpha"),
        ("1.2_a1", "alpha"),
        ("2.0.0rc1", "RC"),
        ("1.0.0-alpha11+cs-1.1.0", "alpha"),
        ("1.0.0-alpha-11+cs-1.1.0", "alpha"),
        ("1.0.0-alpha.11+cs-1.1.0", "alpha"),
    ],
)
def test_parse_stability(version: str, expected: str) -> None:
    assert parse_stability(version) == expected


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("0.x-dev", "0."),
        ("1.0.x-dev", "1.0."),
        ("1.x-dev", "1."),
        ("1.2-dev", "1.2."),
        ("1.2.3-dev", "1.2.3."),
        ("1.X-DEV", "1."),
        ("dev-master", None),
        ("1.x", None),
        ("1.0.0", None),
    ],
)
def test_parse_numeric_alias_prefix(branch: str, expected: str | None) -> None:
    assert parse_numeric_alias_prefix(branch) == expected


# --------------------------------------------------------------------------------------------
# registry helpers for git refs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("v1.0.0", ("1.0.0", "1.0.0.0")),
        ("V1.0.0", ("1.0.0", "1.0.0.0")),
        ("1.0.0", ("1.0.0", "1.0.0.0")),
        ("release-2.0.0", ("2.0.0", "2.0.0.0")),
        ("release-v2.1", ("2.1", "2.1.0.0")),
        ("1.2.3-beta1", ("1.2.3-beta1", "1.2.3.0-beta1")),
        ("v1.2.3-RC2", ("1.2.3-RC2", "1.2.3.0-RC2")),
        ("2.0.0+build.7", ("2.0.0+build.7", "2.0.0.0")),
        ("2013.01.02", ("2013.01.02", "2013.01.02.0")),
        ("1.0.0-dev", None),
        ("2.x-dev", None),
        ("dev-main", None),
        ("master", None),
        ("latest", None),
        ("v", None),
        ("foo-1.0", None),
    ],
)
def test_tag_version(tag: str, expected: tuple[str, str] | None) -> None:
    assert tag_version(tag) == expected


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("main", ("dev-main", "dev-main")),
        ("master", ("dev-master", "dev-master")),
        ("feature/login", ("dev-feature/login", "dev-feature/login")),
        ("2.x", ("2.x-dev", "2.9999999.9999999.9999999-dev")),
        ("1.0", ("1.0.x-dev", "1.0.9999999.9999999-dev")),
        ("1.0.x", ("1.0.x-dev", "1.0.9999999.9999999-dev")),
        ("v2.x", ("v2.x-dev", "2.9999999.9999999.9999999-dev")),
        ("1.2.3", ("1.2.3.x-dev", "1.2.3.9999999-dev")),
        # Composer (2.6+) replaces "#" so that the version is not read as "branch#ref"
        ("hotfix#12", ("dev-hotfix+12", "dev-hotfix+12")),
    ],
)
def test_branch_version(branch: str, expected: tuple[str, str]) -> None:
    assert branch_version(branch) == expected


@pytest.mark.parametrize("branch", ["a|b", "foo bar", "x,|y"])
def test_branch_version_rejects_names_composer_skips(branch: str) -> None:
    with pytest.raises(InvalidVersion):
        branch_version(branch)


# --------------------------------------------------------------------------------------------
# PHP version_compare()
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0.0", "1.0.0", 0),
        ("1.0", "1.0.0", -1),  # a missing part is smaller
        ("1.0.1", "1.0.0", 1),
        ("1.10", "1.9", 1),  # numeric, not lexicographic
        ("1.0-dev", "1.0", -1),
        ("1.0-dev", "1.0-alpha", -1),
        ("1.0alpha", "1.0a", 0),
        ("1.0b1", "1.0beta1", 0),
        ("1.0RC1", "1.0rc1", 0),
        ("1.0-beta", "1.0-RC", -1),
        ("1.0-RC1", "1.0", -1),
        ("1.0pl1", "1.0", 1),
        ("1.0-patch1", "1.0", 1),  # "patch" counts as "p"
        ("1.0-foo", "1.0-dev", -1),  # unknown words sort before dev
        ("1.0#1", "1.0", 1),
        ("1.0.0.0-beta2", "1.0.0.0-beta10", -1),
        ("1.0.", "1.0", -1),
        ("", "1.0", -1),
        ("", "", 0),
        ("9223372036854775807", "99999999999999999999", 0),  # strtol() saturates
        ("1.0\x00junk", "1.0", 0),  # C strings stop at NUL
    ],
)
def test_php_version_compare(a: str, b: str, expected: int) -> None:
    assert php_version_compare(a, b) == expected
    assert php_version_compare(b, a) == -expected


def test_version_compare_operators() -> None:
    assert version_compare("1.0", "2.0", "<")
    assert version_compare("1.0", "2.0", "lt")
    assert version_compare("1.0", "1.0", "<=")
    assert version_compare("2.0", "1.0", "gt")
    assert version_compare("1.0", "1.0", "ge")
    assert version_compare("1.0", "1.0.0", "ne")
    assert version_compare("1.0", "1.0", "=")
    assert version_compare("1.0", "1.0", "eq")
    assert not version_compare("1.0", "1.0", "<>")
    with pytest.raises(ValueError):
        version_compare("1.0", "1.0", "~")


# --------------------------------------------------------------------------------------------
# Comparator / sorting
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "op", "b", "expected"),
    [
        ("1.25.0.0", ">", "1.24.0.0", True),
        ("1.25.0.0", "<", "1.24.0.0", False),
        ("1.0.0.0", ">=", "1.0.0.0", True),
        ("1.0.0.0", "==", "1.0.0.0", True),
        ("1.0.0.0", "=", "1.0.0.0", True),
        ("1.0.0.0", "!=", "1.0.0.0", False),
        ("1.0.0.0", "<>", "1.0.0.1", True),
        ("1.0.0.0-beta1", "<", "1.0.0.0", True),
        ("1.0.0.0-dev", "<", "1.0.0.0-alpha1", True),
        ("dev-foo", "==", "dev-foo", True),
        ("dev-foo", "==", "dev-bar", False),
        ("dev-foo", "<", "dev-bar", False),
        ("dev-foo", "!=", "dev-bar", True),
        # the Comparator compares branches to numbers (Semver::satisfies does not)
        ("dev-foo", "<", "1.0.0.0", True),
        ("1.0.0.0", ">", "dev-foo", True),
    ],
)
def test_compare(a: str, op: str, b: str, expected: bool) -> None:
    assert compare(a, b, op) is expected


def test_compare_rejects_unknown_operator() -> None:
    with pytest.raises(ValueError, match="Invalid operator"):
        compare("1.0.0.0", "1.0.0.0", "=>")


def test_sort_versions_like_semver_sort() -> None:
    versions = ["1.0", "0.1", "0.1", "3.2.1", "2.4.0-alpha", "2.4.0"]
    assert sort_versions(versions) == ["0.1", "0.1", "1.0", "2.4.0-alpha", "2.4.0", "3.2.1"]
    assert sort_versions(versions, reverse=True) == ["3.2.1", "2.4.0", "2.4.0-alpha", "1.0", "0.1", "0.1"]


def test_sort_versions_keeps_the_input_spelling_and_handles_branches() -> None:
    versions = ["v1.0.0", "dev-master", "1.0.0-beta1", "2.x-dev", "2.0"]
    # dev-master counts as 9999999-dev, the newest of all; 2.x-dev is 2.9999999.9999999.9999999-dev
    assert sort_versions(versions) == ["1.0.0-beta1", "v1.0.0", "2.0", "2.x-dev", "dev-master"]


def test_sort_versions_reproduces_php_order_of_incomparable_branches() -> None:
    # Composer cannot order two different dev- branches; PHP's usort then decides
    assert sort_versions(["dev-b", "dev-a", "1.0", "dev-c"]) == ["dev-c", "dev-a", "dev-b", "1.0"]


def test_sort_versions_rejects_invalid_versions() -> None:
    with pytest.raises(InvalidVersion):
        sort_versions(["1.0", "not a version"])


def test_sort_key_orders_normalized_versions() -> None:
    versions = ["2.0.0.0", "1.0.0.0-dev", "1.0.0.0", "1.0.0.0-RC1", "1.0.0.0-beta2", "1.0.0.0-patch1"]
    assert sorted(versions, key=sort_key) == [
        "1.0.0.0-dev",
        "1.0.0.0-beta2",
        "1.0.0.0-RC1",
        "1.0.0.0",
        "1.0.0.0-patch1",
        "2.0.0.0",
    ]


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

_number = st.integers(min_value=0, max_value=300).map(str)
_classic_versions = st.builds(
    lambda prefix, parts, stability, dev: prefix + ".".join(parts) + stability + dev,
    st.sampled_from(["", "v", "V"]),
    st.lists(_number, min_size=1, max_size=4),
    st.sampled_from(["", "-alpha", "-beta2", "-RC1", "RC3", "-patch1", ".pl2", "-b", "-stable", "a1"]),
    st.sampled_from(["", "", "-dev", ".dev"]),
)


@given(_classic_versions)
def test_normalize_is_idempotent_on_classical_versions(version: str) -> None:
    normalized = normalize(version)
    assert normalize(normalized) == normalized
    if "stable" not in version:  # "-stable-dev" normalizes to a stable version, see test_normalize
        assert parse_stability(normalized) == parse_stability(version)


@given(_classic_versions, _classic_versions)
def test_version_compare_is_antisymmetric_on_normalized_versions(a: str, b: str) -> None:
    na, nb = normalize(a), normalize(b)
    assert php_version_compare(na, nb) == -php_version_compare(nb, na)
    assert compare(na, nb, "<") == compare(nb, na, ">")


@given(st.lists(_classic_versions, max_size=25))
def test_sort_versions_orders_non_branch_versions(versions: list[str]) -> None:
    result = sort_versions(versions)
    assert sorted(result) == sorted(versions)
    normalized = [normalize(version) for version in result]
    assert all(not compare(later, earlier, "<") for earlier, later in itertools.pairwise(normalized))
