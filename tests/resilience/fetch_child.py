"""Child process of the hostile-feed tests: fetch one RSS source under hard limits.

Run as ``python tests/resilience/fetch_child.py URL CPU_SECONDS``. The kernel kills the
process (SIGXCPU) past CPU_SECONDS of CPU, so a parse whose work is not bounded shows up
as a killed child instead of a slow test. Prints one JSON line: the entries' texts (or
the error) and the peak resident memory in MB.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.net.errors import SourceError
from bot.net.http import HttpClient
from bot.sources.registry import get_source, parse_config


def _peak_rss_kb(usage: resource.struct_rusage) -> float:
    """This program's own peak resident memory. ru_maxrss survives execve on Linux, so in
    a child of a long test run it reports the test runner's peak at fork time; VmHWM
    belongs to the address space, which execve replaces."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(usage.ru_maxrss)


def main(argv: list[str]) -> int:
    """Fetch ARGV[1] as an RSS source; print what came out as JSON."""
    url, cpu_seconds = argv[1], int(argv[2])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    figures: dict[str, object] = {}
    try:
        with HttpClient() as http:
            config = parse_config("rss", {"url": url, "max_entries": 1000})
            result = get_source("rss")().fetch(http, config, {})
        figures["texts"] = [mention.text for mention in result.mentions]
    except SourceError as err:
        figures["error"] = str(err)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["max_rss_mb"] = round(_peak_rss_kb(usage) / 1024, 1)
    figures["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
