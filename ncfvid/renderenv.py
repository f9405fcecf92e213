"""Environment variables through which `ncfvid render` configures the Manim subprocess of each act.

Shared by the renderer (which sets them) and StoryScene (which reads them); this module imports
nothing, so the renderer need not load Manim to know the names.
"""

VOICE = "NCFVID_VOICE"  # JSON object overriding the storyboard's voice settings
AUDIO_CACHE = "NCFVID_AUDIO_CACHE"  # folder for synthesised audio (content-hashed)
BEATS = "NCFVID_BEATS"  # "first:stop": draw only these beats (0-based), each as a Manim section
STATES = "NCFVID_STATES"  # with BEATS: JSON {"dir": folder, "keys": {beat: key}}: serve beats drawn before
PARTS_DIR = "NCFVID_PARTS_DIR"  # with BEATS: where <SceneName>.beats.json and each beat's WAV go
BURN_CAPTIONS = "NCFVID_BURN_CAPTIONS"  # "1": draw captions into the picture
FAST_HOLDS = "NCFVID_FAST_HOLDS"  # "0": let Manim encode every frame of a hold
FAST_COPY = "NCFVID_FAST_COPY"  # "0": Manim's own deep copy of mobjects (see scenelib.fastcopy)
GLYPHS = "NCFVID_GLYPHS"  # folder: parsed SVGs (every Text) shared between runs (see scenelib.glyphcache)
INSPECT = "NCFVID_INSPECT"  # folder: record what is on screen after every beat (ncfvid check)
STILLS = "NCFVID_STILLS"  # "1": with INSPECT, also save each beat's last frame as PNG (ncfvid preview)

# What a cached beat clip folder holds (picture, captions, sound): the renderer writes it, and a
# scene serving a beat drawn before checks it is all there.
CLIP_FILES = ("clip.mp4", "cues.json", "sound.wav")
