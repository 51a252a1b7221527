#!/bin/sh
# Print the path of a Python 3.12, the image's (public.ecr.aws/lambda/python:3.12): the PATH's python3.12,
# then pyenv's newest 3.12, then one uv manages. Nothing found: one line on stderr, and exit 1.
works() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; }
for candidate in python3.12 python3; do
  if works "$candidate"; then command -v "$candidate"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -t. -k3 -n | tail -1)
  candidate="$(pyenv root)/versions/$version/bin/python3.12"
  if [ -n "$version" ] && works "$candidate"; then echo "$candidate"; exit 0; fi
fi
if [ -x "$1" ]; then
  candidate=$("$1" python find 3.12 2>/dev/null) && works "$candidate" && { echo "$candidate"; exit 0; }
fi
echo "no Python 3.12 found (the Lambda image's): install one (pyenv install 3.12, or your package manager), or PY=/path/to/python3.12" >&2
exit 1
