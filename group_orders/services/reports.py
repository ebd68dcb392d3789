"""The report files of an import, written by a separate process while the import runs.

The import streams each committed batch's accepted and rejected rows to
`python -m group_orders.spreadsheets OUTDIR` over a pipe (`report_message_dump`: lists of
ids and values). That process writes the normalized CSV and the two XLSX files on the second core
while the import validates and inserts on the first; the pipe's buffer gives backpressure,
so neither process holds more than a few batches. At the end the files are copied into the
default storage (any django-storages backend).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from group_orders.spreadsheets import ReportFileWriter, report_message_dump

GROUP_ORDERS_ROOT = Path(__file__).resolve().parent.parent.parent


class ReportWriterError(RuntimeError):
    pass


class ReportWriterProcess:
    """Parent side of the report writer process."""

    def __init__(self, *, columns: list[str], rejected_header: list[Any]) -> None:
        temp_root = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
        self.dir = Path(tempfile.mkdtemp(prefix="group-order-reports-", dir=temp_root))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(GROUP_ORDERS_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        self._stderr = open(self.dir / "stderr.txt", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", "group_orders.spreadsheets", str(self.dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(GROUP_ORDERS_ROOT),
            env=env,
        )
        self._send(("open", columns, rejected_header))

    def _send(self, message: tuple) -> None:
        try:
            report_message_dump(message, self.process.stdin)
        except (BrokenPipeError, OSError) as exc:
            raise ReportWriterError(
                f"The report writer process stopped (exit {self.process.poll()}): "
                f"{self._stderr_tail()}"
            ) from exc

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode(errors="replace").strip()

    def write(self, accepted: list[list[Any]], rejected: list[list[Any]]) -> None:
        """accepted: columns (order numbers, source rows, *value columns); rejected: rows."""
        if (accepted and accepted[0]) or rejected:
            self._send(("rows", accepted, rejected))

    def finish(self) -> dict[str, Any]:
        """Close the files; the paths and the writer's statistics."""
        self._send(("close",))
        self.process.stdin.close()
        output = self.process.stdout.read()
        code = self.process.wait()
        if code != 0:
            raise ReportWriterError(
                f"The report writer process failed (exit {code}): {self._stderr_tail()}"
            )
        stats = json.loads(output or b"{}")
        stats["paths"] = {
            "normalized_csv": self.dir / ReportFileWriter.NORMALIZED,
            "accepted_orders_xlsx": self.dir / ReportFileWriter.ACCEPTED,
            "rejected_orders_xlsx": self.dir / ReportFileWriter.REJECTED,
        }
        return stats

    def abort(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream and not stream.closed:
                try:
                    stream.close()
                except OSError:  # unflushed rows to a killed process: they are not wanted
                    pass
        self.cleanup()

    def cleanup(self) -> None:
        self._stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
