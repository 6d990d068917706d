"""Unit tests for cargoman.composer.constraints (port of composer/semver's parseConstraints & co).

The expected values below were checked against the real composer/semver library; the
exhaustive comparison lives in test_semver_differential.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cargoman.composer.constraints import (
    Constraint,
    InvalidConstraint,
    MatchAllConstraint,
    MatchNoneConstraint,
    MultiConstraint,
    VersionConstraint,
    parse_constraint,
    satisfies,
)
from cargoman.composer.versions import InvalidVersion, normalize

# --------------------------------------------------------------------------------------------
# parsing: the string form is Composer's (string) $constraint
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # match all
        ("*", "*"),
        ("x", "*"),
        ("@dev", "*"),
        ("*.*", ">= 0.0.0.0-dev"),
        ("v*", ">= 0.0.0.0-dev"),
        # operators: a bare version means ==, "<" and ">=" get a -dev suffix to include pre-releases
        ("1.0", "== 1.0.0.0"),
        ("=1.0", "== 1.0.0.0"),
        ("==1.0", "== 1.0.0.0"),
        (">1.0", "> 1.0.0.0"),
        (">=1.0", ">= 1.0.0.0-dev"),
        ("<1.0", "< 1.0.0.0-dev"),
        ("<=1.0", "<= 1.0.0.0"),
        ("!=1.0", "!= 1.0.0.0"),
        ("<>1.0", "!= 1.0.0.0"),
        (">= 1.2.3", ">= 1.2.3.0-dev"),
        ("<1.2.3-beta", "< 1.2.3.0-beta"),
        ("<1.0.0-rc1", "< 1.0.0.0-RC1-dev"),  # the modifier check is case-sensitive on "RC"
        # stability flags
        (">=1.0@dev", ">= 1.0.0.0-dev"),
        (">1.0@beta", "> 1.0.0.0-beta"),
        ("1.0@dev", "== 1.0.0.0"),
        # caret
        ("^1.2.3", "[>= 1.2.3.0-dev < 2.0.0.0-dev]"),
        ("^0.3", "[>= 0.3.0.0-dev < 0.4.0.0-dev]"),
        ("^0.0.3", "[>= 0.0.3.0-dev < 0.0.4.0-dev]"),
        ("^1.2.3-beta.2", "[>= 1.2.3.0-beta2 < 2.0.0.0-dev]"),
        ("^2.x-dev", "[>= 2.9999999.9999999.9999999-dev < 3.0.0.0-dev]"),
        # tilde
        ("~1", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("~1.2", "[>= 1.2.0.0-dev < 2.0.0.0-dev]"),
        ("~1.2.3", "[>= 1.2.3.0-dev < 1.3.0.0-dev]"),
        ("~1.2-beta", "[>= 1.2.0.0-beta < 2.0.0.0-dev]"),
        ("~2.1.x-dev", "[>= 2.1.9999999.9999999-dev < 2.2.0.0-dev]"),
        # wildcards
        ("1.*", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("1.2.*", "[>= 1.2.0.0-dev < 1.3.0.0-dev]"),
        ("v1.2.x", "[>= 1.2.0.0-dev < 1.3.0.0-dev]"),
        ("0.*", "< 1.0.0.0-dev"),
        # hyphen ranges: a partial upper bound includes everything that starts with it
        ("1.0 - 2.0", "[>= 1.0.0.0-dev < 2.1.0.0-dev]"),
        ("1 - 2", "[>= 1.0.0.0-dev < 3.0.0.0-dev]"),
        ("1.2.3 - 2.3.4.5", "[>= 1.2.3.0-dev <= 2.3.4.5]"),
        ("1.2 - 2.3.0", "[>= 1.2.0.0-dev <= 2.3.0.0]"),
        # branches, #refs and aliases
        ("dev-main", "== dev-main"),
        ("dev-main#abc123", "== dev-main"),
        ("1.0.x-dev#abc", "== 1.0.9999999.9999999-dev"),
        ("foo-dev", "== dev-foo"),
        ("master", "== dev-master"),
        ("1.0 as 2.0", "== 1.0.0.0"),
        # AND / OR
        (">=1.0 <2.0", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        (">=1.0,<2.0", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        (">=1.0, <2.0", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("1.0 | 2.0", "[== 1.0.0.0 || == 2.0.0.0]"),
        ("^1.0 || ^3.0", "[[>= 1.0.0.0-dev < 2.0.0.0-dev] || [>= 3.0.0.0-dev < 4.0.0.0-dev]]"),
        ("^1.0 || ^2.0", "[>= 1.0.0.0-dev < 3.0.0.0-dev]"),  # contiguous OR groups are merged
        (
            "^1.2 || ~2.0@dev, !=2.0.3",
            "[[>= 1.2.0.0-dev < 2.0.0.0-dev] || [>= 2.0.0.0-dev < 3.0.0.0-dev != 2.0.3.0]]",
        ),
        ("  ^1.0  ", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
    ],
)
def test_parse_constraint(text: str, expected: str) -> None:
    constraint = parse_constraint(text)
    assert str(constraint) == expected
    assert constraint.get_pretty_string() == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "^",
        ">=",
        "1.0 -",
        "||",
        "^1.0 ||",
        "> =1.0",
        "=> 1.0",
        "1.0 ||| 2.0",
        "abc",
        "!1.0",
        "~>1.0",
        "1.0 - 2.0 - 3.0",
        "foo bar",
        ">=1.0 <",
    ],
)
def test_parse_constraint_rejects_what_composer_rejects(text: str) -> None:
    with pytest.raises(InvalidConstraint):
        parse_constraint(text)


def test_tilde_arrow_error_message() -> None:
    with pytest.raises(InvalidConstraint, match='Invalid operator "~>", you probably meant to use the "~"'):
        parse_constraint("~>1.0")


def test_invalid_constraint_is_a_value_error() -> None:
    assert issubclass(InvalidConstraint, ValueError)


def test_parsed_constraints_are_cached() -> None:
    assert parse_constraint("^1.0 || ^3.0") is parse_constraint("^1.0 || ^3.0")


def test_constraint_classes() -> None:
    assert isinstance(parse_constraint("*"), MatchAllConstraint)
    assert isinstance(parse_constraint("1.0"), VersionConstraint)
    caret = parse_constraint("^1.0")
    assert isinstance(caret, MultiConstraint) and caret.conjunctive
    either = parse_constraint("1.0 || 3.0")
    assert isinstance(either, MultiConstraint) and either.disjunctive
    assert isinstance(MultiConstraint.create([]), MatchAllConstraint)
    single = VersionConstraint(">", "1.0.0.0")
    assert MultiConstraint.create([single]) is single
    with pytest.raises(ValueError):
        MultiConstraint([single])
    with pytest.raises(ValueError, match="Invalid operator"):
        VersionConstraint("=>", "1.0.0.0")


# --------------------------------------------------------------------------------------------
# Semver::satisfies
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.2.3", "^1.2", True),
        ("2.0.0", "^1.2", False),
        ("1.2.3", "~1.3", False),
        ("1.3.5", "~1.3", True),
        ("1.0.0", "1.0.*", True),
        ("1.1.0", "1.0.*", False),
        ("1.5", "1.0 - 2.0", True),
        ("2.0.5", "1.0 - 2.0", True),
        ("2.1.0", "1.0 - 2.0", False),
        ("v1.0.0", "1.0.0", True),
        ("1.0.0", "1.0.0.0", True),
        ("1.0", "=1.0.0", True),
        ("2.0.0", ">=1.0 <2.0 || >=3.0", False),
        ("3.1", ">=1.0 <2.0 || >=3.0", True),
        ("1.0.0", "!=1.0.0 || 1.0.0", True),
        # stability is not filtered: pre-releases of the lower bound are inside ^ and >= ranges ...
        ("2.0.0-beta1", "^2.0", True),
        ("1.0.0-RC1", ">=1.0", True),
        ("1.0.0-RC1", ">1.0", False),
        # ... and pre-releases of the upper bound are outside "<"
        ("2.0.0-beta1", "^1.0", False),
        ("1.0.0-beta", "<1.0", False),
        ("1.0.0", "<1.0", False),
        # branches only match themselves (or * / != / OR alternatives)
        ("dev-main", "dev-main", True),
        ("dev-main", "dev-develop", False),
        ("dev-main", "*", True),
        ("dev-main", ">=1.0", False),
        ("dev-main", "!=1.0", True),
        ("dev-main", "^1.0 || dev-main", True),
        ("master", "dev-master", True),
        ("dev-main#abc", "dev-main", False),  # as a version, "#abc" is part of the branch name
        # numeric dev branches are versions
        ("1.0.x-dev", "1.0.*", True),
        ("1.x-dev", "^1.0", True),
        ("2.x-dev", "^1.0", False),
    ],
)
def test_satisfies(version: str, constraint: str, expected: bool) -> None:
    assert satisfies(version, constraint) is expected
    assert parse_constraint(constraint).matches_version(normalize(version)) is expected


def test_satisfies_raises_for_invalid_input() -> None:
    with pytest.raises(InvalidVersion):
        satisfies("not a version", "*")
    with pytest.raises(InvalidConstraint):
        satisfies("1.0.0", "foo bar")


# --------------------------------------------------------------------------------------------
# constraint against constraint (Composer's matches(): do the two intersect?)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (">=1.0", "<1.0", False),  # 1.0 >= 1.0, but 1.0 is outside "< 1.0"
        (">=1.0", "<=1.0", True),
        ("<1.0", ">=1.0", False),
        ("^1.0", "^2.0", False),
        ("^1.0", "1.5.*", True),
        ("^1.0 || ^3.0", ">=2.0 <4.0", True),
        (">=2.0 <4.0", "^1.0 || ^3.0", True),
        (">=1.0 <2.0", "<1.0 || >2.0", False),
        ("dev-main", "dev-main", True),
        ("dev-main", ">=1.0", False),
        ("!=1.0", ">=1.0", True),
        ("!=1.0", "1.0", False),
        ("*", "dev-main", True),
    ],
)
def test_constraint_matches_constraint(left: str, right: str, expected: bool) -> None:
    assert parse_constraint(left).matches(parse_constraint(right)) is expected


def test_match_all_and_match_none() -> None:
    anything = VersionConstraint("==", "1.0.0.0")
    assert MatchAllConstraint().matches(anything)
    assert MatchAllConstraint().matches_version("dev-foo")
    assert not MatchNoneConstraint().matches(anything)
    assert not MatchNoneConstraint().matches_version("1.0.0.0")
    assert str(MatchNoneConstraint()) == "[]"
    # a VersionConstraint asks the other side when that is not a plain constraint
    assert anything.matches(MatchAllConstraint())
    assert not anything.matches(MatchNoneConstraint())


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

_number = st.integers(min_value=0, max_value=4).map(str)
_version = st.builds(
    lambda parts, stability: ".".join(parts) + stability,
    st.lists(_number, min_size=1, max_size=4),
    st.sampled_from(["", "", "-beta1", "-RC2", "-alpha", "-dev", "-patch1"]),
)
_atom = st.one_of(
    st.builds(
        lambda op, v: op + v, st.sampled_from(["", "=", "==", "<", "<=", ">", ">=", "!=", "<>"]), _version
    ),
    st.builds(lambda op, v: op + v, st.sampled_from(["^", "~"]), _version),
    st.builds(lambda v, w: f"{v} - {w}", _version, _version),
    st.builds(lambda v: v + ".*", st.lists(_number, min_size=1, max_size=3).map(".".join)),
    st.sampled_from(["*", "dev-main", "dev-feature", "1.x-dev", "2.0.x-dev", "@dev", ">=1.0@beta"]),
)
_constraint = st.builds(
    lambda groups: " || ".join(", ".join(group) for group in groups),
    st.lists(st.lists(_atom, min_size=1, max_size=3), min_size=1, max_size=3),
)
_any_version = st.one_of(_version, st.sampled_from(["dev-main", "dev-feature", "1.x-dev", "2.0.x-dev"]))


@given(_any_version, _constraint)
def test_fast_path_agrees_with_composer_matches(version: str, text: str) -> None:
    constraint: Constraint = parse_constraint(text)
    normalized = normalize(version)
    generic = constraint.matches(VersionConstraint("==", normalized))
    assert constraint.matches_version(normalized) is generic
    assert satisfies(version, text) is generic


@given(_version)
def test_a_version_satisfies_itself(version: str) -> None:
    assert satisfies(version, version)
    assert satisfies(version, "==" + version)
    assert not satisfies(version, "!=" + version)
    assert satisfies(version, ">=" + version)
    assert satisfies(version, "<=" + version)
