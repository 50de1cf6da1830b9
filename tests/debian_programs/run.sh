#!/bin/bash
# Run each acceptance case of tests/test_debian_programs.py in turn, on Vigil
# and on the host (chrooted in the same tree), between markers; the limits
# are Linux's defaults for a new login, so both start alike.
ulimit -Sn 1024 && ulimit -Hn 4096 && ulimit -Ss 8192
cd /root/acc || exit 1
for c in "$@"; do
    echo "=== begin $c"
    case $c in
        *.py) /usr/bin/python3 "$c" ;;
        *.sh) /bin/bash "$c" ;;
    esac
    echo "=== end $c status $?"
done
