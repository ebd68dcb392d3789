"""The quality gates' report line (see tests/quality/fuzzing.py); Hypothesis keeps its files
under var/ rather than in the repository's root."""

from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / "var" / "hypothesis")


def pytest_terminal_summary(terminalreporter):
    from tests.quality import fuzzing

    tally = fuzzing.TALLY.examples
    if tally:
        terminalreporter.write_line(
            f"schemathesis: {len(tally)} operations, {sum(tally.values())} generated cases "
            f"(seed {fuzzing.SEED}, FUZZ_EXAMPLES={fuzzing.EXAMPLES}; rerun with "
            f"FUZZ_SEED={fuzzing.SEED})"
        )
