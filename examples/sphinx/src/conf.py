# Sphinx configuration of the sitewarden example (built output in ../html, see ../sitewarden.toml).
project = "Sitewarden example"
author = "Sitewarden"
copyright = "2025, Sitewarden"
extensions = []
html_theme = "alabaster"
# No "Show source" links and no copied .rst sources: smaller output, nothing unpublished leaks.
html_show_sourcelink = False
html_copy_source = False
