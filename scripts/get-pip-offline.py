"""Stand-in for ansible-test's downloaded get-pip script (see scripts/sanity.sh).

Called as ``python get-pip.py [pip install options] pip==X setuptools==Y ...`` inside an empty
virtual environment: installs the Python's bundled pip with ensurepip, then runs ``pip install``
with the same arguments against the configured package index. ensurepip runs in its own process
because it rewrites the environment (PIP_CONFIG_FILE) of the process that calls it.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args))
