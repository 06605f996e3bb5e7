#!/bin/sh
# check_format.sh SRC — fail if any C source or header differs from what
# clang-format makes of it with the project's .clang-format (`make format`
# fixes it). Lists files through git when SRC is a clone, else with find.
cd "$1" || exit 2
command -v clang-format >/dev/null || { echo "check_format: clang-format not installed" >&2; exit 1; }
if [ -d .git ] && command -v git >/dev/null; then
	files=$(git ls-files '*.c' '*.h')
else
	files=$(find cpu mmu vmx svm devices frontend tests roms bench -name '*.[ch]' 2>/dev/null)
fi
bad=0
for f in $files; do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "check_format: $f is not clang-formatted (run: make format)" >&2
		bad=1
	fi
done
exit $bad
