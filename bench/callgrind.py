"""Instructions per unit of work, counted by valgrind's callgrind (the same count on a busy
machine): the benchmarks' one way to run a command under it (api_cpu.py, import_cpu.py)."""

import re
import subprocess
from collections.abc import Callable


def instructions_per_unit(
    valgrind: str,
    command_for: Callable[[int], list[str]],
    *,
    low: int,
    high: int,
    env: dict,
    label: str,
    timeout: int = 7200,
) -> float:
    """Run `command_for(low)` and `command_for(high)` under callgrind and divide the
    difference of their totals by `high - low`: start-up and warm-up cancel out."""
    totals = []
    for count in (low, high):
        command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        result = subprocess.run(
            command + command_for(count), env=env, capture_output=True, text=True, timeout=timeout
        )
        match = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or not match:
            raise SystemExit(f"callgrind failed for {label}:\n{result.stderr[-3000:]}")
        totals.append(int(match.group(1)))
    return (totals[1] - totals[0]) / (high - low)
