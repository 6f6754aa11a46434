"""A new sky that moves with the camera (placeholder: the sky stays put)."""

from __future__ import annotations


class SkyMotion:
    def frame_steps(self, frame, matte, steps, skies):
        return steps, skies
