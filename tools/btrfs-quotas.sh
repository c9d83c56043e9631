# Sourced by the host set-up scripts (it defines a function and runs nothing).
#
# A node's disk size is a btrfs qgroup limit on its root volume. Recent kernels do not account the
# deletion of a subvolume whose tree is deeper than qgroups/drop_subtree_threshold (3 by default):
# they mark the filesystem's qgroups inconsistent instead, and from then on no limit holds (a node
# wrote 3 GiB into a 2 GiB root disk). Raising the threshold to 8, the deepest btrfs tree, accounts
# every deletion; a pool found inconsistent already is rescanned, which takes a moment.
keep_disk_quotas() {
  local mount="$1" uuid qgroups
  command -v btrfs >/dev/null || return 0
  uuid="$(btrfs filesystem show "$mount" 2>/dev/null | sed -n 's/.*uuid: *//p' | head -n1)"
  qgroups="/sys/fs/btrfs/$uuid/qgroups"
  if [ -z "$uuid" ] || [ ! -d "$qgroups" ]; then return 0; fi
  if [ -w "$qgroups/drop_subtree_threshold" ] && [ "$(cat "$qgroups/drop_subtree_threshold")" != 8 ]; then
    log "accounting every subvolume deletion on $mount (qgroups/drop_subtree_threshold=8)"
    echo 8 >"$qgroups/drop_subtree_threshold"
  fi
  if [ "$(cat "$qgroups/inconsistent" 2>/dev/null)" = 1 ]; then
    log "rescanning the inconsistent qgroups of $mount, so that disk sizes hold again"
    btrfs quota rescan -w "$mount" >/dev/null
  fi
}
