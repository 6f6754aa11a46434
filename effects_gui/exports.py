"""The editor's export jobs: the result, the matte, the layers, the cut-out, the edit on a
series of photos (and a clip's, :mod:`effects_gui.clipcontrol`), each a cancellable job with its
progress. A part of :class:`effects_gui.controller.EditorController` (its base class
:class:`ExportJobs`), whose signals, runner and model they use."""

from __future__ import annotations

from pathlib import Path

from skyseg_core.errors import SkysegError

from . import jobs, pipeline


class ExportJobs:
    """The controller's exports (a base of :class:`~effects_gui.controller.EditorController`)."""

    # ================================================================= export
    def export_result(self, path, quality: int | None = None) -> None:
        """The result at full size (JPEG, PNG, 16-bit TIFF by suffix)."""
        m = self.model
        gaps = m.close_gaps
        self._export("export", pipeline.export_result, path, *self._edit(), quality, m.path, gaps)

    def export_matte(self, path) -> None:
        m = self.model
        self._export(
            "matte",
            pipeline.export_matte,
            path,
            m.image,
            m.base_matte,
            list(m.strokes),
            m.close_gaps,
            marks_clean=False,
        )

    def export_layers(self, path) -> None:
        """The layered file (.ora or .psd by suffix)."""
        gaps = self.model.close_gaps
        self._export("layers", pipeline.export_layers, path, *self._edit(), gaps)

    def export_cutout(self, path, cutout) -> None:
        """The photo with its sky transparent (:func:`pipeline.export_cutout`; ``cutout``: the
        cut-out step's parameters). Not a save of the edit: the edit stays unsaved."""
        m = self.model
        args = (*self._edit(), m.path, m.close_gaps, cutout)
        self._export("cutout", pipeline.export_cutout, path, *args, marks_clean=False)

    def _edit(self) -> tuple:
        """The edit as the exports take it: the photo, its matte before the strokes, the
        strokes, the effect chain, the full-size skies and the photo's metadata."""
        m = self.model
        strokes = list(m.strokes)
        return m.image, m.base_matte, strokes, m.steps(), m.skies(full=True), m.metadata

    def _export(self, kind: str, fn, path, *args, marks_clean: bool = True) -> None:
        """Run the export ``fn`` as a cancellable job; ``marks_clean``: the edit counts as saved
        when it is written and nothing was edited meanwhile."""
        path = Path(path)
        title = f"Exporting {path.name}"
        self.busy.emit(title, 0, True)
        undo_stack = self.model.undo_stack
        index = undo_stack.index()
        job = jobs.Job(kind, fn, path, *args)

        def running() -> bool:
            return job in self.export_jobs

        def progress(percent: int, text: str) -> None:
            if running():
                self.busy.emit(f"{title}: {text}" if text else title, percent, True)

        def done(written):
            if not running():
                return
            self.export_jobs.remove(job)
            self.made_files.add(Path(written))  # replaced again without asking
            self.idle.emit(f"Saved {written}")
            if marks_clean and undo_stack.index() == index:
                undo_stack.setClean()
            self.saved_at = undo_stack.index()
            self.exportFinished.emit(True)

        def failed(exc):
            if not running():
                return
            self.export_jobs.remove(job)
            self.exportFinished.emit(False)
            self.failed.emit(f"Could not save {path.name}", exc)

        def cancelled():  # stopped without Cancel (the window closing)
            if running():
                self.export_jobs.remove(job)
                self.exportFinished.emit(False)

        self.export_jobs.append(job)
        self.runner.start(
            job, on_result=done, on_error=failed, on_progress=progress, on_cancelled=cancelled
        )

    # ================================================================= series
    def apply_to_series(self, photos, folder) -> None:
        """The edit's sky and settings on other photos (:func:`pipeline.apply_to_series`), as
        one cancellable job; each photo gets its own matte and its sky placed by its horizon."""
        m = self.model
        photos, folder = [Path(p) for p in photos], Path(folder)
        title = f"Applying the edit to {len(photos)} photos"
        self.busy.emit(title, 0, True)
        job = jobs.Job(
            "series", pipeline.apply_to_series, photos, folder, m.method, m.steps(),
            m.skies(full=True), m.close_gaps, None,
        )  # fmt: skip

        def running() -> bool:
            return job in self.export_jobs

        def progress(percent: int, text: str) -> None:
            if running():
                self.busy.emit(f"{title}: {text}" if text else title, percent, True)

        def done(result):
            if not running():
                return
            self.export_jobs.remove(job)
            written, errors = result
            self.idle.emit(f"{len(written)} of {len(photos)} photos written to {folder}")
            self.seriesFinished.emit(written, errors)
            if errors:
                self.failed.emit(
                    f"{len(errors)} of {len(photos)} photos not written",
                    SkysegError("\n".join(errors)),
                )

        def failed(exc):
            if running():
                self.export_jobs.remove(job)
                self.failed.emit("Could not apply the edit to the photos", exc)

        def cancelled():
            if running():
                self.export_jobs.remove(job)

        self.export_jobs.append(job)
        self.runner.start(
            job, on_result=done, on_error=failed, on_progress=progress, on_cancelled=cancelled
        )
