"""The quality gates' report lines (see tests/quality/fuzzing.py)."""


def pytest_terminal_summary(terminalreporter):
    from tests.quality import fuzzing

    tally = fuzzing.TALLY.examples
    if tally:
        terminalreporter.write_line(
            f"schemathesis: {len(tally)} operations, {sum(tally.values())} generated cases "
            f"(seed {fuzzing.SEED}, FUZZ_EXAMPLES={fuzzing.EXAMPLES}; rerun with "
            f"FUZZ_SEED={fuzzing.SEED})"
        )
