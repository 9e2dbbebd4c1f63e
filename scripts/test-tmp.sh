#!/usr/bin/env bash
# Prints a fresh folder for `make test`'s temporary files (TMPDIR and pytest's basetemp).
#
# On a tmpfs (/dev/shm) when it has room, else under ${TMPDIR:-/tmp}. Why: the suite writes
# and deletes several GB, and on a disk mounted with `discard` (these machines' root) every
# delete waits for the TRIM of what it frees — removing one test's 170 MB of chunks took
# 30 s, and such deletes and fsyncs were a quarter of the conformance suite's time.
# Nothing the tests check depends on the disk: kill/resume and atomic renames behave the
# same on tmpfs. TESSERA_TEST_TMP=disk keeps everything on the disk.
set -euo pipefail
need_kib=$((8 * 1024 * 1024))  # the largest test streams 2 GiB; failed tests' files are kept
if [[ "${TESSERA_TEST_TMP:-}" != disk && "$(stat -f -c %T /dev/shm 2>/dev/null)" == tmpfs ]]; then
    avail_kib=$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')
    if (( avail_kib >= need_kib )) && dir=$(mktemp -d /dev/shm/tessera-test.XXXXXX); then
        chmod 755 "$dir"  # the PostgreSQL and Slurm daemons' users pass through it
        echo "$dir"
        exit 0
    fi
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/tessera-test.XXXXXX")
chmod 755 "$dir"
echo "$dir"
