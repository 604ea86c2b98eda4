"""What the Lambda functions' code is: the app's modules, ``sdk`` and ``handlers``.

``BUNDLE_DIR`` (relative to ``template.yaml``) is the functions' ``CodeUri``; ``stepline
synth`` fills it with links to those packages and to ``requirements.txt`` so that
``sam build`` copies nothing else.
"""

from __future__ import annotations

BUNDLE_DIR = ".stepline/bundle"
REQUIREMENTS_FILE = "requirements.txt"
