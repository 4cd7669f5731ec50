#!/usr/bin/env bash
# tools/deb.sh -- build the Debian package, and prove it installs, serves and goes away again.
#
#   tools/deb.sh build   Release build in build-deb/ (prefix /usr), staged with the config,
#                        systemd unit and man pages, packed with dpkg-deb; prints the .deb's path
#   tools/deb.sh test    build, then install it with apt-get, run the installed binary as the
#                        `magnetar` user with the installed config and data directory, check the
#                        health endpoint and the data files, `systemd-analyze verify` the unit,
#                        then purge it (refuses to touch a magnetar package it did not install)
# `tools/dev package` runs `build`; `tools/dev test` runs `test` (as root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bdir=build-deb
stage="$bdir/stage"

build() {
    cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
        -DMAG_BUILD_TESTS=OFF >/dev/null
    cmake --build "$bdir" -j"$(nproc)" >/dev/null
    rm -rf "$stage"
    DESTDIR="$PWD/$stage" cmake --install "$bdir" >/dev/null
    install -D -m 0644 conf/magnetar.conf "$stage/etc/magnetar/magnetar.conf"
    install -D -m 0644 packaging/magnetar.service "$stage/lib/systemd/system/magnetar.service"
    for page in docs/man/*.1; do
        install -D -m 0644 "$page" "$stage/usr/share/man/man1/$(basename "$page")"
        gzip -9n -f "$stage/usr/share/man/man1/$(basename "$page")"
    done
    install -D -m 0644 README.md "$stage/usr/share/doc/magnetar/README.md"
    # Development files stay out of the service's package: the embedding library goes in too
    # (the binary does not need it), the header and pkg-config file are for `make install` users.
    rm -rf "$stage/usr/include" "$stage/usr/lib"/*/pkgconfig "$stage/usr/lib/pkgconfig"
    find "$stage" -name 'libmagnetar.so' -type l -delete
    strip --strip-unneeded "$stage/usr/bin/"* "$stage"/usr/lib/*/libmagnetar.so.* 2>/dev/null || true

    local version arch depends size
    version=$(sed -n 's/^project(magnetar VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
    arch=$(dpkg --print-architecture)
    # Runtime dependencies from the shared libraries the binaries link (dpkg-shlibdeps needs a
    # debian/control beside it: a scratch one).
    mkdir -p "$bdir/shlibdeps/debian"
    printf 'Source: magnetar\n\nPackage: magnetar\nArchitecture: any\n' >"$bdir/shlibdeps/debian/control"
    depends=$(cd "$bdir/shlibdeps" && dpkg-shlibdeps -O -l"$here/$stage/usr/lib" \
        "$here/$stage"/usr/bin/* 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
    size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
    mkdir -p "$stage/DEBIAN"
    sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
        -e "s/@SIZE@/$size/" packaging/debian/control.in >"$stage/DEBIAN/control"
    echo /etc/magnetar/magnetar.conf >"$stage/DEBIAN/conffiles"
    install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
        "$stage/DEBIAN/"
    deb="$bdir/magnetar_${version}_${arch}.deb"
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
    echo "$deb"
}

fail() { echo "deb test: $*" >&2; exit 1; }

package_test() {
    [ "$(id -u)" -eq 0 ] || fail "needs root (apt-get install)"
    if dpkg-query -W -f='${Status}' magnetar 2>/dev/null | grep -q "install ok installed" &&
        [ ! -f /var/lib/magnetar/.installed-by-deb-test ]; then
        echo "deb test: SKIPPED: a magnetar package is installed here already; not touching it" >&2
        return 0
    fi
    local deb port out
    pid=""
    deb=$(build)
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "./$deb" >/dev/null
    touch /var/lib/magnetar/.installed-by-deb-test
    trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true; apt-get -o DPkg::Lock::Timeout=600 purge -y -qq magnetar >/dev/null 2>&1 || true' EXIT
    for f in /usr/bin/magnetar /usr/bin/magnetar-client /usr/bin/magnetar-token \
        /etc/magnetar/magnetar.conf /lib/systemd/system/magnetar.service \
        /usr/share/man/man1/magnetar.1.gz /usr/share/man/man1/magnetar-client.1.gz; do
        [ -e "$f" ] || fail "$f is not installed"
    done
    getent passwd magnetar >/dev/null || fail "no magnetar user"
    [ "$(stat -c %U /var/lib/magnetar)" = magnetar ] || fail "/var/lib/magnetar is not the magnetar user's"
    dpkg-query -W -f='${Conffiles}' magnetar | grep -q /etc/magnetar/magnetar.conf ||
        fail "magnetar.conf is not a conffile"
    if systemd-analyze --version >/dev/null 2>&1; then
        out=$(systemd-analyze verify /lib/systemd/system/magnetar.service 2>&1) ||
            fail "systemd-analyze verify: $out"
    fi
    # The service's command line, as the service's user, on a free port.
    out=$(mktemp)
    setpriv --reuid=magnetar --regid=magnetar --init-groups \
        /usr/bin/magnetar -c /etc/magnetar/magnetar.conf -d /var/lib/magnetar -p 0 >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q '^magnetar ready' "$out" && break; sleep 0.1; done
    port=$(sed -n 's/^magnetar ready ws:\/\/[^:]*:\([0-9]*\).*/\1/p' "$out")
    [ -n "$port" ] || fail "the installed server did not start: $(cat "$out")"
    [ "$(curl -fsS "http://127.0.0.1:$port/admin/v2/brokers/health")" = ok ] &&
        [ "$(curl -fsS "http://127.0.0.1:$port/status.html")" = OK ] ||
        fail "health check failed"
    /usr/bin/magnetar-client --url "ws://127.0.0.1:$port" produce deb-test -m hello >/dev/null ||
        fail "the installed magnetar-client could not produce"
    /usr/bin/magnetar-client --url "ws://127.0.0.1:$port" read deb-test -m earliest |
        grep -q 'content:hello' || fail "the installed magnetar-client did not read the message back"
    [ -s /var/lib/magnetar/data.mdb ] || fail "no data.mdb in /var/lib/magnetar"
    [ "$(stat -c %U /var/lib/magnetar/data.mdb)" = magnetar ] || fail "data.mdb is not the user's"
    kill -TERM "$pid"
    wait "$pid" || fail "the installed server did not exit 0 on SIGTERM"
    apt-get -o DPkg::Lock::Timeout=600 purge -y -qq magnetar >/dev/null
    trap - EXIT
    [ ! -e /usr/bin/magnetar ] && [ ! -e /var/lib/magnetar ] || fail "purge left files behind"
    ! getent passwd magnetar >/dev/null || fail "purge left the magnetar user"
    echo "deb test: 1 passed, 0 failed ($deb installed, served, purged)"
}

case "${1:-}" in
build) build ;;
test) package_test ;;
-h|--help|help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
*) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
