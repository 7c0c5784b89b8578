#!/usr/bin/env bash
# The README's main job. For now (the REST source and the generator are still
# being built, see the open issues) it checks the build and prints the version.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/build/release/sluice" --version
