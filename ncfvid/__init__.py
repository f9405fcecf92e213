"""ncfvid: a declarative video pipeline for explainer videos (YAML storyboard -> Manim -> video)."""

__version__ = "0.1.0"
