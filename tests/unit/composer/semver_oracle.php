<?php

/*
 * Reference oracle for tests/unit/composer/test_semver_differential.py.
 *
 * Reads ONE JSON document from stdin, answers every query with the real composer/semver
 * library and writes ONE JSON document to stdout:
 *
 *   pairs:     [[version, constraint], ...] -> [[normalized|null, normalize error|null,
 *                                               (string) parsed constraint|null,
 *                                               Semver::satisfies|null, parseStability(version)], ...]
 *   branches:  [name, ...]                  -> [[normalizeBranch(name), parseConstraints(it) ok], ...]
 *   aliases:   [name, ...]                  -> [parseNumericAliasPrefix(name)|false, ...]
 *   sorts:     [[version, ...], ...]        -> [[Semver::sort|null, Semver::rsort|null], ...]
 *   vc:        [[a, b], ...]                -> [version_compare(a, b), ...]
 *   cmp:       [[a, op, b], ...]            -> [Comparator::compare(a, op, b), ...]
 *   intersect: [[c1, c2], ...]              -> [parseConstraints(c1)->matches(parseConstraints(c2))|null, ...]
 *
 * "null" means the library threw.
 */

$autoload = $argv[1] ?? '/usr/share/php/Composer/Semver/autoload.php';
require $autoload;

use Composer\Semver\Comparator;
use Composer\Semver\Semver;
use Composer\Semver\VersionParser;

// Composer's code triggers harmless warnings on odd input (e.g. uninitialized string offsets);
// they must neither be printed (stdout carries the JSON answer) nor change behaviour.
set_error_handler(static function (): bool {
    return true;
});

$input = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$parser = new VersionParser();
$out = ['pairs' => [], 'branches' => [], 'aliases' => [], 'sorts' => [], 'vc' => [], 'cmp' => [], 'intersect' => []];

foreach ($input['pairs'] ?? [] as [$version, $constraint]) {
    $normalized = null;
    $error = null;
    try {
        $normalized = $parser->normalize($version);
    } catch (\Throwable $e) {
        $error = $e->getMessage();
    }
    try {
        $parsed = (string) $parser->parseConstraints($constraint);
    } catch (\Throwable $e) {
        $parsed = null;
    }
    try {
        $satisfied = Semver::satisfies($version, $constraint);
    } catch (\Throwable $e) {
        $satisfied = null;
    }
    $out['pairs'][] = [$normalized, $error, $parsed, $satisfied, VersionParser::parseStability($version)];
}

foreach ($input['branches'] ?? [] as $branch) {
    $normalized = $parser->normalizeBranch($branch);
    try {
        $parser->parseConstraints($normalized);
        $valid = true;
    } catch (\Throwable $e) {
        $valid = false;
    }
    $out['branches'][] = [$normalized, $valid];
}

foreach ($input['aliases'] ?? [] as $alias) {
    $out['aliases'][] = $parser->parseNumericAliasPrefix($alias);
}

foreach ($input['sorts'] ?? [] as $versions) {
    try {
        $sorted = Semver::sort($versions);
    } catch (\Throwable $e) {
        $sorted = null;
    }
    try {
        $rsorted = Semver::rsort($versions);
    } catch (\Throwable $e) {
        $rsorted = null;
    }
    $out['sorts'][] = [$sorted, $rsorted];
}

foreach ($input['vc'] ?? [] as [$a, $b]) {
    $out['vc'][] = version_compare($a, $b);
}

foreach ($input['cmp'] ?? [] as [$a, $op, $b]) {
    $out['cmp'][] = Comparator::compare($a, $op, $b);
}

foreach ($input['intersect'] ?? [] as [$c1, $c2]) {
    try {
        $out['intersect'][] = $parser->parseConstraints($c1)->matches($parser->parseConstraints($c2));
    } catch (\Throwable $e) {
        $out['intersect'][] = null;
    }
}

echo json_encode($out, JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
