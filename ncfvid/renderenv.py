"""Environment variables through which `ncfvid render` configures the Manim subprocess of each act.

Shared by the renderer (which sets them) and StoryScene (which reads them); this module imports
nothing, so the renderer need not load Manim to know the names.
"""

VOICE = "NCFVID_VOICE"  # JSON object overriding the storyboard's voice settings
AUDIO_CACHE = "NCFVID_AUDIO_CACHE"  # folder for synthesised audio (content-hashed)
CUES_DIR = "NCFVID_CUES_DIR"  # where each act writes <SceneName>.cues.json (and .sound.wav)
SOUNDTRACK = "NCFVID_SOUNDTRACK"  # "1": keep sounds out of Manim's video; write <SceneName>.sound.wav
BURN_CAPTIONS = "NCFVID_BURN_CAPTIONS"  # "1": draw captions into the picture
FAST_HOLDS = "NCFVID_FAST_HOLDS"  # "0": let Manim encode every frame of a hold
INSPECT = "NCFVID_INSPECT"  # folder: record what is on screen after every beat (ncfvid check)
STILLS = "NCFVID_STILLS"  # "1": with INSPECT, also save each beat's last frame as PNG (ncfvid preview)
