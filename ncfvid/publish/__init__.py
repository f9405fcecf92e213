"""Publishing a render: chapters, subtitle tracks and background music in the joined MP4, other
formats (WebM, GIF), a poster image, a PDF handout, and the review page that `ncfvid serve` serves.

Nothing here is run by the Manim scenes, so none of it is part of a beat clip's cache key; what a
published file depends on is keyed by `ncfvid.publish.assemble.publish_key`.
"""
