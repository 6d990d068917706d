"""Composer version normalization and comparison, ported from composer/semver 3.x.

This is a faithful port of ``Composer\\Semver\\VersionParser`` (normalize, normalizeBranch,
parseStability, ...), ``Composer\\Semver\\Comparator`` / ``Semver::sort`` and PHP's own
``version_compare()`` (ext/standard/versioning.c), including their quirks.  The regular
expressions are copied verbatim from the PHP sources; PHP's PCRE runs in byte mode with
ASCII character classes, which is mirrored here with ``re.ASCII`` and ASCII-only case
folding.  ``tests/unit/composer/test_semver_differential.py`` checks this module against
the real PHP implementation.

Only the standard library is used: no web, database or framework imports.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "MODIFIER_REGEX",
    "OPERATOR_STRINGS",
    "OP_EQ",
    "OP_GE",
    "OP_GT",
    "OP_LE",
    "OP_LT",
    "OP_NE",
    "STABILITIES_REGEX",
    "VERSION_COMPARE_RESULTS",
    "InvalidVersion",
    "ascii_lower",
    "branch_version",
    "compare",
    "compare_versions",
    "expand_stability",
    "match_specific",
    "match_specific_eq_provider",
    "match_specific_eq_self",
    "normalize",
    "normalize_branch",
    "normalize_default_branch",
    "normalize_stability",
    "operator_code",
    "parse_numeric_alias_prefix",
    "parse_stability",
    "php_empty",
    "php_trim",
    "php_usort",
    "php_version_compare",
    "sort_key",
    "sort_versions",
    "tag_version",
    "version_compare",
]


class InvalidVersion(ValueError):
    """Raised where Composer's VersionParser throws ``UnexpectedValueException`` for a version."""


# --------------------------------------------------------------------------------------------
# PHP string helpers
# --------------------------------------------------------------------------------------------

_A = re.ASCII
_AI = re.ASCII | re.IGNORECASE

#: characters stripped by PHP's ``trim()`` without a character list
_PHP_TRIM_CHARS = " \t\n\r\x00\x0b"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def php_trim(value: str) -> str:
    """PHP ``trim()``: strips only `` \\t\\n\\r\\0\\x0B`` (not every Unicode space)."""
    return value.strip(_PHP_TRIM_CHARS)


def ascii_lower(value: str) -> str:
    """PHP 8 ``strtolower()``: locale-independent, ASCII letters only."""
    return value.lower() if value.isascii() else value.translate(_ASCII_LOWER)


def php_empty(value: str | None) -> bool:
    """PHP ``empty()`` for a preg_match group: null, ``""`` and ``"0"`` are empty."""
    return value is None or value == "" or value == "0"


# --------------------------------------------------------------------------------------------
# VersionParser
# --------------------------------------------------------------------------------------------

#: VersionParser::$modifierRegex (3 capture groups: stability, number part, dev suffix)
MODIFIER_REGEX = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
#: VersionParser::$stabilitiesRegex
STABILITIES_REGEX = "stable|RC|beta|alpha|dev"

_RE_HASH_SUFFIX = re.compile(r"#.+$", _A)
_RE_STABILITY_MODIFIER = re.compile(MODIFIER_REGEX + r"(?:\+.*)?$", _AI)
_RE_ALIAS = re.compile(r"^([^,\s]++) ++as ++([^,\s]++)$", _A)
_RE_STABILITY_FLAG = re.compile(r"@(?:" + STABILITIES_REGEX + r")$", _AI)
_RE_BUILD_METADATA = re.compile(r"^([^,\s+]++)\+[^\s]++$", _A)
_RE_CLASSICAL = re.compile(r"^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?" + MODIFIER_REGEX + r"$", _AI)
_RE_DATE = re.compile(r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)" + MODIFIER_REGEX + r"$", _AI)
_RE_NON_DIGIT = re.compile(r"\D", _A)
_RE_DEV_BRANCH = re.compile(r"(.*?)[.-]?dev$", _AI)
_RE_NUMERIC_ALIAS = re.compile(r"^(?P<version>(\d++\.)*\d++)(?:\.x)?-dev$", _AI)
_RE_BRANCH = re.compile(
    r"^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$",
    _AI,
)
_STABILITY_SUFFIXES = ("", "@stable", "@RC", "@beta", "@alpha", "@dev")
_RE_AS_BEFORE_END = re.compile(r" +as +\Z", _A)
_RE_AS_AFTER_SOURCE = re.compile(r"(?:@(?:" + STABILITIES_REGEX + r"))? +as +", _A)

_EXPANDED_STABILITIES = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}


def expand_stability(stability: str) -> str:
    """VersionParser::expandStability: ``a`` -> ``alpha``, ``b`` -> ``beta``, ``p``/``pl`` -> ``patch``..."""
    lowered = ascii_lower(stability)
    return _EXPANDED_STABILITIES.get(lowered, lowered)


def normalize_stability(stability: str) -> str:
    """VersionParser::normalizeStability: lower-case, except ``rc`` -> ``RC``."""
    lowered = ascii_lower(stability)
    return "RC" if lowered == "rc" else lowered


def parse_stability(version: str) -> str:
    """VersionParser::parseStability: one of ``stable``, ``RC``, ``beta``, ``alpha``, ``dev``."""
    version = _RE_HASH_SUFFIX.sub("", version)
    if version.startswith("dev-") or version.endswith("-dev"):
        return "dev"
    match = _RE_STABILITY_MODIFIER.search(ascii_lower(version))
    if match is None:  # pragma: no cover - every part of the pattern is optional
        return "stable"
    if not php_empty(match[3]):
        return "dev"
    kind = match[1]
    if not php_empty(kind):
        if kind in ("beta", "b"):
            return "beta"
        if kind in ("alpha", "a"):
            return "alpha"
        if kind == "rc":
            return "RC"
    return "stable"


@functools.lru_cache(maxsize=16384)
def _normalize(version: str, full_version: str | None) -> str:
    version = php_trim(version)
    orig_version = version
    if full_version is None:
        full_version = version

    # strip off aliasing
    match = _RE_ALIAS.match(version)
    if match:
        version = match[1]

    # strip off stability flag
    match = _RE_STABILITY_FLAG.search(version)
    if match:
        version = version[: len(version) - len(match[0])]

    # normalize master/trunk/default branches to dev-name for BC with 1.x
    if version in ("master", "trunk", "default"):
        version = "dev-" + version

    # if requirement is branch-like, use full name
    if ascii_lower(version[:4]) == "dev-":
        return "dev-" + version[4:]

    # strip off build metadata
    match = _RE_BUILD_METADATA.match(version)
    if match:
        version = match[1]

    index = 0
    # match classical versioning
    matches = _RE_CLASSICAL.match(version)
    if matches:
        version = (
            matches[1]
            + (matches[2] if not php_empty(matches[2]) else ".0")
            + (matches[3] if not php_empty(matches[3]) else ".0")
            + (matches[4] if not php_empty(matches[4]) else ".0")
        )
        index = 5
    else:
        # match date(time) based versioning
        matches = _RE_DATE.match(version)
        if matches:
            version = _RE_NON_DIGIT.sub(".", matches[1])
            index = 2

    # add version modifiers if a version was matched
    if matches:
        stability = matches[index]
        if not php_empty(stability):
            if stability == "stable":
                return version
            numbers = matches[index + 1]
            version += "-" + expand_stability(stability) + (numbers.lstrip(".-") if numbers else "")
        if not php_empty(matches[index + 2]):
            version += "-dev"
        return version

    # match dev branches
    match = _RE_DEV_BRANCH.search(version)
    if match:
        normalized = normalize_branch(match[1])
        # a branch ending with -dev is only valid if it is numeric; if it gets prefixed with dev-
        # it means the branch name should have had a dev- prefix already when passed to normalize
        if "dev-" not in normalized:
            return normalized

    extra = ""
    if _is_alias_target(version, full_version):
        extra = f' in "{full_version}", the alias must be an exact version'
    elif _is_alias_source(version, full_version):
        extra = (
            f' in "{full_version}", the alias source must be an exact version, '
            "if it is a branch name you should prefix it with dev-"
        )
    raise InvalidVersion(f'Invalid version string "{orig_version}"{extra}')


def _is_alias_target(version: str, full_version: str) -> bool:
    """preg_match('{ +as +' . preg_quote($version) . '(?:@(?:stabilities))?$}', $fullVersion)"""
    # PCRE's "$" also matches before a final newline
    tails = [full_version, full_version[:-1]] if full_version.endswith("\n") else [full_version]
    for tail in tails:
        for suffix in _STABILITY_SUFFIXES:
            end = version + suffix
            if tail.endswith(end) and _RE_AS_BEFORE_END.search(tail[: len(tail) - len(end)]):
                return True
    return False


def _is_alias_source(version: str, full_version: str) -> bool:
    """preg_match('{^' . preg_quote($version) . '(?:@(?:stabilities))? +as +}', $fullVersion)"""
    return full_version.startswith(version) and bool(_RE_AS_AFTER_SOURCE.match(full_version, len(version)))


def normalize(version: str, full_version: str | None = None) -> str:
    """VersionParser::normalize: ``v1.2`` -> ``1.2.0.0``, ``1.0-beta2`` -> ``1.0.0.0-beta2``, ...

    Raises :class:`InvalidVersion` exactly where Composer throws.  ``full_version`` only gives
    context for the error message (as in Composer).
    """
    return _normalize(version, full_version)


def parse_numeric_alias_prefix(branch: str) -> str | None:
    """VersionParser::parseNumericAliasPrefix: ``2.1.x-dev`` -> ``2.1.``; None where PHP returns false."""
    match = _RE_NUMERIC_ALIAS.match(branch)
    if match:
        return match["version"] + "."
    return None


def normalize_branch(name: str) -> str:
    """VersionParser::normalizeBranch.

    ``2.x`` -> ``2.9999999.9999999.9999999-dev``, ``v1.0`` -> ``1.0.9999999.9999999-dev``,
    ``main`` -> ``dev-main``.
    """
    name = php_trim(name)
    match = _RE_BRANCH.match(name)
    if match:
        version = ""
        for i in range(1, 5):
            part = match[i]
            version += part.replace("*", "x").replace("X", "x") if part is not None else ".x"
        return version.replace("x", "9999999") + "-dev"
    return "dev-" + name


def normalize_default_branch(name: str) -> str:
    """VersionParser::normalizeDefaultBranch (deprecated in Composer 2, still used by Semver::sort)."""
    if name in ("dev-master", "dev-default", "dev-trunk"):
        return "9999999-dev"
    return name


# --------------------------------------------------------------------------------------------
# Registry helpers: versions of git tags and branches (Composer's VcsRepository rules)
# --------------------------------------------------------------------------------------------

_RE_NINES = re.compile(r"(\.9{7})+", _A)


def tag_version(tag: str) -> tuple[str, str] | None:
    """(pretty_version, normalized_version) of a git tag, or None if it is not a release tag.

    A leading ``release-`` is stripped before normalizing; the pretty version also drops a
    leading ``v``/``V``.  Tags that Composer cannot normalize, and tags that normalize to a
    dev version (``dev-*`` or ``*-dev``), are not release tags.
    """
    name = tag[len("release-") :] if tag.startswith("release-") else tag
    try:
        normalized = normalize(name)
    except InvalidVersion:
        return None
    if normalized.endswith("-dev") or normalized.startswith("dev-"):
        return None
    pretty = name[1:] if name[:1] in ("v", "V") and name[1:2].isdigit() else name
    return pretty, normalized


def branch_version(branch: str) -> tuple[str, str]:
    """(pretty_version, normalized_version) of a git branch, as Composer's VcsRepository does.

    ``main`` -> ``("dev-main", "dev-main")``, ``2.x`` -> ``("2.x-dev", "2.9999999.9999999.9999999-dev")``,
    ``1.0`` -> ``("1.0.x-dev", "1.0.9999999.9999999-dev")``.  Raises :class:`InvalidVersion` for a
    branch Composer skips (its normalized name does not parse as a constraint, e.g. ``a|b``).
    """
    from cargoman.composer.constraints import InvalidConstraint, parse_constraint

    parsed = normalize_branch(branch)
    try:
        parse_constraint(parsed)
    except InvalidConstraint as exc:
        raise InvalidVersion(f'Invalid branch name "{branch}": {exc}') from exc
    if parsed.startswith("dev-") or parsed == "9999999-dev":
        return "dev-" + branch.replace("#", "+"), parsed.replace("#", "+")
    prefix = "v" if branch.startswith("v") else ""
    return prefix + _RE_NINES.sub(".x", parsed), parsed


# --------------------------------------------------------------------------------------------
# PHP version_compare()
# --------------------------------------------------------------------------------------------

_LONG_MAX = 2**63 - 1
_DIGITS = frozenset("0123456789")
_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPECIAL_VERSION_FORMS = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", 4),
    ("pl", 5),
    ("p", 5),
)
_RE_LEADING_DIGITS = re.compile(r"\d+", _A)


def _c_string(value: str) -> str:
    """The byte string PHP's C code sees: UTF-8 bytes (one char per byte) cut at the first NUL."""
    if not value.isascii():
        value = value.encode("utf-8", "surrogatepass").decode("latin-1")
    nul = value.find("\x00")
    return value if nul < 0 else value[:nul]


def _canonicalize(version: str) -> str:
    """php_canonicalize_version(): ``1.0-beta2`` -> ``1.0.beta.2``."""
    if not version:
        return ""
    out = [version[0]]
    lp = version[0]
    for ch in version[1:]:
        lq = out[-1]
        if ch in "-_+":
            if lq != ".":
                out.append(".")
        elif (lp not in _DIGITS and lp != "." and ch in _DIGITS) or (
            lp in _DIGITS and ch not in _DIGITS and ch != "."
        ):
            if lq != ".":
                out.append(".")
            out.append(ch)
        elif ch not in _ALNUM:
            if lq != ".":
                out.append(".")
        else:
            out.append(ch)
        lp = ch
    return "".join(out)


def _special_form_order(form: str) -> int:
    for name, order in _SPECIAL_VERSION_FORMS:
        if form.startswith(name):
            return order
    return -1


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def _strtol(element: str) -> int:
    match = _RE_LEADING_DIGITS.match(element)
    return min(int(match[0]), _LONG_MAX) if match else 0


@functools.lru_cache(maxsize=8192)
def _version_parts(version: str) -> tuple[str, ...]:
    return tuple((version if version[0] == "#" else _canonicalize(version)).split("."))


def _raw_version_compare(ver1: str, ver2: str) -> int:
    """php_version_compare() on C strings (already cut at NUL, one char per byte)."""
    if not ver1 or not ver2:
        if not ver1 and not ver2:
            return 0
        return 1 if ver1 else -1
    parts1 = _version_parts(ver1)
    parts2 = _version_parts(ver2)
    last1 = len(parts1) - 1
    last2 = len(parts2) - 1
    # n1/n2: "a dot follows the current element" (C: strchr() != NULL); initially non-NULL
    n1 = n2 = True
    i = 0
    while True:
        # C loop condition: *p1 && *p2 && n1 && n2 (the rest of the buffer is empty only when
        # the current element is the last one and it is empty)
        if not (n1 and n2):
            break
        if (i == last1 and parts1[i] == "") or (i == last2 and parts2[i] == ""):
            break
        n1 = i < last1
        n2 = i < last2
        elem1 = parts1[i]
        elem2 = parts2[i]
        digit1 = elem1[:1] in _DIGITS  # C isdigit(*p): an empty element starts with NUL
        digit2 = elem2[:1] in _DIGITS
        if digit1 and digit2:
            compare = _sign(_strtol(elem1) - _strtol(elem2))
        elif not digit1 and not digit2:
            compare = _sign(_special_form_order(elem1) - _special_form_order(elem2))
        elif digit1:
            compare = _sign(_special_form_order("#N#") - _special_form_order(elem2))
        else:
            compare = _sign(_special_form_order(elem1) - _special_form_order("#N#"))
        if compare != 0:
            return compare
        i += 1
    if n1:
        rest = ".".join(parts1[i:])
        if rest[:1] in _DIGITS:
            return 1
        return _raw_version_compare(rest, "#N#")
    if n2:
        rest = ".".join(parts2[i:])
        if rest[:1] in _DIGITS:
            return -1
        return _raw_version_compare("#N#", rest)
    return 0


@functools.lru_cache(maxsize=65536)
def php_version_compare(version1: str, version2: str) -> int:
    """PHP ``version_compare($version1, $version2)`` without operator: -1, 0 or 1.

    Special forms order as ``(unknown) < dev < alpha = a < beta = b < RC = rc < # < pl = p``
    (prefix match), numbers are compared numerically and a number beats any special form
    except ``#``/``pl``/``p``.
    """
    return _raw_version_compare(_c_string(version1), _c_string(version2))


#: version_compare() operator -> the php_version_compare() results for which it is true
VERSION_COMPARE_RESULTS: dict[str, frozenset[int]] = {}
for _names, _results in (
    (("<", "lt"), frozenset({-1})),
    (("<=", "le"), frozenset({-1, 0})),
    ((">", "gt"), frozenset({1})),
    ((">=", "ge"), frozenset({0, 1})),
    (("==", "=", "eq"), frozenset({0})),
    (("!=", "<>", "ne"), frozenset({-1, 1})),
):
    for _name in _names:
        VERSION_COMPARE_RESULTS[_name] = _results


def version_compare(version1: str, version2: str, operator: str) -> bool:
    """PHP ``version_compare($version1, $version2, $operator)``."""
    try:
        results = VERSION_COMPARE_RESULTS[operator]
    except KeyError:
        raise ValueError(f"version_compare(): invalid comparison operator {operator!r}") from None
    return php_version_compare(version1, version2) in results


# --------------------------------------------------------------------------------------------
# Constraint::matchSpecific / Comparator
# --------------------------------------------------------------------------------------------

OP_EQ = 0
OP_LT = 1
OP_LE = 2
OP_GT = 3
OP_GE = 4
OP_NE = 5

#: Constraint::$transOpStr
_OPERATOR_CODES = {
    "=": OP_EQ,
    "==": OP_EQ,
    "<": OP_LT,
    "<=": OP_LE,
    ">": OP_GT,
    ">=": OP_GE,
    "<>": OP_NE,
    "!=": OP_NE,
}
#: Constraint::$transOpInt
OPERATOR_STRINGS = ("==", "<", "<=", ">", ">=", "!=")
_NO_EQUAL_OPS = tuple(op.replace("=", "") for op in OPERATOR_STRINGS)


def operator_code(operator: str) -> int:
    """Constraint::getOperatorConstant; raises ValueError for an unsupported operator."""
    try:
        return _OPERATOR_CODES[operator]
    except KeyError:
        raise ValueError(
            f'Invalid operator "{operator}" given, expected one of: {", ".join(_OPERATOR_CODES)}'
        ) from None


def _constraint_version_compare(a: str, b: str, operator: str, compare_branches: bool) -> bool:
    """Constraint::versionCompare: dev- branches only equal themselves unless compare_branches."""
    a_is_branch = a.startswith("dev-")
    b_is_branch = b.startswith("dev-")
    if operator == "!=" and (a_is_branch or b_is_branch):
        return a != b
    if a_is_branch and b_is_branch:
        return operator == "==" and a == b
    if not compare_branches and (a_is_branch or b_is_branch):
        return False
    return php_version_compare(a, b) in VERSION_COMPARE_RESULTS[operator]


def match_specific(
    operator: int, version: str, provider_operator: int, provider_version: str, compare_branches: bool = False
) -> bool:
    """Constraint::matchSpecific of ``(operator, version)`` against a provider ``(operator, version)``."""
    no_equal_op = _NO_EQUAL_OPS[operator]
    provider_no_equal_op = _NO_EQUAL_OPS[provider_operator]
    is_equal_op = operator == OP_EQ
    is_non_equal_op = operator == OP_NE
    is_provider_equal_op = provider_operator == OP_EQ
    is_provider_non_equal_op = provider_operator == OP_NE

    # '!=' matches when the other operator is not '==' or the versions do not match;
    # these kinds of comparisons always have a solution
    if is_non_equal_op or is_provider_non_equal_op:
        if (
            is_non_equal_op
            and not is_provider_non_equal_op
            and not is_provider_equal_op
            and provider_version.startswith("dev-")
        ):
            return False
        if (
            is_provider_non_equal_op
            and not is_non_equal_op
            and not is_equal_op
            and version.startswith("dev-")
        ):
            return False
        if not is_equal_op and not is_provider_equal_op:
            return True
        return _constraint_version_compare(provider_version, version, "!=", compare_branches)

    # e.g. <= 2.0 & < 1.0: these kinds of comparisons always have a solution
    if operator != OP_EQ and no_equal_op == provider_no_equal_op:
        return not (version.startswith("dev-") or provider_version.startswith("dev-"))

    version1 = version if is_equal_op else provider_version
    version2 = provider_version if is_equal_op else version
    op = provider_operator if is_equal_op else operator

    if _constraint_version_compare(version1, version2, OPERATOR_STRINGS[op], compare_branches):
        # special case, e.g. require >= 1.0 and provide < 1.0:
        # 1.0 >= 1.0 but 1.0 is outside of the provided interval
        return not (
            OPERATOR_STRINGS[provider_operator] == provider_no_equal_op
            and OPERATOR_STRINGS[operator] != no_equal_op
            and php_version_compare(provider_version, version) == 0
        )
    return False


def match_specific_eq_provider(operator: int, version: str, provided: str) -> bool:
    """``match_specific(operator, version, OP_EQ, provided)``, specialised for speed.

    Constraint(op, version)->matchSpecific(Constraint('==', provided)) with branches not comparable.
    """
    if operator == OP_NE:
        return _constraint_version_compare(provided, version, "!=", False)
    if operator == OP_EQ:
        return _constraint_version_compare(version, provided, "==", False)
    return _constraint_version_compare(provided, version, OPERATOR_STRINGS[operator], False)


def match_specific_eq_self(provided: str, operator: int, version: str) -> bool:
    """``match_specific(OP_EQ, provided, operator, version)``, specialised for speed.

    Constraint('==', provided)->matchSpecific(Constraint(op, version)) with branches not comparable.
    """
    if operator == OP_NE:
        return _constraint_version_compare(version, provided, "!=", False)
    result = _constraint_version_compare(provided, version, OPERATOR_STRINGS[operator], False)
    if result and operator in (OP_LT, OP_GT):
        # special case of matchSpecific: a strict provider bound equal to the version
        return php_version_compare(version, provided) != 0
    return result


def compare(a: str, b: str, op: str) -> bool:
    """Comparator::compare: evaluates ``a op b`` on normalized versions (dev- branches compare too).

    ``op`` is one of ``== = != <> < <= > >=``; raises ValueError otherwise.
    """
    return match_specific(operator_code(op), b, OP_EQ, a, True)


def compare_versions(a: str, b: str) -> int:
    """cmp-style comparison of two normalized versions using Comparator::lessThan both ways.

    Note that Composer's order is not total for branches: two different ``dev-*`` names are
    neither less than each other nor equal (this returns 0 for them).
    """
    if a == b:
        return 0
    if compare(a, b, "<"):
        return -1
    if compare(b, a, "<"):
        return 1
    return 0


#: key function for :func:`sorted` on normalized versions (see :func:`compare_versions`)
sort_key = functools.cmp_to_key(compare_versions)


# --------------------------------------------------------------------------------------------
# Semver::sort / Semver::rsort (PHP usort(): zend_sort hybrid insertion sort + quicksort,
# made stable by falling back to the original position when the callback returns 0)
# --------------------------------------------------------------------------------------------

_Cmp = Callable[[Any, Any], int]


def _zend_sort_2(arr: list[Any], a: int, b: int, cmp: _Cmp) -> None:
    if cmp(arr[a], arr[b]) > 0:
        arr[a], arr[b] = arr[b], arr[a]


def _zend_sort_3(arr: list[Any], a: int, b: int, c: int, cmp: _Cmp) -> None:
    if cmp(arr[a], arr[b]) <= 0:
        if cmp(arr[b], arr[c]) <= 0:
            return
        arr[b], arr[c] = arr[c], arr[b]
        if cmp(arr[a], arr[b]) > 0:
            arr[a], arr[b] = arr[b], arr[a]
        return
    if cmp(arr[c], arr[b]) <= 0:
        arr[a], arr[c] = arr[c], arr[a]
        return
    arr[a], arr[b] = arr[b], arr[a]
    if cmp(arr[b], arr[c]) > 0:
        arr[b], arr[c] = arr[c], arr[b]


def _zend_sort_4(arr: list[Any], a: int, b: int, c: int, d: int, cmp: _Cmp) -> None:
    _zend_sort_3(arr, a, b, c, cmp)
    if cmp(arr[c], arr[d]) > 0:
        arr[c], arr[d] = arr[d], arr[c]
        if cmp(arr[b], arr[c]) > 0:
            arr[b], arr[c] = arr[c], arr[b]
            if cmp(arr[a], arr[b]) > 0:
                arr[a], arr[b] = arr[b], arr[a]


def _zend_sort_5(arr: list[Any], a: int, b: int, c: int, d: int, e: int, cmp: _Cmp) -> None:
    _zend_sort_4(arr, a, b, c, d, cmp)
    if cmp(arr[d], arr[e]) > 0:
        arr[d], arr[e] = arr[e], arr[d]
        if cmp(arr[c], arr[d]) > 0:
            arr[c], arr[d] = arr[d], arr[c]
            if cmp(arr[b], arr[c]) > 0:
                arr[b], arr[c] = arr[c], arr[b]
                if cmp(arr[a], arr[b]) > 0:
                    arr[a], arr[b] = arr[b], arr[a]


def _move_back(arr: list[Any], i: int, j: int) -> None:
    """``for (k = i; k > j; k--) swp(k, k - 1)``: moves arr[i] to position j."""
    item = arr[i]
    del arr[i]
    arr.insert(j, item)


def _zend_insert_sort(arr: list[Any], start: int, nmemb: int, cmp: _Cmp) -> None:
    if nmemb <= 1:
        return
    if nmemb == 2:
        _zend_sort_2(arr, start, start + 1, cmp)
    elif nmemb == 3:
        _zend_sort_3(arr, start, start + 1, start + 2, cmp)
    elif nmemb == 4:
        _zend_sort_4(arr, start, start + 1, start + 2, start + 3, cmp)
    elif nmemb == 5:
        _zend_sort_5(arr, start, start + 1, start + 2, start + 3, start + 4, cmp)
    else:
        end = start + nmemb
        sentry = start + 6
        for i in range(start + 1, sentry):
            j = i - 1
            if not cmp(arr[j], arr[i]) > 0:
                continue
            while j != start:
                j -= 1
                if not cmp(arr[j], arr[i]) > 0:
                    j += 1
                    break
            _move_back(arr, i, j)
        for i in range(sentry, end):
            j = i - 1
            if not cmp(arr[j], arr[i]) > 0:
                continue
            while True:
                j -= 2
                if not cmp(arr[j], arr[i]) > 0:
                    j += 1
                    if not cmp(arr[j], arr[i]) > 0:
                        j += 1
                    break
                if j == start:
                    break
                if j == start + 1:
                    j -= 1
                    if cmp(arr[i], arr[j]) > 0:
                        j += 1
                    break
            _move_back(arr, i, j)


def _zend_sort(arr: list[Any], base: int, nmemb: int, cmp: _Cmp) -> None:
    while True:
        if nmemb <= 16:
            _zend_insert_sort(arr, base, nmemb, cmp)
            return
        start = base
        end = start + nmemb
        offset = nmemb >> 1
        pivot = start + offset
        if nmemb >> 10:
            delta = offset >> 1
            _zend_sort_5(arr, start, start + delta, pivot, pivot + delta, end - 1, cmp)
        else:
            _zend_sort_3(arr, start, pivot, end - 1, cmp)
        arr[start + 1], arr[pivot] = arr[pivot], arr[start + 1]
        pivot = start + 1
        i = pivot + 1
        j = end - 1
        while True:
            done = False
            while cmp(arr[pivot], arr[i]) > 0:
                i += 1
                if i == j:
                    done = True
                    break
            if done:
                break
            j -= 1
            if j == i:
                break
            while cmp(arr[j], arr[pivot]) > 0:
                j -= 1
                if j == i:
                    done = True
                    break
            if done:
                break
            arr[i], arr[j] = arr[j], arr[i]
            i += 1
            if i == j:
                break
        arr[pivot], arr[i - 1] = arr[i - 1], arr[pivot]
        if (i - 1) - start < end - i:
            _zend_sort(arr, start, (i - start) - 1, cmp)
            base = i
            nmemb = end - i
        else:
            _zend_sort(arr, i, end - i, cmp)
            base = start
            nmemb = (i - start) - 1


def php_usort(items: list[Any], cmp: _Cmp) -> list[Any]:
    """PHP 8 ``usort()``: zend_sort() with the stable fallback on the original position."""
    decorated = list(enumerate(items))

    def stable_cmp(left: tuple[int, Any], right: tuple[int, Any]) -> int:
        result = _sign(cmp(left[1], right[1]))
        if result:
            return result
        return _sign(left[0] - right[0])

    if len(decorated) > 1:
        _zend_sort(decorated, 0, len(decorated), stable_cmp)
    return [item for _, item in decorated]


def sort_versions(versions: Iterable[str], reverse: bool = False) -> list[str]:
    """Semver::sort (or Semver::rsort with ``reverse=True``), element for element.

    Each version (pretty or normalized) is normalized -- raising :class:`InvalidVersion` like
    Composer -- and ``dev-master``/``dev-default``/``dev-trunk`` count as ``9999999-dev``.
    The input strings are returned in sorted order.  The PHP sorting algorithm is reproduced
    exactly, so even Composer's inconsistent ordering of distinct ``dev-*`` branches matches.
    """
    items: Sequence[str] = list(versions)
    direction = -1 if reverse else 1
    normalized = [(normalize_default_branch(normalize(version)), key) for key, version in enumerate(items)]

    def cmp(left: tuple[str, int], right: tuple[str, int]) -> int:
        if left[0] == right[0]:
            return 0
        if compare(left[0], right[0], "<"):
            return -direction
        return direction

    return [items[key] for _, key in php_usort(normalized, cmp)]
