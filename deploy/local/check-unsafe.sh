#!/usr/bin/env bash
# check-unsafe.sh DIR|FILE...: reports calls of unsafe C library functions in
# the *.c and *.h files under the given directories, as file:line: name.
# Exits 1 if there is any, 0 if none, 2 on a usage error.
#
# Comments, string literals and character literals are skipped (roughly: a
# line-based scan that follows /* */ across lines). A line containing the
# marker "check-unsafe: ok" (in a comment) is not reported.
set -euo pipefail

UNSAFE='sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atof|gets|strncpy'

if (($# == 0)); then
  echo "usage: $0 DIR|FILE..." >&2
  exit 2
fi
for arg in "$@"; do
  if [[ ! -e $arg ]]; then
    echo "check-unsafe: no such file or directory: $arg" >&2
    exit 2
  fi
done

# The scanner: blanks out comments and literals of each line, then reports
# every NAME( where NAME is one of the unsafe functions as a whole word (not a
# member such as s.gets( or p->gets().
# shellcheck disable=SC2016 # an awk program, single-quoted on purpose
SCAN='
FNR == 1 { in_comment = 0 }
{
  raw = $0
  line = $0
  out = ""
  i = 1
  n = length(line)
  while (i <= n) {
    c = substr(line, i, 1)
    two = substr(line, i, 2)
    if (in_comment) {
      if (two == "*/") { in_comment = 0; i += 2 } else { i++ }
      continue
    }
    if (two == "/*") { in_comment = 1; out = out " "; i += 2; continue }
    if (two == "//") { break }
    if (c == "\"" || c == "\047") {
      # skip a string or character literal, honouring backslash escapes
      q = c
      i++
      while (i <= n) {
        d = substr(line, i, 1)
        if (d == "\\") { i += 2; continue }
        i++
        if (d == q) { break }
      }
      out = out q q
      continue
    }
    out = out c
    i++
  }
  if (raw ~ /check-unsafe: ok/) { next }
  rest = out
  re = "(^|[^A-Za-z0-9_.>])(" names ")[ \t]*\\("
  while (match(rest, re)) {
    hit = substr(rest, RSTART, RLENGTH)
    sub(/^[^A-Za-z_]/, "", hit)
    sub(/[ \t]*\($/, "", hit)
    printf "%s:%d: %s\n", FILENAME, FNR, hit
    rest = substr(rest, RSTART + RLENGTH)
  }
}'

hits=$(
  find "$@" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z |
    xargs -0 -r awk -v names="$UNSAFE" "$SCAN"
)

if [[ -n $hits ]]; then
  printf '%s\n' "$hits"
  count=$(printf '%s\n' "$hits" | wc -l)
  echo "check-unsafe: $count call(s) of unsafe functions ($UNSAFE); use bounded or checked alternatives (snprintf, strtol, memcpy with an explicit length, ...)" >&2
  exit 1
fi
exit 0
