"""Development tools of the anpr inference service: the `bench` and `load` commands.

They are a separate distribution (`anpr-inference-tools`) so that the add-on image, built
from `inference_addon/` alone, does not carry them; `anpr-inference` offers their commands
when this package is installed (entry points in the `anpr_inference.commands` group).
"""
