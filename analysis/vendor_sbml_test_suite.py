"""Choose and copy the SBML Test Suite subset that tests/test_sbml_test_suite.py runs.

From a checkout of sbmlteam/sbml-test-suite: every case whose model our code
had refused or lost (named in MUST), then, for every component and test tag
the suite uses, the smallest cases carrying it until the tag has PER_TAG cases
(or all it has), then the smallest case of each combination of tags not yet
represented, in turn from each block of 100 case numbers, until TARGET cases. Per case only what the test reads is copied:
the newest SBML file, the external model files it names, the settings and the
expected results (the tags go to index.json instead of the .m file), laid out
as in the suite (cases/semantic/NNNNN/), so that analysis/sbml_test_suite.py
runs on the subset too. Also written: cases/semantic/index.json (source
commit, per-case tags, test type and file),
LICENSE.txt and COPYING.txt (the suite's terms: LGPL 2.1) and README.md.

    .venv/bin/python analysis/vendor_sbml_test_suite.py --suite sbml-test-suite \\
        --out tests/data/sbml_test_suite [--commit SHA]

Ends with one JSON line: cases, tags covered, bytes.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sbml_suite  # noqa: E402  (test helper: cases, settings, comparison)

TARGET = 320
PER_TAG = 4
#: Refused, lost or changed in meaning by our export or edit before issue 19 (fast reactions:
#: 01396, 01547, 01565; rename missing stoichiometryMath: 00989, 01481), or wrong in the Engine
#: before its fixes (00033, 00068, 00069, 00516, 00828, 01077, 01344, 01405, 01642).
MUST = (
    "00001 00059 00134 00597 01640 01752 00959 01165 01167 01168 01471 01472 01473 01474 01475 01476 01477 01778 "
    "01435 01437 01439 01441 01443 01126 01344 01467 01396 01547 01565 00989 01481 "
    "00033 00068 00069 00516 00828 01077 01405 01642"
).split()


def _files(case: sbml_suite.Case) -> list[Path]:
    sbml = case.sbml_path()
    files = [sbml, case.directory / f"{case.case_id}-settings.txt", case.directory / f"{case.case_id}-results.csv"]
    # External model definitions (comp) name files next to the model, possibly in chains.
    todo = [sbml]
    while todo:
        text = todo.pop().read_text()
        for source in re.findall(r'comp:source="([^"]+)"', text):
            path = case.directory / source
            if path.exists() and path not in files:
                files.append(path)
                todo.append(path)
    return files


def choose(cases: list[sbml_suite.Case]) -> list[sbml_suite.Case]:
    cost = {c.case_id: sum(p.stat().st_size for p in _files(c)) for c in cases}
    by_cost = sorted(cases, key=lambda c: (cost[c.case_id], c.case_id))
    chosen: dict[str, sbml_suite.Case] = {c.case_id: c for c in cases if c.case_id in MUST}
    counts = collections.Counter(t for c in cases for t in c.tags)
    for tag in sorted(counts, key=lambda t: (counts[t], t)):
        have = sum(tag in c.tags for c in chosen.values())
        for c in by_cost:
            if have >= min(PER_TAG, counts[tag]):
                break
            if tag in c.tags and c.case_id not in chosen:
                chosen[c.case_id] = c
                have += 1
    # Then the cheapest case of each tag combination not yet chosen, taken in turn from each
    # block of 100 case numbers, so that the subset spans the suite's history as well.
    seen = {frozenset(c.tags) for c in chosen.values()}
    blocks: dict[int, list[sbml_suite.Case]] = collections.defaultdict(list)
    for c in by_cost:
        if frozenset(c.tags) not in seen:
            seen.add(frozenset(c.tags))
            blocks[int(c.case_id) // 100].append(c)
    queues = [collections.deque(blocks[b]) for b in sorted(blocks)]
    while len(chosen) < TARGET and any(queues):
        for queue in queues:
            if queue and len(chosen) < TARGET:
                c = queue.popleft()
                chosen[c.case_id] = c
    return sorted(chosen.values(), key=lambda c: c.case_id)


def _commit(suite: Path, given: str | None) -> str:
    if given:
        return given
    try:
        return subprocess.run(["git", "-C", str(suite), "rev-parse", "HEAD"], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit(f"{suite} is not a git checkout: give the suite's commit with --commit") from None


README = """# SBML Test Suite subset (semantic cases)

{n} of the {total} semantic cases of the SBML Test Suite,
<https://github.com/sbmlteam/sbml-test-suite>, commit `{commit}`, chosen by
`analysis/vendor_sbml_test_suite.py` to span every component and test tag the
suite uses ({tags} tags, each with at least {per_tag} cases where the suite has
that many) and every case our export once refused or lost.
`tests/test_sbml_test_suite.py` runs them; `analysis/sbml_test_suite.py` runs
the whole suite from a checkout.

Per case only the files the test reads are copied, unchanged: the newest SBML
level/version (`NNNNN-sbml-lXvY.xml`), the external model files it names
(hierarchical `comp` models), `NNNNN-settings.txt` and `NNNNN-results.csv`.
The component tags, test tags and test type of each case (from its
`NNNNN-model.m`) are in `cases/semantic/index.json`. The layout is the
suite's, so `analysis/sbml_test_suite.py --suite tests/data/sbml_test_suite`
runs on this subset.

## Licence

The SBML Test Suite test cases are distributed under the terms of the GNU
Lesser General Public License, version 2.1 or any later version; copyright
California Institute of Technology, EMBL-EBI, University of Heidelberg and
University of Hertfordshire (see `LICENSE.txt`, the terms of the suite's test
case archives, and `COPYING.txt`, the LGPL 2.1). These files are data used by our tests; they are not part of the
epl_sysbio package and are distributed here under those terms.
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, required=True, help="checkout of sbmlteam/sbml-test-suite")
    parser.add_argument("--out", type=Path, required=True, help="e.g. tests/data/sbml_test_suite (replaced)")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git work tree")
    args = parser.parse_args(argv)
    semantic = args.suite / "cases" / "semantic"
    cases = sbml_suite.list_cases(semantic)
    chosen = choose(cases)
    if args.out.exists():
        shutil.rmtree(args.out)
    index = {"source": "https://github.com/sbmlteam/sbml-test-suite", "commit": _commit(args.suite, args.commit),
             "cases": {}}
    total = 0
    for case in chosen:
        target = args.out / "cases" / "semantic" / case.case_id
        target.mkdir(parents=True)
        for path in _files(case):
            shutil.copyfile(path, target / path.name)
            total += path.stat().st_size
        index["cases"][case.case_id] = {
            "componentTags": list(case.component_tags), "testTags": list(case.test_tags),
            "testType": case.test_type, "sbml": case.sbml_path().name,
        }
    # The terms of the test case archives (cases/LICENSE.txt) and the LGPL 2.1 they name.
    for name, source in (("LICENSE.txt", semantic.parent / "LICENSE.txt"), ("COPYING.txt", args.suite / "COPYING.txt")):
        shutil.copyfile(source, args.out / name)
    (args.out / "cases" / "semantic" / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    all_tags = {t for c in cases for t in c.tags}
    covered = {t for c in chosen for t in c.tags}
    (args.out / "README.md").write_text(README.format(
        n=len(chosen), total=len(cases), commit=index["commit"], tags=len(all_tags), per_tag=PER_TAG))
    missing = sorted(all_tags - covered)
    headline = {"cases": len(chosen), "tags": len(all_tags), "tags_covered": len(covered),
                "tags_missing": missing, "case_bytes": total}
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
