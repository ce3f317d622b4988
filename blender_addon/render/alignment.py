"""What ``--align`` did in a render, frame by frame: the rows of ``--align-report`` and the frame pairs it could not
align (a render's, or its ``--jobs`` children's handed back)."""

from __future__ import annotations

from ..core.settings import Settings


class AlignmentLog:
    """What ``--align`` did, frame by frame: rows for ``--align-report`` and the pairs it could not align."""

    def __init__(self, source, settings: Settings) -> None:
        self.active = settings.align != "none"
        self._source = source
        self.report = None  # a csv writer once the report is open
        self.failed: list[list] = []  # [output frame, why]
        self.pairs = 0

    def __bool__(self) -> bool:
        return self.active

    def heard(self, plan, alignments: tuple) -> None:
        self.pairs += len(alignments)
        self.failed += [[plan.index, alignment.failure] for alignment in alignments if alignment.failure]
        if self.report is not None:
            from ..core.align import report_row

            time = float(self._source.time_of(plan.frame))
            for partner, alignment in zip(plan.partners or (None,), alignments or (None,), strict=True):
                self.report.writerow(report_row(plan.index, time, plan.frame, partner, alignment))

    def merge(self, pairs: int, failed: list) -> None:
        """What ``--jobs`` processes report of their chunks (see ``render.jobs``): pairs, and [frame, why] unaligned."""
        self.pairs += pairs
        self.failed += failed

    def warnings(self) -> list[str]:
        if not self.failed:
            return []
        first = ", ".join(f"{frame} ({why})" for frame, why in self.failed[:3])
        more = "" if len(self.failed) <= 3 else ", ..."
        return [f"alignment failed for {len(self.failed)} of {self.pairs} frame pairs, which are compared as they "
                f"are: output frame {first}{more}"]
