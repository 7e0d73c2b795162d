#!/usr/bin/env bash
# The kernel for the lab's QEMU guests (test/lab/virt-guests.test.ts): Debian's
# own linux-image-amd64, unpacked into a cache (not installed), with only the
# modules the guest loads: 9p over virtio, to mount the host's /usr, the
# checkout and an output folder, and the cpuid driver (/dev/cpu/0/cpuid),
# which some guests load. Run as root by .ci/run; kept between runs.
#   bash lab/fetch-guest-kernel.sh [CACHE_DIR]   (default /var/cache/vpsline-lab/guest-kernel)
set -euo pipefail
cache=${1:-/var/cache/vpsline-lab/guest-kernel}
package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
version=$(apt-cache policy "$package" | awk '/Candidate:/ { print $2 }')
# The modules 9p over virtio and the cpuid driver need, with what they depend on, in load order.
wanted=(9p 9pnet_virtio virtio_pci cpuid)
kit="$package $version ${wanted[*]}"
if [[ -f $cache/PACKAGE && $(cat "$cache/PACKAGE") == "$kit" ]]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -q "$package=$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
dpkg-deb -x ./*.deb tree
release=${package#linux-image-}
depmod -b tree "$release"

dep=tree/lib/modules/$release/modules.dep
order=()
add() {
  local path
  path=$(awk -F: -v m="/$1.ko" 'index($1, m) > 0 && index($1, m) == length($1) - length(m) + 1 { print $1; exit }' "$dep")
  [[ -n $path ]] || return 0 # built into the kernel
  local line needs
  line=$(grep "^$path:" "$dep")
  needs=${line#*:}
  for n in $needs; do
    n=${n##*/}
    add "${n%.ko}"
  done
  [[ " ${order[*]} " == *" $path "* ]] || order+=("$path")
}
for m in "${wanted[@]}"; do add "$m"; done

rm -rf "$cache.new"
mkdir -p "$cache.new/modules"
cp "tree/boot/vmlinuz-$release" "$cache.new/vmlinuz"
for path in "${order[@]}"; do
  cp "tree/lib/modules/$release/$path" "$cache.new/modules/"
  echo "${path##*/}" >>"$cache.new/modules/order"
done
echo "$kit" >"$cache.new/PACKAGE"
rm -rf "$cache"
mv "$cache.new" "$cache"
echo "guest kernel: $package $version in $cache ($(wc -l <"$cache/modules/order") modules)"
