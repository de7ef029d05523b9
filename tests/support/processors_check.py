#!/usr/bin/env python3
"""Every CTest test's PROCESSORS covers the most MPI ranks it launches at once (tests/README.md).

ctest -j2 schedules by PROCESSORS; a test that declares 2 but starts 4 ranks oversubscribes the
machine and times out under load. The ranks a test launches are read from what CTest knows of it
(`ctest --show-only=json-v1` in the build directory given as argv[1]):
  - its name: NtoM, npN_to_npM, .npN;
  - its command: every `-n K` (mpiexec's), and the plain integer arguments of the scripts that
    take their rank counts that way (RANK_COUNT_SCRIPTS).
Exit 1 listing every test whose PROCESSORS is smaller, 0 otherwise.
"""
import json
import os
import re
import subprocess
import sys

# Scripts whose plain integer arguments are rank counts (phase 1 ranks, phase 2 ranks, ...).
# Not big_endian.sh: its first count is written by one non-MPI process posing as N ranks.
RANK_COUNT_SCRIPTS = ("async_checkpoint.sh", "async_fault.sh", "redistribute_pair.sh",
                      "c_api_phases.sh", "roundtrip.sh", "export.sh")

# Tests whose name's counts are not all MPI ranks (see RANK_COUNT_SCRIPTS).
NAME_COUNTS_NOT_RANKS = ("libsrs_big_endian_3to2",)


def ranks_launched(name, command):
    counts = [1]
    if name in NAME_COUNTS_NOT_RANKS:
        name = ""
    for pattern in (r"(\d+)to(\d+)", r"np(\d+)_to_np(\d+)", r"\.np(\d+)$"):
        for match in re.finditer(pattern, name):
            counts += [int(g) for g in match.groups()]
    words = " ".join(command).split()
    for i, word in enumerate(words[:-1]):
        if word == "-n" and words[i + 1].isdigit():
            counts.append(int(words[i + 1]))
    for i, word in enumerate(command):
        if os.path.basename(word) in RANK_COUNT_SCRIPTS:
            counts += [int(arg) for arg in command[i + 1:] if arg.isdigit()]
    return max(counts)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: processors_check.py BUILD_DIR")
    listing = subprocess.run(["ctest", "--show-only=json-v1"], cwd=sys.argv[1], check=True,
                             capture_output=True, text=True).stdout
    bad = []
    tests = json.loads(listing)["tests"]
    for test in tests:
        props = {p["name"]: p["value"] for p in test.get("properties", [])}
        declared = int(props.get("PROCESSORS", 1))
        launched = ranks_launched(test["name"], test.get("command", []))
        if launched > declared:
            bad.append(f"{test['name']}: PROCESSORS {declared}, launches {launched} ranks")
    for line in bad:
        print(line)
    print(f"{len(tests)} tests checked, {len(bad)} with too few PROCESSORS")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
