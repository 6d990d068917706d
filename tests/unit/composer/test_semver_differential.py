"""Differential test: cargoman.composer.{versions,constraints} against the real composer/semver.

Thousands of deterministic (seeded) version/constraint pairs, branch names, sort lists and
version_compare() inputs are sent in ONE batch to ONE ``php`` process running
``semver_oracle.php`` on top of the installed composer/semver library (Debian package
``php-composer-semver``); every answer must agree with the Python port.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cargoman.composer.constraints import InvalidConstraint, VersionConstraint, parse_constraint, satisfies
from cargoman.composer.versions import (
    InvalidVersion,
    branch_version,
    compare,
    normalize,
    normalize_branch,
    parse_numeric_alias_prefix,
    parse_stability,
    php_version_compare,
    sort_versions,
)

PHP = Path("/usr/bin/php")
SEMVER_AUTOLOAD = Path("/usr/share/php/Composer/Semver/autoload.php")
ORACLE = Path(__file__).with_name("semver_oracle.php")

SEED = 20240611
N_PAIRS = 7000
N_INVALID_PAIRS = 400
MAX_REPORTED = 20


# --------------------------------------------------------------------------------------------
# deterministic input generators
# --------------------------------------------------------------------------------------------

STABILITY_WORDS = [
    "stable", "beta", "b", "RC", "rc", "alpha", "a", "patch", "pl", "p",
    "Beta", "ALPHA", "STABLE", "Rc", "dev",
]  # fmt: skip
DEV_SUFFIXES = ["-dev", ".dev", "dev", "-DEV", "_dev"]
BUILD_METADATA = ["+build.1", "+20130313144700", "+exp.sha.5114f85", "+", "+a+b"]
STABILITY_FLAGS = ["@dev", "@beta", "@alpha", "@RC", "@stable", "@DEV", "@rc", "@foo", "@STABLE", "@Stable"]
BRANCH_NAMES = [
    "main", "master", "trunk", "default", "develop", "feature/foo", "feature-x", "bugfix/JIRA-12",
    "release/1.0", "1.x", "2.x", "v2.x", "1.0.x", "1.0", "v1.0", "1", "1.2.3", "1.2.3.4", "1.2.3.4.5",
    "2.*", "2.X", "1.x.x", "x", "v", "hotfix#12", "foo bar", "a|b", "a,b", "a||b", " 1.0 ", "dev-foo",
    "foo-dev", "1.0-dev", "9999999", "09.01", "1.99999990", "2.1.x", "v3.0.x", "trunk-2", "feature@x",
    "Ünïcode", "1.0@dev", "foo as bar", "",
]  # fmt: skip
WEIRD_VERSIONS = [
    "", " ", "1.0.0.0.0", "a.b.c", "1.0.0-", "1.0.0-foo", "x", "1..0", "1,0", "1 0", "#", "1.0#abc",
    "é", "1.0-é", "\uff11.0", "1.0\n", "\t1.0 ", "1.0-beta-1", "1.0.0-rc.1", "1.0.0-alpha.beta", "-1.0",
    "1.0-", "v", "V1", "vv1", "1.0.0-beta.11", "1.0.0+beta", "1.0.0-0.3.7", "1.0.0-x.7.z.92",
    "100000", "100000.0", "123456", "1.0.0.0-dev", "2.9999999.9999999.9999999-dev", "9999999-dev",
    "1.0.0.0-patch1", "1.0.0.0-RC1-dev", "20130313144700", "2013-03-13 14:47", "2013.03.13",
    "201303131447001234", "2013-03-13", "2013.03.13.1447", "1.0 as 2.0", "dev-master as 1.0.x-dev",
    "1.0.x-dev as 1.0.0", "foo as 1.0", "1.0 as foo", "1.0@dev as 2.0", "dev-main#abc", "master@dev",
    "1.0.0@stable", "1.0.0-stable", "1.0.0-STABLE1", "1.0-pl3", "1.0p3", "1.0.0a", "1.0.0b2", "1.0rc1",
    "1.0.0-alpha1-dev", "1.0.0.alpha.1", "1.0.0-beta.1.2", "1.0.0-beta1.2-dev", "1_0", "1.0_beta",
    "99999.0", "1.99999999999999999999", "9223372036854775807.0", "00.01.02", "01", "1.0.0.0.x-dev",
    "dev-", "DEV-Foo", "Dev-bar", "1-dev", "1.x-dev", "2.*-dev", "2.X-dev", "1.x.x-dev", "v2.x-dev",
    "feature-dev", "1.0.0-dev-dev", "1.0.0-devx", "\x00", "1.0\x00", "1.0 ", " 1.0", "1.0+build-dev",
    "1.0.0+a-dev", "1.0-beta+exp-dev", "x+-dev", "1.0#ref", "1.0-dev#ref", "dev-x#y",
]  # fmt: skip
INVALID_CONSTRAINTS = [
    "", " ", "^", ">=", "1.0 -", "||", "|", ",", "> =1.0", "=> 1.0", "1.0 ||| 2.0", "abc", "!1.0",
    "1.0 - ", "~", "^^1.0", "<=>1.0", "~>1.0", "~>1.0.0", "1.0 - 2.0 - 3.0", ">1.0 <", "1.0 || ", " || 1.0",
    ">= 1.0, ,<2.0", "1.0 ,, 2.0", "=<1.0", "==1.0.0-", "dev-", "@dev@dev", "1.0@dev@dev", "*@foo",
    "1.0 as", "as 1.0", "1.0 as 2.0 as 3.0", "<>", "!=", ">1.0,", ",>1.0", "1.*.1", "1.x.2", "x.1",
    "^1.0 -dev", "1.0-beta - 2.0-beta", "1.0.0 - 2.0.0-", "ä", "1.0 ä", "~1.0 | |2.0",
]  # fmt: skip
CURATED_CONSTRAINTS = [
    "^1.0 || ^2.0", "~1.0 || ~2.0 || ~3.0", "1.* || 2.*", ">=1 <2 || >=2 <3", "^1.0 || ^2.0 || ^4.0",
    "^0.1 || ^0.2", "1.0 - 1.5 || 1.6 - 2.0", ">=1.0 <=2.0 || >=2.0 <3.0", "^1.0 || ^2.0, !=2.1",
    "^1.2.3", "~1.2.3", "~1.2", "~1", "^0.0.3", "^0.3", "^0", "1.0.*", "1.*.*", "*", "dev-main",
    "dev-main || ^1.0", ">=1.0@dev", "<2.0-beta", ">2.0@stable", "1.0.0 - 2.0.0", "1 - 2", "1.0 - 2.0.0.0",
    "!=1.0", "<>1.0", "==1.0", "=1.0", "1.0.x-dev", "2.x-dev", "~2.x-dev", "^2.x-dev", "~2.1.x-dev",
]  # fmt: skip
CURATED_VERSIONS = [
    "0.1.0", "0.2.5", "0.3.1", "1.0.0", "1.2.3", "1.5", "1.6", "2.0", "2.0.0-beta1", "2.1", "2.1.5",
    "3.0.0", "4.1", "dev-main", "1.0.x-dev", "2.x-dev", "1.0.0-RC1", "2.0.0-dev",
]  # fmt: skip
OPERATORS = ["", "=", "==", "<", "<=", ">", ">=", "!=", "<>"]
AND_GLUES = [" ", ",", ", ", "  ", " , ", " ,"]
OR_GLUES = [" || ", "||", "|", " | ", "  ||  ", "|| "]


def _number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.80:
        return str(rng.randint(0, 3))
    return rng.choice(["00", "01", "10", "123", "99999", "100000", "9999999", "99999999999999999999"])


def gen_numeric(rng: random.Random, max_parts: int = 4) -> str:
    count = rng.choices([1, 2, 3, 4, 5], weights=[15, 30, 35, 15, 5])[0]
    return ".".join(_number(rng) for _ in range(min(count, max_parts + 1)))


def gen_modifier(rng: random.Random) -> str:
    text = ""
    if rng.random() < 0.5:
        text += rng.choice(["", "-", ".", "_", "-", "-"]) + rng.choice(STABILITY_WORDS)
        text += rng.choice(["", "", "1", "2", ".1", "-1", "1.2", "0", "10", ".0.3", "-2-3"])
    if rng.random() < 0.15:
        text += rng.choice(DEV_SUFFIXES)
    return text


def gen_version(rng: random.Random) -> str:
    kind = rng.choices(
        ["classic", "date", "branch", "alias", "normalized", "weird", "garbage"],
        weights=[60, 5, 14, 3, 10, 5, 3],
    )[0]
    if kind == "classic":
        text = rng.choice(["", "", "", "", "v", "V"]) + gen_numeric(rng) + gen_modifier(rng)
        if rng.random() < 0.05:
            text += rng.choice(BUILD_METADATA)
        if rng.random() < 0.05:
            text += rng.choice(STABILITY_FLAGS)
        return text
    if kind == "date":
        year = rng.choice(["2013", "2023", "1999"])
        sep = rng.choice(["", ".", "-", ":"])
        parts = [rng.choice(["01", "12", "31", "00", "5"]) for _ in range(rng.randint(1, 7))]
        return rng.choice(["", "v"]) + year + sep + sep.join(parts) + gen_modifier(rng)
    if kind == "branch":
        return rng.choice(
            [
                "dev-" + rng.choice(BRANCH_NAMES),
                rng.choice(["master", "trunk", "default", "main"]),
                gen_numeric(rng, 3) + rng.choice([".x", ".*", ".X", ""]) + rng.choice(DEV_SUFFIXES),
                rng.choice(["v", ""]) + gen_numeric(rng, 2) + ".x-dev",
            ]
        )
    if kind == "alias":
        return gen_version(rng) + rng.choice([" as ", "  as  ", " AS "]) + gen_version(rng)
    if kind == "normalized":
        stability = rng.choice(["", "", "-dev", "-beta1", "-RC2", "-alpha3-dev", "-patch1", "-stable"])
        return ".".join(_number(rng) for _ in range(4)) + stability
    if kind == "weird":
        return rng.choice(WEIRD_VERSIONS)
    alphabet = "0123456789..--vxX*abdelprtsc@# ,|<>=~^_+"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))


def gen_range_version(rng: random.Random) -> str:
    """Versions as written inside ranges (^, ~, hyphen): numeric, maybe modifiers or .x-dev."""
    text = rng.choice(["", "", "", "v"]) + gen_numeric(rng, 4)
    roll = rng.random()
    if roll < 0.25:
        text += gen_modifier(rng)
    elif roll < 0.32:
        text += rng.choice([".x-dev", ".*-dev", ".X.dev", ".xdev"])
    if rng.random() < 0.03:
        text += rng.choice(BUILD_METADATA)
    return text


def gen_atom(rng: random.Random) -> str:
    kind = rng.choices(
        ["op", "caret", "tilde", "wildcard", "hyphen", "dev", "alias", "flagged", "weird"],
        weights=[30, 15, 15, 10, 10, 7, 3, 8, 1],
    )[0]
    if kind == "op":
        op = rng.choice(OPERATORS)
        operand = gen_version(rng) if rng.random() < 0.3 else gen_range_version(rng)
        return op + rng.choice(["", "", "", " ", "  "]) + operand
    if kind == "caret":
        return "^" + gen_range_version(rng)
    if kind == "tilde":
        return ("~>" if rng.random() < 0.08 else "~") + gen_range_version(rng)
    if kind == "wildcard":
        return rng.choice(
            [
                "*", "x", "X", "*.*", "x.x", "v*", "V*.x", "*.*.*",
                gen_numeric(rng, 3) + rng.choice([".*", ".x", ".X", ".*.*", ".x.*"]),
                "v" + gen_numeric(rng, 2) + ".*",
            ]
        )  # fmt: skip
    if kind == "hyphen":
        return gen_range_version(rng) + rng.choice([" - ", "  -  ", " -", "- ", "-"]) + gen_range_version(rng)
    if kind == "dev":
        return rng.choice(
            [
                "dev-" + rng.choice(BRANCH_NAMES),
                "dev-main#" + rng.choice(["abc123", "", "a#b"]),
                gen_numeric(rng, 2) + rng.choice([".x-dev#abc", ".X-DEV#ref"]),
                "DEV-" + rng.choice(["main", "Feature"]) + "#abc",
                rng.choice(["main-dev", "foo-dev", "feature/x-dev", "foo_bar-dev", "a.b-dev", "ä-dev"]),
                rng.choice(["master", "trunk", "default"]),
                rng.choice(["v", ""]) + gen_numeric(rng, 2) + ".x-dev",
            ]
        )
    if kind == "alias":
        return gen_version(rng) + " as " + gen_version(rng)
    if kind == "flagged":
        return (gen_atom(rng) if rng.random() < 0.8 else "") + rng.choice(STABILITY_FLAGS)
    return rng.choice(INVALID_CONSTRAINTS)


def gen_constraint(rng: random.Random) -> str:
    groups = []
    for _ in range(rng.choices([1, 2, 3], weights=[70, 20, 10])[0]):
        atoms = [gen_atom(rng) for _ in range(rng.choices([1, 2, 3], weights=[60, 30, 10])[0])]
        glue = rng.choice(AND_GLUES)
        groups.append(glue.join(atoms))
    text = rng.choice(OR_GLUES).join(groups)
    if rng.random() < 0.05:
        text = rng.choice([" ", "\t", "\n", " \n"]) + text + rng.choice([" ", "\t", "\n", ""])
    return text


def gen_vc_operand(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return gen_version(rng)
    if roll < 0.7:
        return ".".join(_number(rng) for _ in range(4)) + rng.choice(
            ["", "-dev", "-beta1", "-RC1", "-patch2"]
        )
    alphabet = "0123456789.-_+#abdeplrcRCNx é\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def build_queries(rng: random.Random) -> dict[str, Any]:
    pairs = [[gen_version(rng), gen_constraint(rng)] for _ in range(N_PAIRS)]
    # deliberately invalid versions and constraints
    pairs += [[rng.choice(WEIRD_VERSIONS), gen_constraint(rng)] for _ in range(N_INVALID_PAIRS // 2)]
    pairs += [[gen_version(rng), rng.choice(INVALID_CONSTRAINTS)] for _ in range(N_INVALID_PAIRS // 2)]
    pairs += [[version, constraint] for constraint in CURATED_CONSTRAINTS for version in CURATED_VERSIONS]
    # every weird version / invalid constraint at least once
    pairs += [[version, "*"] for version in WEIRD_VERSIONS]
    pairs += [["1.0.0", constraint] for constraint in INVALID_CONSTRAINTS]

    branches = list(BRANCH_NAMES)
    branches += [gen_version(rng) for _ in range(300)]
    branches += [
        rng.choice(["v", ""]) + gen_numeric(rng, 3) + rng.choice([".x", ".*", ""]) for _ in range(100)
    ]

    aliases = [gen_version(rng) for _ in range(300)]
    aliases += ["2.1.x-dev", "2.x-dev", "2.1-dev", "2.1.3-dev", "dev-master", "1.X-DEV", "1.x", "x-dev"]

    valid_pool: list[str] = []
    while len(valid_pool) < 400:
        candidate = gen_version(rng)
        try:
            normalize(candidate)
        except InvalidVersion:
            continue
        valid_pool.append(candidate)
    # distinct dev-* branches are neither smaller, larger nor equal to each other for Composer, so
    # their order depends on PHP's exact sorting algorithm: mix plenty of them in
    branch_pool = ["dev-" + name for name in BRANCH_NAMES[:30]] + ["dev-master", "master", "2.x-dev"]
    sorts: list[list[str]] = []
    for index in range(300):
        size = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 16, 17, 20, 33, 40, 60])
        branch_share = rng.choice([0.0, 0.1, 0.3, 0.6])
        items = [rng.choice(branch_pool if rng.random() < branch_share else valid_pool) for _ in range(size)]
        if index % 10 == 0 and items:
            items.append(rng.choice(["not a version", "", "1.0 - 2.0"]))  # Semver::sort throws
        sorts.append(items)
    sorts.append([rng.choice(valid_pool) for _ in range(1100)])  # zend_sort's 5-point pivot path

    vc = [[gen_vc_operand(rng), gen_vc_operand(rng)] for _ in range(4000)]
    # numbers beyond PHP_INT_MAX saturate in strtol()
    huge = ["9223372036854775807", "9223372036854775808", "99999999999999999998", "99999999999999999999"]
    vc += [[f"1.{a}", f"1.{b}"] for a in huge for b in huge]

    normalized_pool = [normalize(v) for v in valid_pool]
    cmp = [
        [rng.choice(normalized_pool), rng.choice(OPERATORS[1:]), rng.choice(normalized_pool)]
        for _ in range(3000)
    ]

    intersect = [[gen_constraint(rng), gen_constraint(rng)] for _ in range(2500)]
    # every operator against every operator on the same version hits matchSpecific's special cases
    for target in ["1.0", "1.0.0.0-dev", "dev-main", "1.0@dev", "1.0-beta1"]:
        intersect += [[op1 + target, op2 + target] for op1 in OPERATORS for op2 in OPERATORS]
    intersect += [["^1.0 || ^3.0", ">=2.0 <4.0"], [">=1.0 <2.0", "<1.0 || >2.0"], ["<1.0 || >2.0", ">1 <2"]]
    return {
        "pairs": pairs,
        "branches": branches,
        "aliases": aliases,
        "sorts": sorts,
        "vc": vc,
        "cmp": cmp,
        "intersect": intersect,
    }


# --------------------------------------------------------------------------------------------
# python side
# --------------------------------------------------------------------------------------------


def _or_none(errors: tuple[type[Exception], ...], func: Callable[..., Any], *args: Any) -> Any:
    """func(*args), or None where the PHP side reports that Composer threw."""
    try:
        return func(*args)
    except errors:
        return None


def _constraint_string(text: str) -> str:
    return str(parse_constraint(text))


def _intersects(left: str, right: str) -> bool:
    return parse_constraint(left).matches(parse_constraint(right))


def _rsort(versions: list[str]) -> list[str]:
    return sort_versions(versions, reverse=True)


def python_answers(queries: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {key: [] for key in queries}
    for version, constraint in queries["pairs"]:
        normalized: str | None = None
        error: str | None = None
        try:
            normalized = normalize(version)
        except InvalidVersion as exc:
            error = str(exc)
        parsed = _or_none((InvalidConstraint,), _constraint_string, constraint)
        satisfied = _or_none((InvalidVersion, InvalidConstraint), satisfies, version, constraint)
        if satisfied is not None and normalized is not None:
            # the generic Composer matches() path must agree with the optimised satisfies() path
            generic = parse_constraint(constraint).matches(VersionConstraint("==", normalized))
            if generic != satisfied:
                satisfied = f"satisfies()={satisfied} but matches()={generic}"
        out["pairs"].append([normalized, error, parsed, satisfied, parse_stability(version)])
    for branch in queries["branches"]:
        valid = _or_none((InvalidVersion,), branch_version, branch) is not None
        out["branches"].append([normalize_branch(branch), valid])
    for alias in queries["aliases"]:
        prefix = parse_numeric_alias_prefix(alias)
        out["aliases"].append(False if prefix is None else prefix)
    for versions in queries["sorts"]:
        out["sorts"].append(
            [
                _or_none((InvalidVersion,), sort_versions, versions),
                _or_none((InvalidVersion,), _rsort, versions),
            ]
        )
    for a, b in queries["vc"]:
        out["vc"].append(php_version_compare(a, b))
    for a, op, b in queries["cmp"]:
        out["cmp"].append(compare(a, b, op))
    for left, right in queries["intersect"]:
        out["intersect"].append(_or_none((InvalidConstraint,), _intersects, left, right))
    return out


def run_oracle(queries: dict[str, Any]) -> dict[str, list[Any]]:
    result = subprocess.run(
        [str(PHP), str(ORACLE), str(SEMVER_AUTOLOAD)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"semver oracle failed ({result.returncode}):\n{result.stderr[-2000:]}"
    answers: dict[str, list[Any]] = json.loads(result.stdout)
    return answers


def test_semver_port_agrees_with_composer() -> None:
    if not PHP.exists():
        pytest.skip(f"PHP CLI not found at {PHP}: cannot run the composer/semver reference")
    if not SEMVER_AUTOLOAD.exists():
        pytest.skip(f"composer/semver not installed ({SEMVER_AUTOLOAD} missing; Debian: php-composer-semver)")

    started = time.monotonic()
    queries = build_queries(random.Random(SEED))
    expected = run_oracle(queries)
    actual = python_answers(queries)
    elapsed = time.monotonic() - started

    disagreements: list[str] = []
    total = 0
    for key, inputs in queries.items():
        assert len(expected[key]) == len(inputs), (
            f"oracle answered {len(expected[key])} of {len(inputs)} {key}"
        )
        for query, php_answer, py_answer in zip(inputs, expected[key], actual[key], strict=True):
            total += 1
            if php_answer != py_answer:
                disagreements.append(
                    f"{key} {query!r}:\n    php:    {php_answer!r}\n    python: {py_answer!r}"
                )

    pairs = queries["pairs"]
    satisfied = sum(1 for answer in expected["pairs"] if answer[3] is True)
    rejected = sum(1 for answer in expected["pairs"] if answer[2] is None)
    # the generator must actually exercise both outcomes
    assert len(pairs) >= 6000
    assert satisfied > len(pairs) // 20, f"only {satisfied} satisfied pairs"
    assert rejected > 300, f"only {rejected} invalid constraints"
    assert not disagreements, (
        f"{len(disagreements)} of {total} answers disagree with composer/semver "
        f"({elapsed:.1f}s); first {MAX_REPORTED}:\n" + "\n".join(disagreements[:MAX_REPORTED])
    )
