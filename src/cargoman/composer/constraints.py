"""Composer version constraints, ported from composer/semver 3.x.

``parse_constraint`` is a faithful port of ``VersionParser::parseConstraints`` and the
constraint classes reproduce ``Constraint``, ``MultiConstraint``, ``MatchAllConstraint``
and ``MatchNoneConstraint`` (``matches()`` semantics and string forms), so
``satisfies(version, constraint)`` gives exactly the answer of PHP's ``Semver::satisfies``.

Naming: :class:`Constraint` is the common base class (Composer's ``ConstraintInterface``);
Composer's single-operator ``Constraint`` class is :class:`VersionConstraint` here.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

from cargoman.composer.versions import (
    MODIFIER_REGEX,
    OP_EQ,
    OP_GT,
    OP_LT,
    OPERATOR_STRINGS,
    STABILITIES_REGEX,
    VERSION_COMPARE_RESULTS,
    InvalidVersion,
    ascii_lower,
    match_specific,
    match_specific_eq_provider,
    match_specific_eq_self,
    normalize,
    operator_code,
    parse_stability,
    php_empty,
    php_trim,
    php_version_compare,
)

__all__ = [
    "Constraint",
    "InvalidConstraint",
    "MatchAllConstraint",
    "MatchNoneConstraint",
    "MultiConstraint",
    "VersionConstraint",
    "parse_constraint",
    "satisfies",
]


class InvalidConstraint(ValueError):
    """Raised where Composer's VersionParser::parseConstraints throws."""


class Constraint(ABC):
    """A parsed constraint (Composer's ``ConstraintInterface``)."""

    __slots__ = ("pretty_string",)

    def __init__(self) -> None:
        self.pretty_string: str | None = None

    @abstractmethod
    def matches(self, provider: Constraint) -> bool:
        """Whether this constraint and ``provider`` intersect (Composer's ``matches()``)."""

    def matches_version(self, normalized: str) -> bool:
        """Whether the already *normalized* version satisfies this constraint.

        Same as ``self.matches(VersionConstraint("==", normalized))``.
        """
        return self.matches(VersionConstraint("==", normalized))

    def provided_by_version(self, normalized: str) -> bool:
        """``VersionConstraint("==", normalized).matches(self)`` (the roles of matchSpecific swapped).

        Composer's ``MultiConstraint::matches`` asks ``$provider->matches($constraint)``, so for
        the parts of a multi constraint the version is on the other side of matchSpecific.
        """
        return self.matches_version(normalized)

    @abstractmethod
    def __str__(self) -> str:
        """Composer's ``__toString()``, e.g. ``[>= 1.0.0.0-dev < 2.0.0.0-dev]``."""

    def get_pretty_string(self) -> str:
        return self.pretty_string or str(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


class VersionConstraint(Constraint):
    """An operator and a normalized version (Composer's ``Constraint`` class)."""

    __slots__ = ("_branch", "_results", "operator", "version")

    def __init__(self, operator: str, version: str) -> None:
        super().__init__()
        self.operator: int = operator_code(operator)
        self.version = version
        # precomputed for the matches_version()/provided_by_version() fast paths
        self._branch = version.startswith("dev-")
        self._results = VERSION_COMPARE_RESULTS[OPERATOR_STRINGS[self.operator]]

    @property
    def operator_string(self) -> str:
        return OPERATOR_STRINGS[self.operator]

    def matches(self, provider: Constraint) -> bool:
        if isinstance(provider, VersionConstraint):
            return match_specific(self.operator, self.version, provider.operator, provider.version)
        # turn matching around to find a match
        return provider.matches(self)

    def matches_version(self, normalized: str) -> bool:
        if self._branch or normalized.startswith("dev-"):
            return match_specific_eq_provider(self.operator, self.version, normalized)
        # match_specific_eq_provider() without branches involved
        if self.operator == OP_EQ:
            return php_version_compare(self.version, normalized) == 0
        return php_version_compare(normalized, self.version) in self._results

    def provided_by_version(self, normalized: str) -> bool:
        if self._branch or normalized.startswith("dev-"):
            return match_specific_eq_self(normalized, self.operator, self.version)
        # match_specific_eq_self() without branches involved
        if php_version_compare(normalized, self.version) in self._results:
            if self.operator == OP_LT or self.operator == OP_GT:
                return php_version_compare(self.version, normalized) != 0
            return True
        return False

    def __str__(self) -> str:
        return f"{OPERATOR_STRINGS[self.operator]} {self.version}"


class MultiConstraint(Constraint):
    """A conjunctive (AND) or disjunctive (OR) set of at least two constraints."""

    __slots__ = ("conjunctive", "constraints")

    def __init__(self, constraints: Sequence[Constraint], conjunctive: bool = True) -> None:
        if len(constraints) < 2:
            raise ValueError("Must provide at least two constraints for a MultiConstraint")
        super().__init__()
        self.constraints: tuple[Constraint, ...] = tuple(constraints)
        self.conjunctive = conjunctive

    @property
    def disjunctive(self) -> bool:
        return not self.conjunctive

    def matches(self, provider: Constraint) -> bool:
        if not self.conjunctive:
            return any(provider.matches(constraint) for constraint in self.constraints)
        # when matching a conjunctive and a disjunctive multi constraint we have to iterate over
        # the disjunctive one, otherwise different parts of it could match different parts of this
        if isinstance(provider, MultiConstraint) and not provider.conjunctive:
            return provider.matches(self)
        return all(provider.matches(constraint) for constraint in self.constraints)

    def matches_version(self, normalized: str) -> bool:
        # the provider is a plain '==' constraint, never a disjunctive multi constraint;
        # explicit loops: measurably faster than all()/any() over a generator on this hot path
        if self.conjunctive:
            for constraint in self.constraints:  # noqa: SIM110
                if not constraint.provided_by_version(normalized):
                    return False
            return True
        for constraint in self.constraints:  # noqa: SIM110
            if constraint.provided_by_version(normalized):
                return True
        return False

    def __str__(self) -> str:
        glue = " " if self.conjunctive else " || "
        return "[" + glue.join(str(constraint) for constraint in self.constraints) + "]"

    @classmethod
    def create(cls, constraints: Sequence[Constraint], conjunctive: bool = True) -> Constraint:
        """MultiConstraint::create: MatchAll for none, the constraint itself for one, else optimized."""
        if not constraints:
            return MatchAllConstraint()
        if len(constraints) == 1:
            return constraints[0]
        optimized = cls._optimize(constraints, conjunctive)
        if optimized is not None:
            constraints, conjunctive = optimized
            if len(constraints) == 1:
                return constraints[0]
        return cls(constraints, conjunctive)

    @classmethod
    def _optimize(
        cls, constraints: Sequence[Constraint], conjunctive: bool
    ) -> tuple[list[Constraint], bool] | None:
        # collapse contiguous OR groups: [>= 1 < 2] || [>= 2 < 3] || [>= 3 < 4] => [>= 1 < 4]
        if conjunctive:
            return None
        left = constraints[0]
        merged: list[Constraint] = []
        optimized = False
        for right in constraints[1:]:
            if (
                isinstance(left, MultiConstraint)
                and left.conjunctive
                and isinstance(right, MultiConstraint)
                and right.conjunctive
                and len(left.constraints) == 2
                and len(right.constraints) == 2
            ):
                left0 = str(left.constraints[0])
                left1 = str(left.constraints[1])
                right0 = str(right.constraints[0])
                right1 = str(right.constraints[1])
                if (
                    left0[:2] == ">="
                    and left1[:1] == "<"
                    and right0[:2] == ">="
                    and right1[:1] == "<"
                    and left1[2:] == right0[3:]
                ):
                    optimized = True
                    left = cls([left.constraints[0], right.constraints[1]], True)
                    continue
            merged.append(left)
            left = right
        if optimized:
            merged.append(left)
            return merged, False
        return None


class MatchAllConstraint(Constraint):
    """Matches everything (``*``)."""

    __slots__ = ()

    def matches(self, provider: Constraint) -> bool:
        return True

    def matches_version(self, normalized: str) -> bool:
        return True

    def __str__(self) -> str:
        return "*"


class MatchNoneConstraint(Constraint):
    """Matches nothing."""

    __slots__ = ()

    def matches(self, provider: Constraint) -> bool:
        return False

    def matches_version(self, normalized: str) -> bool:
        return False

    def __str__(self) -> str:
        return "[]"


# --------------------------------------------------------------------------------------------
# VersionParser::parseConstraints
# --------------------------------------------------------------------------------------------

_A = re.ASCII
_AI = re.ASCII | re.IGNORECASE

_RE_OR_SPLIT = re.compile(r"\s*\|\|?\s*", _A)
# PHP: (?<!^|as|[=>< ,]) -- Python needs one fixed-width lookbehind per alternative
_RE_AND_SPLIT = re.compile(r"(?<!^)(?<!as)(?<![=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|$)", _A)
_RE_ALIAS = re.compile(r"^([^,\s]++) ++as ++([^,\s]++)$", _A)
_RE_STABILITY_FLAG = re.compile(r"^([^,\s]*?)@(" + STABILITIES_REGEX + r")$", _AI)
_RE_REF = re.compile(r"^(dev-[^,\s@]+?|[^,\s@]+?\.x-dev)#.+$", _AI)
_RE_WILDCARD = re.compile(r"^(v)?[xX*](\.[xX*])*$", _AI)
_VERSION_REGEX = (
    r"v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.(\d++))?(?:"
    + MODIFIER_REGEX
    + r"|\.([xX*][.-]?dev))(?:\+[^\s]+)?"
)
_RE_TILDE = re.compile(r"^~>?" + _VERSION_REGEX + r"$", _AI)
_RE_CARET = re.compile(r"^\^" + _VERSION_REGEX + r"($)", _AI)
_RE_X_RANGE = re.compile(r"^v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.[xX*])++$", _A)
_RE_HYPHEN = re.compile(r"^(?P<from>" + _VERSION_REGEX + r") +- +(?P<to>" + _VERSION_REGEX + r")($)", _AI)
_RE_BASIC = re.compile(r"^(<>|!=|>=?|<=?|==?)?\s*(.*)", _A)
_RE_DEV_NAME = re.compile(r"^[0-9a-zA-Z./-]+$", _A)
_RE_DASH_MODIFIER = re.compile(r"-" + MODIFIER_REGEX + r"$", _A)

_PHP_INT_MAX = 2**63 - 1
_Number = int | float
_Part = str | _Number | None


def _php_float_to_string(value: float) -> str:
    """PHP 8 (string)$float with the default ``precision=14`` (zend_gcvt)."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.13e}".split("e")
    negative = mantissa.startswith("-")
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    decpt = int(exponent) + 1
    sign = "-" if negative else ""
    if (decpt < -3) if decpt < 0 else (decpt > 14):
        exp = decpt - 1
        exp_sign = "-" if exp < 0 else "+"
        return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exp_sign}{abs(exp)}"
    if decpt <= 0:
        return f"{sign}0.{'0' * -decpt}{digits}"
    if len(digits) <= decpt:
        return sign + digits + "0" * (decpt - len(digits))
    return f"{sign}{digits[:decpt]}.{digits[decpt:]}"


def _php_to_string(value: _Part) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _php_float_to_string(value)
    return str(value)


def _php_add(value: _Part, increment: int) -> _Number:
    """``$value += $increment`` for a numeric string (int, overflowing to float like PHP)."""
    if isinstance(value, int | float):
        number: _Number = value
    elif value is None or not value.isdigit():
        # PHP 8 throws a TypeError for non-numeric strings; unreachable from the parser
        raise InvalidConstraint(f"Unsupported operand types: {value!r} + int")
    else:
        as_int = int(value)
        number = as_int if as_int <= _PHP_INT_MAX else float(value)
    result = number + increment
    if isinstance(result, int) and not -_PHP_INT_MAX - 1 <= result <= _PHP_INT_MAX:
        return float(number) + increment
    return result


def _manipulate_version_string(
    matches: Sequence[_Part], position: int, increment: int = 0, pad: str = "0"
) -> str | None:
    """VersionParser::manipulateVersionString: increment/pad a version (parts 1..4)."""
    parts: list[_Part] = list(matches)
    while len(parts) < 5:
        parts.append(None)
    for i in range(4, 0, -1):
        if i > position:
            parts[i] = pad
        elif i == position and increment:
            number = _php_add(parts[i], increment)
            parts[i] = number
            # if parts[i] was 0, carry the decrement
            if number < 0:
                parts[i] = pad
                position -= 1
                # return null on a carry overflow
                if i == 1:
                    return None
    return ".".join(_php_to_string(parts[i]) for i in range(1, 5))


def _set(value: str | None) -> bool:
    """``isset($m[$i]) && '' !== $m[$i] && null !== $m[$i]``"""
    return value is not None and value != ""


def _empty_but_zero(value: str | None) -> bool:
    """The hyphen-range ``$empty`` closure: like empty() but ``"0"`` counts as set."""
    return False if value == "0" else php_empty(value)


def _parse_single(constraint: str) -> list[Constraint]:
    """VersionParser::parseConstraint (one AND-part) -> one or two constraints."""
    # strip off aliasing
    match = _RE_ALIAS.match(constraint)
    if match:
        constraint = match[1]

    # strip @stability flags, and keep it for later use
    stability_modifier: str | None = None
    match = _RE_STABILITY_FLAG.match(constraint)
    if match:
        constraint = match[1] if match[1] != "" else "*"
        if match[2] != "stable":
            stability_modifier = match[2]

    # get rid of #refs as those are used by composer only
    match = _RE_REF.match(constraint)
    if match:
        constraint = match[1]

    match = _RE_WILDCARD.match(constraint)
    if match:
        if not php_empty(match[1]) or not php_empty(match[2]):
            return [VersionConstraint(">=", "0.0.0.0-dev")]
        return [MatchAllConstraint()]

    # Tilde Range: unsuffixed tilde constraints must be greater than the previous version, to allow
    # unstable instances of the current version; with a stability suffix >= is used instead
    m = _RE_TILDE.match(constraint)
    if m:
        if constraint.startswith("~>"):
            raise InvalidConstraint(
                f"Could not parse version constraint {constraint}: "
                'Invalid operator "~>", you probably meant to use the "~" operator'
            )
        # work out which position in the version we are operating at
        if _set(m[4]):
            position = 4
        elif _set(m[3]):
            position = 3
        elif _set(m[2]):
            position = 2
        else:
            position = 1
        # when matching 2.x-dev or 3.0.x-dev we have to shift the second or third number
        if not php_empty(m[8]):
            position += 1
        stability_suffix = ""
        if php_empty(m[5]) and php_empty(m[7]) and php_empty(m[8]):
            stability_suffix += "-dev"
        low_version = normalize((constraint + stability_suffix)[1:])
        lower_bound = VersionConstraint(">=", low_version)
        # for the upper bound, increment the position of one more significance (never position 0)
        high_position = max(1, position - 1)
        high_version = _php_to_string(_manipulate_version_string(_groups(m), high_position, 1)) + "-dev"
        return [lower_bound, VersionConstraint("<", high_version)]

    # Caret Range: allows changes that do not modify the left-most non-zero digit of
    # [major, minor, patch]
    m = _RE_CARET.match(constraint)
    if m:
        if m[1] != "0" or not _set(m[2]):
            position = 1
        elif m[2] != "0" or not _set(m[3]):
            position = 2
        else:
            position = 3
        stability_suffix = ""
        if php_empty(m[5]) and php_empty(m[7]) and php_empty(m[8]):
            stability_suffix += "-dev"
        low_version = normalize((constraint + stability_suffix)[1:])
        lower_bound = VersionConstraint(">=", low_version)
        high_version = _php_to_string(_manipulate_version_string(_groups(m), position, 1)) + "-dev"
        return [lower_bound, VersionConstraint("<", high_version)]

    # X Range: any of X, x, or * may stand in for a numeric value
    m = _RE_X_RANGE.match(constraint)
    if m:
        if _set(m[3]):
            position = 3
        elif _set(m[2]):
            position = 2
        else:
            position = 1
        low_version = _php_to_string(_manipulate_version_string(_groups(m), position)) + "-dev"
        high_version = _php_to_string(_manipulate_version_string(_groups(m), position, 1)) + "-dev"
        if low_version == "0.0.0.0-dev":
            return [VersionConstraint("<", high_version)]
        return [VersionConstraint(">=", low_version), VersionConstraint("<", high_version)]

    # Hyphen Range: inclusive set; a partial "to" version accepts everything starting with it
    m = _RE_HYPHEN.match(constraint)
    if m:
        low_stability_suffix = ""
        if php_empty(m[6]) and php_empty(m[8]) and php_empty(m[9]):
            low_stability_suffix = "-dev"
        low_version = normalize(m["from"])
        lower_bound = VersionConstraint(">=", low_version + low_stability_suffix)
        if (
            (not _empty_but_zero(m[12]) and not _empty_but_zero(m[13]))
            or not php_empty(m[15])
            or not php_empty(m[17])
            or not php_empty(m[18])
        ):
            upper_bound = VersionConstraint("<=", normalize(m["to"]))
        else:
            high_match: list[_Part] = ["", m[11], m[12], m[13], m[14]]
            # validate to version
            normalize(m["to"])
            high_version = (
                _php_to_string(_manipulate_version_string(high_match, 1 if _empty_but_zero(m[12]) else 2, 1))
                + "-dev"
            )
            upper_bound = VersionConstraint("<", high_version)
        return [lower_bound, upper_bound]

    # Basic Comparators
    error: InvalidVersion | None = None
    m = _RE_BASIC.match(constraint)
    if m:
        target = m[2]
        try:
            try:
                version = normalize(target)
            except InvalidVersion:
                # recover from an invalid constraint like foobar-dev which should be dev-foobar,
                # except if the constraint uses a known operator, in which case it must be a parse error
                if target.endswith("-dev") and _RE_DEV_NAME.match(target):
                    version = normalize("dev-" + target[:-4])
                else:
                    raise
            op = m[1] or "="
            if op not in ("==", "=") and stability_modifier and parse_stability(version) == "stable":
                version += "-" + stability_modifier
            elif (
                op in ("<", ">=")
                and not _RE_DASH_MODIFIER.search(ascii_lower(target))
                and not target.startswith("dev-")
            ):
                version += "-dev"
            return [VersionConstraint(op, version)]
        except InvalidVersion as exc:
            error = exc

    message = f"Could not parse version constraint {constraint}"
    if error is not None:
        message += f": {error}"
    raise InvalidConstraint(message)


def _groups(match: re.Match[str]) -> list[_Part]:
    return [match[0], *match.groups()]


@functools.lru_cache(maxsize=4096)
def _parse_constraints(text: str) -> Constraint:
    or_groups: list[Constraint] = []
    for or_part in _RE_OR_SPLIT.split(php_trim(text)):
        and_parts = _RE_AND_SPLIT.split(or_part)
        if len(and_parts) > 1:
            objects = [parsed for part in and_parts for parsed in _parse_single(part)]
        else:
            objects = _parse_single(and_parts[0])
        or_groups.append(objects[0] if len(objects) == 1 else MultiConstraint(objects))
    constraint = MultiConstraint.create(or_groups, False)
    constraint.pretty_string = text
    return constraint


def parse_constraint(text: str) -> Constraint:
    """VersionParser::parseConstraints: ``^1.2 || ~2.0@dev, !=2.0.3`` -> constraint object.

    Results are cached (constraint objects are treated as immutable).  Raises
    :class:`InvalidConstraint` exactly where Composer throws.
    """
    try:
        return _parse_constraints(text)
    except InvalidVersion as exc:
        raise InvalidConstraint(f"Could not parse version constraint {text}: {exc}") from exc


def satisfies(version: str, constraint: str) -> bool:
    """Semver::satisfies: does the (pretty or normalized) version match the constraint?

    Raises :class:`~cargoman.composer.versions.InvalidVersion` for an invalid version and
    :class:`InvalidConstraint` for an invalid constraint, as Composer throws for both.
    """
    return _satisfies(version, constraint)


@functools.lru_cache(maxsize=65536)
def _satisfies(version: str, constraint: str) -> bool:
    normalized = normalize(version)
    return parse_constraint(constraint).matches_version(normalized)
